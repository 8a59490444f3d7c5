#include "pushsvc/crypto/hash.h"

#include <gtest/gtest.h>

#include "tests/unit/crypto/hex.h"

namespace pushsvc::crypto {
namespace {

using test::hex;
using test::unhex;

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
TEST(Sha256, MatchesFipsExampleForAbc) {
    EXPECT_EQ(hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, MatchesKnownDigestOfEmptyInput) {
    EXPECT_EQ(hex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, MatchesFipsExampleForTwoBlockMessage) {
    EXPECT_EQ(hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// RFC 4231 §4.2 test case 1.
TEST(HmacSha256, MatchesRfc4231TestCase1) {
    EXPECT_EQ(hex(hmac_sha256(std::string(20, '\x0b'), "Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

// RFC 4231 §4.3 test case 2: key shorter than the block.
TEST(HmacSha256, MatchesRfc4231TestCase2) {
    EXPECT_EQ(hex(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// RFC 4231 §4.7 test case 6: key longer than the block is hashed first.
TEST(HmacSha256, MatchesRfc4231TestCase6WithLongKey) {
    EXPECT_EQ(hex(hmac_sha256(std::string(131, '\xaa'),
                              "Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, AcceptsEmptyKeyAndData) {
    EXPECT_EQ(hex(hmac_sha256("", "")),
              "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

// RFC 5869 Appendix A.1.
TEST(HkdfSha256, MatchesRfc5869TestCase1) {
    const std::string ikm(22, '\x0b');
    const std::string salt = unhex("000102030405060708090a0b0c");
    const std::string info = unhex("f0f1f2f3f4f5f6f7f8f9");
    EXPECT_EQ(
        hex(hkdf_sha256(salt, ikm, info, 42)),
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 Appendix A.3: empty salt means HashLen zeros, empty info.
TEST(HkdfSha256, MatchesRfc5869TestCase3WithEmptySaltAndInfo) {
    EXPECT_EQ(
        hex(hkdf_sha256("", std::string(22, '\x0b'), "", 42)),
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, ReturnsExactLengthsAcrossBlockBoundaries) {
    const std::string long_okm = hkdf_sha256("salt", "ikm", "info", 255 * 32);
    EXPECT_EQ(long_okm.size(), 255u * 32u);
    for (std::size_t len : {0u, 1u, 16u, 31u, 32u, 33u, 64u, 100u}) {
        const std::string okm = hkdf_sha256("salt", "ikm", "info", len);
        ASSERT_EQ(okm.size(), len);
        EXPECT_EQ(okm, long_okm.substr(0, len)) << "prefix property, len " << len;
    }
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
    EXPECT_TRUE(constant_time_equal("", ""));
    EXPECT_TRUE(constant_time_equal("abc", "abc"));
    EXPECT_FALSE(constant_time_equal("abc", "abd"));
    EXPECT_FALSE(constant_time_equal("abc", "ab"));
    EXPECT_FALSE(constant_time_equal("", "a"));
    EXPECT_TRUE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
    EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

}  // namespace
}  // namespace pushsvc::crypto
