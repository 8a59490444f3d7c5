#include "tools/client/base64url.h"

#include <gtest/gtest.h>

namespace webpush_client {
namespace {

TEST(Base64url, EncodesWithoutPadding) {
    EXPECT_EQ(base64url_encode(std::string_view("")), "");
    EXPECT_EQ(base64url_encode(std::string_view("f")), "Zg");
    EXPECT_EQ(base64url_encode(std::string_view("fo")), "Zm8");
    EXPECT_EQ(base64url_encode(std::string_view("foo")), "Zm9v");
    EXPECT_EQ(base64url_encode(Bytes{0xfb, 0xff}), "-_8");
}

TEST(Base64url, DecodesUnpaddedAndPaddedInput) {
    EXPECT_EQ(to_string(base64url_decode("Zg").value()), "f");
    EXPECT_EQ(to_string(base64url_decode("Zg==").value()), "f");
    EXPECT_EQ(to_string(base64url_decode("Zm8=").value()), "fo");
    EXPECT_EQ(base64url_decode("-_8").value(), (Bytes{0xfb, 0xff}));
}

TEST(Base64url, RejectsStandardAlphabetAndBadPadding) {
    EXPECT_FALSE(base64url_decode("+/8"));
    EXPECT_FALSE(base64url_decode("Zg="));
    EXPECT_FALSE(base64url_decode("Z"));
    EXPECT_FALSE(base64url_decode("Zm9v!"));
    EXPECT_EQ(base64url_decode("Z").error().code, Errc::invalid_base64);
}

TEST(Base64url, RoundTripsEveryLength) {
    Bytes data;
    for (int n = 0; n < 70; ++n) {
        EXPECT_EQ(base64url_decode(base64url_encode(data)).value(), data);
        data.push_back(std::uint8_t(n * 37));
    }
}

}  // namespace
}  // namespace webpush_client
