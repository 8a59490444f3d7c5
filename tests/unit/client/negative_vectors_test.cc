// Negative decryption vectors (tests/data/ece_negative_vectors.json, built record by record
// with node:crypto): wrong delimiters, truncation, bad headers, wrong keys. Each must fail
// with the expected error code and never yield plaintext (RFC 8188 §2, §4.2; RFC 8291 §4, §7).
#include <gtest/gtest.h>

#include <map>

#include "tests/unit/client/test_data.h"
#include "tools/client/aes128gcm.h"

namespace webpush_client {
namespace {
using test::b64;
using test::str;

const std::map<std::string, Errc> kCodes = {
    {"truncated", Errc::truncated},     {"bad_padding", Errc::bad_padding},
    {"bad_header", Errc::bad_header},   {"decrypt_failed", Errc::decrypt_failed},
    {"invalid_key", Errc::invalid_key},
};

TEST(NegativeVectors, Aes128gcmFailuresHaveTheExpectedCode) {
    auto v = test::load_vector("ece_negative_vectors.json");
    const auto& group = v.at("aes128gcm").as_object();
    Bytes ikm = b64(group.at("ikm"));
    int checked = 0;
    for (const auto& item : group.at("vectors").as_array()) {
        const auto& o = item.as_object();
        auto plain = aes128gcm_decrypt(b64(o.at("body")), ikm);
        std::string expect = str(o.at("expect"));
        if (expect == "ok") {
            ASSERT_TRUE(plain) << str(o.at("name")) << ": " << plain.error().message;
            EXPECT_EQ(to_string(*plain), str(o.at("plaintext")));
            continue;
        }
        ASSERT_FALSE(plain) << str(o.at("name")) << " decrypted";
        EXPECT_EQ(plain.error().code, kCodes.at(expect))
            << str(o.at("name")) << ": " << plain.error().message;
        EXPECT_FALSE(plain.error().message.empty());
        ++checked;
    }
    EXPECT_GE(checked, 10);
}

TEST(NegativeVectors, WebPushFailuresHaveTheExpectedCode) {
    auto v = test::load_vector("ece_negative_vectors.json");
    for (const auto& item : v.at("webpush").as_array()) {
        const auto& o = item.as_object();
        auto key = P256Key::from_private_bytes(b64(o.at("ua_private"))).value();
        auto plain = webpush_aes128gcm_decrypt(key, b64(o.at("auth_secret")), b64(o.at("body")));
        ASSERT_FALSE(plain) << str(o.at("name")) << " decrypted";
        EXPECT_EQ(plain.error().code, kCodes.at(str(o.at("expect"))))
            << str(o.at("name")) << ": " << plain.error().message;
    }
}

}  // namespace
}  // namespace webpush_client
