// The try-it page's sender half (web/demo.h): what it encrypts, the test double's decrypter
// (an independent reading of RFC 8291 / RFC 8188) opens; its VAPID header is well formed and
// its signature verifies with the public key it names.
#include "pushsvc/web/demo.h"

#include <gtest/gtest.h>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/testdouble/decrypt.h"

namespace pushsvc::web {
namespace {

// R8291-3.3-a, R8291-4-a, R8188-2-a: the key schedule, one record with the 0x02 delimiter.
TEST(Demo, EncryptsWhatAUserAgentDecrypts) {
    auto ua = crypto::P256PrivateKey::generate();
    std::string auth = crypto::random_bytes(16);
    for (std::string text :
         {std::string(), std::string("Hello from pushsvc"), std::string(4000, 'x')}) {
        auto body = encrypt_aes128gcm(ua.public_raw(), auth, text);
        ASSERT_TRUE(body) << text.size();
        auto out = testdouble::decrypt(ua, auth, *body, {"aes128gcm", "", ""});
        ASSERT_TRUE(out.plaintext) << out.error;
        EXPECT_EQ(*out.plaintext, text);
    }
}

TEST(Demo, RefusesBadKeysAndTextBeyondOneRecord) {
    auto ua = crypto::P256PrivateKey::generate();
    EXPECT_FALSE(encrypt_aes128gcm(ua.public_raw(), "short", "x"));
    EXPECT_FALSE(encrypt_aes128gcm(std::string(65, '\x04'), std::string(16, 'a'), "x"));
    auto big = encrypt_aes128gcm(ua.public_raw(), std::string(16, 'a'), std::string(5000, 'x'));
    ASSERT_FALSE(big);
    EXPECT_EQ(big.error(), make_error_code(errc::payload_too_large));
}

// R8292-2-a, R8292-2-b, R8292-2-c: an ES256 token with aud and exp, and its key in k.
TEST(Demo, VapidHeaderNamesItsKeyAndVerifies) {
    auto key = crypto::P256PrivateKey::generate();
    std::string h = vapid_authorization(key, "https://push.example", "mailto:demo@pushsvc.invalid",
                                        1'900'000'000);
    ASSERT_EQ(h.rfind("vapid t=", 0), 0u);
    auto comma = h.find(", k=");
    ASSERT_NE(comma, std::string::npos);
    std::string jwt = h.substr(8, comma - 8);
    EXPECT_EQ(h.substr(comma + 4), base::base64url_encode(key.public_raw()));
    auto last = jwt.rfind('.');
    auto sig = base::base64url_decode(jwt.substr(last + 1));
    ASSERT_TRUE(sig);
    auto pub = crypto::P256PublicKey::from_uncompressed(key.public_raw());
    ASSERT_TRUE(pub);
    EXPECT_TRUE(pub->verify_es256(jwt.substr(0, last), *sig));
    auto claims = base::base64url_decode(jwt.substr(jwt.find('.') + 1, last - jwt.find('.') - 1));
    ASSERT_TRUE(claims);
    EXPECT_NE(claims->find("\"aud\":\"https://push.example\""), std::string::npos);
    EXPECT_NE(claims->find("\"exp\":1900000000"), std::string::npos);
}

}  // namespace
}  // namespace pushsvc::web
