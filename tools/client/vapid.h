#pragma once
// VAPID, application-server side (RFC 8292) and its predecessor draft-ietf-webpush-vapid-01.
//
// JWT (RFC 8292 §2): header {"typ":"JWT","alg":"ES256"}, claims "aud" (origin of the push
// resource, §2), "exp" (at most 24 h ahead, §2), "sub" (mailto: or https: contact, §2.1),
// signed with ES256 (RFC 7518 §3.4, signature = R || S).
// Authorization forms:
//   RFC 8292 §3:      Authorization: vapid t=<jwt>, k=<public key>
//   VAPID-01 §4, §5:  Authorization: WebPush <jwt>   +   Crypto-Key: p256ecdsa=<public key>
// verify_jwt is here so the client can check its own tokens and the RFC example (§2.4).
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "tools/client/p256_key.h"

namespace webpush_client {

struct VapidClaims {
    std::string aud;
    std::int64_t exp = 0;  // seconds since the epoch
    std::string sub;       // omitted from the JWT when empty
};

enum class VapidScheme {
    vapid,    // RFC 8292
    webpush,  // draft-ietf-webpush-vapid-01
};

// Signing input is exactly base64url(header) "." base64url(claims), with claims serialized in
// the order aud, exp, sub (the order of the RFC 8292 §2.4 example).
Result<std::string> sign_jwt(const P256Key& key, const VapidClaims& claims);
// Checks the shape, alg = ES256 and the signature; does not judge aud / exp.
Result<VapidClaims> verify_jwt(std::string_view jwt, const P256Key& public_key);

struct VapidHeaders {
    std::string authorization;
    std::string crypto_key;  // "p256ecdsa=<key>" for the webpush scheme, else empty
};

Result<VapidHeaders> make_vapid_headers(const P256Key& key, const VapidClaims& claims,
                                        VapidScheme scheme);

// "aud" for an endpoint: its origin, with the port when it is not the default.
Result<std::string> vapid_audience(std::string_view endpoint, bool keep_port = true);

// Default expiry used by pushctl: now + 12 h (what web-push and most senders do).
std::int64_t default_vapid_expiry();

}  // namespace webpush_client
