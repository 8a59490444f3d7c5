#include "pushsvc/crypto/random.h"

#include <gtest/gtest.h>

#include <set>

namespace pushsvc::crypto {
namespace {

TEST(RandomBytes, ReturnsRequestedLength) {
    EXPECT_EQ(random_bytes(0).size(), 0u);
    EXPECT_EQ(random_bytes(1).size(), 1u);
    EXPECT_EQ(random_bytes(16).size(), 16u);
    EXPECT_EQ(random_bytes(4096).size(), 4096u);
}

// R8030-8.3-b: ids drawn from it must not repeat.
TEST(RandomBytes, NeverRepeatsSixteenByteValues) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(random_bytes(16)).second);
}

}  // namespace
}  // namespace pushsvc::crypto
