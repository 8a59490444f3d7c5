// RFC 8291 (aes128gcm with the Web Push key schedule) and the legacy aesgcm coding.
#include <gtest/gtest.h>

#include "tests/unit/client/test_data.h"
#include "tools/client/aes128gcm.h"
#include "tools/client/aesgcm.h"
#include "tools/client/crypto.h"
#include "tools/client/push_encryption.h"
#include "tools/client/user_agent_keys.h"

namespace webpush_client {
namespace {
using test::b64;
using test::str;

struct Rfc8291 {
    boost::json::object v = test::load_vector("rfc8291_appendix_a.json");
    P256Key as_key = P256Key::from_private_bytes(b64(v.at("as_private"))).value();
    P256Key ua_key = P256Key::from_private_bytes(b64(v.at("ua_private"))).value();
    Bytes auth = b64(v.at("auth_secret"));
};

TEST(Rfc8291AppendixA, KeysDeriveThePublishedPublicKeys) {
    Rfc8291 r;
    EXPECT_EQ(r.as_key.public_base64url(), str(r.v.at("as_public")));
    EXPECT_EQ(r.ua_key.public_base64url(), str(r.v.at("ua_public")));
}

TEST(Rfc8291AppendixA, IntermediateValuesMatch) {
    Rfc8291 r;
    Bytes secret = r.as_key.ecdh(r.ua_key).value();
    EXPECT_EQ(base64url_encode(secret), str(r.v.at("ecdh_secret")));
    EXPECT_EQ(r.ua_key.ecdh(r.as_key).value(), secret);
    EXPECT_EQ(base64url_encode(hkdf_extract(r.auth, secret)), str(r.v.at("prk_key")));
    Bytes ikm = webpush_ikm(secret, r.auth, r.ua_key.public_bytes(), r.as_key.public_bytes());
    EXPECT_EQ(base64url_encode(ikm), str(r.v.at("ikm")));
    Bytes prk = hkdf_extract(b64(r.v.at("salt")), ikm);
    EXPECT_EQ(base64url_encode(prk), str(r.v.at("prk")));
}

TEST(Rfc8291AppendixA, EncryptsDeterministicallyToThePublishedBody) {
    Rfc8291 r;
    EncryptOptions opt;
    opt.sender_key = r.as_key;
    opt.salt = b64(r.v.at("salt"));
    auto ua_public = P256Key::from_public_bytes(b64(r.v.at("ua_public"))).value();
    auto enc = encrypt_payload(ua_public, r.auth, to_bytes(str(r.v.at("plaintext"))), opt);
    ASSERT_TRUE(enc) << enc.error().message;
    EXPECT_EQ(base64url_encode(enc->body), str(r.v.at("body")));
    EXPECT_TRUE(enc->encryption.empty());
    EXPECT_TRUE(enc->crypto_key.empty());
}

TEST(Rfc8291AppendixA, DecryptsThePublishedBody) {
    Rfc8291 r;
    auto plain = decrypt_payload(r.ua_key, r.auth, b64(r.v.at("body")), {"aes128gcm", "", ""});
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_EQ(to_string(*plain), str(r.v.at("plaintext")));
}

TEST(Rfc8291AppendixA, WrongAuthSecretFailsCleanly) {
    Rfc8291 r;
    Bytes auth = r.auth;
    auth[15] ^= 0x80;
    auto plain = webpush_aes128gcm_decrypt(r.ua_key, auth, b64(r.v.at("body")));
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().code, Errc::decrypt_failed);
}

TEST(Rfc8291AppendixA, WrongUserAgentKeyFailsCleanly) {
    Rfc8291 r;
    auto plain = webpush_aes128gcm_decrypt(P256Key::generate(), r.auth, b64(r.v.at("body")));
    ASSERT_FALSE(plain);
    EXPECT_EQ(plain.error().code, Errc::decrypt_failed);
}

TEST(Rfc8291, KeyidThatIsNotAPointIsRejected) {
    Rfc8291 r;
    Bytes body = b64(r.v.at("body"));
    body[21] = 0x05;  // first octet of the keyid must be 0x04
    EXPECT_EQ(webpush_aes128gcm_decrypt(r.ua_key, r.auth, body).error().code, Errc::invalid_key);
    Aes128gcmParams p;
    p.keyid = Bytes(33, 2);
    Bytes short_id = aes128gcm_encrypt(random_bytes(16), to_bytes("x"), p).value();
    EXPECT_EQ(webpush_aes128gcm_decrypt(r.ua_key, r.auth, short_id).error().code, Errc::bad_header);
}

TEST(WebPushEncryption, RoundTripsBothEncodingsWithPaddingAndSmallRecords) {
    UserAgentKeys ua = UserAgentKeys::generate();
    for (auto encoding : {ContentEncoding::aes128gcm, ContentEncoding::aesgcm}) {
        for (std::uint32_t rs : {25u, 4096u}) {
            for (std::size_t pad : {0u, 5u, 200u}) {
                Bytes plain = random_bytes(333);
                EncryptOptions opt;
                opt.encoding = encoding;
                opt.rs = rs;
                opt.padding = pad;
                auto enc = encrypt_payload(ua.key(), ua.auth(), plain, opt);
                ASSERT_TRUE(enc);
                auto back = ua.decrypt(enc->body, {std::string(to_string(encoding)),
                                                   enc->encryption, enc->crypto_key});
                ASSERT_TRUE(back) << to_string(encoding) << " rs=" << rs << " pad=" << pad << ": "
                                  << back.error().message;
                EXPECT_EQ(*back, plain);
            }
        }
    }
}

TEST(Aesgcm, HeadersAreUnpaddedBase64url) {
    UserAgentKeys ua = UserAgentKeys::generate();
    EncryptOptions opt;
    opt.encoding = ContentEncoding::aesgcm;
    auto enc = encrypt_payload(ua.key(), ua.auth(), to_bytes("hi"), opt).value();
    EXPECT_EQ(enc.encryption.rfind("salt=", 0), 0u);
    EXPECT_EQ(enc.encryption.size(), 5u + 22u);
    EXPECT_EQ(enc.crypto_key.rfind("dh=", 0), 0u);
    EXPECT_EQ(enc.crypto_key.size(), 3u + 87u);
    EXPECT_EQ(enc.body.size(), 2u + 2u + 16u);
}

TEST(Aesgcm, AcceptsQuotedPaddedAndReorderedHeaderParameters) {
    UserAgentKeys ua = UserAgentKeys::generate();
    EncryptOptions opt;
    opt.encoding = ContentEncoding::aesgcm;
    auto enc = encrypt_payload(ua.key(), ua.auth(), to_bytes("hello"), opt).value();
    std::string salt = enc.encryption.substr(5);
    std::string dh = enc.crypto_key.substr(3);
    auto plain = webpush_aesgcm_decrypt(ua.key(), ua.auth(), enc.body,
                                        "keyid=p256dh; salt=\"" + salt + "==\"; rs=4096",
                                        "p256ecdsa=BAAA;keyid=x, keyid=p256dh;dh=\"" + dh + "\"");
    ASSERT_TRUE(plain) << plain.error().message;
    EXPECT_EQ(to_string(*plain), "hello");
}

TEST(Aesgcm, MissingOrBadHeadersFailCleanly) {
    UserAgentKeys ua = UserAgentKeys::generate();
    EncryptOptions opt;
    opt.encoding = ContentEncoding::aesgcm;
    auto enc = encrypt_payload(ua.key(), ua.auth(), to_bytes("hello"), opt).value();
    EXPECT_EQ(ua.decrypt(enc.body, {"aesgcm", "", enc.crypto_key}).error().code, Errc::bad_header);
    EXPECT_EQ(
        webpush_aesgcm_decrypt(ua.key(), ua.auth(), enc.body, "rs=10", enc.crypto_key).error().code,
        Errc::bad_header);
    EXPECT_EQ(webpush_aesgcm_decrypt(ua.key(), ua.auth(), enc.body, enc.encryption, "p256ecdsa=x")
                  .error()
                  .code,
              Errc::bad_header);
    Bytes wrong_auth = ua.auth();
    wrong_auth[0] ^= 1;
    EXPECT_EQ(webpush_aesgcm_decrypt(ua.key(), wrong_auth, enc.body, enc.encryption, enc.crypto_key)
                  .error()
                  .code,
              Errc::decrypt_failed);
    Bytes cut(enc.body.begin(), enc.body.begin() + 10);
    EXPECT_EQ(webpush_aesgcm_decrypt(ua.key(), ua.auth(), cut, enc.encryption, enc.crypto_key)
                  .error()
                  .code,
              Errc::truncated);
}

TEST(PushEncryption, UnknownEncodingIsRejected) {
    UserAgentKeys ua = UserAgentKeys::generate();
    EXPECT_EQ(ua.decrypt(to_bytes("x"), {"gzip", "", ""}).error().code, Errc::invalid_argument);
    EXPECT_EQ(parse_content_encoding("AES128GCM").value(), ContentEncoding::aes128gcm);
}

}  // namespace
}  // namespace webpush_client
