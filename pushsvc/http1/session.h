#pragma once
// HTTP/1.1 server sessions (RFC 9112) over a plain or TLS stream. One session per connection;
// it owns its stream, read buffer and parser, lives on the stream's strand, and is kept alive
// by its own pending operations (Beast advanced_server model). Plain and TLS sessions share
// one implementation through CRTP (Beast advanced_server_flex).
//
// Behaviour:
// - Requests are handled one at a time in arrival order; pipelined requests (RFC 9112 §9.3.2)
//   wait in the read buffer, so responses are always in request order.
// - Keep-alive (RFC 9112 §9.3); `connection: close` after a response when the client asked for
//   it, after an error, or while draining.
// - Limits at read time: header bytes > max_header_bytes -> 431; body (Content-Length up front
//   or chunked while streaming) > max_body_bytes -> 413; a request must be complete within
//   read_timeout_ms of its first byte; a keep-alive connection with no request for
//   idle_timeout_ms is closed. Malformed requests -> 400 (RFC 9112 §2.2, §6.3). Error responses
//   come from http::error_response and close the connection.
// - A request whose body is cut short (client closes) never reaches the handler.
// - `Expect: 100-continue` gets an interim 100 once the header passed the limits (RFC 9110
//   §10.1.1).
// - The handler's Responder may be called from any thread; the response is posted to the
//   session's strand and dropped if the session is gone.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "pushsvc/http/message.h"
#include "pushsvc/http1/upgrade.h"
#include "pushsvc/net/handoff.h"

namespace pushsvc::http1 {

// What net::Server calls for a connection it detected as HTTP/1.1 (cleartext, or TLS whose
// ALPN chose http/1.1 or nothing): a session on the stream, fed first with the bytes already
// read during detection, that calls `handler` for every request and offers upgrade requests
// to `upgrade`. One copy of both is shared by every session.
net::ProtocolHandler protocol_handler(http::Handler handler, UpgradeHandler upgrade = {});

}  // namespace pushsvc::http1
