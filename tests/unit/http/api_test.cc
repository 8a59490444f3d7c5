// The route table driven directly (no sockets): status codes, headers and JSON bodies.
#include "pushsvc/http/api.h"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "pushsvc/obs/catalog.h"
#include "pushsvc/store/memory_store.h"
#include "tests/support/forwarding_store.h"

namespace pushsvc::http {
namespace {

class ApiTest : public ::testing::Test {
  protected:
    ApiTest()
        : service_(options(), store_, webpush::EndpointCodec({std::string(32, 'k')}), clock_),
          api_(service_) {}

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "http://127.0.0.1:9";
        return o;
    }

    Response call(std::string method, std::string target, std::vector<Field> headers = {},
                  std::string body = {}) {
        Request req;
        req.method = std::move(method);
        req.target = std::move(target);
        for (auto& f : headers) req.headers.add(f.name, f.value);
        req.body = std::move(body);
        std::optional<Response> out;
        api_.handle(std::move(req), [&](Response r) { out = std::move(r); });
        EXPECT_TRUE(out);  // the responder is called exactly once, here synchronously
        return out ? *out : Response{};
    }

    // POST /subscribe and return the endpoint path and the subscription resource path.
    std::pair<std::string, std::string> subscribe() {
        Response r = call("POST", "/subscribe");
        EXPECT_EQ(r.status, 201);
        std::string link = *r.headers.get("link");
        auto start = link.find('<') + 1;
        std::string endpoint = link.substr(start, link.find('>') - start);
        auto path = [](const std::string& url) { return url.substr(url.find('/', 8)); };
        return {path(endpoint), path(*r.headers.get("location"))};
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    webpush::PushService service_;
    Api api_;
};

TEST_F(ApiTest, SubscribeAnswers201WithLocationAndPushLink_R8030_4_a_b_c) {
    Response r = call("POST", "/subscribe");
    EXPECT_EQ(r.status, 201);
    ASSERT_TRUE(r.headers.get("location"));
    EXPECT_EQ(r.headers.get("location")->rfind("http://127.0.0.1:9/sub/", 0), 0u);
    // One Link for the push resource and one for the set (R8030-4.1-a), as separate fields.
    ASSERT_EQ(r.headers.count("link"), 2u);
    EXPECT_NE(r.headers.all()[1].value.find("; rel=\"urn:ietf:params:push\""), std::string::npos);
    EXPECT_NE(r.headers.get("link")->find("/set/"), std::string::npos);
    EXPECT_NE(r.headers.get("link")->find("; rel=\"urn:ietf:params:push:set\""), std::string::npos);
}

TEST_F(ApiTest, PushAnswers201WithLocationAndTtl_R8030_5_b) {
    auto [endpoint, sub] = subscribe();
    Response r = call("POST", endpoint, {{"ttl", "99999999999"}});
    EXPECT_EQ(r.status, 201);
    EXPECT_EQ(r.headers.get("location")->rfind("http://127.0.0.1:9/m/", 0), 0u);
    EXPECT_EQ(r.headers.get("ttl"), std::to_string(options().max_ttl));
}

TEST_F(ApiTest, PushWithoutTtlIsA400WithErrno111_R8030_5_2_b) {
    auto [endpoint, sub] = subscribe();
    Response r = call("POST", endpoint);
    EXPECT_EQ(r.status, 400);
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("errno").as_int64(), 111);
}

TEST_F(ApiTest, DeleteOfAMessageIs204ThenNotFound_A1) {
    auto [endpoint, sub] = subscribe();
    Response pushed = call("POST", endpoint, {{"ttl", "60"}});
    std::string location = *pushed.headers.get("location");
    std::string path = location.substr(location.find("/m/"));
    EXPECT_EQ(call("DELETE", path).status, 204);
    EXPECT_EQ(call("DELETE", path).status, 404);
}

TEST_F(ApiTest, DeletedSubscriptionIsGone_R8030_7_3_e) {
    auto [endpoint, sub] = subscribe();
    EXPECT_EQ(call("DELETE", sub).status, 204);
    EXPECT_EQ(call("POST", endpoint, {{"ttl", "60"}}).status, 410);
    EXPECT_EQ(call("DELETE", sub).status, 404);
}

TEST_F(ApiTest, UnknownPathsAndMethodsGetJsonErrors) {
    EXPECT_EQ(call("GET", "/nope").status, 404);
    EXPECT_EQ(call("POST", "/push/").status, 404);
    EXPECT_EQ(call("POST", "/push/a/b").status, 404);
    Response r = call("GET", "/subscribe");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers.get("allow"), "POST");
    EXPECT_EQ(call("POST", "/push/not-a-token", {{"ttl", "1"}}).status, 404);
}

TEST_F(ApiTest, HealthAndMetricsAreServed) {
    EXPECT_EQ(call("GET", "/health").status, 200);
    subscribe();
    // A request with no peer address is not from loopback: no metrics without a token
    // (admin_access_test.cc has the rule; here only that it applies).
    EXPECT_EQ(call("GET", "/metrics").status, 403);
    Request req;
    req.method = "GET";
    req.target = "/metrics";
    req.peer_address = "127.0.0.1";
    Response m;
    api_.handle(std::move(req), [&](Response r) { m = std::move(r); });
    EXPECT_EQ(m.status, 200);
    EXPECT_NE(m.body.find("pushsvc_subscriptions_total"), std::string::npos);
}

TEST_F(ApiTest, OffloadRunsWritesElsewhereAndStillRespondsOnce) {
    std::vector<std::function<void()>> queued;
    Api offloaded(service_, [&](std::function<void()> f) { queued.push_back(std::move(f)); });
    int responses = 0;
    Request req;
    req.method = "POST";
    req.target = "/subscribe";
    offloaded.handle(std::move(req), [&](Response r) {
        EXPECT_EQ(r.status, 201);
        ++responses;
    });
    EXPECT_EQ(responses, 0);
    ASSERT_EQ(queued.size(), 1u);
    queued.front()();
    EXPECT_EQ(responses, 1);
}

// With an offload (store.sync, the PostgreSQL store) a monitoring GET reads the store on the
// offload too: nothing is answered on the calling (network) thread; the job answers, here 404
// for a subscription that was removed (R8030-7.3-b).
TEST_F(ApiTest, OffloadedMonitorFindsItsSubscriptionOffTheCallingThread) {
    auto [push_path, sub_path] = subscribe();
    ASSERT_EQ(call("DELETE", sub_path).status, 204);
    boost::asio::io_context ioc;
    std::vector<std::function<void()>> queued;
    Api offloaded(
        service_, [&](std::function<void()> f) { queued.push_back(std::move(f)); },
        MonitorContext{.executor = ioc.get_executor()});
    // The request's HTTP/2 stream; nothing is pushed on it in this test.
    struct Stream final : Pusher {
        void push(std::string, Response, PushDone) override { ADD_FAILURE() << "pushed"; }
        void on_gone(std::function<void()>) override {}
    };
    Request req;
    req.method = "GET";
    req.target = sub_path;
    req.pusher = std::make_shared<Stream>();
    int status = 0;
    offloaded.handle(std::move(req), [&](Response r) { status = r.status; });
    EXPECT_EQ(status, 0);
    ASSERT_EQ(queued.size(), 1u);
    queued.front()();
    EXPECT_EQ(status, 404);
}

// A store that throws from put_subscription while `fail` is set, as a store error or a bug in a
// store call would: the fault injection point for the API's store-work boundary.
class ThrowingStore final : public pushsvc::testing::ForwardingStore {
  public:
    using ForwardingStore::ForwardingStore;
    bool fail = false;

    result<void> put_subscription(const store::SubscriptionRecord& sub) override {
        if (fail) throw std::runtime_error("injected store failure");
        return ForwardingStore::put_subscription(sub);
    }
};

// Store work that throws, inline or offloaded, is answered 500 (the responder still runs
// exactly once, so the connection is not left waiting) and the next request is served.
// Without the boundary the exception leaves handle() (inline) or the offloaded job.
TEST_F(ApiTest, StoreWorkThatThrowsIsAnswered500AndTheNextRequestIsServed) {
    ThrowingStore throwing(store_);
    webpush::PushService service(options(), throwing,
                                 webpush::EndpointCodec({std::string(32, 'k')}), clock_);
    std::vector<std::function<void()>> queued;
    Api inline_api(service);
    Api offloaded(service, [&](std::function<void()> f) { queued.push_back(std::move(f)); });
    for (Api* api : {&inline_api, &offloaded}) {
        for (bool fail : {true, false}) {
            throwing.fail = fail;
            Request req;
            req.method = "POST";
            req.target = "/subscribe";
            std::vector<int> statuses;
            api->handle(std::move(req), [&](Response r) { statuses.push_back(r.status); });
            for (auto& job : queued) EXPECT_NO_THROW(job());
            queued.clear();
            EXPECT_EQ(statuses, std::vector<int>{fail ? 500 : 201});
        }
    }
}

// --- Rate limits: 429 + Retry-After + JSON body + counter (R8030-8.4-b, docs/limits.md) ---

class ApiRateLimitTest : public ::testing::Test {
  protected:
    ApiRateLimitTest()
        : service_(options(), store_, webpush::EndpointCodec({std::string(32, 'k')}), clock_),
          api_(service_) {}

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "http://127.0.0.1:9";
        o.rate.subscribe_per_min = 2;  // one every 30 s
        o.rate.subscribe_burst = 2;
        o.rate.push_per_min = 60;
        o.rate.push_burst = 1;
        return o;
    }

    Response call(std::string method, std::string target, std::string client,
                  std::vector<Field> headers = {}) {
        Request req;
        req.method = std::move(method);
        req.target = std::move(target);
        req.client = std::move(client);
        for (auto& f : headers) req.headers.add(f.name, f.value);
        std::optional<Response> out;
        api_.handle(std::move(req), [&](Response r) { out = std::move(r); });
        EXPECT_TRUE(out);
        return out ? *out : Response{};
    }

    static void expect_rate_limited(const Response& r, const std::string& retry_after) {
        EXPECT_EQ(r.status, 429);
        EXPECT_EQ(r.headers.get("retry-after"), retry_after);
        EXPECT_EQ(r.headers.get("content-type"), "application/json");
        auto body = boost::json::parse(r.body).as_object();
        EXPECT_EQ(body.at("code").as_int64(), 429);
        EXPECT_EQ(body.at("error").as_string(), "Too Many Requests");
        EXPECT_EQ(body.at("reason").as_string(), "rate_limited");
        EXPECT_TRUE(body.at("errno").is_null());
    }

    static std::uint64_t counted(obs::Limited l) { return obs::catalog().rate_limited(l).value(); }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    webpush::PushService service_;
    Api api_;
};

TEST_F(ApiRateLimitTest, SubscribesPerAddressOverTheLimitAre429WithRetryAfter) {
    ASSERT_EQ(call("POST", "/subscribe", "203.0.113.5").status, 201);
    ASSERT_EQ(call("POST", "/subscribe", "203.0.113.5").status, 201);
    const auto before = counted(obs::Limited::subscribe);
    const auto errors_before = obs::catalog().error(errc::rate_limited).value();
    expect_rate_limited(call("POST", "/subscribe", "203.0.113.5"), "30");
    EXPECT_EQ(counted(obs::Limited::subscribe), before + 1);
    EXPECT_EQ(obs::catalog().error(errc::rate_limited).value(), errors_before + 1);
    EXPECT_EQ(store_.stats()->user_agents, 2u);  // the refused one created nothing
    // Other addresses, and IPv6 /64s, are other clients.
    EXPECT_EQ(call("POST", "/subscribe", "2001:db8:1:2::/64").status, 201);
    clock_.advance_ms(29'000);
    expect_rate_limited(call("POST", "/subscribe", "203.0.113.5"), "1");
    clock_.advance_ms(1'000);
    EXPECT_EQ(call("POST", "/subscribe", "203.0.113.5").status, 201);
}

TEST_F(ApiRateLimitTest, PushesOverTheSendersLimitAre429WithTheBucketsRetryAfter) {
    Response sub = call("POST", "/subscribe", "");
    ASSERT_EQ(sub.status, 201);
    std::string link = *sub.headers.get("link");
    auto start = link.find('<') + 1;
    std::string endpoint = link.substr(start, link.find('>') - start);
    endpoint = endpoint.substr(endpoint.find('/', 8));
    ASSERT_EQ(call("POST", endpoint, "203.0.113.9", {{"ttl", "0"}}).status, 201);
    const auto before = counted(obs::Limited::push);
    expect_rate_limited(call("POST", endpoint, "203.0.113.9", {{"ttl", "0"}}), "1");
    EXPECT_EQ(counted(obs::Limited::push), before + 1);
}

TEST(ApiQueueCap, TheQueueCap429KeepsItsFixedRetryAfter_R8030_8_4_b) {
    base::FakeClock clock;
    store::MemoryStore store(&clock);
    webpush::ServiceOptions o;
    o.origin = "http://127.0.0.1:9";
    o.max_queued_per_ua = 1;
    webpush::PushService service(o, store, webpush::EndpointCodec({std::string(32, 'k')}), clock);
    Api api(service);
    auto call = [&](std::string target) {
        Request req;
        req.method = "POST";
        req.target = std::move(target);
        req.headers.add("ttl", "60");
        std::optional<Response> out;
        api.handle(std::move(req), [&](Response r) { out = std::move(r); });
        return *out;
    };
    std::string link = *call("/subscribe").headers.get("link");
    auto start = link.find('<') + 1;
    std::string endpoint = link.substr(start, link.find('>') - start);
    endpoint = endpoint.substr(endpoint.find('/', 8));
    ASSERT_EQ(call(endpoint).status, 201);
    Response full = call(endpoint);
    EXPECT_EQ(full.status, 429);
    EXPECT_EQ(full.headers.get("retry-after"), "60");
    EXPECT_EQ(boost::json::parse(full.body).at("reason").as_string(), "too_many_requests");
}

}  // namespace
}  // namespace pushsvc::http
