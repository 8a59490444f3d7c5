// The expiry scheduler and collector (app/housekeeping.h) on a real asio thread pool over a
// MemoryStore: expiry happens when the earliest message expires (not on a fixed period),
// is re-planned by an earlier message or a clock move, runs in batches that let other store
// work in, and stop() leaves nothing armed.
#include "pushsvc/app/housekeeping.h"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "pushsvc/base/base64url.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::app {
namespace {

using namespace std::chrono_literals;
constexpr base::UnixMs kDay = 24 * 3600 * 1000;

// Records the receipts the service sends; tests wait on them (events, not sleeps).
class ReceiptLog final : public webpush::Notifier {
  public:
    void notify(const store::MessageRecord& m, bool, const store::RouteSeen&) override {
        std::lock_guard lk(mu_);
        if (m.receipt_status != 0) statuses_.push_back(m.receipt_status);
        cv_.notify_all();
    }
    void acknowledged(const std::string&, const std::string&) override {}
    void removed(const std::string&, const std::string&) override {}
    // Waits (bounded) until `n` receipts arrived; returns how many did.
    std::size_t wait_for(std::size_t n, std::chrono::milliseconds limit) {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, limit, [&] { return statuses_.size() >= n; });
        return statuses_.size();
    }
    std::vector<std::uint16_t> statuses() {
        std::lock_guard lk(mu_);
        return statuses_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<std::uint16_t> statuses_;
};

class HousekeepingTest : public ::testing::Test {
  protected:
    HousekeepingTest() { service_.set_notifier(&log_); }
    ~HousekeepingTest() override {
        if (hk_) hk_->stop();
        pool_.join();  // returns only if stop() left nothing armed
    }

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }
    void start(HousekeepingOptions o = {}) {
        hk_ = std::make_unique<Housekeeping>(
            pool_.get_executor(), service_, store_, clock_,
            [] { return std::vector<std::string>{}; }, o);
        hk_->start();
    }
    // Pushes with a receipt request; returns the stored message's expiry.
    base::UnixMs push(const webpush::Subscription& sub, const std::string& ttl) {
        webpush::PushRequest req;
        req.token = sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
        req.ttl = ttl;
        req.prefer = "respond-async";
        auto out = service_.push(req);
        EXPECT_TRUE(out);
        if (hk_) hk_->expiring_at(out->message.expires_ms);  // as app/'s notifier does
        return out->message.expires_ms;
    }
    // Waits (bounded) until the work queued on the one-thread pool so far has run: a job
    // posted now runs after it.
    void drain() {
        std::promise<void> done;
        boost::asio::post(pool_, [&] { done.set_value(); });
        ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    ReceiptLog log_;
    webpush::PushService service_{options(), store_, webpush::EndpointCodec({std::string(32, 'k')}),
                                  clock_};
    boost::asio::thread_pool pool_{1};
    std::unique_ptr<Housekeeping> hk_;
};

// R8030-6.3-d: the 410 receipt of a message that expires unacked goes out at its expiry,
// with the default configuration (before: the next 60 s sweep).
TEST_F(HousekeepingTest, ExpiryHappensWhenTheEarliestMessageExpires_R8030_6_3_d) {
    auto sub = *service_.subscribe({});
    push(sub, "1");
    start();
    drain();  // the first pass found nothing due and armed its timer for the expiry
    EXPECT_TRUE(log_.statuses().empty());
    // The fake clock stands still: move it as the real one would. Only the armed timer (1 s
    // of real time) wakes the strand now, and finds the message due.
    clock_.advance_ms(1000);
    ASSERT_EQ(log_.wait_for(1, 5s), 1u) << "no 410 receipt within 5 s of expiry";
    EXPECT_EQ(log_.statuses(), (std::vector<std::uint16_t>{410}));
    EXPECT_EQ(*store_.queued(sub.record.uaid, 10), 0u);
}

TEST_F(HousekeepingTest, AnEarlierMessageReplansTheWakeUp) {
    auto sub = *service_.subscribe({});
    push(sub, "3600");
    start();
    drain();  // the first pass planned the max_sleep safety net: the message is an hour away
    clock_.advance_ms(1);
    push(sub, "1");  // expiring_at(earlier) re-plans to ~1 s from now
    clock_.advance_ms(1000);
    ASSERT_EQ(log_.wait_for(1, 5s), 1u) << "the earlier message waited for the old plan";
    EXPECT_EQ(*store_.queued(sub.record.uaid, 10), 1u);  // the hour-long one stays
}

TEST_F(HousekeepingTest, AClockMoveSweepsAndCollectsAtOnce) {
    auto sub = *service_.subscribe({});
    push(sub, "60");
    auto kept = *service_.subscribe({});
    start();
    clock_.advance_ms(61 * kDay);
    ASSERT_TRUE(*service_.refresh_connected(kept.record.uaid));  // as if it stayed connected
    hk_->clock_moved();
    ASSERT_EQ(log_.wait_for(1, 5s), 1u);
    drain();  // collection runs in the same pass, after the sweep that sent the receipt
    EXPECT_FALSE(store_.get_user_agent(sub.record.uaid)->has_value());  // abandoned: collected
    EXPECT_TRUE(store_.get_user_agent(kept.record.uaid)->has_value());
}

TEST_F(HousekeepingTest, AMassExpiryRunsInBatchesThatLetOtherWorkIn) {
    std::vector<std::string> owners;
    for (int i = 0; i < 25; ++i) {
        auto sub = *service_.subscribe({});
        owners.push_back(sub.record.uaid);
        for (int j = 0; j < 100; ++j) push(sub, "5");
    }
    auto queued = [&] {
        std::size_t n = 0;
        for (const auto& uaid : owners) n += *store_.queued(uaid, 1000);
        return n;
    };
    start(HousekeepingOptions{.sweep_batch = 1000});
    // The start's own pass first (nothing due yet): had it still been running at clock_moved(),
    // the new pass would queue behind it and after the job below, which would then run first.
    drain();
    clock_.advance_ms(5000);
    // The pool has one thread: a job posted now runs after the first batch, and must find
    // messages still queued (the sweep yielded) while the last batch has not run yet.
    hk_->clock_moved();
    std::promise<std::uint64_t> left_then;
    boost::asio::post(pool_, [&] { left_then.set_value(queued()); });
    auto f = left_then.get_future();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    std::uint64_t left = f.get();
    EXPECT_GT(left, 0u);
    EXPECT_LT(left, 2500u);
    ASSERT_EQ(log_.wait_for(2500, 10s), 2500u);  // every one got its 410 receipt
    EXPECT_EQ(queued(), 0u);
}

}  // namespace
}  // namespace pushsvc::app
