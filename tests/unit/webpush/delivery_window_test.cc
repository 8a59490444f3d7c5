// The delivery window every channel to a user agent shares (WebSocket session, RFC 8030
// monitoring GET), over a MemoryStore: batch reads, the in-flight limit, releases, and the
// rewind after a failed send.
#include "pushsvc/webpush/delivery_window.h"

#include <gtest/gtest.h>

#include "pushsvc/store/memory_store.h"

namespace pushsvc::webpush {
namespace {

class DeliveryWindowTest : public ::testing::Test {
  protected:
    DeliveryWindowTest()
        : service_(options(), store_, EndpointCodec({std::string(32, 'k')}), clock_),
          backend_(service_, store_, clock_) {
        sub_ = *service_.subscribe(SubscribeRequest{});
        uaid_ = service_.monitor_scope(MonitorKind::subscription, id_of(sub_.resource_url))->uaid;
    }

    static ServiceOptions options() {
        ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }
    static std::string id_of(const std::string& url) { return url.substr(url.rfind('/') + 1); }

    void push(int n) {
        for (int i = 0; i < n; ++i) {
            PushRequest req;
            req.token = id_of(sub_.endpoint);
            req.ttl = "60";
            ASSERT_TRUE(service_.push(req));
        }
    }

    std::vector<store::MessageRecord> next(DeliveryWindow& w, std::size_t limit) {
        auto r = w.next(
            uaid_, [](const store::MessageRecord&) { return true; }, limit);
        EXPECT_TRUE(r);
        return r ? *r : std::vector<store::MessageRecord>{};
    }
    static void send_all(DeliveryWindow& w, const std::vector<store::MessageRecord>& ms) {
        for (const auto& m : ms) w.sent(m.id, true, m.seq);
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    PushService service_;
    ServiceChannelBackend backend_;
    Subscription sub_;
    std::string uaid_;
};

TEST_F(DeliveryWindowTest, ReadsInArrivalOrderUpToTheRoomAndCountsWhatIsInFlight) {
    push(5);
    DeliveryWindow w(backend_, 4);
    EXPECT_EQ(w.room(), 4u);
    auto batch = next(w, w.room());
    ASSERT_EQ(batch.size(), 4u);
    for (std::size_t i = 1; i < batch.size(); ++i) EXPECT_LT(batch[i - 1].seq, batch[i].seq);
    send_all(w, batch);
    EXPECT_EQ(w.inflight(), 4u);
    EXPECT_EQ(w.room(), 0u);
    EXPECT_TRUE(next(w, w.room()).empty());
}

TEST_F(DeliveryWindowTest, RefillsOnlyOnceHalfTheWindowIsFree) {
    push(8);
    DeliveryWindow w(backend_, 4);
    send_all(w, next(w, 4));
    auto sent = next(w, 0);
    EXPECT_TRUE(sent.empty());
    // One release: a quarter free, no store read yet.
    auto all = *backend_.pending(uaid_, 0, 10);
    ASSERT_EQ(w.release(all[0].id), std::optional<bool>(true));
    EXPECT_TRUE(next(w, w.room()).empty());
    // Two: half free, the next two come.
    ASSERT_TRUE(w.release(all[1].id));
    auto more = next(w, w.room());
    ASSERT_EQ(more.size(), 2u);
    EXPECT_EQ(more[0].id, all[4].id);
}

TEST_F(DeliveryWindowTest, ReleaseSaysWhetherTheMessageIsStored) {
    DeliveryWindow w(backend_, 4);
    w.sent("stored", true, 1);
    w.sent("ttl0", false);
    EXPECT_EQ(w.release("stored"), std::optional<bool>(true));
    EXPECT_EQ(w.release("ttl0"), std::optional<bool>(false));
    EXPECT_EQ(w.release("stored"), std::nullopt);  // once only
    EXPECT_EQ(w.inflight(), 0u);
}

TEST_F(DeliveryWindowTest, AFailedSendFreesItsSlotAndComesAgainWithoutRepeatingOthers) {
    push(4);
    DeliveryWindow w(backend_, 4);
    auto batch = next(w, 4);
    ASSERT_EQ(batch.size(), 4u);
    send_all(w, batch);
    // The second and third failed; the first and fourth are still in flight.
    EXPECT_TRUE(w.failed(batch[1].id));
    EXPECT_TRUE(w.failed(batch[2].id));
    EXPECT_FALSE(w.failed(batch[2].id));  // not in flight any more
    EXPECT_EQ(w.inflight(), 2u);
    EXPECT_EQ(w.room(), 2u);
    auto again = next(w, w.room());
    ASSERT_EQ(again.size(), 2u);
    EXPECT_EQ(again[0].id, batch[1].id);
    EXPECT_EQ(again[1].id, batch[2].id);
}

TEST_F(DeliveryWindowTest, FailuresNeverExhaustTheWindow) {
    push(1);
    DeliveryWindow w(backend_, 32);
    for (int i = 0; i < 40; ++i) {
        auto batch = next(w, w.room());
        ASSERT_EQ(batch.size(), 1u) << "attempt " << i;
        send_all(w, batch);
        ASSERT_TRUE(w.failed(batch[0].id));
    }
    EXPECT_EQ(w.room(), 32u);
    push(1);
    w.more_stored();
    EXPECT_EQ(next(w, w.room()).size(), 2u);  // the failed one again, then the new one
}

TEST_F(DeliveryWindowTest, AFailedUnstoredMessageIsNotReadAgain) {
    push(1);
    DeliveryWindow w(backend_, 4);
    send_all(w, next(w, 4));
    w.sent("ttl0", false);
    EXPECT_TRUE(w.failed("ttl0"));
    EXPECT_TRUE(next(w, w.room()).empty());  // no rewind: the stored one is still in flight
}

TEST_F(DeliveryWindowTest, MoreStoredReadsAgainAfterTheQueueWasDrained) {
    push(1);
    DeliveryWindow w(backend_, 4);
    EXPECT_EQ(next(w, 4).size(), 1u);
    push(1);
    EXPECT_TRUE(next(w, 4).empty());  // drained: no store read until told
    w.more_stored();
    EXPECT_EQ(next(w, 4).size(), 1u);
}

// A message handed over with its wake-up (cluster mode) is sent without a read only when it
// follows exactly where this connection's last read ended; anything else reads the queue, so
// wake-ups arriving out of order lose nothing.
TEST_F(DeliveryWindowTest, ACarriedMessageIsTakenOnlyWhenItFollowsTheLastRead) {
    using Carried = DeliveryWindow::Carried;
    auto stored_after = [&](std::uint64_t seq) {
        auto r = store_.pending(uaid_, clock_.now_ms(), seq, 10);
        EXPECT_TRUE(r && !r->empty());
        return r && !r->empty() ? r->front() : store::MessageRecord{};
    };
    push(1);
    DeliveryWindow w(backend_, 4);
    auto fresh = stored_after(0);
    fresh.prev_seq = 0;
    EXPECT_EQ(w.carried(fresh), Carried::read);  // nothing read yet (and no prev_seq)
    auto first = next(w, 4);
    ASSERT_EQ(first.size(), 1u);
    send_all(w, first);

    push(1);
    auto second = stored_after(first[0].seq);
    second.prev_seq = first[0].seq;
    EXPECT_EQ(w.carried(second), Carried::take);
    w.sent(second.id, true, second.seq);
    EXPECT_EQ(w.carried(second), Carried::seen);  // twice: the second is a no-op
    w.more_stored();
    EXPECT_TRUE(next(w, 4).empty());  // the cursor moved past it: not sent again

    // Two appends whose wake-ups come in reverse order: the later one reads, and the read
    // covers the earlier one, which then needs nothing.
    push(2);
    auto third = stored_after(second.seq);
    auto fourth = stored_after(third.seq);
    third.prev_seq = second.seq;
    fourth.prev_seq = third.seq;
    EXPECT_EQ(w.carried(fourth), Carried::read);
    EXPECT_EQ(next(w, w.room()).size(), 2u);  // third, fourth
    EXPECT_EQ(w.carried(third), Carried::seen);
}

TEST_F(DeliveryWindowTest, ACarriedMessageWaitsWhenTheWindowIsFull) {
    using Carried = DeliveryWindow::Carried;
    push(1);
    DeliveryWindow w(backend_, 1);
    auto first = next(w, 1);
    ASSERT_EQ(first.size(), 1u);
    send_all(w, first);
    EXPECT_EQ(w.room(), 0u);
    push(1);
    auto r = store_.pending(uaid_, clock_.now_ms(), first[0].seq, 10);
    ASSERT_TRUE(r && r->size() == 1);
    auto second = r->front();
    second.prev_seq = first[0].seq;
    EXPECT_EQ(w.carried(second), Carried::read);  // not taken: no room
    ASSERT_TRUE(w.release(first[0].id));
    auto after = next(w, w.room());  // the read it asked for finds it
    ASSERT_EQ(after.size(), 1u);
    EXPECT_EQ(after[0].id, second.id);
}

// A carried message that waited past its TTL (in a notification to another node) is never
// sent, just as a read never returns one (R8030-5.2-h).
TEST_F(DeliveryWindowTest, ACarriedMessagePastItsTtlIsNotSent) {
    push(1);
    DeliveryWindow w(backend_, 4);
    auto first = next(w, 4);
    ASSERT_EQ(first.size(), 1u);
    push(1);  // TTL 60 s
    auto r = store_.pending(uaid_, clock_.now_ms(), first[0].seq, 10);
    ASSERT_TRUE(r && r->size() == 1);
    auto second = r->front();
    second.prev_seq = first[0].seq;
    clock_.advance_ms(60'000);
    EXPECT_EQ(w.carried(second), DeliveryWindow::Carried::seen);
    EXPECT_EQ(w.inflight(), 0u);
}

}  // namespace
}  // namespace pushsvc::webpush
