// The test-double decorator driven without sockets: in-service subscriptions record and decrypt
// what senders push (TTL 0 included), expiry, failure injection, clock control, the
// web-push-testing routes and the break rules. Pushes are built by tools/client.
// Checklist IDs: R8291-3.1-a, R8291-3.2-a, R8030-5.2-i, R8030-7.3-a, R8030-7.3-d, R8030-5.2-h,
// R8030-8.4-b, R8030-5.2-b, R8030-5-b, R8292-3-b, R8030-6.2-d, R8030-7.2-f, R8030-7.3.1-a.
#include "pushsvc/testdouble/testdouble.h"

#include <gtest/gtest.h>
#include <algorithm>
#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/http/api.h"
#include "pushsvc/store/memory_store.h"
#include "tools/client/push_request.h"

namespace pushsvc::testdouble {
namespace {

namespace json = boost::json;

class TestDoubleTest : public ::testing::Test {
  protected:
    explicit TestDoubleTest(std::string breaks = {}) { make(std::move(breaks)); }

    void make(std::string breaks) {
        config_.testdouble.enabled = true;
        config_.testdouble.break_rules = std::move(breaks);
        double_.reset();
        double_ =
            std::make_unique<TestDouble>(Dependencies{config_,
                                                      service_,
                                                      store_,
                                                      hub_,
                                                      clock_,
                                                      {std::string(32, 'k')},
                                                      [this](http::Request r, http::Responder a) {
                                                          api_.handle(std::move(r), std::move(a));
                                                      }});
    }

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "http://127.0.0.1:9";
        return o;
    }

    http::Response call(std::string method, std::string target, std::string body = {},
                        std::vector<http::Field> headers = {}) {
        http::Request req;
        req.method = std::move(method);
        req.target = std::move(target);
        req.body = std::move(body);
        for (auto& f : headers) req.headers.add(f.name, f.value);
        std::optional<http::Response> out;
        double_->handle(std::move(req), [&](http::Response r) { out = std::move(r); });
        EXPECT_TRUE(out);
        return out ? *out : http::Response{};
    }

    static json::object parse(const http::Response& r) { return json::parse(r.body).as_object(); }

    // A push built by tools/client for a browser-format subscription, sent through the double.
    http::Response push(
        const json::object& sub, std::string text, std::int64_t ttl = 60,
        webpush_client::ContentEncoding enc = webpush_client::ContentEncoding::aes128gcm) {
        auto s = webpush_client::Subscription::from_json(json::serialize(sub)).value();
        webpush_client::PushOptions opt;
        opt.ttl = ttl;
        opt.encryption.encoding = enc;
        auto req =
            webpush_client::build_push_request(s, webpush_client::to_bytes(text), opt).value();
        std::vector<http::Field> headers;
        for (const auto& [n, v] : req.headers) {
            std::string lower;
            for (char c : n) lower += char(std::tolower(static_cast<unsigned char>(c)));
            headers.push_back({lower, v});
        }
        return call("POST", req.url.substr(req.url.find("/push/")), req.body, headers);
    }

    json::object subscribe() {
        auto r = call("POST", "/_testdouble/subscriptions", "{}");
        EXPECT_EQ(r.status, 201);
        return parse(r);
    }

    json::array messages(const json::object& created) {
        auto r = call("GET", "/_testdouble/subscriptions/" +
                                 std::string(created.at("id").as_string()) + "/messages");
        EXPECT_EQ(r.status, 200);
        return parse(r).at("messages").as_array();
    }

    config::Config config_;
    base::AdjustableClock clock_;
    store::MemoryStore store_{&clock_};
    webpush::PushService service_{options(), store_, webpush::EndpointCodec({std::string(32, 'k')}),
                                  clock_};
    delivery::Hub hub_;
    http::Api api_{service_};
    std::unique_ptr<TestDouble> double_;

    void SetUp() override { service_.set_notifier(&hub_); }
};

TEST_F(TestDoubleTest, CreatesBrowserFormatSubscriptionsWithFreshKeys_R8291_3_1_a_3_2_a) {
    auto a = subscribe(), b = subscribe();
    for (const auto* s : {&a, &b}) {
        EXPECT_TRUE(s->at("endpoint").as_string().starts_with("http://127.0.0.1:9/push/"));
        EXPECT_TRUE(s->at("expirationTime").is_null());
        auto p = base::base64url_decode(s->at("keys").at("p256dh").as_string());
        auto auth = base::base64url_decode(s->at("keys").at("auth").as_string());
        ASSERT_TRUE(p && auth);
        EXPECT_EQ(p->size(), 65u);
        EXPECT_EQ((*p)[0], '\x04');
        EXPECT_EQ(auth->size(), 16u);
    }
    EXPECT_NE(a.at("keys").at("p256dh"), b.at("keys").at("p256dh"));
    EXPECT_NE(a.at("keys").at("auth"), b.at("keys").at("auth"));
}

TEST_F(TestDoubleTest, RecordsAndDecryptsBothCodingsIncludingTtlZero_R8030_5_2_i) {
    auto s = subscribe();
    EXPECT_EQ(push(s, "stored").status, 201);
    EXPECT_EQ(push(s, "ttl zero", 0).status, 201);
    EXPECT_EQ(push(s, "legacy", 60, webpush_client::ContentEncoding::aesgcm).status, 201);
    auto list = messages(s);
    ASSERT_EQ(list.size(), 3u);
    EXPECT_EQ(list[0].at("plaintext"), "stored");
    EXPECT_EQ(list[0].at("headers").at("content-encoding"), "aes128gcm");
    EXPECT_EQ(list[1].at("plaintext"), "ttl zero");
    EXPECT_EQ(list[1].at("ttl"), 0);
    EXPECT_EQ(list[2].at("plaintext"), "legacy");
    EXPECT_TRUE(list[2].at("headers").at("crypto-key").as_string().starts_with("dh="));
    // Clearing the records.
    auto id = std::string(s.at("id").as_string());
    EXPECT_EQ(call("DELETE", "/_testdouble/subscriptions/" + id + "/messages").status, 204);
    EXPECT_TRUE(messages(s).empty());
}

TEST_F(TestDoubleTest, ExpiredSubscriptionsAnswerGone_R8030_7_3_a_7_3_d) {
    auto s = subscribe();
    auto id = std::string(s.at("id").as_string());
    EXPECT_EQ(call("POST", "/_testdouble/subscriptions/" + id + "/expire").status, 204);
    EXPECT_EQ(push(s, "late").status, 410);  // compat profile
    auto t = subscribe();
    json::object body{{"endpoint", t.at("endpoint")}};
    EXPECT_EQ(call("POST", "/_testdouble/expire", json::serialize(body)).status, 204);
    EXPECT_EQ(push(t, "late").status, 410);
    EXPECT_EQ(call("POST", "/_testdouble/expire", R"({"endpoint":"http://x/push/nope"})").status,
              404);
}

TEST_F(TestDoubleTest, InjectsTheNextFailuresThenRecovers_R8030_8_4_b) {
    auto s = subscribe();
    auto id = std::string(s.at("id").as_string());
    EXPECT_EQ(call("POST", "/_testdouble/subscriptions/" + id + "/fail-next",
                   R"({"status":429,"retry_after":7,"count":2})")
                  .status,
              204);
    auto first = push(s, "a");
    EXPECT_EQ(first.status, 429);
    EXPECT_EQ(first.headers.get("retry-after"), "7");
    EXPECT_EQ(parse(first).at("code"), 429);
    EXPECT_EQ(push(s, "b").status, 429);
    EXPECT_EQ(push(s, "c").status, 201);
    json::object body{{"endpoint", s.at("endpoint")}, {"status", 500}};
    EXPECT_EQ(call("POST", "/_testdouble/fail-next", json::serialize(body)).status, 200);
    EXPECT_EQ(push(s, "d").status, 500);
    body["status"] = 413;
    call("POST", "/_testdouble/fail-next", json::serialize(body));
    EXPECT_EQ(push(s, "e").status, 413);
    auto list = messages(s);
    ASSERT_EQ(list.size(), 1u);  // only the accepted one reached the user agent
    EXPECT_EQ(list[0].at("plaintext"), "c");
}

TEST_F(TestDoubleTest, MovingTheClockExpiresStoredMessages_R8030_5_2_h) {
    auto a = call("POST", "/_testdouble/clock", R"({"advance_ms":5000})");
    EXPECT_EQ(parse(a).at("offset_ms"), 5000);
    EXPECT_EQ(clock_.offset_ms(), 5000);
    call("POST", "/_testdouble/clock", R"({"reset":true})");
    EXPECT_EQ(clock_.offset_ms(), 0);
    auto now = clock_.now_ms();
    call("POST", "/_testdouble/clock", R"({"set_ms":)" + std::to_string(now + 60000) + "}");
    EXPECT_GE(clock_.now_ms(), now + 60000);
    call("POST", "/_testdouble/clock", R"({"reset":true})");

    // What the name says: stored messages of an ordinary subscription (no in-service agent
    // drains them) expire when the clock moves past their TTL. DELETE on a message resource
    // answers 204 while it is stored and 404 once it is gone (RFC 8030 §6.2).
    auto sub = call("POST", "/subscribe");
    ASSERT_EQ(sub.status, 201);
    const std::string link = *sub.headers.get("link");
    const auto start = link.find('<') + 1;
    const std::string endpoint = link.substr(start, link.find('>') - start);
    const std::string push_path = endpoint.substr(endpoint.find("/push/"));
    auto message_path = [&] {
        auto r = call("POST", push_path, {}, {{"ttl", "60"}});
        EXPECT_EQ(r.status, 201) << r.body;
        const std::string location = r.headers.get("location").value_or("");
        return location.substr(location.find("/m/"));
    };
    const std::string early = message_path(), late = message_path();
    call("POST", "/_testdouble/clock", R"({"advance_ms":59000})");
    EXPECT_EQ(call("DELETE", early).status, 204);  // one second of its TTL left
    call("POST", "/_testdouble/clock", R"({"advance_ms":1000})");
    EXPECT_EQ(call("DELETE", late).status, 404);  // its 60 s are over on the service's clock
}

// Found by the testdouble_api fuzzer: numbers out of range were converted (undefined for a
// double) and added (signed overflow). They are refused now, and the clock stays put.
TEST_F(TestDoubleTest, OutOfRangeClockMovesAreRefused) {
    EXPECT_EQ(call("POST", "/_testdouble/clock", R"({"advance_ms":2e28})").status, 200);
    EXPECT_EQ(clock_.offset_ms(), 0);  // not a number of milliseconds it takes: ignored
    EXPECT_EQ(call("POST", "/_testdouble/clock", R"({"advance_s":9000000000000000})").status, 200);
    EXPECT_EQ(clock_.offset_ms(), 0);
    call("POST", "/_testdouble/clock", R"({"advance_s":999999999999})");
    EXPECT_EQ(clock_.offset_ms(), 999'999'999'999'000);
    // The next step would leave the allowed range: refused, nothing moved.
    EXPECT_EQ(call("POST", "/_testdouble/clock", R"({"advance_s":999999999999})").status, 400);
    EXPECT_EQ(clock_.offset_ms(), 999'999'999'999'000);
}

TEST_F(TestDoubleTest, ServesTheWebPushTestingRoutes) {
    EXPECT_EQ(call("POST", "/web-push-testing/status").status, 200);
    auto r = call("POST", "/web-push-testing/subscribe", R"({"userVisibleOnly":"true"})");
    ASSERT_EQ(r.status, 200);
    auto data = parse(r).at("data").as_object();
    json::object sub{{"endpoint", data.at("endpoint")}, {"keys", data.at("keys")}};
    EXPECT_EQ(push(sub, "hello").status, 201);
    std::string hash(data.at("clientHash").as_string());
    auto got = call("POST", "/web-push-testing/get-notifications",
                    json::serialize(json::object{{"clientHash", hash}}));
    ASSERT_EQ(got.status, 200);
    EXPECT_EQ(parse(got).at("data").at("messages").as_array(), (json::array{"hello"}));
    EXPECT_EQ(call("POST", "/web-push-testing/expire-subscription/" + hash).status, 200);
    EXPECT_EQ(push(sub, "gone").status, 410);
    EXPECT_EQ(
        call("POST", "/web-push-testing/get-notifications", R"({"clientHash":"nope"})").status,
        400);
    EXPECT_EQ(call("POST", "/web-push-testing/subscribe", R"({"other":1})").status, 400);
    // Form bodies, as express.urlencoded accepts.
    EXPECT_EQ(call("POST", "/web-push-testing/subscribe", "userVisibleOnly=true",
                   {{"content-type", "application/x-www-form-urlencoded"}})
                  .status,
              200);
}

// The URL in `<...>` of the Link with `rel` (RFC 8288), "" when absent.
std::string link_target(const http::Response& r, std::string_view rel) {
    for (const auto& f : r.headers.all()) {
        if (f.name != "link" || f.value.find("\"" + std::string(rel) + "\"") == std::string::npos)
            continue;
        auto a = f.value.find('<'), b = f.value.find('>');
        if (a != std::string::npos && b != std::string::npos)
            return f.value.substr(a + 1, b - a - 1);
    }
    return {};
}

std::string path_part(const std::string& url) {
    auto p = url.find('/', url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
    return p == std::string::npos ? url : url.substr(p);
}

TEST_F(TestDoubleTest, GivesUpAMessageBeforeItsTtl_R8030_6_2_d_R8030_7_2_f) {
    auto sub = call("POST", "/subscribe");
    ASSERT_EQ(sub.status, 201);
    std::string push_path = path_part(link_target(sub, "urn:ietf:params:push"));
    ASSERT_FALSE(push_path.empty());
    auto sent = call("POST", push_path, {}, {{"ttl", "600"}, {"prefer", "respond-async"}});
    ASSERT_EQ(sent.status, 202);
    std::string message = path_part(std::string(*sent.headers.get("location")));
    std::string id = message.substr(message.rfind('/') + 1);
    auto caps = parse(call("GET", "/_testdouble/")).at("capabilities").as_array();
    EXPECT_NE(std::find(caps.begin(), caps.end(), json::value("give-up")), caps.end());
    EXPECT_EQ(call("POST", "/_testdouble/messages/" + id + "/give-up").status, 204);
    // Gone: neither a second give-up nor the UA's acknowledgement finds it.
    EXPECT_EQ(call("POST", "/_testdouble/messages/" + id + "/give-up").status, 404);
    EXPECT_EQ(call("DELETE", message).status, 404);
    EXPECT_EQ(call("POST", "/_testdouble/messages/AAAAAAAAAAAAAAAAAAAAAA/give-up").status, 404);
    EXPECT_EQ(call("GET", "/_testdouble/messages/" + id + "/give-up").status, 404);
}

TEST_F(TestDoubleTest, ExpiresASetWithItsMembers_R8030_7_3_1_a) {
    auto first = call("POST", "/subscribe");
    ASSERT_EQ(first.status, 201);
    std::string set = link_target(first, "urn:ietf:params:push:set");
    ASSERT_FALSE(set.empty());
    auto second = call("POST", "/subscribe", {},
                       {{"link", "<" + set + ">; rel=\"urn:ietf:params:push:set\""}});
    ASSERT_EQ(second.status, 201);
    EXPECT_EQ(
        call("POST", "/_testdouble/expire", json::serialize(json::object{{"set", set}})).status,
        204);
    for (const auto* r : {&first, &second})
        EXPECT_EQ(
            call("POST", path_part(link_target(*r, "urn:ietf:params:push")), {}, {{"ttl", "60"}})
                .status,
            410);  // compat profile
    EXPECT_EQ(
        call("POST", "/_testdouble/expire", json::serialize(json::object{{"set", set}})).status,
        404);
}

TEST_F(TestDoubleTest, OtherRoutesReachTheApplicationUnchanged) {
    EXPECT_EQ(call("POST", "/subscribe").status, 201);
    EXPECT_EQ(call("GET", "/health").status, 200);
    EXPECT_EQ(call("GET", "/_testdouble/nope").status, 404);
    auto caps = parse(call("GET", "/_testdouble/"));
    EXPECT_FALSE(caps.at("capabilities").as_array().empty());
}

TEST_F(TestDoubleTest, BreakRulesViolateTheirRuleOnPurpose_R8030_5_2_b_R8030_5_b) {
    make("ttl-required, location, www-authenticate");
    auto s = subscribe();
    auto path = std::string(s.at("endpoint").as_string());
    path = path.substr(path.find("/push/"));
    auto r = call("POST", path);  // no TTL: 400 normally
    EXPECT_EQ(r.status, 201);
    EXPECT_FALSE(r.headers.get("location"));
    EXPECT_THROW(make("no-such-rule"), std::runtime_error);
}

}  // namespace
}  // namespace pushsvc::testdouble
