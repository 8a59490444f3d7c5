#pragma once
// Verification of the VAPID JWT (RFC 8292 §2, §4.2; draft-01 §2 uses the same profile,
// RVAPID01-2-a): a JWS in compact form, signed with ES256, carrying `aud`, `exp` and an optional
// `sub`.
//
// Pure functions, no state: safe from any thread, never throw on any input. Every failure is
// errc::vapid_invalid (403, R8292-4.2-c..f); no part of a token that failed is returned
// (R8292-2-g). The key comparison with a restricted subscription (R8292-4.2-g) is the caller's.
//
// Verification runs in two steps so that TokenCache can keep the first and repeat the second:
//   1. verify_signature: structure, header, ES256 signature, claim types. Depends only on
//      (token, key), so its result can be cached (R8292-5-a).
//   2. check_claims: `exp` against now and `aud` against our origins. Depends on the request,
//      so it runs on every request, cached or not (R8292-4.2-e, -f).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/base/result.h"
#include "pushsvc/vapid/credentials.h"

namespace pushsvc::vapid {

// The claims of a verified token, as the caller may use them.
struct Claims {
    std::string aud;                 // the audience that matched VerifyOptions::audiences
    std::int64_t exp = 0;            // seconds since the epoch (RFC 7519 NumericDate)
    std::optional<std::string> sub;  // contact, verbatim; no format check (R8292-2.1-a)
};

struct VerifyOptions {
    // Accepted `aud` values, compared as exact strings (R8292-2-b, R8292-4.2-f): our origin
    // `https://push.example:8443`, and in the compat profile also `https://push.example`
    // (senders that drop the port, choice A-9 of docs/checklist.md).
    // Viewed, not owned (options are made per push, the list once, by PushService): the list
    // must outlive the options.
    std::span<const std::string> audiences;
    base::UnixMs now_ms = 0;
    // Tolerance for clocks that run ahead of ours, on the future bound only: `exp` may be up to
    // 24 h + skew_s after now (R8292-2-d; py_vapid sends exactly now + 86400). There is no
    // tolerance in the past: now > exp is invalid (R8292-4.2-e). Negative values count as 0.
    std::int64_t skew_s = 60;
};

// The result of step 1: the claims of a token whose signature verified with the key, before the
// time and audience checks.
struct SignedClaims {
    std::vector<std::string> aud;  // one element for the usual string `aud` (RFC 7519 §4.1.3)
    std::int64_t exp = 0;
    std::optional<std::string> sub;
};

// Step 1. Rules:
//  - three base64url parts, each decoding (RFC 7515 §7.1, R8292-3.1-a);
//  - header a JSON object with "alg": "ES256" exactly; a missing alg, "none", "HS256",
//    "ES384", "RS256" or any other value is refused (R8292-2-h, RFC 8292 §2); a "crit" header is
//    refused since we understand no extensions (RFC 7515 §4.1.11); "typ" is not checked;
//  - the key is a valid P-256 point (R8292-2-a) and the 64-octet R || S signature verifies over
//    `header.payload` (RFC 7518 §3.4); a DER signature is refused (R8292-2-h, R8292-4.2-d);
//  - payload a JSON object; `exp` present and a number (R8292-2-c); `aud` present, a string or
//    an array of strings; `sub` absent, null or a string; other claims ignored (R8292-2.2-a).
result<SignedClaims> verify_signature(const Credentials& creds);

// Step 2: now <= exp <= now + 86400 s + skew (R8292-2-d, R8292-4.2-e) and one `aud` equal to one
// of opts.audiences (R8292-4.2-f).
result<Claims> check_claims(const SignedClaims& claims, const VerifyOptions& opts);
// The same check without copying the claims out (the push path only needs the verdict).
result<void> accept_claims(const SignedClaims& claims, const VerifyOptions& opts);

// Both steps.
result<Claims> verify_jwt(const Credentials& creds, const VerifyOptions& opts);

}  // namespace pushsvc::vapid
