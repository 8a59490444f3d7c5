#include "pushsvc/cluster/internal_api.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <string_view>

#include "pushsvc/cluster/wire.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/obs/catalog.h"

namespace pushsvc::cluster {
namespace {

std::int64_t wall_ms() {
    // The wall clock, not the service clock: test-double mode may move that one, and the
    // window is about the nodes' real clocks agreeing.
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

http::Response handle(delivery::Hub& hub, const InternalOptions& o, const http::Request& req) {
    const std::string_view path = path_of(req.target);
    if (path != kNotifyPath) return http::error_response(errc::not_found, o.profile);
    if (req.method != "POST") {
        auto r = http::error_response(errc::method_not_allowed, o.profile);
        r.headers.add("allow", "POST");
        return r;
    }
    switch (
        verify(o.secret, req.headers.get("authorization"), wall_ms(), req.method, path, req.body)) {
        case AuthResult::ok:
            break;
        case AuthResult::missing:
            return http::error_response(errc::cluster_auth_missing, o.profile);
        case AuthResult::invalid:
            spdlog::warn("cluster: refused a notification from {}: bad signature or clock",
                         req.peer_address);
            return http::error_response(errc::cluster_auth_invalid, o.profile);
    }
    auto n = decode(req.body);
    if (!n) return http::error_response(errc::bad_json, o.profile, "Not a cluster notification");
    obs::catalog().cluster_received.inc(n->events.size());
    std::vector<std::size_t> absent;
    const bool for_me = n->to == o.node_id;
    for (std::size_t i = 0; i < n->events.size(); ++i) {
        auto& e = n->events[i];
        // holds() first: a user agent that left since its route was read is absent, so the
        // sender clears that route (its version) and nothing is done here.
        if (!for_me || !hub.holds(e.uaid)) {
            absent.push_back(i);
            continue;
        }
        switch (e.kind) {
            case Event::Kind::wake:
                if (e.message)
                    hub.wake(e.message, true);
                else
                    hub.wake_user_agent(e.uaid);
                break;
            case Event::Kind::direct:
                hub.wake(e.message, false);
                break;
            case Event::Kind::acked:
                hub.acknowledged(e.uaid, e.id);
                break;
            case Event::Kind::removed:
                hub.removed(e.uaid, e.id);
                break;
        }
    }
    if (!for_me)
        spdlog::info("cluster: a notification for node '{}' reached node '{}': all absent", n->to,
                     o.node_id);
    http::Response res;
    res.headers.add("content-type", "application/json");
    res.body = encode_absent(absent);
    return res;
}

}  // namespace

http::Handler internal_handler(delivery::Hub& hub, InternalOptions options) {
    return [&hub, o = std::make_shared<const InternalOptions>(std::move(options))](
               http::Request req, http::Responder respond) {
        http::Response res;
        try {
            res = handle(hub, *o, req);
        } catch (const std::exception& e) {
            spdlog::error("cluster: internal request failed: {}", e.what());
            res = http::error_response(errc::internal, o->profile);
        }
        respond(std::move(res));
    };
}

}  // namespace pushsvc::cluster
