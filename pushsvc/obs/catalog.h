#pragma once
// Every counter and histogram pushsvc exports, resolved once: the first catalog() call
// registers them all (so /metrics lists each family at 0 from the first scrape on, and a
// rate() never starts from a missing series), and call sites then only do an atomic add:
//
//     obs::catalog().push_accepted.inc();
//
// The names, labels and help texts here are the operator-facing contract (README, dashboards,
// tests/integration/metrics_exposition.sh). Gauges computed at scrape time are registered
// where their data lives (obs::gauge, e.g. in app/app.cc), not here.

#include <array>
#include <cstddef>

#include "pushsvc/base/errc.h"
#include "pushsvc/obs/metrics.h"

namespace pushsvc::obs {

// Types of WebSocket push-channel frames, the label of pushsvc_ws_frames_total.
enum class WsFrame {
    invalid,       // not a JSON object
    ping,          // `{}`, no messageType, or "ping"
    before_hello,  // anything but hello as the first frame
    hello,
    register_,
    unregister,
    ack,
    nack,
    broadcast_subscribe,
    unknown,  // any other messageType
    count_
};

// Rate limits (base/rate_limit.h, webpush/rate_limits.h), the label of
// pushsvc_rate_limited_total.
enum class Limited {
    push,            // pushes per sender (rate.push_*)
    subscribe,       // POST /subscribe per address (rate.subscribe_*)
    hello,           // WebSocket hellos per address (rate.hello_*)
    new_user_agent,  // user agents created by hellos per address (rate.new_ua_*)
    count_
};

// Why a notification for another node was not delivered (cluster/), the label of
// pushsvc_cluster_notifications_failed_total.
enum class ClusterFailure {
    unreachable,  // no answer after the retries (its route is cleared: stale)
    rejected,     // the node refused the request (wrong cluster.secret, a clock far off)
    overflow,     // too many waiting for that node
    store,        // the route could not be read
    count_
};

struct Catalog {
    Catalog();

    // net
    Counter& accepted;
    Counter& connections_h2c;
    Counter& connections_http1;
    Counter& connections_h2;
    Counter& connections_https1;
    Counter& tls_handshake_failures;
    // Certificate reloads on SIGHUP (net::Server::reload_tls): result ok / error.
    Counter& tls_reloads_ok;
    Counter& tls_reloads_failed;
    // Connection limits and phase deadlines (net/admission.h, net/detect.cc)
    Counter& connections_refused_total;
    Counter& connections_refused_per_ip;
    Counter& connections_refused_memory;  // over limits.max_buffer_bytes (net/buffer_budget.h)
    Counter& connections_shed;            // closed holding more than their share of it
    Counter& accept_errors;
    Counter& first_request_timeouts;
    // Connections closed at their handler boundary by an exception (net::count_connection_failure)
    Counter& connections_failed_oom;
    Counter& connections_failed_exception;
    // HTTP/1.1 and WebSocket
    Counter& http1_requests;
    Counter& http1_read_timeouts;
    Counter& http1_truncated_requests;
    Counter& ws_sessions;
    Counter& ws_sessions_closed;
    Counter& ws_unknown_acks;
    // HTTP/2
    Counter& http2_session_errors;
    Counter& http2_pushes;
    Counter& http2_push_refused;
    Counter& http2_read_timeouts;
    Counter& http2_floods;
    Counter& http2_header_too_large;
    Counter& http2_stream_resets;
    Counter& http2_push_failed;
    Counter& http2_ping_timeouts;
    Counter& http2_write_stalls;
    Counter& http2_reset_before_dispatch;
    // Web Push
    Counter& subscriptions;
    Counter& push_accepted;
    Histogram& push_seconds;
    Counter& push_group_commits;  // store writes of two or more pushes of one HTTP/2 read
    Counter& push_grouped;        // pushes stored by those writes
    Counter& delivered;
    Counter& sent_from_wake;  // stored messages sent without reading the queue (cluster wake)
    Counter& monitors;
    Counter& monitor_errors;
    Counter& receipts_204;
    Counter& receipts_410;
    // housekeeping
    Counter& messages_expired;
    Counter& idle_user_agents_removed;
    // cluster routing (cluster/, docs/cluster.md)
    Counter& cluster_sent;
    Counter& cluster_received;
    Counter& cluster_stale_routes;
    Counter& cluster_routes_set;
    Counter& cluster_routes_cleared;     // released by their connection's end
    Counter& cluster_routes_superseded;  // a newer connection (here or elsewhere) had it already
    Counter& cluster_node_id_conflicts;

    // pushsvc_errors_total{reason=errc_name(e)}; errc::ok and values out of range count as
    // internal (error_response is never called for them on purpose).
    Counter& error(errc e) const noexcept {
        auto i = static_cast<std::size_t>(e);
        return *errors_[i > 0 && i < errors_.size() ? i : static_cast<std::size_t>(errc::internal)];
    }
    Counter& ws_frame(WsFrame f) const noexcept { return *ws_frames_[static_cast<std::size_t>(f)]; }
    // pushsvc_rate_limited_total{limit=...}: requests refused by a rate limit.
    Counter& rate_limited(Limited l) const noexcept {
        return *rate_limited_[static_cast<std::size_t>(l)];
    }
    // pushsvc_cluster_notifications_failed_total{reason=...}.
    Counter& cluster_failed(ClusterFailure f) const noexcept {
        return *cluster_failed_[static_cast<std::size_t>(f)];
    }

  private:
    std::array<Counter*, static_cast<std::size_t>(errc::internal) + 1> errors_{};
    std::array<Counter*, static_cast<std::size_t>(WsFrame::count_)> ws_frames_{};
    std::array<Counter*, static_cast<std::size_t>(Limited::count_)> rate_limited_{};
    std::array<Counter*, static_cast<std::size_t>(ClusterFailure::count_)> cluster_failed_{};
};

// Built on first use (thread-safe); a reference valid for the life of the process.
inline const Catalog& catalog() {
    static const Catalog c;
    return c;
}

}  // namespace pushsvc::obs
