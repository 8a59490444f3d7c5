#include "pushsvc/vapid/credentials.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/vapid/jwt_maker.h"

namespace pushsvc::vapid {
namespace {

using test::b64;

const ParseOptions kStrict{false, false};

class VapidParse : public ::testing::Test {
  protected:
    crypto::P256PrivateKey signer_ = crypto::P256PrivateKey::generate();
    std::string key_raw_ = signer_.public_raw();
    std::string key_ = b64(key_raw_);
    std::string token_ = test::make_token(signer_, test::claims());

    result<Credentials> parse(std::string_view auth, std::optional<std::string_view> ck = {},
                              const ParseOptions& opts = {}) {
        return parse_credentials(auth, ck, opts);
    }
    void expect_ok(const result<Credentials>& r, Scheme scheme) {
        ASSERT_TRUE(r.has_value()) << r.error().message();
        EXPECT_EQ(r->scheme, scheme);
        EXPECT_EQ(r->token, token_);
        EXPECT_EQ(r->key, key_raw_);
    }
    static void expect_error(const result<Credentials>& r, errc e) {
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), make_error_code(e));
    }
};

// ---- RFC 8292 `vapid t=…, k=…` -----------------------------------------------------------

TEST_F(VapidParse, AcceptsRfc8292FormWithSpace) {  // R8292-3.1-a (web-push, webpush-go, ...)
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_), Scheme::vapid);
}

TEST_F(VapidParse, AcceptsPyVapidFormWithoutSpace) {  // R8292-3.1-a (py_vapid Vapid02)
    expect_ok(parse("vapid t=" + token_ + ",k=" + key_), Scheme::vapid);
}

TEST_F(VapidParse, AcceptsQuotedValuesAndExtraWhitespace) {  // R8292-3.1-a, RFC 7235 §2.1
    expect_ok(parse("vapid t=\"" + token_ + "\", k=\"" + key_ + "\""), Scheme::vapid);
    expect_ok(parse("  vapid   t=" + token_ + " ,\tk=" + key_ + "  "), Scheme::vapid);
    expect_ok(parse("vapid\tt=" + token_ + ", k=" + key_), Scheme::vapid);
}

TEST_F(VapidParse, AcceptsSchemeInAnyCase) {  // R8292-2-e
    for (const char* scheme : {"vapid", "Vapid", "VAPID", "vApId"})
        expect_ok(parse(std::string(scheme) + " t=" + token_ + ", k=" + key_), Scheme::vapid);
}

TEST_F(VapidParse, AcceptsParametersInEitherOrder) {
    expect_ok(parse("vapid k=" + key_ + ", t=" + token_), Scheme::vapid);
}

TEST_F(VapidParse, IgnoresRealmAndUnknownParameters) {  // R8292-3-c
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_ + ", realm=\"x\", foo=bar"), Scheme::vapid);
    expect_ok(parse("vapid realm=\"push\", t=" + token_ + ", k=" + key_), Scheme::vapid);
    expect_ok(parse("vapid T=" + token_ + ", K=" + key_), Scheme::vapid);  // names too
}

TEST_F(VapidParse, VapidSchemeIgnoresCryptoKeyAndKWins) {  // RVAPID01-X-a (webpush-java)
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_, "p256ecdsa=" + key_), Scheme::vapid);
    const std::string other = b64(crypto::P256PrivateKey::generate().public_raw());
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_, "p256ecdsa=" + other), Scheme::vapid);
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_, std::string_view("\"unterminated")),
              Scheme::vapid);
}

TEST_F(VapidParse, RejectsMissingK) {  // R8292-4.2-c
    expect_error(parse("vapid t=" + token_), errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_, "p256ecdsa=" + key_), errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_ + ", k="), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsMissingT) {  // R8292-4.2-c
    expect_error(parse("vapid k=" + key_), errc::vapid_invalid);
    expect_error(parse("vapid t=, k=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsBareSchemeWithoutParameters) {  // R8292-4.2-c
    expect_error(parse("vapid"), errc::vapid_invalid);
    expect_error(parse("VAPID   "), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsRepeatedTOrK) {
    expect_error(parse("vapid t=" + token_ + ", t=" + token_ + ", k=" + key_), errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_ + ", k=" + key_ + ", k=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsTwoPartToken) {  // R8292-3.1-a
    const std::string two = token_.substr(0, token_.rfind('.'));
    expect_error(parse("vapid t=" + two + ", k=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsTokensThatAreNotThreeBase64UrlParts) {  // R8292-3.1-a
    for (const std::string& bad : std::vector<std::string>{
             token_ + ".x", "a..b", ".a.b", "a.b.", "abc", token_ + "=", std::string("a+b.c.d"),
             std::string("a.b/c.d"), std::string("a.b.c d")})
        expect_error(parse("vapid t=\"" + bad + "\", k=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsKeyOfWrongLengthOrPrefix) {  // R8292-2-a
    expect_error(parse("vapid t=" + token_ + ", k=" + b64(key_raw_.substr(0, 64))),
                 errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_ + ", k=" + b64(key_raw_ + "x")), errc::vapid_invalid);
    std::string compressed_prefix = key_raw_;
    compressed_prefix[0] = '\x02';
    expect_error(parse("vapid t=" + token_ + ", k=" + b64(compressed_prefix)), errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_ + ", k=not*base64"), errc::vapid_invalid);
}

TEST_F(VapidParse, AcceptsPaddedKeyOnlyInCompat) {  // R8292-3.2-a
    const std::string padded = key_ + "=";          // 65 octets -> 87 chars + one '='
    expect_ok(parse("vapid t=" + token_ + ", k=" + padded), Scheme::vapid);
    expect_ok(parse("vapid t=" + token_ + ", k=\"" + padded + "\""), Scheme::vapid);
    expect_error(parse("vapid t=" + token_ + ", k=" + padded, {}, kStrict), errc::vapid_invalid);
    expect_ok(parse("vapid t=" + token_ + ", k=" + key_, {}, kStrict), Scheme::vapid);
}

TEST(VapidParseStdAlphabet, AcceptsStandardBase64KeyOnlyInCompat) {  // R8292-3.2-a (autopush)
    // The RFC 8292 example key contains both '-' and '_'.
    const test::RfcExample ex = test::rfc_example();
    std::string std_key = ex.key;
    for (char& c : std_key) c = c == '-' ? '+' : c == '_' ? '/' : c;
    ASSERT_NE(std_key, ex.key);
    const std::string auth = "vapid t=" + ex.token + ", k=" + std_key;
    auto compat = parse_credentials(auth, std::nullopt);
    ASSERT_TRUE(compat.has_value());
    EXPECT_EQ(compat->key, *base::base64url_decode(ex.key));
    auto strict = parse_credentials(auth, std::nullopt, kStrict);
    ASSERT_FALSE(strict.has_value());
    EXPECT_EQ(strict.error(), make_error_code(errc::vapid_invalid));
}

// ---- absent / unknown schemes: 401 -----------------------------------------------------------

TEST_F(VapidParse, TreatsAbsentOrEmptyAuthorizationAsMissing) {  // R8292-4.2-b, RVAPID01-5.2-a
    expect_error(parse_credentials(std::nullopt, std::nullopt), errc::vapid_missing);
    expect_error(parse_credentials(std::nullopt, "p256ecdsa=" + key_), errc::vapid_missing);
    expect_error(parse(""), errc::vapid_missing);
    expect_error(parse("   \t "), errc::vapid_missing);
}

TEST_F(VapidParse, TreatsUnknownSchemesAsMissing) {            // R8292-4.2-b
    expect_error(parse("key=AAAAabcd"), errc::vapid_missing);  // GCM/FCM server key
    expect_error(parse("Basic dXNlcjpwYXNz"), errc::vapid_missing);
    expect_error(parse("Digest username=\"x\""), errc::vapid_missing);
    expect_error(parse("vapidx t=" + token_ + ", k=" + key_), errc::vapid_missing);
    expect_error(parse("vapid,t=" + token_ + ",k=" + key_), errc::vapid_missing);
    expect_error(parse("t=" + token_ + ", k=" + key_), errc::vapid_missing);
}

// ---- draft-01 `WebPush <jwt>` + Crypto-Key p256ecdsa ---------------------------------------

TEST_F(VapidParse, AcceptsWebPushWithP256ecdsaAfterDh) {  // RVAPID01-4-b (web-push aesgcm)
    expect_ok(parse("WebPush " + token_, "dh=BAbc;p256ecdsa=" + key_), Scheme::webpush);
}

TEST_F(VapidParse, AcceptsWebPushSchemeInAnyCase) {  // RVAPID01-2-a
    for (const char* scheme : {"WebPush", "webpush", "WEBPUSH"})
        expect_ok(parse(std::string(scheme) + " " + token_, "p256ecdsa=" + key_), Scheme::webpush);
}

TEST_F(VapidParse, AcceptsCryptoKeyVariants) {  // RVAPID01-4-b
    for (std::string ck :
         {"dh=BAbc, p256ecdsa=" + key_, "p256ecdsa=" + key_ + ";dh=BAbc",
          "dh=\"BAbc\";p256ecdsa=\"" + key_ + "\"", "keyid=p256dh;dh=BAbc;p256ecdsa=" + key_,
          "p256ecdsa=" + key_, " dh=BAbc ; p256ecdsa=" + key_ + " ", "dh=BAbc,p256ecdsa=" + key_,
          "P256ECDSA=" + key_, "p256ecdsa=" + key_ + ";p256ecdsa=" + key_})
        expect_ok(parse("WebPush " + token_, ck), Scheme::webpush);
}

TEST_F(VapidParse, RejectsWebPushWithoutP256ecdsa) {  // RVAPID01-4-a
    expect_error(parse("WebPush " + token_), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, "dh=BAbc"), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, ""), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, "p256ecdsa="), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsTwoDifferentP256ecdsaKeys) {  // RVAPID01-5.1-a: exactly one key
    const std::string other = b64(crypto::P256PrivateKey::generate().public_raw());
    expect_error(parse("WebPush " + token_, "p256ecdsa=" + key_ + ";p256ecdsa=" + other),
                 errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsMalformedCryptoKey) {
    expect_error(parse("WebPush " + token_, "p256ecdsa"), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, "p256ecdsa=\"" + key_), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, "=x;p256ecdsa=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsWebPushWithBadToken) {  // R8292-3.1-a via RVAPID01-2-a
    expect_error(parse("WebPush", "p256ecdsa=" + key_), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_.substr(0, token_.rfind('.')), "p256ecdsa=" + key_),
                 errc::vapid_invalid);
    expect_error(parse("WebPush t=" + token_, "p256ecdsa=" + key_), errc::vapid_invalid);
}

TEST_F(VapidParse, IgnoresParametersAfterWebPushToken) {  // RVAPID01-3-c
    expect_ok(parse("WebPush " + token_ + ", foo=1", "p256ecdsa=" + key_), Scheme::webpush);
    expect_ok(parse("WebPush " + token_ + ",realm=\"x\"", "p256ecdsa=" + key_), Scheme::webpush);
    expect_error(parse("WebPush " + token_ + " trailing", "p256ecdsa=" + key_),
                 errc::vapid_invalid);
}

TEST_F(VapidParse, AcceptsPaddedP256ecdsaOnlyInCompat) {  // R8292-3.2-a, RVAPID01-4-a
    expect_ok(parse("WebPush " + token_, "dh=BAbc;p256ecdsa=" + key_ + "="), Scheme::webpush);
    expect_error(parse("WebPush " + token_, "dh=BAbc;p256ecdsa=" + key_ + "=", kStrict),
                 errc::vapid_invalid);
}

TEST_F(VapidParse, AcceptsBearerOnlyInCompat) {  // RVAPID01-X-b (autopush alias)
    expect_ok(parse("Bearer " + token_, "p256ecdsa=" + key_), Scheme::webpush);
    expect_ok(parse("bearer " + token_, "p256ecdsa=" + key_), Scheme::webpush);
    expect_error(parse("Bearer " + token_, "p256ecdsa=" + key_, kStrict), errc::vapid_missing);
    expect_error(parse("Bearer " + token_), errc::vapid_invalid);
}

// ---- odd input --------------------------------------------------------------------------------

TEST_F(VapidParse, RejectsHugeValuesWithoutCrashing) {
    const std::string huge(1 << 20, 'a');
    expect_error(parse("vapid t=" + huge + ", k=" + key_), errc::vapid_invalid);
    expect_error(parse("vapid t=" + token_ + ", k=" + key_ + ", foo=" + huge), errc::vapid_invalid);
    expect_error(parse("WebPush " + huge, "p256ecdsa=" + key_), errc::vapid_invalid);
    expect_error(parse("WebPush " + token_, "p256ecdsa=" + key_ + ";x=" + huge),
                 errc::vapid_invalid);
    expect_error(parse(huge), errc::vapid_missing);
    expect_error(parse("vapid " + std::string(1 << 20, ',')), errc::vapid_invalid);
    expect_error(parse("vapid " + std::string(1 << 16, '"')), errc::vapid_invalid);
}

TEST_F(VapidParse, RejectsGarbageBytesWithoutCrashing) {
    std::string all_bytes;
    for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
    for (std::string prefix : {"", "vapid ", "vapid t=", "WebPush ", "Bearer "}) {
        auto r = parse(prefix + all_bytes, all_bytes);
        EXPECT_FALSE(r.has_value()) << prefix;
    }
    expect_error(parse(std::string_view("vapid t=\0.\0.\0, k=\0", 19)), errc::vapid_invalid);
    expect_error(parse(std::string("\0", 1)), errc::vapid_missing);
}

TEST_F(VapidParse, SurvivesRandomMutationsOfValidHeaders) {
    std::mt19937 rng(8292);
    const std::string valid_vapid = "vapid t=" + token_ + ", k=" + key_;
    const std::string valid_webpush = "WebPush " + token_;
    const std::string valid_ck = "dh=BAbc;p256ecdsa=" + key_;
    for (int i = 0; i < 5000; ++i) {
        std::string a = (i % 2) ? valid_vapid : valid_webpush;
        std::string ck = valid_ck;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int e = 0; e < edits; ++e) {
            std::string& s = (rng() % 3 == 0) ? ck : a;
            if (s.empty()) continue;
            const std::size_t pos = rng() % s.size();
            switch (rng() % 3) {
                case 0:
                    s[pos] = static_cast<char>(rng() & 0xff);
                    break;
                case 1:
                    s.erase(pos, 1 + rng() % 8);
                    break;
                default:
                    s.insert(pos, 1, ",;=\" \t.\\"[rng() % 8]);
                    break;
            }
        }
        auto r = parse_credentials(a, ck, (i % 3) ? ParseOptions{} : kStrict);
        if (r) {  // a harmless edit (e.g. whitespace) may still parse: then it must be sane
            EXPECT_EQ(r->key.size(), crypto::kP256PublicSize);
            EXPECT_EQ(std::count(r->token.begin(), r->token.end(), '.'), 2);
        } else {
            EXPECT_TRUE(r.error() == make_error_code(errc::vapid_invalid) ||
                        r.error() == make_error_code(errc::vapid_missing));
        }
    }
}

TEST(SameKey, ComparesBytes) {
    const std::string a = crypto::P256PrivateKey::generate().public_raw();
    const std::string b = crypto::P256PrivateKey::generate().public_raw();
    EXPECT_TRUE(same_key(a, a));
    EXPECT_FALSE(same_key(a, b));
    EXPECT_FALSE(same_key(a, a.substr(0, 64)));
    EXPECT_FALSE(same_key("", a));
}

TEST(SchemeName, NamesBothSchemes) {
    EXPECT_EQ(scheme_name(Scheme::vapid), "vapid");
    EXPECT_EQ(scheme_name(Scheme::webpush), "webpush");
}

}  // namespace
}  // namespace pushsvc::vapid
