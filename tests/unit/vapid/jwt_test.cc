#include "pushsvc/vapid/jwt.h"

#include <gtest/gtest.h>

#include <random>

#include "pushsvc/crypto/hash.h"
#include "tests/unit/vapid/jwt_maker.h"

namespace pushsvc::vapid {
namespace {

using test::b64;
using test::claims;
using test::kNowMs;
using test::kNowS;

constexpr std::int64_t kDay = 24 * 3600;

class VerifyJwt : public ::testing::Test {
  protected:
    crypto::P256PrivateKey signer_ = crypto::P256PrivateKey::generate();

    const std::vector<std::string> audiences_{std::string(test::kOrigin)};
    VerifyOptions opts(std::int64_t now_ms = kNowMs) const {
        VerifyOptions o;
        o.audiences = audiences_;
        o.now_ms = now_ms;
        return o;
    }
    Credentials creds(std::string token) const {
        return Credentials{Scheme::vapid, std::move(token), signer_.public_raw()};
    }
    // A token with these claims, signed by signer_.
    result<Claims> verify_claims(std::string_view payload, const VerifyOptions& o) const {
        return verify_jwt(creds(test::make_token(signer_, payload)), o);
    }
    result<Claims> verify_claims(std::string_view payload) const {
        return verify_claims(payload, opts());
    }
    result<Claims> verify_header(std::string_view header) const {
        return verify_jwt(creds(test::make_token(signer_, claims(), header)), opts());
    }
    static void expect_invalid(const result<Claims>& r) {
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error(), make_error_code(errc::vapid_invalid));
    }
};

// ---- RFC 8292 example ---------------------------------------------------------------------

TEST(VerifyJwtRfcExample, VerifiesRfc8292ExampleJustBeforeExp) {  // RFC 8292 §2.4, §3.1, §3.2
    const test::RfcExample ex = test::rfc_example();
    auto c = parse_credentials("vapid t=" + ex.token + ", k=" + ex.key, std::nullopt);
    ASSERT_TRUE(c.has_value());
    const std::string audiences[] = {"https://push.example.net"};
    VerifyOptions o;
    o.audiences = audiences;
    o.now_ms = ex.exp * 1000 - 1;
    auto r = verify_jwt(*c, o);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->aud, ex.aud);
    EXPECT_EQ(r->exp, 1453523768);
    EXPECT_EQ(r->sub, ex.sub);
}

TEST(VerifyJwtRfcExample, VerifiesRfc8292ExampleInWebPushForm) {  // RVAPID01-2-a
    const test::RfcExample ex = test::rfc_example();
    auto c = parse_credentials("WebPush " + ex.token, "dh=BAbc;p256ecdsa=" + ex.key);
    ASSERT_TRUE(c.has_value());
    const std::string audiences[] = {"https://push.example.net"};
    VerifyOptions o;
    o.audiences = audiences;
    o.now_ms = (ex.exp - 3600) * 1000;
    EXPECT_TRUE(verify_jwt(*c, o).has_value());
}

TEST(VerifyJwtRfcExample, RejectsRfc8292ExampleOnceExpired) {  // R8292-4.2-e
    const test::RfcExample ex = test::rfc_example();
    auto c = parse_credentials("vapid t=" + ex.token + ", k=" + ex.key, std::nullopt);
    ASSERT_TRUE(c.has_value());
    const std::string audiences[] = {"https://push.example.net"};
    VerifyOptions o;
    o.audiences = audiences;
    o.now_ms = ex.exp * 1000 + 1;
    EXPECT_FALSE(verify_jwt(*c, o).has_value());
}

TEST(VerifyJwtRfcExample, RejectsRfc8292ExampleForOtherOrigin) {  // R8292-4.2-f
    const test::RfcExample ex = test::rfc_example();
    auto c = parse_credentials("vapid t=" + ex.token + ", k=" + ex.key, std::nullopt);
    ASSERT_TRUE(c.has_value());
    const std::string audiences[] = {"https://push.example.net:443", "https://push.example.com"};
    VerifyOptions o;
    o.audiences = audiences;
    o.now_ms = ex.exp * 1000 - 1;
    EXPECT_FALSE(verify_jwt(*c, o).has_value());
}

// ---- accepted tokens ------------------------------------------------------------------------

TEST_F(VerifyJwt, AcceptsTypicalSenderToken) {
    auto r = verify_claims(claims());
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->aud, test::kOrigin);
    EXPECT_EQ(r->exp, kNowS + 12 * 3600);
    EXPECT_EQ(r->sub, "mailto:admin@example.com");
}

TEST_F(VerifyJwt, AcceptsTokenWithoutSub) {  // R8292-2.1-a
    auto r = verify_claims(claims(test::kOrigin, kNowS + 3600, ""));
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(r->sub.has_value());
    EXPECT_TRUE(verify_claims(R"({"aud":"https://push.example:8443","exp":)" +
                              std::to_string(kNowS + 60) + R"(,"sub":null})")
                    .has_value());
}

TEST_F(VerifyJwt, AcceptsSubOfAnyForm) {  // R8292-2.1-a
    for (const char* sub : {"hello@example.com", "mailto:mailto:x@example.com",
                            "https://example.com/contact", "", "not a uri at all"}) {
        auto r = verify_claims(R"({"aud":"https://push.example:8443","exp":)" +
                               std::to_string(kNowS + 60) + R"(,"sub":")" + sub + "\"}");
        ASSERT_TRUE(r.has_value()) << sub;
        EXPECT_EQ(r->sub, sub);
    }
}

TEST_F(VerifyJwt, IgnoresExtraClaimsAndHeaderFields) {  // R8292-2.2-a
    EXPECT_TRUE(
        verify_claims(R"({"foo":1,"aud":"https://push.example:8443","bar":{"x":[1]},"exp":)" +
                      std::to_string(kNowS + 60) + "}")
            .has_value());
    EXPECT_TRUE(verify_header(R"({"alg":"ES256"})").has_value());  // no typ
    EXPECT_TRUE(verify_header(R"({"alg":"ES256","typ":"jwt","kid":"1"})").has_value());
}

TEST_F(VerifyJwt, AcceptsAudWithoutPortWhenListed) {  // R8292-2-b compat, A-9
    const std::string both[] = {std::string(test::kOrigin), std::string(test::kOriginNoPort)};
    auto o = opts();
    o.audiences = both;
    auto r = verify_claims(claims(test::kOriginNoPort), o);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->aud, test::kOriginNoPort);
    expect_invalid(verify_claims(claims(test::kOriginNoPort)));  // strict: only the exact origin
}

TEST_F(VerifyJwt, AcceptsAudArrayContainingOrigin) {  // RFC 7519 §4.1.3
    auto r =
        verify_claims(R"({"aud":["https://other.example","https://push.example:8443"],"exp":)" +
                      std::to_string(kNowS + 60) + "}");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->aud, test::kOrigin);
}

TEST_F(VerifyJwt, AcceptsFractionalExp) {  // RFC 7519 §2 NumericDate
    auto r = verify_claims(R"({"aud":"https://push.example:8443","exp":)" +
                           std::to_string(kNowS + 60) + ".75}");
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->exp, kNowS + 60);
}

// ---- exp (R8292-2-c, R8292-2-d, R8292-4.2-e) ---------------------------------------------

TEST_F(VerifyJwt, RejectsMissingExp) {  // R8292-2-c
    expect_invalid(verify_claims(R"({"aud":"https://push.example:8443"})"));
}

TEST_F(VerifyJwt, RejectsNonNumericExp) {  // R8292-2-c
    for (std::string exp : {"\"" + std::to_string(kNowS + 60) + "\"", std::string("true"),
                            std::string("null"), std::string("[1]"), std::string("{}")})
        expect_invalid(verify_claims(R"({"aud":"https://push.example:8443","exp":)" + exp + "}"));
}

TEST_F(VerifyJwt, RejectsExpMoreThanADayAhead) {  // R8292-2-d, R8292-4.2-e
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + kDay + 5 * 60)));
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + 25 * 3600)));
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + 365 * kDay)));
    expect_invalid(verify_claims(R"({"aud":"https://push.example:8443","exp":1e300})"));
    expect_invalid(
        verify_claims(R"({"aud":"https://push.example:8443","exp":18446744073709551615})"));
    expect_invalid(
        verify_claims(R"({"aud":"https://push.example:8443","exp":9223372036854775807})"));
}

TEST_F(VerifyJwt, AcceptsExpUpToADayPlusSkew) {  // R8292-2-d
    EXPECT_TRUE(verify_claims(claims(test::kOrigin, kNowS + kDay - 60)).has_value());
    EXPECT_TRUE(verify_claims(claims(test::kOrigin, kNowS + kDay)).has_value());  // py_vapid
    EXPECT_TRUE(verify_claims(claims(test::kOrigin, kNowS + kDay + 60)).has_value());
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + kDay + 61)));
}

TEST_F(VerifyJwt, AppliesConfiguredSkew) {
    auto o = opts();
    o.skew_s = 0;
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + kDay + 1), o));
    EXPECT_TRUE(verify_claims(claims(test::kOrigin, kNowS + kDay), o).has_value());
    o.skew_s = -100;  // treated as 0
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS + kDay + 1), o));
    o.skew_s = 300;
    EXPECT_TRUE(verify_claims(claims(test::kOrigin, kNowS + kDay + 300), o).has_value());
}

TEST_F(VerifyJwt, RejectsExpiredTokenWithoutLeeway) {  // R8292-4.2-e
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS - 1)));
    expect_invalid(verify_claims(claims(test::kOrigin, kNowS - kDay)));
    expect_invalid(verify_claims(claims(test::kOrigin, 0)));
    expect_invalid(verify_claims(claims(test::kOrigin, -5)));
    // The second of exp itself is still valid; one millisecond later is not.
    const std::string token = test::make_token(signer_, claims(test::kOrigin, kNowS + 10));
    EXPECT_TRUE(verify_jwt(creds(token), opts((kNowS + 10) * 1000)).has_value());
    expect_invalid(verify_jwt(creds(token), opts((kNowS + 10) * 1000 + 1)));
}

// ---- aud (R8292-2-b, R8292-4.2-f) ---------------------------------------------------------

TEST_F(VerifyJwt, RejectsWrongAud) {  // R8292-4.2-f
    for (const char* aud :
         {"https://other.example", "http://push.example:8443", "https://push.example:8444",
          "https://push.example:8443/", "HTTPS://PUSH.EXAMPLE:8443", "https://push.example",
          "https://push.example:8443/push/abc", ""}) {
        SCOPED_TRACE(aud);
        expect_invalid(verify_claims(claims(aud)));
    }
}

TEST_F(VerifyJwt, RejectsMissingOrNonStringAud) {  // R8292-2-b
    const std::string exp = std::to_string(kNowS + 60);
    expect_invalid(verify_claims(R"({"exp":)" + exp + "}"));
    expect_invalid(verify_claims(R"({"aud":1,"exp":)" + exp + "}"));
    expect_invalid(verify_claims(R"({"aud":null,"exp":)" + exp + "}"));
    expect_invalid(verify_claims(R"({"aud":[],"exp":)" + exp + "}"));
    expect_invalid(verify_claims(R"({"aud":["https://push.example:8443",1],"exp":)" + exp + "}"));
    expect_invalid(verify_claims(R"({"aud":["https://other.example"],"exp":)" + exp + "}"));
}

TEST_F(VerifyJwt, RejectsEverythingWhenNoAudienceIsConfigured) {
    auto o = opts();
    o.audiences = {};
    expect_invalid(verify_claims(claims(), o));
}

TEST_F(VerifyJwt, RejectsNonStringSub) {
    expect_invalid(verify_claims(R"({"aud":"https://push.example:8443","exp":)" +
                                 std::to_string(kNowS + 60) + R"(,"sub":42})"));
}

// ---- header and signature (R8292-2-h, R8292-4.2-d) ----------------------------------------

TEST_F(VerifyJwt, RejectsAlgNone) {  // R8292-2-h
    expect_invalid(verify_header(R"({"typ":"JWT","alg":"none"})"));
    // Unsecured JWS as an attacker would send it: empty signature part.
    const std::string unsigned_token = b64(R"({"alg":"none"})") + "." + b64(claims()) + ".";
    expect_invalid(verify_jwt(creds(unsigned_token), opts()));
}

TEST_F(VerifyJwt, RejectsHs256SignedWithThePublicKeyAsSecret) {  // R8292-2-h
    const std::string input = b64(R"({"typ":"JWT","alg":"HS256"})") + "." + b64(claims());
    for (const std::string& secret : {signer_.public_raw(), b64(signer_.public_raw())}) {
        const std::string token = input + "." + b64(crypto::hmac_sha256(secret, input));
        expect_invalid(verify_jwt(creds(token), opts()));
    }
}

TEST_F(VerifyJwt, RejectsOtherAlgorithms) {  // R8292-2-h
    for (const char* header :
         {R"({"typ":"JWT","alg":"ES384"})", R"({"typ":"JWT","alg":"RS256"})",
          R"({"typ":"JWT","alg":"PS256"})", R"({"typ":"JWT","alg":"es256"})",
          R"({"typ":"JWT","alg":"ES256 "})", R"({"typ":"JWT","alg":["ES256"]})",
          R"({"typ":"JWT","alg":null})", R"({"typ":"JWT"})", R"({})"}) {
        SCOPED_TRACE(header);
        expect_invalid(verify_header(header));
    }
}

TEST_F(VerifyJwt, RejectsCritHeader) {  // RFC 7515 §4.1.11
    expect_invalid(verify_header(R"({"alg":"ES256","crit":["exp"],"exp":1})"));
}

TEST_F(VerifyJwt, RejectsDerEncodedSignature) {  // R8292-2-h
    const std::string input = b64(test::kEs256Header) + "." + b64(claims());
    const std::string raw = signer_.sign_es256(input);
    const std::string der = test::to_der(raw);
    ASSERT_GE(der.size(), 68u);
    EXPECT_TRUE(verify_jwt(creds(input + "." + b64(raw)), opts()).has_value());
    expect_invalid(verify_jwt(creds(input + "." + b64(der)), opts()));
}

TEST_F(VerifyJwt, RejectsFlippedSignatureByte) {  // R8292-4.2-d
    const std::string token = test::make_token(signer_, claims());
    const std::size_t dot = token.rfind('.');
    std::string sig = *base::base64url_decode(token.substr(dot + 1));
    for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{32}, std::size_t{63}}) {
        std::string bad = sig;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        expect_invalid(verify_jwt(creds(token.substr(0, dot + 1) + b64(bad)), opts()));
    }
}

TEST_F(VerifyJwt, RejectsModifiedClaims) {  // R8292-4.2-d
    const std::string token = test::make_token(signer_, claims());
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    const std::string forged = token.substr(0, dot1 + 1) +
                               b64(claims(test::kOrigin, kNowS + 2 * 3600, "mailto:evil@x")) +
                               token.substr(dot2);
    expect_invalid(verify_jwt(creds(forged), opts()));
}

TEST_F(VerifyJwt, RejectsTokenSignedByAnotherKey) {  // R8292-4.2-d
    const crypto::P256PrivateKey other = crypto::P256PrivateKey::generate();
    expect_invalid(verify_jwt(creds(test::make_token(other, claims())), opts()));
}

TEST_F(VerifyJwt, RejectsOffCurveKey) {  // R8292-2-a
    Credentials c = creds(test::make_token(signer_, claims()));
    c.key[64] = static_cast<char>(c.key[64] ^ 0x01);
    expect_invalid(verify_jwt(c, opts()));
    c.key = std::string("\x04") + std::string(64, '\0');
    expect_invalid(verify_jwt(c, opts()));
    c.key.clear();
    expect_invalid(verify_jwt(c, opts()));
}

// ---- structure -------------------------------------------------------------------------------

TEST_F(VerifyJwt, RejectsMalformedStructure) {  // R8292-3.1-a
    const std::string token = test::make_token(signer_, claims());
    const std::size_t dot1 = token.find('.');
    const std::size_t dot2 = token.rfind('.');
    const std::string h = token.substr(0, dot1);
    const std::string p = token.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string s = token.substr(dot2 + 1);
    for (std::string bad :
         {h + "." + p, h + "." + p + "." + s + "." + s, std::string(""), std::string(".."),
          "." + p + "." + s, h + ".." + s, h + "=." + p + "." + s, h + "." + p + "." + s + "=",
          h + "." + p + "." + s + "AA", h + " ." + p + "." + s}) {
        SCOPED_TRACE(bad);
        expect_invalid(verify_jwt(creds(bad), opts()));
    }
}

TEST_F(VerifyJwt, RejectsPayloadOrHeaderThatIsNotAJsonObject) {
    for (const char* payload : {"[]", "1", "\"aud\"", "null", "{", "{\"aud\":}", "", "{}x",
                                "{\"aud\":\"https://push.example:8443\",\"exp\":1} {}"}) {
        SCOPED_TRACE(payload);
        expect_invalid(verify_claims(payload));
    }
    for (const char* header : {"[]", "\"ES256\"", "{", "", "{\"alg\":\"ES256\"}x"}) {
        SCOPED_TRACE(header);
        expect_invalid(verify_header(header));
    }
}

TEST_F(VerifyJwt, RejectsInvalidUtf8AndDeepNesting) {
    expect_invalid(verify_claims(std::string("{\"aud\":\"\xff\xfe\",\"exp\":1}")));
    std::string deep = R"({"aud":"https://push.example:8443","exp":)" + std::to_string(kNowS + 60) +
                       R"(,"x":)" + std::string(5000, '[') + std::string(5000, ']') + "}";
    expect_invalid(verify_claims(deep));
}

TEST_F(VerifyJwt, RejectsOversizedToken) {
    const std::string big_claim = R"({"aud":"https://push.example:8443","exp":)" +
                                  std::to_string(kNowS + 60) + R"(,"pad":")" +
                                  std::string(kMaxTokenSize, 'x') + "\"}";
    expect_invalid(verify_claims(big_claim));
}

TEST_F(VerifyJwt, SurvivesRandomTokensWithoutCrashing) {
    std::mt19937 rng(7515);
    const std::string valid = test::make_token(signer_, claims());
    for (int i = 0; i < 3000; ++i) {
        std::string t = valid;
        const int edits = 1 + static_cast<int>(rng() % 6);
        for (int e = 0; e < edits && !t.empty(); ++e) {
            const std::size_t pos = rng() % t.size();
            switch (rng() % 3) {
                case 0:
                    t[pos] = static_cast<char>(rng() & 0xff);
                    break;
                case 1:
                    t.erase(pos, 1 + rng() % 16);
                    break;
                default:
                    t.insert(pos, 1, "A_-.=\0{"[rng() % 7]);
                    break;
            }
        }
        auto r = verify_jwt(creds(t), opts());
        if (t != valid) {
            EXPECT_FALSE(r.has_value());
        }
    }
}

}  // namespace
}  // namespace pushsvc::vapid
