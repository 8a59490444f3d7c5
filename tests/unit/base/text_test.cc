#include "pushsvc/base/text.h"

#include <gtest/gtest.h>

namespace pushsvc::base {
namespace {

TEST(ParseParams, ReadsSemicolonAndCommaSeparatedItemsInAnyOrder) {
    // RVAPID01-4-b: every form deployed senders emit.
    for (std::string v : {"dh=A;p256ecdsa=B", "dh=A, p256ecdsa=B", "p256ecdsa=B;dh=A",
                          "dh=\"A\"; p256ecdsa=\"B\"", "keyid=p256dh;dh=A;p256ecdsa=B"}) {
        auto params = parse_params(v);
        ASSERT_TRUE(params) << v;
        ASSERT_TRUE(find_param(*params, "dh")) << v;
        EXPECT_EQ(find_param(*params, "dh")->value, "A") << v;
        EXPECT_EQ(find_param(*params, "p256ecdsa")->value, "B") << v;
    }
}

TEST(ParseParams, LowerCasesNamesAndKeepsValues) {
    auto params = parse_params("Salt=AbC;RS=4096");
    ASSERT_TRUE(params);
    EXPECT_EQ(find_param(*params, "salt")->value, "AbC");
    EXPECT_EQ(find_param(*params, "rs")->value, "4096");
}

TEST(ParseParams, RejectsItemsWithoutValueOrName) {
    EXPECT_FALSE(parse_params("dh"));
    EXPECT_FALSE(parse_params("=x"));
    EXPECT_FALSE(parse_params("dh=\"unterminated"));
    EXPECT_FALSE(parse_params("a=1;b"));
}

TEST(ParseParams, SkipsEmptyItems) {
    auto params = parse_params(" ;, dh=A ,; ");
    ASSERT_TRUE(params);
    EXPECT_EQ(params->size(), 1u);
}

TEST(Text, TrimsOnlyOptionalWhitespaceAndComparesCaseInsensitively) {
    EXPECT_EQ(trim(" \tab c\t "), "ab c");
    EXPECT_TRUE(iequals("AES128GCM", "aes128gcm"));
    EXPECT_FALSE(iequals("aes128gcm", "aes128gc"));
    EXPECT_EQ(split("a, b,,c", ',').size(), 4u);
}

TEST(Text, IsLowerIsWhetherToLowerWouldChangeNothing) {
    EXPECT_TRUE(is_lower("content-type"));
    EXPECT_TRUE(is_lower(""));
    EXPECT_TRUE(is_lower("x-1_2"));
    EXPECT_FALSE(is_lower("Content-Type"));
    EXPECT_FALSE(is_lower("content-typE"));
    EXPECT_EQ(to_lower("X-Mixed"), "x-mixed");
}

}  // namespace
}  // namespace pushsvc::base
