#pragma once
// Absolute http(s) / ws(s) URLs as the clients need them: where to connect, what to put in
// :authority / Host, the request target, and the RFC 6454 origin that RFC 8292 §2 uses as
// the JWT "aud". Value type.

#include <cstdint>
#include <string>

#include "tools/client/error.h"

namespace webpush_client {

struct Url {
    std::string scheme;  // lower case: http, https, ws, wss
    std::string host;    // without IPv6 brackets, for name resolution
    std::uint16_t port = 0;
    std::string target;  // path + query, at least "/"
    bool host_is_ipv6 = false;

    bool tls() const { return scheme == "https" || scheme == "wss"; }
    bool default_port() const { return port == (tls() ? 443 : 80); }
    // host[:port] as sent in Host / :authority (port omitted when default).
    std::string authority() const;
    // scheme://host[:port]; with keep_port = false the port is always dropped (what
    // webpush-java and web-push-php put in "aud").
    std::string origin(bool keep_port = true) const;
    std::string str() const { return scheme + "://" + authority() + target; }
};

Result<Url> parse_url(std::string_view text);
// RFC 3986 §5 reference resolution (Location and Link values may be relative).
Result<std::string> resolve_url(std::string_view base, std::string_view reference);

}  // namespace webpush_client
