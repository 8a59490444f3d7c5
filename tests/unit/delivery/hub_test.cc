#include "pushsvc/delivery/hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

namespace pushsvc::delivery {
namespace {

struct FakeTarget : Target {
    int wakes = 0;
    int replacements = 0;
    std::shared_ptr<const store::MessageRecord> last_direct;
    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        ++wakes;
        last_direct = std::move(direct);
    }
    void replaced() override { ++replacements; }
    void acked(std::string id) override { acks.push_back(std::move(id)); }
    void removed(std::string id) override { removals.push_back(std::move(id)); }
    std::vector<std::string> removals;
    std::vector<std::string> acks;
};

// Overrides stored() as the sessions do.
struct CarryingTarget : FakeTarget {
    std::shared_ptr<const store::MessageRecord> last_stored;
    void stored(std::shared_ptr<const store::MessageRecord> m) override {
        last_stored = std::move(m);
    }
};

store::MessageRecord message_for(std::string uaid) {
    store::MessageRecord m;
    m.uaid = std::move(uaid);
    m.id = "m1";
    return m;
}

TEST(Hub, WakesTheOnlineSessionAndReportsOfflineOnes) {
    Hub hub;
    auto t = std::make_shared<FakeTarget>();
    EXPECT_FALSE(hub.wake(message_for("ua"), true));
    hub.attach("ua", t);
    EXPECT_TRUE(hub.wake(message_for("ua"), true));
    EXPECT_EQ(t->wakes, 1);
    EXPECT_EQ(t->last_direct, nullptr);
    EXPECT_TRUE(hub.wake(message_for("ua"), false));  // TTL 0: handed over directly
    ASSERT_TRUE(t->last_direct);
    EXPECT_EQ(t->last_direct->id, "m1");
    EXPECT_FALSE(hub.wake(message_for("other"), true));
}

// A stored message whose store named the one before it goes to the sessions along with the
// wake-up; without that a session is woken to read its queue (the default for any Target).
TEST(Hub, AStoredMessageWithItsPrevSeqIsHandedOver) {
    Hub hub;
    auto t = std::make_shared<CarryingTarget>();
    hub.attach("ua", t);
    EXPECT_TRUE(hub.wake(message_for("ua"), true));  // prev_seq 0 (RocksStore, MemoryStore)
    EXPECT_EQ(t->wakes, 1);
    EXPECT_FALSE(t->last_stored);
    auto m = message_for("ua");
    m.prev_seq = 7;
    EXPECT_TRUE(hub.wake(m, true));
    EXPECT_EQ(t->wakes, 1);
    ASSERT_TRUE(t->last_stored);
    EXPECT_EQ(t->last_stored->prev_seq, 7u);
    auto plain = std::make_shared<FakeTarget>();  // no override: read the queue
    hub.attach("ub", plain);
    m.uaid = "ub";
    EXPECT_TRUE(hub.wake(m, true));
    EXPECT_EQ(plain->wakes, 1);
    EXPECT_EQ(plain->last_direct, nullptr);
}

TEST(Hub, SecondSessionForTheSameUaidReplacesTheFirst) {
    Hub hub;
    auto first = std::make_shared<FakeTarget>();
    auto second = std::make_shared<FakeTarget>();
    hub.attach("ua", first);
    hub.attach("ua", second);
    EXPECT_EQ(first->replacements, 1);
    EXPECT_EQ(second->replacements, 0);
    hub.detach("ua", first.get());  // the old session's late detach must not remove the new one
    EXPECT_TRUE(hub.wake(message_for("ua"), true));
    EXPECT_EQ(second->wakes, 1);
    EXPECT_EQ(first->wakes, 0);
    hub.detach("ua", second.get());
    EXPECT_EQ(hub.online(), 0u);
}

TEST(Hub, MonitorsAttachAlongsideEachOtherAndAllHearAcksAndRemovals) {
    Hub hub;
    auto a = std::make_shared<FakeTarget>();
    auto b = std::make_shared<FakeTarget>();
    hub.attach("set", a, false);
    hub.attach("set", b, false);
    EXPECT_EQ(a->replacements + b->replacements, 0);
    EXPECT_TRUE(hub.wake(message_for("set"), true));
    EXPECT_EQ(a->wakes, 1);
    EXPECT_EQ(b->wakes, 1);
    hub.acknowledged("set", "m7");
    hub.removed("set", "s1");
    EXPECT_EQ(a->acks, std::vector<std::string>{"m7"});
    EXPECT_EQ(b->removals, std::vector<std::string>{"s1"});
    auto ws = std::make_shared<FakeTarget>();
    hub.attach("set", ws, true);  // an exclusive session replaces them all
    EXPECT_EQ(a->replacements, 1);
    EXPECT_EQ(b->replacements, 1);
}

TEST(Hub, ExpiredSessionsAreForgotten) {
    Hub hub;
    {
        auto t = std::make_shared<FakeTarget>();
        hub.attach("ua", t);
    }
    EXPECT_FALSE(hub.wake(message_for("ua"), true));
    EXPECT_EQ(hub.online(), 0u);
}

// Targets used from several threads at once: counters only (the hub calls a target from
// whichever thread notifies).
struct CountingTarget : Target {
    std::atomic<int> wakes{0};
    std::atomic<int> replacements{0};
    void wake(std::shared_ptr<const store::MessageRecord>) override { ++wakes; }
    void replaced() override { ++replacements; }
    void acked(std::string) override {}
    void removed(std::string) override {}
};

constexpr int kThreads = 8;

// Runs body(t) on kThreads threads that all start together (the latch), so the calls
// really overlap; joins them all.
template <class Body>
void run_together(Body body) {
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            start.arrive_and_wait();
            body(t);
        });
    for (auto& th : threads) th.join();
}

// Exclusive attaches racing for one uaid: whatever the order the hub's lock gives them, every
// session but the last is told once that it was replaced, and only the last one is woken.
TEST(Hub, ConcurrentExclusiveAttachesLeaveExactlyOneSession) {
    for (int round = 0; round < 400; ++round) {
        Hub hub;
        std::vector<std::shared_ptr<CountingTarget>> targets;
        for (int t = 0; t < kThreads; ++t) targets.push_back(std::make_shared<CountingTarget>());
        run_together([&](int t) { hub.attach("ua", targets[t]); });
        EXPECT_EQ(hub.online(), 1u);
        EXPECT_TRUE(hub.wake(message_for("ua"), true));
        int survivors = 0, replaced = 0, woken = 0;
        for (auto& t : targets) {
            ASSERT_LE(t->replacements.load(), 1);
            replaced += t->replacements;
            woken += t->wakes;
            if (t->replacements == 0) {
                ++survivors;
                EXPECT_EQ(t->wakes, 1);
            } else {
                EXPECT_EQ(t->wakes, 0);
            }
        }
        ASSERT_EQ(survivors, 1) << "round " << round;
        EXPECT_EQ(replaced, kThreads - 1);
        EXPECT_EQ(woken, 1);
    }
}

// Monitors attaching concurrently to one set all stay attached; notifications from many
// threads reach each of them exactly once per call; concurrent detaches empty the hub.
TEST(Hub, ConcurrentMonitorsAndNotificationsAreAllCounted) {
    constexpr int kNotifies = 500;
    Hub hub;
    std::vector<std::shared_ptr<CountingTarget>> monitors;
    for (int t = 0; t < kThreads; ++t) monitors.push_back(std::make_shared<CountingTarget>());
    run_together([&](int t) { hub.attach("set", monitors[t], false); });
    EXPECT_EQ(hub.online(), 1u);
    std::atomic<int> delivered{0};
    run_together([&](int) {
        for (int i = 0; i < kNotifies; ++i)
            if (hub.wake(message_for("set"), i % 2 == 0)) ++delivered;
    });
    EXPECT_EQ(delivered, kThreads * kNotifies);
    for (auto& m : monitors) {
        EXPECT_EQ(m->wakes, kThreads * kNotifies);
        EXPECT_EQ(m->replacements, 0);
    }
    run_together([&](int t) { hub.detach("set", monitors[t].get()); });
    EXPECT_EQ(hub.online(), 0u);
    EXPECT_FALSE(hub.wake(message_for("set"), true));
}

// Sessions of many user agents (sharing the hub's shards) come and go on every thread at once;
// each thread owns its own uaids, so it knows exactly what each call must return.
TEST(Hub, ConcurrentAttachNotifyDetachOfDistinctUserAgents) {
    constexpr int kRounds = 2000;
    Hub hub;
    std::atomic<int> wrong{0};
    run_together([&](int t) {
        for (int i = 0; i < kRounds; ++i) {
            auto target = std::make_shared<CountingTarget>();
            const std::string uaid = "ua" + std::to_string(t) + "-" + std::to_string(i % 50);
            hub.attach(uaid, target);
            if (!hub.wake(message_for(uaid), i % 2 == 0)) ++wrong;
            hub.detach(uaid, target.get());
            if (hub.wake(message_for(uaid), true)) ++wrong;
            if (target->wakes != 1 || target->replacements != 0) ++wrong;
        }
    });
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(hub.online(), 0u);
    EXPECT_EQ(hub.connected(Channel::websocket), 0u);
}

// pushsvc_connected_user_agents{channel}: user agents, not sessions, per channel.
TEST(Hub, CountsConnectedUserAgentsPerChannel) {
    Hub hub;
    auto ws1 = std::make_shared<FakeTarget>();
    auto ws1_again = std::make_shared<FakeTarget>();
    auto ws2 = std::make_shared<FakeTarget>();
    auto mon_a = std::make_shared<FakeTarget>();
    auto mon_b = std::make_shared<FakeTarget>();
    hub.attach("ua1", ws1);
    hub.attach("ua2", ws2);
    hub.attach("set", mon_a, false);
    hub.attach("set", mon_b, false);  // a second monitoring request of the same user agent
    EXPECT_EQ(hub.connected(Channel::websocket), 2u);
    EXPECT_EQ(hub.connected(Channel::http2), 1u);

    hub.attach("ua1", ws1_again);  // reconnect: replaces, still one user agent
    EXPECT_EQ(hub.connected(Channel::websocket), 2u);
    hub.detach("ua1", ws1.get());  // the replaced session's late detach changes nothing
    EXPECT_EQ(hub.connected(Channel::websocket), 2u);

    hub.detach("set", mon_a.get());
    EXPECT_EQ(hub.connected(Channel::http2), 1u);             // mon_b still monitors
    hub.attach("set", std::make_shared<FakeTarget>(), true);  // WebSocket takes "set" over
    EXPECT_EQ(hub.connected(Channel::http2), 0u);
    EXPECT_EQ(hub.connected(Channel::websocket), 3u);

    hub.detach("ua2", ws2.get());
    ws2.reset();
    EXPECT_EQ(hub.connected(Channel::websocket), 2u);
    // "set"'s WebSocket target above died without detaching: the next lookup prunes it.
    EXPECT_FALSE(hub.wake(message_for("set"), true));
    EXPECT_EQ(hub.connected(Channel::websocket), 1u);
    hub.detach("ua1", ws1_again.get());
    EXPECT_EQ(hub.connected(Channel::websocket), 0u);
    EXPECT_EQ(hub.connected(Channel::http2), 0u);
}

// Cluster mode learns from the hub where user agents are (cluster/router.h): every attach, and
// the moment a user agent's last session goes, however it goes.
struct RecordingPresence : Presence {
    std::vector<std::string> events;
    void attached(const std::string& uaid) override { events.push_back("+" + uaid); }
    void gone(const std::string& uaid) override { events.push_back("-" + uaid); }
};

TEST(Hub, TellsPresenceOfEveryAttachAndOfTheLastSessionGoing) {
    Hub hub;
    RecordingPresence presence;
    hub.set_presence(&presence);
    auto ws = std::make_shared<FakeTarget>();
    auto mon = std::make_shared<FakeTarget>();
    hub.attach("ua", ws);
    EXPECT_TRUE(hub.holds("ua"));
    hub.attach("ua", mon, false);  // a monitor beside the WebSocket: attached again
    hub.detach("ua", ws.get());    // one session left: not gone
    EXPECT_TRUE(hub.holds("ua"));
    hub.detach("ua", mon.get());
    EXPECT_FALSE(hub.holds("ua"));
    hub.detach("ua", mon.get());  // a late second detach says nothing more
    EXPECT_EQ(presence.events, (std::vector<std::string>{"+ua", "+ua", "-ua"}));

    // A session that died without detaching is found gone by the next lookup.
    presence.events.clear();
    auto dying = std::make_shared<FakeTarget>();
    hub.attach("ub", dying);
    dying.reset();
    EXPECT_EQ(hub.wake_user_agent("ub"), 0u);
    EXPECT_EQ(presence.events, (std::vector<std::string>{"+ub", "-ub"}));
    EXPECT_FALSE(hub.holds("ub"));
}

TEST(Hub, WakeUserAgentAsksEverySessionToReadItsQueue) {
    Hub hub;
    auto a = std::make_shared<FakeTarget>();
    auto b = std::make_shared<FakeTarget>();
    hub.attach("set", a, false);
    hub.attach("set", b, false);
    EXPECT_EQ(hub.wake_user_agent("set"), 2u);
    EXPECT_EQ(a->wakes, 1);
    EXPECT_EQ(b->wakes, 1);
    EXPECT_EQ(a->last_direct, nullptr);  // stored messages: read from the store
    EXPECT_EQ(hub.wake_user_agent("nobody"), 0u);
}

}  // namespace
}  // namespace pushsvc::delivery
