#pragma once
// The seam between net/ and the protocol modules. net/ accepts a connection, runs TLS and
// ALPN or the cleartext preface check (detect.h), and then hands the stream to the
// ProtocolHandler of the protocol it found. The handlers come from http1/ and http2/
// (http1::protocol_handler, http2::protocol_handler) and app/ gives them to net::Server, so
// net/ never includes a protocol header and the dependency points one way:
// net <- http1, http2 <- app.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <functional>

#include "pushsvc/net/session_context.h"
#include "pushsvc/net/tls_stream.h"

namespace pushsvc::net {

// Takes over one connection whose protocol is known. Called on the connection's strand (the
// stream's executor). `initial` holds bytes already read during detection (the start of the
// client's input: the preface or an HTTP/1.1 request head, possibly more; empty for h2
// after a TLS handshake). From then on the callee owns the stream; it
// joins ctx.registry itself if it wants to be drained. An empty function closes the
// connection.
struct ProtocolHandler {
    std::function<void(boost::beast::tcp_stream&& stream, boost::beast::flat_buffer&& initial,
                       SessionContext ctx)>
        plain;
    std::function<void(TlsStream&& stream, boost::beast::flat_buffer&& initial, SessionContext ctx)>
        tls;
};

// One handler per protocol net/ tells apart.
struct ConnectionHandlers {
    // Cleartext bytes that are not the HTTP/2 preface; ALPN "http/1.1" or no ALPN.
    ProtocolHandler http1;
    // The HTTP/2 connection preface on cleartext (h2c prior knowledge, RFC 9113 §3.3); ALPN
    // "h2" (RFC 9113 §3.2).
    ProtocolHandler http2;
};

}  // namespace pushsvc::net
