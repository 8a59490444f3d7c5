#include "pushsvc/crypto/p256.h"

#include <gtest/gtest.h>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/hash.h"
#include "tests/unit/crypto/hex.h"

namespace pushsvc::crypto {
namespace {

std::string b64(std::string_view text) {
    auto out = base::base64url_decode(text);
    EXPECT_TRUE(out.has_value()) << text;
    return out.value_or("");
}

// RFC 8292 §2.4 / §3.1 example token and the key of §3.2.
constexpr std::string_view kRfcSigningInput =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9."
    "eyJhdWQiOiJodHRwczovL3B1c2guZXhhbXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNo"
    "QGV4YW1wbGUuY29tIn0";
constexpr std::string_view kRfcSignature =
    "i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrErtmysazNjjvW2L9OkSSHzvoD1oA";
constexpr std::string_view kRfcKey =
    "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDYic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";

TEST(P256PublicKey, VerifiesRfc8292ExampleSignature) {
    auto key = P256PublicKey::from_uncompressed(b64(kRfcKey));
    ASSERT_TRUE(key.has_value());
    EXPECT_TRUE(key->verify_es256(kRfcSigningInput, b64(kRfcSignature)));
}

TEST(P256PublicKey, RejectsRfc8292ExampleWithAnyFlippedSignatureBit) {  // R8292-4.2-d
    auto key = P256PublicKey::from_uncompressed(b64(kRfcKey));
    ASSERT_TRUE(key.has_value());
    const std::string sig = b64(kRfcSignature);
    for (std::size_t i = 0; i < sig.size(); ++i) {
        std::string bad = sig;
        bad[i] = static_cast<char>(bad[i] ^ 0x80);
        EXPECT_FALSE(key->verify_es256(kRfcSigningInput, bad)) << "byte " << i;
    }
    std::string input(kRfcSigningInput);
    input.back() = 'x';
    EXPECT_FALSE(key->verify_es256(input, sig));
}

TEST(P256PublicKey, KeepsTheRawEncoding) {
    auto key = P256PublicKey::from_uncompressed(b64(kRfcKey));
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(key->raw(), b64(kRfcKey));
    P256PublicKey copy = *key;  // shares the EVP_PKEY
    EXPECT_EQ(copy.raw(), key->raw());
    EXPECT_TRUE(copy.verify_es256(kRfcSigningInput, b64(kRfcSignature)));
}

TEST(P256, SignVerifyRoundTrips) {
    const P256PrivateKey priv = P256PrivateKey::generate();
    const std::string pub_raw = priv.public_raw();
    ASSERT_EQ(pub_raw.size(), kP256PublicSize);
    EXPECT_EQ(pub_raw[0], '\x04');
    auto pub = P256PublicKey::from_uncompressed(pub_raw);
    ASSERT_TRUE(pub.has_value());
    for (std::string_view msg :
         {std::string_view(""), std::string_view("a.b"), std::string_view(kRfcSigningInput)}) {
        const std::string sig = priv.sign_es256(msg);
        ASSERT_EQ(sig.size(), kEs256SignatureSize);
        EXPECT_TRUE(pub->verify_es256(msg, sig));
        EXPECT_FALSE(pub->verify_es256(std::string(msg) + "x", sig));
    }
}

TEST(P256, SignaturesFromAnotherKeyDoNotVerify) {
    const P256PrivateKey a = P256PrivateKey::generate();
    const P256PrivateKey b = P256PrivateKey::generate();
    EXPECT_NE(a.public_raw(), b.public_raw());
    auto pub_b = P256PublicKey::from_uncompressed(b.public_raw());
    ASSERT_TRUE(pub_b.has_value());
    EXPECT_FALSE(pub_b->verify_es256("msg", a.sign_es256("msg")));
}

// R8292-2-h: only the JOSE R||S form; DER and other lengths are refused.
TEST(P256PublicKey, RejectsSignaturesThatAreNotSixtyFourBytes) {
    auto key = P256PublicKey::from_uncompressed(b64(kRfcKey));
    ASSERT_TRUE(key.has_value());
    const std::string sig = b64(kRfcSignature);
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, ""));
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, sig.substr(0, 63)));
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, sig + '\0'));
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, std::string(1 << 16, '\x30')));
    // The same R and S in ASN.1 DER: SEQUENCE { INTEGER r, INTEGER s } (r and s have their high
    // bit set in this example, so each gets a 0x00 prefix: 2 + 2*(2+33) = 72 octets).
    std::string der = "\x30\x46\x02\x21";
    der += '\0';
    der += sig.substr(0, 32);
    der += "\x02\x21";
    der += '\0';
    der += sig.substr(32);
    ASSERT_EQ(der.size(), 72u);
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, der));
}

TEST(P256PublicKey, RejectsZeroSignatureValues) {
    auto key = P256PublicKey::from_uncompressed(b64(kRfcKey));
    ASSERT_TRUE(key.has_value());
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, std::string(64, '\0')));
    EXPECT_FALSE(key->verify_es256(kRfcSigningInput, std::string(64, '\xff')));
}

// R8292-2-a: 65 octets, 0x04 prefix, on the curve.
TEST(P256PublicKey, RejectsWrongLength) {
    const std::string raw = b64(kRfcKey);
    EXPECT_FALSE(P256PublicKey::from_uncompressed(""));
    EXPECT_FALSE(P256PublicKey::from_uncompressed(raw.substr(0, 64)));
    EXPECT_FALSE(P256PublicKey::from_uncompressed(raw.substr(1)));
    EXPECT_FALSE(P256PublicKey::from_uncompressed(raw + '\0'));
    EXPECT_EQ(P256PublicKey::from_uncompressed(raw.substr(0, 64)).error(),
              make_error_code(errc::bad_request));
}

TEST(P256PublicKey, RejectsPrefixOtherThanUncompressed) {
    std::string raw = b64(kRfcKey);
    for (char prefix : {'\x00', '\x02', '\x03', '\x06', '\x07', '\x05'}) {
        raw[0] = prefix;
        EXPECT_FALSE(P256PublicKey::from_uncompressed(raw)) << int(prefix);
    }
    // A compressed key (33 octets) is refused too.
    EXPECT_FALSE(P256PublicKey::from_uncompressed(std::string("\x02") + raw.substr(1, 32)));
}

TEST(P256PublicKey, RejectsPointsOffTheCurve) {
    std::string raw = b64(kRfcKey);
    raw[64] = static_cast<char>(raw[64] ^ 0x01);  // Y changed: no longer on the curve
    EXPECT_FALSE(P256PublicKey::from_uncompressed(raw));
    EXPECT_FALSE(P256PublicKey::from_uncompressed(std::string("\x04") + std::string(64, '\0')));
    EXPECT_FALSE(P256PublicKey::from_uncompressed(std::string("\x04") + std::string(64, '\xff')));
    std::string x_only = b64(kRfcKey);
    x_only[1] = static_cast<char>(x_only[1] ^ 0x01);
    EXPECT_FALSE(P256PublicKey::from_uncompressed(x_only));
}

TEST(P256PublicKey, SurvivesRandomGarbageKeys) {
    for (int i = 0; i < 200; ++i) {
        std::string raw(65, '\0');
        for (std::size_t j = 0; j < raw.size(); ++j)
            raw[j] = static_cast<char>((i * 131 + j * 7) & 0xff);
        raw[0] = '\x04';
        EXPECT_FALSE(P256PublicKey::from_uncompressed(raw)) << i;
    }
}

TEST(P256PrivateKey, ExportsAndReimportsTheScalar) {
    const P256PrivateKey a = P256PrivateKey::generate();
    const std::string d = a.private_raw();
    ASSERT_EQ(d.size(), kP256PrivateSize);
    auto b = P256PrivateKey::from_private_raw(d);
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->public_raw(), a.public_raw());
}

TEST(P256PrivateKey, RejectsScalarsOutsideTheGroupOrder) {
    EXPECT_FALSE(P256PrivateKey::from_private_raw(std::string(32, '\0')));
    EXPECT_FALSE(P256PrivateKey::from_private_raw(std::string(32, '\xff')));  // > n
    EXPECT_FALSE(P256PrivateKey::from_private_raw(std::string(31, '\x01')));
    // n itself (FIPS 186-4 D.1.2.3).
    EXPECT_FALSE(P256PrivateKey::from_private_raw(
        test::unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")));
    EXPECT_TRUE(P256PrivateKey::from_private_raw(
        test::unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550")));
}

TEST(P256PrivateKey, EcdhAgreesInBothDirections) {
    const P256PrivateKey a = P256PrivateKey::generate();
    const P256PrivateKey b = P256PrivateKey::generate();
    const std::string ab = a.ecdh(b.public_raw());
    ASSERT_EQ(ab.size(), 32u);
    EXPECT_EQ(ab, b.ecdh(a.public_raw()));
}

TEST(P256PrivateKey, EcdhWithInvalidPeerReturnsEmpty) {
    const P256PrivateKey a = P256PrivateKey::generate();
    EXPECT_TRUE(a.ecdh("").empty());
    EXPECT_TRUE(a.ecdh(std::string("\x04") + std::string(64, '\0')).empty());
    std::string off = a.public_raw();
    off[64] = static_cast<char>(off[64] ^ 1);
    EXPECT_TRUE(a.ecdh(off).empty());
}

// RFC 8291 §5 / Appendix A worked example: ECDH, HKDF and AES-128-GCM end to end.
TEST(P256PrivateKey, ReproducesRfc8291Example) {
    auto ua = P256PrivateKey::from_private_raw(b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"));
    auto as = P256PrivateKey::from_private_raw(b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"));
    ASSERT_TRUE(ua.has_value());
    ASSERT_TRUE(as.has_value());
    const std::string ua_public = b64(
        "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4");
    const std::string as_public = b64(
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
    EXPECT_EQ(ua->public_raw(), ua_public);
    EXPECT_EQ(as->public_raw(), as_public);

    const std::string secret = as->ecdh(ua_public);
    EXPECT_EQ(secret, b64("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"));
    EXPECT_EQ(ua->ecdh(as_public), secret);

    const std::string auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
    const std::string salt = b64("DGv6ra1nlYgDCS1FRnbzlw");
    std::string key_info("WebPush: info\0", 14);
    key_info += ua_public;
    key_info += as_public;
    const std::string ikm = hkdf_sha256(auth, secret, key_info, 32);
    EXPECT_EQ(ikm, b64("S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg"));
    const std::string cek =
        hkdf_sha256(salt, ikm, std::string_view("Content-Encoding: aes128gcm\0", 28), 16);
    const std::string nonce =
        hkdf_sha256(salt, ikm, std::string_view("Content-Encoding: nonce\0", 24), 12);
    EXPECT_EQ(cek, b64("oIhVW04MRdy2XN9CiKLxTg"));
    EXPECT_EQ(nonce, b64("4h_95klXJ5E_qnoN"));

    const std::string body =
        b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_"
            "c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAm"
            "S6TlzAC8wEqKK6PBru3jl7A_"
            "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Q"
            "ulcy4a-fN");
    const std::size_t header_size = 16 + 4 + 1 + 65;
    auto plain = aes_gcm_open(cek, nonce, std::string_view(body).substr(header_size));
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(*plain, "When I grow up, I want to be a watermelon\x02");
    EXPECT_EQ(aes_gcm_seal(cek, nonce, *plain), body.substr(header_size));
}

}  // namespace
}  // namespace pushsvc::crypto
