#pragma once
// A push subscription as an application server sees it: the browser's
// PushSubscription.toJSON() — {"endpoint", "expirationTime", "keys": {"p256dh", "auth"}} —
// with p256dh the UA's 65-octet P-256 ECDH key and auth its 16-octet secret (RFC 8291 §2,
// §3.2). Plain value type.

#include <optional>
#include <string>

#include "tools/client/base64url.h"
#include "tools/client/p256_key.h"

namespace webpush_client {

struct Subscription {
    std::string endpoint;
    Bytes p256dh;  // 65 octets
    Bytes auth;    // 16 octets
    std::optional<double> expiration_time;

    // Accepts padded or unpadded base64url keys; validates the key sizes and the point.
    static Result<Subscription> from_json(std::string_view json);
    // toJSON() shape; keys base64url without padding, "expirationTime": null when unset.
    std::string to_json() const;
    Result<P256Key> public_key() const { return P256Key::from_public_bytes(p256dh); }
};

}  // namespace webpush_client
