#include "pushsvc/obs/catalog.h"

#include <iterator>

namespace pushsvc::obs {
namespace {

constexpr const char* kConnectionsHelp =
    "Connections by the protocol they turned out to speak: h2c and http1 on the cleartext "
    "listener, h2 and https1 after a TLS handshake (ALPN).";
constexpr const char* kReceiptsHelp =
    "Push receipts queued for application servers (RFC 8030 section 5.1): status 204 "
    "delivered, 410 expired undelivered.";

constexpr const char* kReleasedHelp =
    "Routes this node released when the last connection of a user agent here ended: result "
    "cleared (it was still this connection's), or superseded (a newer connection, here or on "
    "another node, holds the route: left alone).";

constexpr const char* kRefusedHelp =
    "Connections closed right after accept because a connection limit was reached: "
    "reason total (limits.max_connections), per_ip (limits.max_connections_per_ip) or memory "
    "(connection buffers over limits.max_buffer_bytes).";

constexpr const char* kFailedHelp =
    "Connections closed because handling them threw: reason out_of_memory (an allocation "
    "failed; only that connection is lost) or exception (a bug). The process goes on.";

constexpr const char* kTlsReloadsHelp =
    "TLS certificate reloads on SIGHUP: result ok (new handshakes use the new certificate) or "
    "error (unreadable or mismatched files; the previous certificate stays in use).";

Counter& connections(const char* protocol) {
    return counter("pushsvc_connections_total", kConnectionsHelp, {{"protocol", protocol}});
}

// The label values of pushsvc_ws_frames_total, in WsFrame order.
constexpr const char* kWsFrameNames[] = {
    "invalid", "ping", "before_hello",        "hello",  "register", "unregister",
    "ack",     "nack", "broadcast_subscribe", "unknown"};
static_assert(std::size(kWsFrameNames) == static_cast<std::size_t>(WsFrame::count_));

// The label values of pushsvc_rate_limited_total, in Limited order.
constexpr const char* kLimitedNames[] = {"push", "subscribe", "hello", "new_ua"};
static_assert(std::size(kLimitedNames) == static_cast<std::size_t>(Limited::count_));

// The label values of pushsvc_cluster_notifications_failed_total, in ClusterFailure order.
constexpr const char* kClusterFailureNames[] = {"unreachable", "rejected", "overflow", "store"};
static_assert(std::size(kClusterFailureNames) == static_cast<std::size_t>(ClusterFailure::count_));

// Built before main, so every family is registered (and the process start time taken) at
// startup even if nothing scrapes or counts for a while.
[[maybe_unused]] const Catalog& g_built_at_startup = catalog();

}  // namespace

Catalog::Catalog()
    : accepted(counter("pushsvc_accepted_total", "TCP connections accepted by the listeners.")),
      connections_h2c(connections("h2c")),
      connections_http1(connections("http1")),
      connections_h2(connections("h2")),
      connections_https1(connections("https1")),
      tls_handshake_failures(counter("pushsvc_tls_handshake_failures_total",
                                     "TLS handshakes that failed (old protocol versions, no "
                                     "shared cipher, plain HTTP on the TLS port, timeouts).")),
      tls_reloads_ok(counter("pushsvc_tls_reloads_total", kTlsReloadsHelp, {{"result", "ok"}})),
      tls_reloads_failed(
          counter("pushsvc_tls_reloads_total", kTlsReloadsHelp, {{"result", "error"}})),
      connections_refused_total(
          counter("pushsvc_connections_refused_total", kRefusedHelp, {{"reason", "total"}})),
      connections_refused_per_ip(
          counter("pushsvc_connections_refused_total", kRefusedHelp, {{"reason", "per_ip"}})),
      connections_refused_memory(
          counter("pushsvc_connections_refused_total", kRefusedHelp, {{"reason", "memory"}})),
      connections_shed(counter("pushsvc_connections_shed_total",
                               "Connections closed because connection buffers were over "
                               "limits.max_buffer_bytes and they held more than their share.")),
      accept_errors(counter("pushsvc_accept_errors_total",
                            "accept() failures (EMFILE, ENFILE, ...); the listener pauses "
                            "accepting briefly after each.")),
      first_request_timeouts(counter("pushsvc_first_request_timeouts_total",
                                     "Connections closed because the TLS handshake, the "
                                     "protocol preface or the first request did not arrive in "
                                     "time (limits.handshake_timeout_ms, "
                                     "limits.first_request_timeout_ms).")),
      connections_failed_oom(
          counter("pushsvc_connections_failed_total", kFailedHelp, {{"reason", "out_of_memory"}})),
      connections_failed_exception(
          counter("pushsvc_connections_failed_total", kFailedHelp, {{"reason", "exception"}})),
      http1_requests(counter("pushsvc_http1_requests_total",
                             "HTTP/1.1 requests read completely and handed to the service.")),
      http1_read_timeouts(counter("pushsvc_http1_read_timeouts_total",
                                  "HTTP/1.1 requests that did not arrive completely in time.")),
      http1_truncated_requests(counter("pushsvc_http1_truncated_requests_total",
                                       "HTTP/1.1 requests cut off by the client closing the "
                                       "connection; never handled.")),
      ws_sessions(counter("pushsvc_ws_sessions_total",
                          "WebSocket push-channel sessions started (user agents connecting).")),
      ws_sessions_closed(
          counter("pushsvc_ws_sessions_closed_total", "WebSocket push-channel sessions ended.")),
      ws_unknown_acks(counter("pushsvc_ws_unknown_acks_total",
                              "WebSocket acks for messages not in flight on that session.")),
      http2_session_errors(counter("pushsvc_http2_session_errors_total",
                                   "HTTP/2 connections ended by a protocol error of the peer.")),
      http2_pushes(counter("pushsvc_http2_pushes_total",
                           "HTTP/2 server pushes (PUSH_PROMISE) of messages and receipts to "
                           "monitoring requests.")),
      http2_push_refused(counter("pushsvc_http2_push_refused_total",
                                 "HTTP/2 server pushes that could not be promised.")),
      http2_read_timeouts(counter("pushsvc_http2_read_timeouts_total",
                                  "HTTP/2 streams reset because the request did not arrive "
                                  "completely in time.")),
      http2_floods(counter("pushsvc_http2_floods_total",
                           "HTTP/2 connections ended for flooding control frames.")),
      http2_header_too_large(counter("pushsvc_http2_header_too_large_total",
                                     "HTTP/2 requests refused for too large header blocks.")),
      http2_stream_resets(counter("pushsvc_http2_stream_resets_total",
                                  "HTTP/2 streams closed with an error code (either side).")),
      http2_push_failed(counter("pushsvc_http2_push_failed_total",
                                "Server pushes accepted by nghttp2 that never went out (reset, "
                                "push disabled, connection gone); their messages stay queued.")),
      http2_ping_timeouts(counter("pushsvc_http2_ping_timeouts_total",
                                  "HTTP/2 monitoring connections closed because the peer did "
                                  "not answer a PING in time.")),
      http2_write_stalls(counter("pushsvc_http2_write_stalls_total",
                                 "HTTP/2 streams reset because their response could not be sent "
                                 "for limits.write_stall_timeout_ms (the peer kept its "
                                 "flow-control window closed).")),
      http2_reset_before_dispatch(
          counter("pushsvc_http2_reset_before_dispatch_total",
                  "HTTP/2 requests whose stream the client reset before the request was handed "
                  "to the service: never handled (rapid reset).")),
      subscriptions(counter("pushsvc_subscriptions_total",
                            "Subscriptions created over HTTP (POST /subscribe).")),
      push_accepted(counter("pushsvc_push_accepted_total",
                            "Push messages accepted from application servers (201/202).")),
      push_seconds(histogram("pushsvc_push_seconds",
                             "Time to accept a push message, from request to response.")),
      push_group_commits(counter("pushsvc_push_group_commits_total",
                                 "Store writes that committed two or more pushes of one HTTP/2 "
                                 "read at once (one WAL append; group commit).")),
      push_grouped(counter("pushsvc_push_grouped_total",
                           "Pushes stored by group commits (pushsvc_push_group_commits_total).")),
      delivered(counter("pushsvc_delivered_total",
                        "Messages acknowledged by user agents over WebSocket.")),
      sent_from_wake(counter(
          "pushsvc_sent_from_wake_total",
          "Stored messages a session sent from the wake-up that carried them, without reading "
          "its queue (cluster mode: the message followed what the session had read).")),
      monitors(counter("pushsvc_monitors_total",
                       "RFC 8030 monitoring requests (HTTP/2 GET of a subscription set or "
                       "subscription) started.")),
      monitor_errors(counter("pushsvc_monitor_errors_total",
                             "Monitoring requests ended with 500 by an unexpected failure.")),
      receipts_204(counter("pushsvc_receipts_total", kReceiptsHelp, {{"status", "204"}})),
      receipts_410(counter("pushsvc_receipts_total", kReceiptsHelp, {{"status", "410"}})),
      messages_expired(counter("pushsvc_messages_expired_total",
                               "Messages removed at the end of their TTL, undelivered.")),
      idle_user_agents_removed(
          counter("pushsvc_idle_user_agents_removed_total",
                  "User agents unseen for push.ua_idle_days and receipt subscriptions unused for "
                  "push.max_ttl, removed with their subscriptions and queues.")),
      cluster_sent(counter("pushsvc_cluster_notifications_sent_total",
                           "Notifications (a stored push, a TTL-0 message, an acknowledgement, "
                           "a removal) this node sent to the node holding the user agent and "
                           "that node took.")),
      cluster_received(counter("pushsvc_cluster_notifications_received_total",
                               "Notifications other nodes sent to this node's internal listener "
                               "(cluster.listen), held user agent or not.")),
      cluster_stale_routes(counter("pushsvc_cluster_stale_routes_total",
                                   "Routes cleared because the node they name no longer holds "
                                   "the user agent or could not be reached.")),
      cluster_routes_set(counter("pushsvc_cluster_routes_set_total",
                                 "Routes written for connections to this node (a hello, a "
                                 "monitoring GET): one store write each.")),
      cluster_routes_cleared(
          counter("pushsvc_cluster_routes_released_total", kReleasedHelp, {{"result", "cleared"}})),
      cluster_routes_superseded(counter("pushsvc_cluster_routes_released_total", kReleasedHelp,
                                        {{"result", "superseded"}})),
      cluster_node_id_conflicts(
          counter("pushsvc_cluster_node_id_conflicts_total",
                  "Routes written since this node started that name its cluster.node_id with "
                  "another address: two nodes share one node_id (a configuration error).")) {
    for (std::size_t i = 1; i < errors_.size(); ++i)
        errors_[i] = &counter("pushsvc_errors_total",
                              "Error responses by reason (the JSON body's \"reason\").",
                              {{"reason", std::string(errc_name(static_cast<errc>(i)))}});
    for (std::size_t i = 0; i < ws_frames_.size(); ++i)
        ws_frames_[i] = &counter("pushsvc_ws_frames_total",
                                 "WebSocket push-channel frames received, by messageType.",
                                 {{"type", kWsFrameNames[i]}});
    for (std::size_t i = 0; i < rate_limited_.size(); ++i)
        rate_limited_[i] = &counter("pushsvc_rate_limited_total",
                                    "Requests refused by a rate limit ([rate] keys): 429 with "
                                    "Retry-After over HTTP, close 1013 for WebSocket hellos.",
                                    {{"limit", kLimitedNames[i]}});
    for (std::size_t i = 0; i < cluster_failed_.size(); ++i)
        cluster_failed_[i] = &counter(
            "pushsvc_cluster_notifications_failed_total",
            "Notifications for another node that were not delivered: reason unreachable (no "
            "answer after the retries; the route is cleared), rejected (the node refused the "
            "request), overflow (too many waiting for that node) or store (the route could not "
            "be read). The messages stay queued; the user agent gets them when it next reads "
            "its queue.",
            {{"reason", kClusterFailureNames[i]}});
}

}  // namespace pushsvc::obs
