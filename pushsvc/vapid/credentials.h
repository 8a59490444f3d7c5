#pragma once
// VAPID credentials as they arrive on a push request, in both deployed forms:
//   RFC 8292 §3:     Authorization: vapid t=<JWT>, k=<key>
//   draft-01 §2, §4: Authorization: WebPush <JWT>   +   Crypto-Key: p256ecdsa=<key>
// (`Bearer <JWT>` is autopush's alias of WebPush and accepted in the compat profile.)
//
// Pure functions over header values: no state, no I/O, safe from any thread, never throw on
// any input (sizes are bounded, bad bytes give an error). The signature and the claims are
// checked later by verify_jwt (jwt.h) or TokenCache (token_cache.h); the caller compares the key
// with a restricted subscription's key (R8292-4.2-g, errc::vapid_key_mismatch), e.g. with
// same_key() below.

#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/base/result.h"

namespace pushsvc::vapid {

// Which form the credentials came in. Only informative once parsed: both forms carry the same
// JWT profile (RVAPID01-2-a) and are verified the same way.
enum class Scheme {
    vapid,    // RFC 8292
    webpush,  // draft-ietf-webpush-vapid-01 `WebPush`, and the `Bearer` alias
};

struct Credentials {
    Scheme scheme = Scheme::vapid;
    std::string token;  // compact JWS, exactly three non-empty base64url parts (not yet verified)
    std::string
        key;  // raw 65-octet uncompressed P-256 point, 0x04 || X || Y (not yet curve-checked)
};

// Profile knobs. The defaults are the compat profile; the strict profile passes {false, false}.
struct ParseOptions {
    bool allow_bearer = true;      // RVAPID01-X-b: `Bearer <jwt>` as an alias of `WebPush`
    bool allow_padded_key = true;  // R8292-3.2-a: key with '=' padding or '+' '/' (autopush does)
};

// Upper bounds on what is parsed at all; larger values are vapid_invalid. Real tokens are about
// 250-400 octets (RFC 8292 §2.2: extra claims should stay small).
inline constexpr std::size_t kMaxTokenSize = 8 * 1024;
inline constexpr std::size_t kMaxHeaderSize = 16 * 1024;

// Reads the credentials from the Authorization and Crypto-Key field values (nullopt = field
// absent). Errors:
//  - errc::vapid_missing (the caller answers 401 + WWW-Authenticate: vapid, R8292-4.2-b,
//    RVAPID01-5.2-a): Authorization absent, empty or blank, or with a scheme that is not one of
//    vapid / WebPush / Bearer (e.g. GCM's `key=...`); Bearer counts as unknown when
//    !allow_bearer.
//  - errc::vapid_invalid (403, R8292-4.2-c, RVAPID01-5.2-b): scheme known but
//    `t` or `k` missing or repeated (R8292-4.2-c); `t` not three base64url parts (R8292-3.1-a);
//    WebPush/Bearer without exactly one `p256ecdsa` value in Crypto-Key (RVAPID01-4-a); a key
//    that does not decode to 65 octets starting with 0x04 (R8292-2-a, R8292-3.2-a);
//    unparseable parameter syntax; oversized values.
// Tolerated, as real senders emit them (tests/data/senders):
//  - the scheme in any case (RFC 7235 §2.1, R8292-2-e, RVAPID01-2-a);
//  - `t=..,k=..` with or without whitespace, quoted values (RFC 7235 §2.1, R8292-3.1-a);
//  - extra parameters and `realm`, ignored (R8292-3-c, RVAPID01-3-c), also after a token68
//    (`WebPush <jwt>, foo=1`);
//  - Crypto-Key items separated by ';' or ',', in any order, quoted, with `dh`/`keyid` next to
//    `p256ecdsa` (RVAPID01-4-b);
//  - for scheme vapid, any Crypto-Key is ignored: `k` wins (webpush-java also sends the key as
//    p256ecdsa, RVAPID01-X-a).
result<Credentials> parse_credentials(std::optional<std::string_view> authorization,
                                      std::optional<std::string_view> crypto_key,
                                      const ParseOptions& opts = {});

// Byte-wise comparison of two raw keys (R8292-3.2 / §4.2), in time independent of where they
// differ.
bool same_key(std::string_view a, std::string_view b) noexcept;

// "vapid" or "webpush", for logs and metric labels.
std::string_view scheme_name(Scheme s) noexcept;

}  // namespace pushsvc::vapid
