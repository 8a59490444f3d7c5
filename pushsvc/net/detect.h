#pragma once
// The first phase of every accepted connection, before a protocol session exists:
// - cleartext: read until the bytes either match the HTTP/2 preface (h2c prior knowledge,
//   RFC 9113 §3.3) or differ from it, then hand the stream AND the bytes already read to the
//   http2 or the http1 ProtocolHandler (net/handoff.h);
// - TLS: handshake, then the protocol ALPN selected (RFC 7301; RFC 9113 §3.2) decides which
//   handler gets the TLS stream.
// Deadlines are absolute, set once, so bytes dripped in slowly never extend them: the TLS
// handshake has handshake_timeout_ms from accept; from accept (cleartext) or the end of the
// handshake, first_request_timeout_ms covers the preface and an HTTP/1.1 connection's first
// request head (read here before the hand-over); the deadline travels in
// SessionContext::first_request_deadline, so the HTTP/2 session closes a connection that
// opens no stream by then. Both phases register in the connection registry; drain() or
// close() simply closes them.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

#include "pushsvc/net/handoff.h"
#include "pushsvc/net/session_context.h"

namespace pushsvc::net {

// `socket`'s executor must be the connection's strand. Any thread.
void start_cleartext_detection(boost::asio::ip::tcp::socket&& socket, SessionContext ctx,
                               std::shared_ptr<const ConnectionHandlers> handlers);

void start_tls_handshake(boost::asio::ip::tcp::socket&& socket,
                         std::shared_ptr<boost::asio::ssl::context> tls, SessionContext ctx,
                         std::shared_ptr<const ConnectionHandlers> handlers);

}  // namespace pushsvc::net
