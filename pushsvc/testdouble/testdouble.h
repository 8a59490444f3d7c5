#pragma once
// Test-double mode ([testdouble] enabled = true): a decorator around the application's
// http::Handler that adds, for sender-library CI and the conformance suite,
//   /_testdouble/...        a control API (README.md in this folder): in-service user agents
//                           (agents.h), expiry, clock control, failure injection, reset;
//   /web-push-testing/...   the routes of npm web-push-testing 1.2.2 (status, subscribe,
//                           get-notifications, expire-subscription) with its JSON shapes;
//   POST /push/<token>      failure injection: the next push(es) to an endpoint answer a chosen
//                           status (429 + Retry-After, 413, 500, ...) before the real handler;
//   break rules             [testdouble] break = "..." violates a rule on purpose so the
//                           conformance suite's own tests can check that it notices;
//   POST /_testdouble/throw an exception escapes a network thread: pushsvc must stop cleanly
//                           (threads joined, store closed, exit 70), never abort.
// Everything else goes to the wrapped handler unchanged. The clock (base::AdjustableClock) is
// the one the push service reads, so moving it expires TTLs (RFC 8030 §5.2) and VAPID tokens.
// Thread-safe: handle() may be called from any network thread.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/config/config.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/message.h"
#include "pushsvc/store/store.h"
#include "pushsvc/testdouble/agents.h"
#include "pushsvc/webpush/endpoint_codec.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::testdouble {

inline constexpr std::string_view kControlPrefix = "/_testdouble";
inline constexpr std::string_view kCompatPrefix = "/web-push-testing";

// Rules [testdouble] break can violate (conformance suite self-tests).
inline constexpr std::string_view kBreakRules[] = {
    "ttl-required",      // a push without TTL gets TTL 60 instead of 400 (R8030-5.2-b)
    "location",          // 201 to a push without Location (R8030-5-b)
    "www-authenticate",  // 401 without WWW-Authenticate (R8292-3-b, R8292-4.2-b)
    "413-at-4096",       // 413 for bodies of 4096 octets (R8030-7.2-e)
    "topic-length",      // topics longer than 32 characters cut to 32 (R8030-5.4-b)
};

struct Dependencies {
    const config::Config& config;
    webpush::PushService& service;
    store::Store& store;
    delivery::Hub& hub;
    base::AdjustableClock& clock;
    std::vector<std::string> token_keys;  // to find the subscription of an endpoint
    http::Handler inner;                  // the application's handler
    // Runs a job on a network thread (posts to the io_context). Used only by
    // POST /_testdouble/throw, which proves the process-level failure boundary; unset: 503.
    std::function<void(std::function<void()>)> post_to_network;
};

class TestDouble {
  public:
    // Throws std::runtime_error for an unknown break rule (startup only).
    explicit TestDouble(Dependencies deps);
    ~TestDouble();

    void handle(http::Request req, http::Responder respond);

    // Failure injection (also reachable through the control API).
    struct Failure {
        int status = 500;
        int retry_after = -1;  // seconds; -1: none (429 and 503 default to 1)
    };
    void fail_next(const std::string& token, Failure failure, int count);

  private:
    http::Response control(const http::Request& req, std::string_view path);
    http::Response compat(const http::Request& req, std::string_view path);
    std::optional<http::Response> injected(const std::string& token);
    http::Response expire(const http::Request& req);
    // POST /_testdouble/messages/<id>/give-up: PushService::give_up (RFC 8030 §6.2, §7.2).
    http::Response give_up(std::string_view message_id);
    http::Response clock(const http::Request& req);
    http::Response subscription_route(const http::Request& req, std::string_view rest);
    bool breaks(std::string_view rule) const { return breaks_.count(std::string(rule)) > 0; }

    Dependencies deps_;
    webpush::EndpointCodec codec_;
    InServiceAgents agents_;
    std::set<std::string> breaks_;
    std::mutex mu_;
    std::map<std::string, std::vector<Failure>> failures_;  // endpoint token -> queue
};

// JSON response helpers shared by the route files.
http::Response json_response(int status, const boost::json::value& body);
http::Response json_error(int status, std::string_view message);

}  // namespace pushsvc::testdouble
