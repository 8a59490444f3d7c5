// The internal route's answers (cluster/internal_api.h): only POST /_cluster/v1/notify, only
// with a valid signature, every refusal a JSON error with a stable reason and a counter.
#include "pushsvc/cluster/internal_api.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>

#include "pushsvc/cluster/wire.h"
#include "pushsvc/obs/catalog.h"

namespace pushsvc::cluster {
namespace {

const std::string kSecret(40, 'k');

struct FakeTarget : delivery::Target {
    int wakes = 0;
    std::shared_ptr<const store::MessageRecord> last_direct;
    std::vector<std::string> acks, removals;
    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        ++wakes;
        last_direct = std::move(direct);
    }
    void acked(std::string id) override { acks.push_back(std::move(id)); }
    void removed(std::string id) override { removals.push_back(std::move(id)); }
    void replaced() override {}
};

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class InternalApi : public ::testing::Test {
  protected:
    http::Response call(http::Request req) {
        http::Response out;
        bool answered = false;
        handler_(std::move(req), [&](http::Response r) {
            out = std::move(r);
            answered = true;
        });
        EXPECT_TRUE(answered);  // the handler answers inline: it only posts to sessions
        return out;
    }
    // A signed notification request.
    http::Request notify(const Notification& n, std::int64_t t = now_ms(),
                         const std::string& secret = kSecret) {
        http::Request req;
        req.method = "POST";
        req.target = std::string(kNotifyPath);
        req.body = encode(n);
        req.headers.add("authorization", sign(secret, t, "POST", kNotifyPath, req.body));
        return req;
    }
    static std::string reason(const http::Response& r) {
        auto v = boost::json::parse(r.body);
        EXPECT_EQ(v.at("code").as_int64(), r.status);
        return std::string(v.at("reason").as_string());
    }

    delivery::Hub hub_;
    http::Handler handler_ = internal_handler(hub_, {.secret = kSecret, .node_id = "node-a"});
};

TEST_F(InternalApi, WakesTheSessionsOfHeldUserAgentsAndNamesTheAbsentOnes) {
    auto t = std::make_shared<FakeTarget>();
    hub_.attach("held", t, false);
    const auto received = obs::catalog().cluster_received.value();
    auto direct = std::make_shared<store::MessageRecord>();
    direct->uaid = "held";
    direct->id = "ttl0";
    Notification n{.to = "node-a", .from = "node-b", .events = {}};
    n.events.push_back({Event::Kind::wake, "held", "", nullptr});
    n.events.push_back({Event::Kind::wake, "elsewhere", "", nullptr});
    n.events.push_back({Event::Kind::direct, "held", "", direct});
    n.events.push_back({Event::Kind::acked, "held", "m7", nullptr});
    n.events.push_back({Event::Kind::removed, "held", "s3", nullptr});
    auto r = call(notify(n));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.get("content-type"), "application/json");
    EXPECT_EQ(decode_absent(r.body, 5), (std::vector<std::size_t>{1}));
    EXPECT_EQ(t->wakes, 2);  // the stored-message wake and the TTL-0 message
    ASSERT_TRUE(t->last_direct);
    EXPECT_EQ(t->last_direct->id, "ttl0");
    EXPECT_EQ(t->acks, (std::vector<std::string>{"m7"}));
    EXPECT_EQ(t->removals, (std::vector<std::string>{"s3"}));
    EXPECT_EQ(obs::catalog().cluster_received.value(), received + 5);
}

TEST_F(InternalApi, ANotificationForAnotherNodeIdIsAllAbsent) {
    auto t = std::make_shared<FakeTarget>();
    hub_.attach("held", t);
    Notification n{.to = "node-that-was-here-before", .from = "node-b", .events = {}};
    n.events.push_back({Event::Kind::wake, "held", "", nullptr});
    auto r = call(notify(n));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(decode_absent(r.body, 1), (std::vector<std::size_t>{0}));
    EXPECT_EQ(t->wakes, 0);
}

TEST_F(InternalApi, RefusesUnsignedWronglySignedAndStaleRequests) {
    auto t = std::make_shared<FakeTarget>();
    hub_.attach("held", t);
    Notification n{.to = "node-a", .from = "x", .events = {{Event::Kind::wake, "held", "", {}}}};
    const auto missing = obs::catalog().error(errc::cluster_auth_missing).value();
    const auto invalid = obs::catalog().error(errc::cluster_auth_invalid).value();

    http::Request unsigned_req = notify(n);
    unsigned_req.headers = {};
    auto r = call(unsigned_req);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(reason(r), "cluster_auth_missing");
    EXPECT_EQ(r.headers.get("www-authenticate"), "PushsvcCluster");

    http::Request bearer = notify(n);
    bearer.headers = {};
    bearer.headers.add("authorization", "Bearer " + kSecret);  // the secret itself: not a MAC
    EXPECT_EQ(call(bearer).status, 401);

    r = call(notify(n, now_ms(), std::string(40, 'w')));  // another cluster.secret
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(reason(r), "cluster_auth_invalid");
    EXPECT_EQ(call(notify(n, now_ms() - kReplayWindowMs - 60'000)).status, 403);  // replayed
    http::Request altered = notify(n);
    altered.body += " ";
    EXPECT_EQ(call(altered).status, 403);

    EXPECT_EQ(t->wakes, 0);  // none of them did anything
    EXPECT_EQ(obs::catalog().error(errc::cluster_auth_missing).value(), missing + 2);
    EXPECT_EQ(obs::catalog().error(errc::cluster_auth_invalid).value(), invalid + 3);
}

TEST_F(InternalApi, ServesNothingButTheNotifyRoute) {
    for (const char* target : {"/", "/health", "/metrics", "/push/abc", "/subscribe",
                               "/_cluster/v1/notify/x", "/_cluster/v2/notify"}) {
        http::Request req;
        req.method = "POST";
        req.target = target;
        auto r = call(req);
        EXPECT_EQ(r.status, 404) << target;
        EXPECT_EQ(reason(r), "not_found");
    }
    http::Request get;
    get.method = "GET";
    get.target = std::string(kNotifyPath);
    auto r = call(get);
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(reason(r), "method_not_allowed");
    EXPECT_EQ(r.headers.get("allow"), "POST");
}

TEST_F(InternalApi, ASignedButMalformedBodyIsA400) {
    http::Request req;
    req.method = "POST";
    req.target = std::string(kNotifyPath);
    req.body = "{\"events\": [{\"kind\": \"poke\"}]}";
    req.headers.add("authorization", sign(kSecret, now_ms(), "POST", kNotifyPath, req.body));
    auto r = call(req);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(reason(r), "bad_json");
}

}  // namespace
}  // namespace pushsvc::cluster
