// RFC 8188 aes128gcm codec: the §3.1 / §3.2 examples both ways, and negative vectors.
#include "tools/client/aes128gcm.h"

#include <gtest/gtest.h>

#include "tests/unit/client/test_data.h"
#include "tools/client/crypto.h"

namespace webpush_client {
namespace {
using test::b64;
using test::str;

TEST(Rfc8188Examples, EncryptDeterministicallyToThePublishedBodies) {
    auto vectors = test::load_vector("rfc8188_examples.json");
    for (const auto& v : vectors.at("examples").as_array()) {
        const auto& o = v.as_object();
        Aes128gcmParams p;
        p.salt = b64(o.at("salt"));
        p.keyid = to_bytes(str(o.at("keyid")));
        p.rs = std::uint32_t(o.at("rs").to_number<int>());
        p.padding = std::size_t(o.at("padding").to_number<int>());
        auto body = aes128gcm_encrypt(b64(o.at("ikm")), to_bytes(str(o.at("plaintext"))), p);
        ASSERT_TRUE(body) << body.error().message;
        EXPECT_EQ(base64url_encode(*body), str(o.at("body"))) << str(o.at("name"));
    }
}

TEST(Rfc8188Examples, DecryptToThePlaintext) {
    auto vectors = test::load_vector("rfc8188_examples.json");
    for (const auto& v : vectors.at("examples").as_array()) {
        const auto& o = v.as_object();
        auto plain = aes128gcm_decrypt(b64(o.at("body")), b64(o.at("ikm")));
        ASSERT_TRUE(plain) << plain.error().message;
        EXPECT_EQ(to_string(*plain), str(o.at("plaintext")));
        auto header = parse_aes128gcm_header(b64(o.at("body")));
        ASSERT_TRUE(header);
        EXPECT_EQ(to_string(header->keyid), str(o.at("keyid")));
        EXPECT_EQ(header->rs, std::uint32_t(o.at("rs").to_number<int>()));
    }
}

TEST(Rfc8188Examples, IntermediateKeysMatchSection31) {
    auto vectors = test::load_vector("rfc8188_examples.json");
    const auto& o = vectors.at("examples").as_array()[0].as_object();
    Bytes prk = hkdf_extract(b64(o.at("salt")), b64(o.at("ikm")));
    EXPECT_EQ(base64url_encode(prk), str(o.at("prk")));
    Bytes info = to_bytes("Content-Encoding: aes128gcm");
    info.push_back(0);
    EXPECT_EQ(base64url_encode(hkdf_expand(prk, info, 16)), str(o.at("cek")));
    info = to_bytes("Content-Encoding: nonce");
    info.push_back(0);
    EXPECT_EQ(base64url_encode(hkdf_expand(prk, info, 12)), str(o.at("nonce")));
}

TEST(Aes128gcm, RoundTripsManyRecordsAndPadding) {
    Bytes ikm = random_bytes(16);
    Bytes plain = random_bytes(1000);
    for (std::uint32_t rs : {18u, 19u, 25u, 100u, 4096u}) {
        for (std::size_t pad : {0u, 1u, 17u, 300u}) {
            Aes128gcmParams p;
            p.rs = rs;
            p.padding = pad;
            auto body = aes128gcm_encrypt(ikm, plain, p);
            ASSERT_TRUE(body);
            auto back = aes128gcm_decrypt(*body, ikm);
            ASSERT_TRUE(back) << "rs=" << rs << " pad=" << pad << ": " << back.error().message;
            EXPECT_EQ(*back, plain);
        }
    }
}

TEST(Aes128gcm, EmptyPlaintextIsOneRecord) {
    Bytes ikm = random_bytes(16);
    auto body = aes128gcm_encrypt(ikm, {}, {});
    ASSERT_TRUE(body);
    EXPECT_EQ(body->size(), 21u + 17u);
    EXPECT_EQ(aes128gcm_decrypt(*body, ikm).value(), Bytes{});
}

TEST(Aes128gcm, RejectsRecordSizeBelow18) {
    Aes128gcmParams p;
    p.rs = 17;
    EXPECT_FALSE(aes128gcm_encrypt(random_bytes(16), to_bytes("x"), p));
    Bytes body(21 + 17, 0);
    body[19] = 17;
    EXPECT_EQ(aes128gcm_decrypt(body, random_bytes(16)).error().code, Errc::bad_header);
}

TEST(Aes128gcm, TruncatedBodiesFailCleanly) {
    auto vectors = test::load_vector("rfc8188_examples.json");
    const auto& o = vectors.at("examples").as_array()[1].as_object();
    Bytes body = b64(o.at("body"));
    Bytes ikm = b64(o.at("ikm"));
    // Header only, header cut short, last record dropped, last record cut.
    Bytes header_only(body.begin(), body.begin() + 23);
    EXPECT_EQ(aes128gcm_decrypt(header_only, ikm).error().code, Errc::truncated);
    EXPECT_EQ(aes128gcm_decrypt(Bytes(body.begin(), body.begin() + 10), ikm).error().code,
              Errc::truncated);
    Bytes first_record_only(body.begin(), body.begin() + 23 + 25);
    EXPECT_EQ(aes128gcm_decrypt(first_record_only, ikm).error().code, Errc::truncated);
    Bytes short_last(body.begin(), body.begin() + 23 + 25 + 10);
    EXPECT_EQ(aes128gcm_decrypt(short_last, ikm).error().code, Errc::truncated);
    Bytes cut_last(body.begin(), body.end() - 1);
    EXPECT_EQ(aes128gcm_decrypt(cut_last, ikm).error().code, Errc::decrypt_failed);
}

TEST(Aes128gcm, WrongKeyFailsAuthentication) {
    auto vectors = test::load_vector("rfc8188_examples.json");
    const auto& o = vectors.at("examples").as_array()[0].as_object();
    Bytes ikm = b64(o.at("ikm"));
    ikm[0] ^= 1;
    EXPECT_EQ(aes128gcm_decrypt(b64(o.at("body")), ikm).error().code, Errc::decrypt_failed);
}

}  // namespace
}  // namespace webpush_client
