#pragma once
// Builds the application server's push request (RFC 8030 §5) for a subscription, like
// web-push's generateRequestDetails(): encrypted body (RFC 8291 aes128gcm or legacy aesgcm),
// TTL (§5.2), Urgency (§5.3), Topic (§5.4), Content-Type / Content-Encoding, and VAPID
// (RFC 8292) Authorization. Nothing is sent; the request can be mutated for negative tests and
// sent with Http1Client or Http2Client. Pure; thread-safe.

#include <optional>
#include <string>

#include "tools/client/http_message.h"
#include "tools/client/push_encryption.h"
#include "tools/client/subscription.h"
#include "tools/client/vapid.h"

namespace webpush_client {

struct VapidOptions {
    P256Key key;
    std::string subject;                  // "mailto:..." or "https://..."
    std::optional<std::int64_t> exp;      // default now + 12 h
    std::optional<std::string> audience;  // default: origin of the endpoint
    bool audience_keeps_port = true;      // false: drop the port like webpush-java / php
    // Default: vapid for aes128gcm, webpush for aesgcm (what web-push 3.6.7 does).
    std::optional<VapidScheme> scheme;
};

struct PushOptions {
    std::optional<std::int64_t> ttl = 2419200;  // web-push default (4 weeks); nullopt: omit
    std::optional<std::string> urgency;         // very-low | low | normal | high
    std::optional<std::string> topic;
    EncryptOptions encryption;  // encoding, rs, padding, fixed keys
    std::optional<VapidOptions> vapid;
    Headers extra_headers;  // appended last (may duplicate on purpose)
};

// An empty payload gives a body-less push ("tickle"): Content-Length 0, no Content-Encoding.
Result<HttpRequest> build_push_request(const Subscription& subscription, const Bytes& payload,
                                       const PushOptions& options = {});

}  // namespace webpush_client
