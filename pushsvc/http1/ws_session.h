#pragma once
// The WebSocket user-agent session: the push channel stock Firefox opens to
// dom.push.serverURL (RFC 6455, subprotocol `push-notification`,
// PushServiceWebSocket.sys.mjs). It owns the WebSocket stream and a webpush::UaChannel; frames
// from the UA and wake-ups from the delivery hub become channel events, whose actions it
// performs (send a frame, close, register with the hub).
//
// Threads: socket work runs on the connection's strand. Channel work (which may write the
// store) runs on `channel_executor` when one is given (the store pool, used with store.sync
// and PostgreSQL so network threads never wait on the store), else on the connection's strand;
// an event the channel can handle without the store in its present state (a wake-up carrying
// the next message to send, an ack while the queue is read to its end) runs on the strand
// either way. Events are handled one at a time, in order: the next frame is read only after
// the previous one was handled, which also bounds what a flooding client can queue. The
// deletes of an ack handled on the strand (channel::Forget) do not hold up the next event:
// they run on the store executor behind the ack, and one that fails closes the connection
// (1011), so the UA's next connection is offered the message again. From its first such
// delete on, a session's jobs on the store executor (events and deletes) run in the order
// given, on its own strand of it. Once the session's close is out, channel events are dropped.
//
// Limits: a hello must arrive within hello_timeout_ms; frames above 16 KiB close the
// connection; silence for ws_idle_timeout_ms closes it (pings are sent at half that); at most
// max_inflight notifications are un-acked, so the write queue stays small, and a UA whose
// queue still grows past a bound (it sends but never reads) is disconnected.

#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <optional>

#include "pushsvc/config/config.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http1/upgrade.h"
#include "pushsvc/webpush/channel_backend.h"

namespace pushsvc::http1 {

struct WsOptions {
    webpush::ChannelBackend* backend = nullptr;  // outlives every session
    delivery::Hub* hub = nullptr;                // outlives every session
    config::DeliveryConfig delivery;
    std::optional<boost::asio::any_io_executor> channel_executor;  // see above
};

// The upgrade hook given to http1::protocol_handler: takes over `GET /` requests that ask for
// a WebSocket (with or without the push-notification subprotocol, which is selected when
// offered).
UpgradeHandler make_ws_upgrade_handler(WsOptions options);

}  // namespace pushsvc::http1
