#pragma once
// Extension point for protocol upgrades on an HTTP/1.1 connection (RFC 9110 §7.8), used by the
// WebSocket user-agent session (RFC 6455 §4.2, subprotocol `push-notification`).

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <functional>

#include "pushsvc/http1/convert.h"
#include "pushsvc/net/session_context.h"
#include "pushsvc/net/tls_stream.h"

namespace pushsvc::http1 {

using TlsStream = net::TlsStream;

// Called on the connection's strand for a request that carries `Upgrade: websocket`
// (beast::websocket::is_upgrade). To take the connection over, the hook moves the stream and
// the read buffer (it may hold bytes after the request) out of the references it is given and
// returns true; the HTTP/1.1 session then ends without touching the stream again. Returning
// false leaves everything in place and the request goes to the normal handler. An empty
// function means no upgrades on that kind of stream. app/ passes make_ws_upgrade_handler()
// (ws_session.h) to http1::protocol_handler (session.h).
struct UpgradeHandler {
    std::function<bool(BeastRequest& req, boost::beast::tcp_stream& stream,
                       boost::beast::flat_buffer& buffer, const net::SessionContext& ctx)>
        plain;
    std::function<bool(BeastRequest& req, TlsStream& stream, boost::beast::flat_buffer& buffer,
                       const net::SessionContext& ctx)>
        tls;
};

}  // namespace pushsvc::http1
