#pragma once
// What a protocol session (the HTTP/1.1 session, the HTTP/2 connection, the WebSocket session)
// is given by net/ when it takes over a connection: the limits it enforces at read time, the
// profile for error bodies, the registry it joins for draining and what net/ knows about the
// peer. Copied into each session; immutable. The application handler is not here: the
// protocol modules get it from app/ when their ProtocolHandler is made (net/handoff.h).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "pushsvc/config/config.h"
#include "pushsvc/net/connection.h"

namespace pushsvc::net {

struct SessionContext {
    config::LimitsConfig limits;
    config::Profile profile = config::Profile::compat;
    std::shared_ptr<ConnectionRegistry> registry;
    bool secure = false;  // arrived over TLS (HTTP/2 pushes use it for :scheme)
    std::string peer;     // "ip:port", for logs only
    // The client as the per-address rate limits count it (client_key(), net/admission.h);
    // sessions copy it into every request (http::Request::client) and the WebSocket channel.
    std::string client;
    std::uint64_t id = 0;  // connection number, log prefix "c<id>"
    // The peer's IP alone: requests carry it (who may read the operator routes).
    std::string peer_address;
    // The connection's place under limits.max_connections(_per_ip) (net/admission.h): every
    // copy of the context holds it, and the place is freed when the last copy dies with the
    // connection object, whichever protocol session it became.
    std::shared_ptr<const void> admission_slot;
    // The end of the first-request phase (limits.first_request_timeout_ms from accept or from
    // the end of the TLS handshake): a protocol session that has seen no request by then
    // closes the connection. Unset (max) when no such bound applies.
    std::chrono::steady_clock::time_point first_request_deadline =
        std::chrono::steady_clock::time_point::max();
};

// Counts one connection closed at its handler boundary by an exception (base/guard.h): in
// pushsvc_connections_failed_total{reason="out_of_memory"} for std::bad_alloc, else
// reason="exception". Call only while the exception is being handled (a guard's on_error).
void count_connection_failure() noexcept;

// Value of the `server` response field added by every session.
inline constexpr const char* kServerName = "pushsvc";

// IMF-fixdate for the `date` response field (RFC 9110 §5.6.7), e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT". Any thread; the string is the calling thread's own: it
// lives as long as the thread, and its contents change on a later call in a new second.
const std::string& http_date_now();

}  // namespace pushsvc::net
