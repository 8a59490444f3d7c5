#include "pushsvc/delivery/hub.h"

#include <gtest/gtest.h>

#include <thread>

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

store::MessageRecord message_for(std::string uaid) {
    store::MessageRecord m;
    m.uaid = std::move(uaid);
    m.id = "m1";
    return m;
}

TEST(Hub, WakesTheOnlineSessionAndReportsOfflineOnes) {
    Hub hub;
    auto t = std::make_shared<FakeTarget>();
    EXPECT_FALSE(hub.notify(message_for("ua"), true));
    hub.attach("ua", t);
    EXPECT_TRUE(hub.notify(message_for("ua"), true));
    EXPECT_EQ(t->wakes, 1);
    EXPECT_EQ(t->last_direct, nullptr);
    EXPECT_TRUE(hub.notify(message_for("ua"), false));  // TTL 0: handed over directly
    ASSERT_TRUE(t->last_direct);
    EXPECT_EQ(t->last_direct->id, "m1");
    EXPECT_FALSE(hub.notify(message_for("other"), true));
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
    EXPECT_TRUE(hub.notify(message_for("ua"), true));
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
    EXPECT_TRUE(hub.notify(message_for("set"), true));
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
    EXPECT_FALSE(hub.notify(message_for("ua"), true));
    EXPECT_EQ(hub.online(), 0u);
}

TEST(Hub, ConcurrentAttachNotifyDetachIsSafe) {
    Hub hub;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&hub, t] {
            for (int i = 0; i < 2000; ++i) {
                auto target = std::make_shared<FakeTarget>();
                std::string uaid = "ua" + std::to_string((i + t) % 50);
                hub.attach(uaid, target);
                hub.notify(message_for(uaid), i % 2 == 0);
                hub.detach(uaid, target.get());
            }
        });
    for (auto& th : threads) th.join();
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
    EXPECT_FALSE(hub.notify(message_for("set"), true));
    EXPECT_EQ(hub.connected(Channel::websocket), 1u);
    hub.detach("ua1", ws1_again.get());
    EXPECT_EQ(hub.connected(Channel::websocket), 0u);
    EXPECT_EQ(hub.connected(Channel::http2), 0u);
}

}  // namespace
}  // namespace pushsvc::delivery
