#pragma once
// The HTTP/2 side of an RFC 8030 monitoring request (§6, §6.1, §6.3): a webpush::Monitor
// whose Push actions become server pushes (PUSH_PROMISE of the message resource, then the
// pushed response) and whose Finish ends the GET. Registered with the delivery hub alongside
// other sessions of the same queue, so new messages, acks and removals reach it.
//
// Threads: every Monitor event runs on the session's strand, made from `store_executor` (or
// `executor` when that is empty): Monitor events read the store, mark messages delivered and
// delete receipts, and with store.sync each write waits for fsync, which must not hold a
// network thread. The hub only posts there; pushes go to the connection's strand through the
// Pusher, and their outcomes (http::PushDone) come back to this strand. Anything a Monitor
// event throws is caught here: logged with the stream's tag, the request ends with 500.
// The request's stream owns the session (through the Pusher's on_gone callback): when the
// stream ends (final response, reset, connection closed) it detaches; pushes still waiting
// for their outcome keep it alive until then.

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <memory>

#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/message.h"
#include "pushsvc/webpush/channel_backend.h"
#include "pushsvc/webpush/monitor.h"

namespace pushsvc::http {

// What monitoring needs from the rest of the service. All pointers outlive every session.
struct MonitorContext {
    delivery::Hub* hub = nullptr;
    webpush::ChannelBackend* backend = nullptr;
    boost::asio::any_io_executor executor;  // used when store_executor is empty (tests)
    std::size_t max_inflight = 32;
    // Where store work runs (a store thread pool in app/); see "Threads" above.
    boost::asio::any_io_executor store_executor;
};

// Starts monitoring `scope` on the request that `pusher` belongs to; `respond` ends it.
void start_monitor(const MonitorContext& ctx, webpush::MonitorScope scope,
                   webpush::Urgency threshold, bool drain, std::shared_ptr<Pusher> pusher,
                   Responder respond);

// The pushed response for one message or receipt (R8030-6-c, -d, -g, 6.3-b): the body
// byte-exact, Content-Encoding and the aesgcm Encryption / Crypto-Key (dh only),
// Last-Modified, Link to the push resource; never TTL, Urgency or Topic (R8030-5.3-b, 5.4-h).
Response pushed_response(const webpush::monitor::Push& push);

}  // namespace pushsvc::http
