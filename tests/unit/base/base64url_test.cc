#include "pushsvc/base/base64url.h"

#include <gtest/gtest.h>

namespace pushsvc::base {
namespace {

TEST(Base64Url, RoundTripsEveryLengthAndByteValue) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    for (std::size_t n = 0; n <= bytes.size(); n += 7) {
        auto text = base64url_encode(bytes.substr(0, n));
        EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
        auto back = base64url_decode(text);
        ASSERT_TRUE(back) << n;
        EXPECT_EQ(*back, bytes.substr(0, n));
    }
}

TEST(Base64Url, EncodesRfc4648Vectors) {
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    std::string url = "https://push.test/m/";
    base64url_append(url, "foob");
    EXPECT_EQ(url, "https://push.test/m/Zm9vYg") << "appended after what is there";
}

TEST(Base64Url, StrictDecoderRejectsPaddingStdAlphabetAndImpossibleLengths) {
    EXPECT_FALSE(base64url_decode("Zg=="));
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zh"));  // non-zero leftover bits: not canonical
    EXPECT_FALSE(base64url_decode("a b"));
}

TEST(Base64Url, LenientDecoderAcceptsPaddingAndStdAlphabetAsSendersDo) {
    EXPECT_EQ(base64_decode_lenient("Zg=="), "f");
    EXPECT_EQ(base64_decode_lenient("+/8"), "\xfb\xff");
    EXPECT_EQ(base64_decode_lenient("-_8="), "\xfb\xff");
    EXPECT_FALSE(base64_decode_lenient("Zg=a"));
}

// The block-wise decoder (four characters at a time) against the definition: a bad character
// in any position of a block, or in the tail, fails, and so do non-zero leftover bits.
TEST(Base64Url, RejectsABadCharacterAtEveryPosition) {
    const std::string good = base64url_encode("0123456789abcdefghij");  // 27 characters
    for (std::size_t i = 0; i < good.size(); ++i) {
        std::string bad = good;
        bad[i] = '.';
        EXPECT_FALSE(base64url_decode(bad)) << i;
        bad[i] = '+';
        EXPECT_FALSE(base64url_decode(bad)) << i;
        // '+' is in the standard alphabet (except last, where its low bits must be zero).
        if (i + 1 < good.size()) {
            EXPECT_TRUE(base64_decode_lenient(bad)) << i;
        }
    }
    EXPECT_FALSE(base64url_decode("Zm9vYh"));  // "foob" would end in "Yg"
}

TEST(Base64Url, DecodesIntoACallersBuffer) {
    char buf[8];
    EXPECT_EQ(base64url_decode_to("Zm9vYmE", buf), 5u);
    EXPECT_EQ(std::string(buf, 5), "fooba");
    EXPECT_FALSE(base64url_decode_to("Zm9vYmFy", std::span<char>(buf, 5)));  // 6 octets
    EXPECT_EQ(base64url_decode_to("Zm9vYmFy", std::span<char>(buf, 6)), 6u);
    EXPECT_FALSE(base64url_decode_to("Zm9vY", buf));
    EXPECT_FALSE(base64url_decode_to("Zm9v=", buf));
    EXPECT_EQ(base64url_decode_to("", buf), 0u);
}

TEST(Base64Url, AlphabetCheckAcceptsOnlyUrlSafeCharacters) {
    EXPECT_TRUE(is_base64url_alphabet("AZaz09-_"));
    for (std::string bad : {"a.b", "a b", "a+b", "a/b", "a%20b", "a=b"})
        EXPECT_FALSE(is_base64url_alphabet(bad)) << bad;
}

}  // namespace
}  // namespace pushsvc::base
