#pragma once
// HTTP/2 server connections (RFC 9113) over a plain (h2c prior knowledge, RFC 9113 §3.3) or
// TLS (ALPN "h2", RFC 9113 §3.2) stream. A Connection owns the stream, an http2::Engine
// (nghttp2_session + stream map), a read buffer (16 KiB, 64 KiB once a read fills it) and one
// write buffer; it lives on the stream's strand and is kept alive by its pending operations.
// One write is in flight at a time; frames queued meanwhile go out with the next write.
//
// - Requests are handed to the application handler after nghttp2_session_mem_recv returns,
//   never from inside an nghttp2 callback; the Responder (any thread) posts the response to
//   the strand, where it is submitted if the stream still exists, else dropped (a Responder
//   called from within the handler, already on the strand, submits at once).
// - Timeouts: a request must be complete within read_timeout_ms of its HEADERS (else
//   RST_STREAM CANCEL); a connection without streams for idle_timeout_ms gets GOAWAY and is
//   closed; a write that does not finish within read_timeout_ms closes the connection.
// - drain(): GOAWAY(NO_ERROR) (RFC 9113 §6.8), open streams finish, then close.

#include <boost/beast/core/tcp_stream.hpp>

#include "pushsvc/http/message.h"
#include "pushsvc/net/handoff.h"

namespace pushsvc::http2 {

using TlsStream = net::TlsStream;

// What net::Server calls for a connection it detected as HTTP/2 (the h2c preface, or ALPN
// "h2"): a Connection on the stream, fed first with the bytes already read during detection
// (the client preface), that calls `handler` for every complete request. One copy of the
// handler is shared by every connection.
net::ProtocolHandler protocol_handler(http::Handler handler);

}  // namespace pushsvc::http2
