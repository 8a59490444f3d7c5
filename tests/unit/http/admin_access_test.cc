// The access rule of the operator routes (http/admin_access.h), and /metrics through Api on
// the public listeners and on the admin listener.
#include "pushsvc/http/admin_access.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "pushsvc/http/api.h"
#include "pushsvc/obs/metrics.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::http {
namespace {

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";

Request from(std::string peer, std::optional<std::string> authorization = std::nullopt) {
    Request r;
    r.method = "GET";
    r.target = "/metrics";
    r.peer_address = std::move(peer);
    if (authorization) r.headers.add("authorization", *authorization);
    return r;
}

double errors(std::string_view reason) {
    return obs::registry()
        .find_counter("pushsvc_errors_total", {{"reason", std::string(reason)}})
        ->value();
}

// The reason of a denial, or "allowed".
std::string outcome(const Request& req, const AdminAccess& access) {
    auto denied = check_admin(req, access);
    if (!denied) return "allowed";
    auto body = boost::json::parse(denied->body).as_object();
    EXPECT_EQ(body.at("code").as_int64(), denied->status);
    return std::string(body.at("reason").as_string()) + "/" + std::to_string(denied->status);
}

TEST(AdminAccess, LoopbackPeersNeedNoTokenByDefault) {
    AdminAccess open;  // no token, loopback_without_token
    EXPECT_EQ(outcome(from("127.0.0.1"), open), "allowed");
    EXPECT_EQ(outcome(from("127.8.9.10"), open), "allowed");
    EXPECT_EQ(outcome(from("::1"), open), "allowed");
    EXPECT_EQ(outcome(from("::ffff:127.0.0.1"), open), "allowed");
    EXPECT_EQ(outcome(from("192.0.2.7"), open), "admin_forbidden/403");
    EXPECT_EQ(outcome(from("::ffff:192.0.2.7"), open), "admin_forbidden/403");
    EXPECT_EQ(outcome(from(""), open), "admin_forbidden/403");  // unknown peer: not loopback
    EXPECT_EQ(outcome(from("not an address"), open), "admin_forbidden/403");
}

TEST(AdminAccess, RemotePeersNeedTheBearerToken) {
    AdminAccess access{.token = kToken};
    const std::string good = std::string("Bearer ") + kToken;
    EXPECT_EQ(outcome(from("192.0.2.7", good), access), "allowed");
    EXPECT_EQ(outcome(from("192.0.2.7", std::string("bearer  ") + kToken + " "), access),
              "allowed");  // scheme case-insensitive (RFC 9110 §11.1), spaces trimmed
    EXPECT_EQ(outcome(from("192.0.2.7"), access), "admin_token_missing/401");
    // Another scheme is no bearer credential: challenged like none (RFC 6750 §3).
    EXPECT_EQ(outcome(from("192.0.2.7", "Basic dXNlcjpwYXNz"), access), "admin_token_missing/401");
    EXPECT_EQ(outcome(from("192.0.2.7", good + "0"), access), "admin_token_invalid/403");
    EXPECT_EQ(outcome(from("192.0.2.7", "Bearer " + std::string(kToken).substr(1)), access),
              "admin_token_invalid/403");
    EXPECT_EQ(outcome(from("192.0.2.7", "Bearer "), access), "admin_token_invalid/403");
    // Loopback without a token is still served; with a wrong one it is refused.
    EXPECT_EQ(outcome(from("127.0.0.1"), access), "allowed");
    EXPECT_EQ(outcome(from("127.0.0.1", "Bearer wrong"), access), "admin_token_invalid/403");
}

TEST(AdminAccess, The401NamesTheBearerScheme) {
    AdminAccess access{.token = kToken};
    auto denied = check_admin(from("192.0.2.7"), access);
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->headers.get("www-authenticate"), "Bearer realm=\"pushsvc-admin\"");
    EXPECT_EQ(denied->headers.get("content-type"), "application/json");
    EXPECT_EQ(denied->body.find(kToken), std::string::npos);
}

TEST(AdminAccess, LoopbackCanBeMadeToNeedTheTokenToo) {
    // Behind a reverse proxy on the same host every request comes from loopback.
    AdminAccess access{.token = kToken, .loopback_without_token = false};
    EXPECT_EQ(outcome(from("127.0.0.1"), access), "admin_token_missing/401");
    EXPECT_EQ(outcome(from("127.0.0.1", std::string("Bearer ") + kToken), access), "allowed");
    AdminAccess no_token{.loopback_without_token = false};
    EXPECT_EQ(outcome(from("127.0.0.1"), no_token), "admin_forbidden/403");
}

TEST(AdminAccess, TheAdminListenerWithoutATokenServesEveryPeer) {
    AdminAccess listener{.admin_listener = true};
    EXPECT_EQ(outcome(from("192.0.2.7"), listener), "allowed");
    AdminAccess with_token{.token = kToken, .admin_listener = true};
    EXPECT_EQ(outcome(from("192.0.2.7"), with_token), "admin_token_missing/401");
}

TEST(AdminAccess, EachDenialIsCounted) {
    AdminAccess access{.token = kToken};
    const double missing = errors("admin_token_missing");
    const double invalid = errors("admin_token_invalid");
    const double forbidden = errors("admin_forbidden");
    check_admin(from("192.0.2.7"), access);
    check_admin(from("192.0.2.7", "Bearer nope"), access);
    check_admin(from("192.0.2.7"), AdminAccess{});
    EXPECT_EQ(errors("admin_token_missing"), missing + 1);
    EXPECT_EQ(errors("admin_token_invalid"), invalid + 1);
    EXPECT_EQ(errors("admin_forbidden"), forbidden + 1);
}

class ApiAdminTest : public ::testing::Test {
  protected:
    ApiAdminTest()
        : service_(webpush::ServiceOptions{}, store_,
                   webpush::EndpointCodec({std::string(32, 'k')}), clock_),
          api_(service_) {}

    Response call(bool admin_listener, std::string target, std::string peer,
                  std::optional<std::string> authorization = std::nullopt) {
        Request req = from(std::move(peer), std::move(authorization));
        req.target = std::move(target);
        std::optional<Response> out;
        auto respond = [&](Response r) { out = std::move(r); };
        if (admin_listener)
            api_.handle_admin(std::move(req), respond);
        else
            api_.handle(std::move(req), respond);
        EXPECT_TRUE(out);
        return out ? *out : Response{};
    }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    webpush::PushService service_;
    Api api_;
};

TEST_F(ApiAdminTest, MetricsOnThePublicListenersFollowTheRule) {
    config::AdminConfig admin;
    admin.token = kToken;
    api_.set_admin(admin);
    EXPECT_EQ(call(false, "/metrics", "192.0.2.7").status, 401);
    Response ok = call(false, "/metrics", "192.0.2.7", std::string("Bearer ") + kToken);
    EXPECT_EQ(ok.status, 200);
    EXPECT_NE(ok.body.find("pushsvc_errors_total"), std::string::npos);
    EXPECT_EQ(call(false, "/metrics", "127.0.0.1").status, 200);
    EXPECT_EQ(call(false, "/health", "192.0.2.7").status, 200);  // load balancers
}

TEST_F(ApiAdminTest, WithAnAdminListenerMetricsMoveThere) {
    config::AdminConfig admin;
    admin.listen = "127.0.0.1:0";
    api_.set_admin(admin);
    EXPECT_EQ(call(false, "/metrics", "127.0.0.1").status, 404);
    EXPECT_EQ(call(true, "/metrics", "192.0.2.7").status, 200);  // no token: its address rules
    EXPECT_EQ(call(true, "/health", "192.0.2.7").status, 200);
    EXPECT_EQ(call(true, "/subscribe", "127.0.0.1").status, 404);  // nothing else there
    admin.token = kToken;
    api_.set_admin(admin);
    EXPECT_EQ(call(true, "/metrics", "192.0.2.7").status, 401);
    EXPECT_EQ(call(true, "/metrics", "192.0.2.7", std::string("Bearer ") + kToken).status, 200);
}

}  // namespace
}  // namespace pushsvc::http
