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
}

}  // namespace
}  // namespace pushsvc::delivery
