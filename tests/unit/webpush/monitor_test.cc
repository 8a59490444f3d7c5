// The RFC 8030 monitoring state machine over a MemoryStore: what it pushes, withholds and
// when it ends.
#include "pushsvc/webpush/monitor.h"

#include <gtest/gtest.h>

#include <set>

#include "pushsvc/base/base64url.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::webpush {
namespace {

using namespace monitor;

class MonitorTest : public ::testing::Test {
  protected:
    MonitorTest()
        : service_(options(), store_, EndpointCodec({std::string(32, 'k')}), clock_),
          backend_(service_, store_, clock_) {}

    static ServiceOptions options() {
        ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }

    Subscription subscribe(std::optional<std::string> set_url = {}) {
        SubscribeRequest req;
        if (set_url) req.link = "<" + *set_url + ">; rel=\"urn:ietf:params:push:set\"";
        return *service_.subscribe(req);
    }

    PushOutcome push(const Subscription& sub, std::string urgency = "normal",
                     std::string ttl = "60", bool receipt = false) {
        PushRequest req;
        req.token = sub.endpoint.substr(sub.endpoint.rfind('/') + 1);
        req.ttl = ttl;
        req.urgency = urgency;
        if (receipt) req.prefer = "respond-async";
        return *service_.push(req);
    }

    static std::vector<Push> pushes(const std::vector<Action>& actions) {
        std::vector<Push> out;
        for (const auto& a : actions)
            if (const auto* p = std::get_if<Push>(&a)) out.push_back(*p);
        return out;
    }
    static std::optional<int> finish(const std::vector<Action>& actions) {
        for (const auto& a : actions)
            if (const auto* f = std::get_if<Finish>(&a)) return f->status;
        return std::nullopt;
    }

    MonitorScope scope_of(const Subscription& sub) {
        return *service_.monitor_scope(MonitorKind::subscription,
                                       sub.resource_url.substr(sub.resource_url.rfind('/') + 1));
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    PushService service_;
    ServiceChannelBackend backend_;
};

TEST_F(MonitorTest, PushesStoredMessagesWithPathAndEndpointAndStaysOpen_R8030_6_a_b_c) {
    auto sub = subscribe();
    auto sent = push(sub);
    Monitor m(backend_, scope_of(sub), Urgency::very_low, false, 8);
    auto actions = m.start();
    auto p = pushes(actions);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ("https://push.test" + p[0].path, sent.location);
    EXPECT_EQ(p[0].endpoint, sub.endpoint);
    EXPECT_FALSE(finish(actions));
    EXPECT_FALSE(m.finished());
}

TEST_F(MonitorTest, DrainEndsWith204WhenEmptyAnd200AfterPushes_R8030_6_e_f) {
    auto sub = subscribe();
    Monitor empty(backend_, scope_of(sub), Urgency::very_low, true, 8);
    EXPECT_EQ(finish(empty.start()), 204);
    for (int i = 0; i < 20; ++i) push(sub);  // more than the window: drain ignores it
    Monitor full(backend_, scope_of(sub), Urgency::very_low, true, 8);
    auto actions = full.start();
    EXPECT_EQ(pushes(actions).size(), 20u);
    EXPECT_EQ(finish(actions), 200);
}

TEST_F(MonitorTest, WindowLimitsUnackedPushesAndAcksRefill) {
    auto sub = subscribe();
    for (int i = 0; i < 5; ++i) push(sub);
    Monitor m(backend_, scope_of(sub), Urgency::very_low, false, 2);
    auto first = pushes(m.start());
    ASSERT_EQ(first.size(), 2u);
    EXPECT_TRUE(pushes(m.on_stored()).empty());
    EXPECT_EQ(pushes(m.on_acked(first[0].message.id)).size(), 1u);
    EXPECT_TRUE(pushes(m.on_acked("unknown")).empty());
}

TEST_F(MonitorTest, UrgencyBelowTheThresholdIsWithheld_R8030_5_3_e) {
    auto sub = subscribe();
    push(sub, "low");
    push(sub, "high");
    Monitor m(backend_, scope_of(sub), Urgency::normal, true, 8);
    auto p = pushes(m.start());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].message.urgency, static_cast<std::uint8_t>(Urgency::high));
}

TEST_F(MonitorTest, ASubscriptionMonitorSeesOnlyItsOwnMessagesOfTheSet_R8030_6_1_b) {
    auto a = subscribe();
    auto b = subscribe(a.set_url);
    push(a);
    push(b);
    Monitor one(backend_, scope_of(b), Urgency::very_low, true, 8);
    EXPECT_EQ(pushes(one.start()).size(), 1u);
    auto set =
        *service_.monitor_scope(MonitorKind::set, a.set_url.substr(a.set_url.rfind('/') + 1));
    Monitor all(backend_, set, Urgency::very_low, true, 8);
    EXPECT_EQ(pushes(all.start()).size(), 2u);
}

TEST_F(MonitorTest, RemovalEndsWith404_R8030_7_3_b) {
    auto sub = subscribe();
    Monitor m(backend_, scope_of(sub), Urgency::very_low, false, 8);
    m.start();
    EXPECT_FALSE(finish(m.on_removed("another")));
    EXPECT_EQ(finish(m.on_removed(scope_of(sub).subscription_id)), 404);
    EXPECT_TRUE(m.finished());
    EXPECT_TRUE(m.on_stored().empty());
}

TEST_F(MonitorTest, ReceiptsArePushedOnceWithTheMessagePathAndStatus_R8030_6_3_b) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "60", true);
    Monitor ua(backend_, scope_of(sub), Urgency::very_low, true, 8);
    ASSERT_EQ(pushes(ua.start()).size(), 1u);  // delivered: its DELETE is now an ack
    auto id = sent.location.substr(sent.location.rfind('/') + 1);
    ASSERT_TRUE(service_.delete_message(id));
    auto rid = sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1);
    auto scope = *service_.monitor_scope(MonitorKind::receipts, rid);
    Monitor as(backend_, scope, Urgency::very_low, true, 8);
    auto p = pushes(as.start());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ("https://push.test" + p[0].path, sent.location);
    EXPECT_EQ(p[0].message.receipt_status, 204);
    as.on_pushed(p[0].message.id, true);  // the connection sent it
    Monitor again(backend_, scope, Urgency::very_low, true, 8);
    EXPECT_EQ(finish(again.start()), 204);  // pushed once
}

TEST_F(MonitorTest, AReceiptIsDeletedOnlyOnceItsPushWasSent_R8030_6_3_b) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "60", true);
    Monitor ua(backend_, scope_of(sub), Urgency::very_low, true, 8);
    ASSERT_EQ(pushes(ua.start()).size(), 1u);
    ASSERT_TRUE(service_.delete_message(sent.location.substr(sent.location.rfind('/') + 1)));
    auto scope = *service_.monitor_scope(MonitorKind::receipts,
                                         sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1));

    Monitor as(backend_, scope, Urgency::very_low, false, 8);
    auto first = pushes(as.start());
    ASSERT_EQ(first.size(), 1u);
    const std::string id = first[0].message.id;
    // Pushed but not yet sent: still stored, a second monitor would see it.
    Monitor meanwhile(backend_, scope, Urgency::very_low, true, 8);
    EXPECT_EQ(pushes(meanwhile.start()).size(), 1u);
    // Refused or reset: still stored, the slot is free, and the next event pushes it again.
    EXPECT_TRUE(as.on_pushed(id, false).empty());  // no immediate retry loop
    EXPECT_EQ(as.inflight(), 0u);
    auto retry = pushes(as.on_stored());
    ASSERT_EQ(retry.size(), 1u);
    EXPECT_EQ(retry[0].message.id, id);
    // Sent: now it is gone.
    as.on_pushed(id, true);
    EXPECT_EQ(as.inflight(), 0u);
    Monitor after(backend_, scope, Urgency::very_low, true, 8);
    EXPECT_EQ(finish(after.start()), 204);
}

TEST_F(MonitorTest, AReceiptPushedByAWaitZeroRequestIsDeletedAfterTheRequestEnded_R8030_6_3_b) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "60", true);
    Monitor ua(backend_, scope_of(sub), Urgency::very_low, true, 8);
    ASSERT_EQ(pushes(ua.start()).size(), 1u);
    ASSERT_TRUE(service_.delete_message(sent.location.substr(sent.location.rfind('/') + 1)));
    auto scope = *service_.monitor_scope(MonitorKind::receipts,
                                         sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1));
    Monitor as(backend_, scope, Urgency::very_low, true, 8);
    auto actions = as.start();
    ASSERT_EQ(pushes(actions).size(), 1u);
    EXPECT_EQ(finish(actions), 200);
    EXPECT_TRUE(as.finished());
    as.on_pushed(pushes(actions)[0].message.id, true);
    Monitor after(backend_, scope, Urgency::very_low, true, 8);
    EXPECT_EQ(finish(after.start()), 204);
}

TEST_F(MonitorTest, FailedPushesFreeTheirSlotsSoTheMonitorNeverGoesSilent) {
    auto sub = subscribe();
    for (int i = 0; i < 40; ++i) push(sub);
    Monitor m(backend_, scope_of(sub), Urgency::very_low, false, 32);
    auto batch = pushes(m.start());
    ASSERT_EQ(batch.size(), 32u);
    const std::string first_id = batch[0].message.id;
    std::size_t refused = 0;
    // Every push is refused, 40 and more of them; each event pushes again what failed.
    for (int round = 0; round < 3 && refused < 40; ++round) {
        for (const auto& p : batch) {
            m.on_pushed(p.message.id, false);
            ++refused;
        }
        EXPECT_EQ(m.inflight(), 0u);
        batch = pushes(m.on_stored());
        ASSERT_FALSE(batch.empty());
        EXPECT_EQ(batch[0].message.id, first_id);  // from the start again, in order
    }
    EXPECT_GE(refused, 40u);
    // Now the peer takes them: a new message arrives after the backlog once acks come in.
    auto good = push(sub);
    std::set<std::string> seen;
    for (int i = 0; i < 100 && !batch.empty(); ++i) {
        std::vector<Push> next;
        for (const auto& p : batch) {
            seen.insert("https://push.test" + p.path);
            m.on_pushed(p.message.id, true);
            ASSERT_TRUE(service_.delete_message(base::base64url_encode(p.message.id)));
            for (auto& q : pushes(m.on_acked(p.message.id))) next.push_back(std::move(q));
        }
        batch = std::move(next);
    }
    EXPECT_EQ(seen.size(), 41u);
    EXPECT_TRUE(seen.count(good.location));
}

TEST_F(MonitorTest, DeliveredIsRecordedBeforeThePushSoAnImmediateAckEarnsTheReceipt_R8030_6_2_b) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "60", true);
    Monitor m(backend_, scope_of(sub), Urgency::very_low, false, 8);
    auto p = pushes(m.start());
    ASSERT_EQ(p.size(), 1u);
    // The user agent acknowledges before the push's outcome reached the monitor.
    ASSERT_TRUE(service_.delete_message(sent.location.substr(sent.location.rfind('/') + 1)));
    auto scope = *service_.monitor_scope(MonitorKind::receipts,
                                         sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1));
    Monitor as(backend_, scope, Urgency::very_low, true, 8);
    auto r = pushes(as.start());
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].message.receipt_status, 204);  // delivered, then acked: not 410
}

TEST_F(MonitorTest, ExpiredMessageWithReceiptEarnsA410_R8030_6_3_d) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "1", true);
    clock_.advance_ms(2000);
    EXPECT_EQ(*service_.sweep(clock_.now_ms(), 100), 1u);
    auto rid = sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1);
    Monitor as(backend_, *service_.monitor_scope(MonitorKind::receipts, rid), Urgency::very_low,
               true, 8);
    auto p = pushes(as.start());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].message.receipt_status, 410);
}

TEST_F(MonitorTest, GivingUpBeforeExpiryEarnsA410_R8030_6_2_d) {
    auto sub = subscribe();
    auto sent = push(sub, "normal", "600", true);
    ASSERT_TRUE(service_.give_up(sent.location.substr(sent.location.rfind('/') + 1)));
    EXPECT_TRUE(store_.pending(sent.message.uaid, clock_.now_ms(), 0, 10)->empty());
    auto rid = sent.receipt_url.substr(sent.receipt_url.rfind('/') + 1);
    Monitor as(backend_, *service_.monitor_scope(MonitorKind::receipts, rid), Urgency::very_low,
               true, 8);
    auto p = pushes(as.start());
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].message.receipt_status, 410);
}

}  // namespace
}  // namespace pushsvc::webpush
