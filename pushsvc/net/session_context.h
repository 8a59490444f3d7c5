#pragma once
// What a protocol session (http1::Session, http2::Connection) is given by the server when it
// is created: the application handler, the limits it enforces at read time, the profile for
// error bodies and the registry it joins for draining. Copied into each session; immutable.

#include <cstdint>
#include <memory>
#include <string>

#include "pushsvc/config/config.h"
#include "pushsvc/http/message.h"
#include "pushsvc/net/connection.h"

namespace pushsvc::net {

struct SessionContext {
    std::shared_ptr<const http::Handler> handler;
    config::LimitsConfig limits;
    config::Profile profile = config::Profile::compat;
    std::shared_ptr<ConnectionRegistry> registry;
    bool secure = false;   // arrived over TLS
    std::string peer;      // "ip:port", for logs only
    std::uint64_t id = 0;  // connection number, log prefix "c<id>"
};

// Value of the `server` response field added by every session.
inline constexpr const char* kServerName = "pushsvc";

// IMF-fixdate for the `date` response field (RFC 9110 §5.6.7), e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT". Any thread.
std::string http_date_now();

}  // namespace pushsvc::net
