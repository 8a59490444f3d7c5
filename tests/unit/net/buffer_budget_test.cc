// net::BufferBudget: the process-wide sum of connection buffers, its over-budget state and
// the fair-share rule that picks which connections to shed.
#include "pushsvc/net/buffer_budget.h"

#include <gtest/gtest.h>

#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "pushsvc/base/guard.h"

namespace pushsvc::net {
namespace {

TEST(BufferBudget, ChargesAddUpAndAreReleasedWithTheirConnection) {
    BufferBudget budget(1 << 20);
    {
        BufferBudget::Charge a(budget);
        BufferBudget::Charge b(budget);
        a.set(1000);
        b.set(500);
        EXPECT_EQ(budget.held(), 1500u);
        EXPECT_EQ(budget.holders(), 2u);
        a.set(200);  // shrinking gives back the difference
        EXPECT_EQ(budget.held(), 700u);
        b.set(0);
        EXPECT_EQ(budget.holders(), 1u);
    }
    EXPECT_EQ(budget.held(), 0u);
    EXPECT_EQ(budget.holders(), 0u);
}

TEST(BufferBudget, OverTheLimitTheLargestHoldersAreShedNotTheSmallOnes) {
    BufferBudget budget(1 << 20);  // 1 MiB
    std::vector<std::unique_ptr<BufferBudget::Charge>> small;
    for (int i = 0; i < 100; ++i) {
        small.push_back(std::make_unique<BufferBudget::Charge>(budget));
        small.back()->set(4096);  // well-behaved: a request head each
    }
    BufferBudget::Charge hog(budget);
    hog.set(512 * 1024);
    EXPECT_FALSE(budget.over());
    EXPECT_FALSE(hog.should_shed());  // large, but the total is within the budget
    hog.set(2 << 20);
    EXPECT_TRUE(budget.over());
    EXPECT_TRUE(hog.should_shed());  // far over its share (1 MiB / 101 holders)
    for (auto& c : small) EXPECT_FALSE(c->should_shed());  // below kMinShedBytes
    hog.set(0);
    EXPECT_FALSE(budget.over());
}

TEST(BufferBudget, TheProcessBudgetIsUnlimitedUntilConfigured) {
    EXPECT_FALSE(buffer_budget().over());
    EXPECT_GE(buffer_budget().limit(), std::size_t{1} << 40);
}

TEST(Guard, TellsAnAllocationFailureFromOtherExceptions) {
    bool oom = false;
    base::guard([] { throw std::bad_alloc(); },
                [&](const std::string&) { oom = base::current_exception_is_bad_alloc(); })();
    EXPECT_TRUE(oom);
    base::guard([] { throw std::runtime_error("bug"); },
                [&](const std::string&) { oom = base::current_exception_is_bad_alloc(); })();
    EXPECT_FALSE(oom);
}

}  // namespace
}  // namespace pushsvc::net
