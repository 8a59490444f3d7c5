// TokenBuckets (base/rate_limit.h) on a fake clock: burst, refill by the clock, the
// Retry-After it computes, the bound on memory, and many threads sharing the table.
#include "pushsvc/base/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace pushsvc::base {
namespace {

TEST(TokenBuckets, ABurstIsAllowedThenRefusedWithTheSecondsUntilTheNextToken) {
    FakeClock clock;
    TokenBuckets b({.per_min = 6, .burst = 5, .max_keys = 100}, clock);
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(b.take("k")) << i;
    auto refused = b.take("k");
    EXPECT_FALSE(refused);
    EXPECT_EQ(refused.retry_after_s, 10u);  // 6 a minute: one every 10 s
    // Another key has a bucket of its own.
    EXPECT_TRUE(b.take("other"));
}

TEST(TokenBuckets, TheServiceClockRefillsTheBucket) {
    FakeClock clock;
    TokenBuckets b({.per_min = 60, .burst = 3, .max_keys = 100}, clock);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(b.take("k"));
    ASSERT_FALSE(b.take("k"));
    clock.advance_ms(999);
    EXPECT_FALSE(b.take("k"));  // 0.999 of a token
    clock.advance_ms(1);
    EXPECT_TRUE(b.take("k"));  // exactly one
    EXPECT_FALSE(b.take("k"));
    clock.advance_ms(3600 * 1000);  // a long quiet time refills to the burst, not beyond
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take("k")) << i;
    EXPECT_FALSE(b.take("k"));
}

TEST(TokenBuckets, RetryAfterIsTheWaitForOneTokenInWholeSecondsRoundedUp) {
    FakeClock clock;
    TokenBuckets b({.per_min = 2, .burst = 1, .max_keys = 100}, clock);  // one every 30 s
    ASSERT_TRUE(b.take("k"));
    EXPECT_EQ(b.take("k").retry_after_s, 30u);
    clock.advance_ms(10'500);
    EXPECT_EQ(b.take("k").retry_after_s, 20u);  // 19.5 s left: rounded up
    clock.advance_ms(19'499);
    EXPECT_EQ(b.take("k").retry_after_s, 1u);  // 1 ms left: at least 1, never 0
    clock.advance_ms(1);
    EXPECT_TRUE(b.take("k"));
}

TEST(TokenBuckets, AClockSteppingBackEarnsNothingAndLocksNobodyOut) {
    FakeClock clock;
    TokenBuckets b({.per_min = 60, .burst = 1, .max_keys = 100}, clock);
    ASSERT_TRUE(b.take("k"));
    clock.advance_ms(-3600 * 1000);
    EXPECT_FALSE(b.take("k"));  // nothing earned by going back
    clock.advance_ms(1000);     // one second after the step: one token, not an hour's wait
    EXPECT_TRUE(b.take("k"));
}

TEST(TokenBuckets, ZeroRateIsUnlimitedAndTracksNothing) {
    FakeClock clock;
    TokenBuckets b({.per_min = 0, .burst = 1, .max_keys = 100}, clock);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take("k"));
    EXPECT_TRUE(b.unlimited());
    EXPECT_EQ(b.size(), 0u);
}

TEST(TokenBuckets, RotatingKeysCannotGrowTheTableBeyondItsBound) {
    FakeClock clock;
    TokenBuckets b({.per_min = 60, .burst = 2, .max_keys = 64}, clock);
    for (int i = 0; i < 10'000; ++i) {
        ASSERT_TRUE(b.take("attacker-" + std::to_string(i)));  // each new key starts full
        ASSERT_LE(b.size(), b.capacity());
    }
    EXPECT_EQ(b.capacity(), 64u);
    EXPECT_GT(b.size(), 32u);  // the table is used, not emptied by each insert
}

TEST(TokenBuckets, IdleKeysWhoseBucketsRefilledAreDropped) {
    FakeClock clock;
    TokenBuckets b({.per_min = 60, .burst = 2, .max_keys = 100'000}, clock);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take("k" + std::to_string(i)));
    EXPECT_EQ(b.size(), 1000u);
    clock.advance_ms(2000);  // every bucket is full again: worth nothing
    // Each request drops a couple of refilled buckets from the cold end of its shard; 256
    // busy keys reach every one of the 16 shards.
    for (int i = 0; i < 4000; ++i) b.take("busy" + std::to_string(i % 256));
    EXPECT_LE(b.size(), 256u + 16u);  // the busy keys, and at most one cold one per shard
}

TEST(TokenBuckets, AKeyStillLimitedIsNotForgottenWhileTheTableHasRoom) {
    FakeClock clock;
    TokenBuckets b({.per_min = 60, .burst = 1, .max_keys = 100'000}, clock);
    ASSERT_TRUE(b.take("flooder"));
    for (int i = 0; i < 5000; ++i) b.take("other" + std::to_string(i));
    EXPECT_FALSE(b.take("flooder"));  // its empty bucket survived the other keys
}

TEST(TokenBuckets, ThreadsSharingAKeyGetExactlyTheBurst) {
    FakeClock clock;  // frozen: no refill, so exactly `burst` tokens exist per key
    TokenBuckets b({.per_min = 60, .burst = 5000, .max_keys = 1000}, clock);
    constexpr int kThreads = 4, kPerThread = 4000;
    std::atomic<int> allowed{0}, allowed_own{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < kPerThread; ++i) {
                if (b.take("shared")) ++allowed;
                if (b.take("own" + std::to_string(t))) ++allowed_own;
            }
        });
    for (auto& th : threads) th.join();
    EXPECT_EQ(allowed.load(), 5000);
    EXPECT_EQ(allowed_own.load(), kThreads * kPerThread);  // 4000 each, under their burst
}

}  // namespace
}  // namespace pushsvc::base
