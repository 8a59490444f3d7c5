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
