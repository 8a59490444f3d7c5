// The Store contract under concurrent writers (store.h: the queue cap and Topic replacement
// are one step for all writers of a queue), run against every backend like
// store_contract_test.cc.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/store/store_contract.h"

namespace pushsvc::store {
namespace {

using contract::BackendName;
using contract::Backends;
using testing::kT0;
using testing::make_message;
using testing::make_subscription;
using testing::must;

template <class Backend>
class ConcurrencyContract : public contract::StoreContract<Backend> {};
TYPED_TEST_SUITE(ConcurrencyContract, Backends, BackendName);

// --- concurrency ---

// R8030-8.4-b: the cap is exact under contention: the count and the append are one step.
TYPED_TEST(ConcurrencyContract, ConcurrentEnqueuesNeverOvershootTheCap) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 50;
    constexpr std::size_t kCap = 37;
    std::atomic<int> accepted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t, &accepted] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string n = std::to_string(t) + "-" + std::to_string(i);
                MessageRecord m = make_message("m" + n, "ua1", "s1");
                auto r = this->store().enqueue(m, kCap);
                if (r)
                    ++accepted;
                else
                    EXPECT_EQ(r.error(), errc::too_many_requests);
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(accepted.load(), int(kCap));
    EXPECT_EQ(must(this->store().pending("ua1", kT0, 0, 10'000)).size(), kCap);
}

// R8030-5.4-a under contention: concurrent writers of one (subscription, topic).
TYPED_TEST(ConcurrencyContract, ConcurrentSameTopicEnqueuesLeaveExactlyOneMessage) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 100;
    std::vector<std::vector<std::string>> replaced(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t, &replaced] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string n = std::to_string(t) + "-" + std::to_string(i);
                MessageRecord a = make_message("a" + n, "ua1", "s1", 600, "t");
                MessageRecord b = make_message("b" + n, "ua1", "s2", 600, "t");
                if (auto r = must(this->store().enqueue(a))) replaced[t].push_back(*r);
                if (auto r = must(this->store().enqueue(b))) replaced[t].push_back(*r);
            }
        });
    }
    for (auto& th : threads) th.join();

    auto left = must(this->store().pending("ua1", kT0, 0, 10'000));
    ASSERT_EQ(left.size(), 2u);
    std::set<std::string> subs{left[0].subscription_id, left[1].subscription_id};
    EXPECT_EQ(subs, (std::set<std::string>{"s1", "s2"}));
    std::set<std::string> all_replaced;
    for (const auto& v : replaced) all_replaced.insert(v.begin(), v.end());
    std::size_t replacements = 0;
    for (const auto& v : replaced) replacements += v.size();
    EXPECT_EQ(replacements, 2u * kThreads * kPerThread - 2);  // each old message exactly once
    EXPECT_EQ(all_replaced.size(), replacements);
    for (const auto& m : left) EXPECT_EQ(all_replaced.count(m.id), 0u);
}

TYPED_TEST(ConcurrencyContract, ConcurrentDistinctEnqueuesLoseNothing) {
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < kPerThread; ++i) {
                const std::string n = std::to_string(t) + "-" + std::to_string(i);
                // Half to a shared queue, half to the thread's own.
                const std::string uaid = i % 2 ? "shared" : "ua" + std::to_string(t);
                MessageRecord m = make_message("m" + n, uaid, "s" + std::to_string(t));
                must(this->store().enqueue(m));
            }
        });
    }
    for (auto& th : threads) th.join();

    std::set<std::string> ids;
    std::set<std::uint64_t> seqs;
    std::size_t total = 0;
    for (const std::string uaid : {"shared", "ua0", "ua1", "ua2", "ua3"}) {
        auto msgs = must(this->store().pending(uaid, kT0, 0, 10'000));
        for (std::size_t i = 1; i < msgs.size(); ++i) EXPECT_LT(msgs[i - 1].seq, msgs[i].seq);
        for (const auto& m : msgs) {
            ids.insert(m.id);
            seqs.insert(m.seq);
        }
        total += msgs.size();
    }
    EXPECT_EQ(total, std::size_t{kThreads * kPerThread});
    EXPECT_EQ(ids.size(), total);
    EXPECT_EQ(seqs.size(), total);
}

}  // namespace
}  // namespace pushsvc::store
