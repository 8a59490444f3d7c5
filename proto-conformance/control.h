#pragma once
// Client of the optional control interface a target may offer for what only the service can
// do (expire a subscription, move the clock, create a subscription whose
// user agent lives inside the service). The protocol is small JSON over HTTP under a base URL
// given with --control (pushsvc serves it under /_testdouble/ in test-double mode; see
// proto-conformance/README.md for the contract another service can implement):
//
//   GET  <base>/                   {"capabilities": ["expire", "clock", "subscriptions", ...]}
//   POST <base>/expire             {"endpoint": push URL} or {"subscription": resource URL}
//                                  or {"set": set URL} (capability "expire-set")
//   POST <base>/messages/<id>/give-up   gives up delivering a message before its TTL: the
//                                  message is gone, a requested receipt is a 410 (capability
//                                  "give-up"; <id> = last path segment of the message's Location)
//   POST <base>/clock              {"advance_ms": n}            -> {"now_ms": t}
//   POST <base>/subscriptions      {}                           -> {"id", "subscription": {...}}
//   GET  <base>/subscriptions/<id>/messages                     -> {"messages": [...]}
//
// Single-threaded, like the rest of the suite.

#include <boost/json.hpp>

#include <optional>
#include <set>
#include <string>

#include "tools/client/client_options.h"
#include "tools/client/error.h"

namespace conformance {

class Context;

class Control {
  public:
    Control(Context& ctx, std::string base);

    // Reads the capabilities once; false when the interface does not answer.
    bool available();
    bool can(const std::string& capability);

    // Expires the subscription named by its push resource URL or resource URL (RFC 8030 §7.3).
    webpush_client::Result<void> expire(const std::string& push_url,
                                        const std::string& subscription_url = {});
    // Expires a subscription set and so every member (RFC 8030 §7.3.1).
    webpush_client::Result<void> expire_set(const std::string& set_url);
    // Gives up delivering the message at `message_url` (RFC 8030 §6.2, §7.2).
    webpush_client::Result<void> give_up(const std::string& message_url);
    // Moves the service's clock forward (TTL expiry, RFC 8030 §5.2).
    webpush_client::Result<void> advance_clock(std::int64_t ms);
    // Puts the clock back to real time (after a scenario moved it).
    webpush_client::Result<void> reset_clock();
    bool clock_moved() const { return clock_moved_; }
    // A subscription with an in-service user agent: {"id", "subscription": {...}}.
    webpush_client::Result<boost::json::object> create_subscription();
    webpush_client::Result<boost::json::array> messages(const std::string& id);

  private:
    webpush_client::Result<boost::json::value> call(const std::string& method,
                                                    const std::string& path,
                                                    const std::string& body);
    Context& ctx_;
    std::string base_;
    std::optional<std::set<std::string>> capabilities_;
    bool clock_moved_ = false;
};

}  // namespace conformance
