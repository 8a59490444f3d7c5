// The [rate] limits of a running pushsvc seen from outside (docs/limits.md): subscribes per
// address answered 429 with Retry-After and the JSON error body, WebSocket hellos creating
// user agents refused with close 1013, pushes per sender 429 (TTL 0 included), each counted
// in /metrics, and the test double's clock refilling the buckets (no sleeping).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "tests/integration/pushsvc_process.h"
#include "tools/client/http1_client.h"
#include "tools/client/push_request.h"
#include "tools/client/user_agent.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;

class RateLimits : public ::testing::Test {
  protected:
    void SetUp() override {
        ProcessOptions o;
        o.env["PUSHSVC__TESTDOUBLE__ENABLED"] = "true";   // the clock control
        o.env["PUSHSVC__RATE__SUBSCRIBE_PER_MIN"] = "2";  // one every 30 s
        o.env["PUSHSVC__RATE__SUBSCRIBE_BURST"] = "3";
        o.env["PUSHSVC__RATE__NEW_UA_PER_MIN"] = "1";
        o.env["PUSHSVC__RATE__NEW_UA_BURST"] = "2";
        o.env["PUSHSVC__RATE__PUSH_PER_MIN"] = "6";
        o.env["PUSHSVC__RATE__PUSH_BURST"] = "4";
        server_ = std::make_unique<PushsvcProcess>(o);
        server_->start();
        opts_.timeout = std::chrono::seconds(10);
    }

    wc::HttpResponse call(std::string method, std::string path, std::string body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
        wc::HttpRequest req;
        req.method = std::move(method);
        req.url = "http://" + server_->cleartext() + path;
        for (auto& [n, v] : headers) req.headers.add(n, v);
        req.body = std::move(body);
        wc::Http1Client client(opts_);
        auto r = client.request(req);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? *r : wc::HttpResponse{};
    }

    // The value of one series of the last scrape ("absent" when not exposed).
    std::string metric(const std::string& series) {
        const std::string text = call("GET", "/metrics").body;
        for (std::size_t pos = 0; pos < text.size();) {
            auto end = text.find('\n', pos);
            std::string line = text.substr(pos, end - pos);
            if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
            if (end == std::string::npos) break;
            pos = end + 1;
        }
        return "absent";
    }

    void advance_clock(std::int64_t ms) {
        auto r = call("POST", "/_testdouble/clock", R"({"advance_ms": )" + std::to_string(ms) + "}",
                      {{"Content-Type", "application/json"}});
        ASSERT_EQ(r.status, 200) << r.body;
    }

    std::unique_ptr<PushsvcProcess> server_;
    wc::ClientOptions opts_;
};

TEST_F(RateLimits, SubscribesPerAddressGet429WithRetryAfterAndAJsonBody_R8030_8_4_b) {
    for (int i = 0; i < 3; ++i) ASSERT_EQ(call("POST", "/subscribe").status, 201) << i;
    auto r = call("POST", "/subscribe");
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(r.headers.get("retry-after"), "30");
    auto body = boost::json::parse(r.body).as_object();
    EXPECT_EQ(body.at("code").as_int64(), 429);
    EXPECT_EQ(body.at("reason").as_string(), "rate_limited");
    EXPECT_EQ(metric(R"(pushsvc_rate_limited_total{limit="subscribe"})"), "1");
    EXPECT_EQ(metric(R"(pushsvc_errors_total{reason="rate_limited"})"), "1");
    advance_clock(30'000);  // the service clock refills one token
    EXPECT_EQ(call("POST", "/subscribe").status, 201);
    EXPECT_EQ(call("POST", "/subscribe").status, 429);
}

TEST_F(RateLimits, HellosCreatingUserAgentsBeyondTheLimitAreClosedWith1013) {
    wc::UaState first;
    for (int i = 0; i < 2; ++i) {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect("ws://" + server_->cleartext() + "/")) << i;
        if (i == 0) {
            ASSERT_TRUE(ua.subscribe());  // Firefox names its uaid only when it has a channel
            first = ua.state();
        }
    }
    wc::UserAgent third({}, opts_);
    auto refused = third.connect("ws://" + server_->cleartext() + "/");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().message.find("code 1013"), std::string::npos)
        << refused.error().message;
    EXPECT_EQ(metric(R"(pushsvc_rate_limited_total{limit="new_ua"})"), "1");
    // A browser that comes back with its uaid creates nothing and is let in.
    wc::UserAgent back(first, opts_);
    EXPECT_TRUE(back.connect("ws://" + server_->cleartext() + "/"));
    advance_clock(60'000);
    wc::UserAgent later({}, opts_);
    EXPECT_TRUE(later.connect("ws://" + server_->cleartext() + "/"));
}

TEST_F(RateLimits, PushesPerSenderGet429WithTheBucketsRetryAfterTtlZeroIncluded) {
    wc::UserAgent ua({}, opts_);
    ASSERT_TRUE(ua.connect("ws://" + server_->cleartext() + "/"));
    auto channel = ua.subscribe();
    ASSERT_TRUE(channel);
    auto push = [&](int ttl) {
        wc::PushOptions po;
        po.ttl = ttl;
        auto req = wc::build_push_request(channel->subscription(), wc::to_bytes("x"), po);
        EXPECT_TRUE(req);
        req->url = server_->on_cleartext(req->url);
        wc::Http1Client client(opts_);
        auto r = client.request(*req);
        EXPECT_TRUE(r);
        return r ? *r : wc::HttpResponse{};
    };
    for (int i = 0; i < 4; ++i) ASSERT_EQ(push(i % 2 ? 0 : 60).status, 201) << i;
    auto over = push(0);  // TTL 0 skips the queue cap, not the rate limit
    EXPECT_EQ(over.status, 429);
    EXPECT_EQ(over.headers.get("retry-after"), "10");
    EXPECT_EQ(metric(R"(pushsvc_rate_limited_total{limit="push"})"), "1");
}

}  // namespace
}  // namespace pushsvc::testing
