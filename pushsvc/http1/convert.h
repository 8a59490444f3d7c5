#pragma once
// Translation between Beast messages and the transport-neutral http::Request/Response.
// Pure functions; any thread.

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "pushsvc/http/message.h"
#include "pushsvc/net/session_context.h"

namespace pushsvc::http1 {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Field names are lower-cased (they are case-insensitive, RFC 9110 §5.1) and `host` becomes
// the authority (RFC 9112 §3.2). The body is moved out of `req`.
http::Request to_request(BeastRequest&& req);

// Adds `date`, `server` and `content-length` (RFC 9110 §8.6; none on 1xx/204/304), drops
// hop-by-hop fields the handler may have set (RFC 9110 §7.6.1), and sets `connection: close`
// when !keep_alive. For a HEAD request the body is omitted but its length is announced
// (RFC 9110 §9.3.2).
BeastResponse to_beast(http::Response&& res, unsigned version, bool keep_alive, bool head);

}  // namespace pushsvc::http1
