// The in-service user agent's decrypter (pushsvc/testdouble/decrypt.h) against the RFC 8291
// Appendix A vector and bodies encrypted by tools/client (an independent implementation).
// Checklist IDs: R8291-3.3-a, R8291-4-f, R8188-2-b, R8188-2.2-a, RENC04-3.4-a, RENC04-4-f.
#include "pushsvc/testdouble/decrypt.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include <fstream>
#include <sstream>

#include "pushsvc/base/base64url.h"
#include "tools/client/push_encryption.h"

namespace pushsvc::testdouble {
namespace {

std::string b64(std::string_view s) { return *base::base64url_decode(s); }

struct Ua {
    crypto::P256PrivateKey key = crypto::P256PrivateKey::generate();
    std::string auth = std::string(16, '\x07');
};

webpush_client::EncryptedPayload encrypt(const Ua& ua, const std::string& text,
                                         webpush_client::EncryptOptions opt) {
    auto pub =
        webpush_client::P256Key::from_public_bytes(webpush_client::to_bytes(ua.key.public_raw()))
            .value();
    return webpush_client::encrypt_payload(pub, webpush_client::to_bytes(ua.auth),
                                           webpush_client::to_bytes(text), opt)
        .value();
}

DecryptResult open(const Ua& ua, const webpush_client::EncryptedPayload& p) {
    return decrypt(ua.key, ua.auth, webpush_client::to_string(p.body),
                   EncodingFields{std::string(webpush_client::to_string(p.encoding)), p.encryption,
                                  p.crypto_key});
}

TEST(Decrypt, OpensTheRfc8291AppendixAExample_R8291_3_3_a) {
    std::ifstream in(std::string(PUSHSVC_SOURCE_DIR) + "/tests/data/rfc8291_appendix_a.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto v = boost::json::parse(ss.str()).as_object();
    auto key = crypto::P256PrivateKey::from_private_raw(b64(v.at("ua_private").as_string()));
    ASSERT_TRUE(key);
    auto r = decrypt(*key, b64(v.at("auth_secret").as_string()), b64(v.at("body").as_string()),
                     EncodingFields{"aes128gcm", "", ""});
    ASSERT_TRUE(r.plaintext) << r.error;
    EXPECT_EQ(*r.plaintext, "When I grow up, I want to be a watermelon");
}

TEST(Decrypt, OpensAes128gcmWithPaddingAndSeveralRecords_R8188_2_b) {
    Ua ua;
    webpush_client::EncryptOptions opt;
    opt.padding = 300;
    auto r = open(ua, encrypt(ua, "padded", opt));
    ASSERT_TRUE(r.plaintext) << r.error;
    EXPECT_EQ(*r.plaintext, "padded");
    opt.padding = 0;
    opt.rs = 64;  // several records, delimiter 0x01 then 0x02
    std::string long_text(500, 'z');
    r = open(ua, encrypt(ua, long_text, opt));
    ASSERT_TRUE(r.plaintext) << r.error;
    EXPECT_EQ(*r.plaintext, long_text);
}

TEST(Decrypt, OpensAesgcmWithSaltAndDhFromHeaders_RENC04_3_4_a) {
    Ua ua;
    webpush_client::EncryptOptions opt;
    opt.encoding = webpush_client::ContentEncoding::aesgcm;
    opt.padding = 20;
    auto p = encrypt(ua, "legacy", opt);
    auto r = open(ua, p);
    ASSERT_TRUE(r.plaintext) << r.error;
    EXPECT_EQ(*r.plaintext, "legacy");
    // Extra parameters (rust ece: ";rs=4096") and p256ecdsa next to dh are tolerated.
    r = decrypt(
        ua.key, ua.auth, webpush_client::to_string(p.body),
        EncodingFields{"AESGCM", p.encryption + ";rs=4096", p.crypto_key + ";p256ecdsa=BAAA"});
    ASSERT_TRUE(r.plaintext) << r.error;
    EXPECT_EQ(*r.plaintext, "legacy");
}

TEST(Decrypt, ReportsAlteredBodiesAndWrongKeysAsUndecryptable_R8291_4_f) {
    Ua ua, other;
    auto p = encrypt(ua, "secret", {});
    auto r = open(other, p);
    EXPECT_FALSE(r.plaintext);
    EXPECT_FALSE(r.error.empty());
    p.body.back() ^= 0x01;
    EXPECT_FALSE(open(ua, p).plaintext);
    p.body.resize(15);
    EXPECT_FALSE(open(ua, p).plaintext);
}

TEST(Decrypt, RejectsALastRecordEndingInDelimiter0x01_R8188_2_b) {
    // Two records cut after the first: the remaining record carries delimiter 0x01, which
    // means more records were due (RFC 8188 §2): truncated, never a message.
    Ua ua;
    webpush_client::EncryptOptions opt;
    opt.rs = 64;
    auto p = encrypt(ua, std::string(100, 'a'), opt);
    std::size_t header = 21 + 65;
    p.body.resize(header + 64);
    auto r = open(ua, p);
    EXPECT_FALSE(r.plaintext);
    EXPECT_NE(r.error.find("delimiter"), std::string::npos) << r.error;
}

TEST(Decrypt, AnEmptyBodyIsTheEmptyMessage_R8291_X_b) {
    Ua ua;
    auto r = decrypt(ua.key, ua.auth, "", EncodingFields{});
    ASSERT_TRUE(r.plaintext);
    EXPECT_TRUE(r.plaintext->empty());
    EXPECT_FALSE(decrypt(ua.key, ua.auth, "plain", EncodingFields{}).plaintext);
}

TEST(HeaderParam, AcceptsSemicolonsCommasQuotesAndAnyOrder_RVAPID01_4_b) {
    EXPECT_EQ(header_param("dh=A;p256ecdsa=B", "dh"), "A");
    EXPECT_EQ(header_param("p256ecdsa=B; dh=A", "dh"), "A");
    EXPECT_EQ(header_param("dh=\"A\", p256ecdsa=B", "dh"), "A");
    EXPECT_EQ(header_param("keyid=p256dh;dh=A", "DH"), "A");
    EXPECT_EQ(header_param("salt=S;rs=4096", "rs"), "4096");
    EXPECT_FALSE(header_param("p256ecdsa=B", "dh"));
}

}  // namespace
}  // namespace pushsvc::testdouble
