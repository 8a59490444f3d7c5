#pragma once
// Parsers for the headers of a push request (RFC 8030 §5.2-5.4, RFC 8291/8188, the aesgcm
// draft). Pure functions over field values; the caller passes repeated fields joined with
// ", " (http::Fields::get), so "more than one value" is visible here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/base/result.h"
#include "pushsvc/config/config.h"

namespace pushsvc::webpush {

// The TTL (seconds) after clamping. RFC 8030 §5.2: `1*DIGIT`; values too large to represent
// count as 2^31 (R8030-5.2-e); the service keeps at most `max_ttl` (R8030-5.2-f) and reports
// `kept` in the response's TTL header, which never exceeds the request (R8030-5.2-g).
struct Ttl {
    std::uint64_t requested = 0;  // <= 2^31
    std::uint32_t kept = 0;       // min(requested, max_ttl)
};
// Absent -> ttl_missing (R8030-5.2-b); anything but digits (sign, dot, hex, empty, a list)
// -> ttl_invalid (R8030-5.2-c).
result<Ttl> parse_ttl(const std::optional<std::string>& header, std::uint32_t max_ttl);

// Topic (RFC 8030 §5.4): absent -> "" ; 1..32 characters of the base64url alphabet
// (R8030-5.4-b). The compat profile also accepts trailing '=' padding as autopush does.
result<std::string> parse_topic(const std::optional<std::string>& header, config::Profile profile);

// Prefer (RFC 7240) as RFC 8030 uses it: `respond-async` on a push asks for a receipt
// (§5.1), `wait=0` on a monitoring GET asks to drain and end (§6). Tokens are
// case-insensitive; unknown preferences are ignored, as RFC 7240 §2 requires.
struct Preferences {
    bool respond_async = false;
    std::optional<std::uint64_t> wait;
};
Preferences parse_prefer(const std::optional<std::string>& header);

// The URI-reference of the first Link (RFC 8288) whose rel is `rel`, from a field value
// that may hold several links; nullopt when there is none.
std::optional<std::string> find_link(const std::optional<std::string>& header,
                                     std::string_view rel);

enum class Coding { none, aes128gcm, aesgcm };

// What a push request's body and encryption headers say, normalised for forwarding to the UA.
struct Encoding {
    Coding coding = Coding::none;
    std::string encryption;  // aesgcm: "salt=<b64url>[;rs=<n>]" (quotes/padding stripped)
    std::string crypto_key;  // aesgcm: "dh=<b64url>" only; p256ecdsa is never forwarded
                             // (R8292-4.2-h, RVAPID01-5.2-c)
    std::string sender_key;  // raw ECDH key of the sender (aes128gcm keyid or aesgcm dh), for
                             // the VAPID same-key check (R8292-3.2-b); may be empty
};

struct EncodingInput {
    std::optional<std::string> content_encoding;
    std::optional<std::string> encryption;
    std::optional<std::string> crypto_key;
    std::string_view body;
};

// Checks Content-Encoding against the body:
// - empty body: always fine, coding none, nothing forwarded (R8291-X-b);
// - non-empty body needs exactly one coding, `aes128gcm` or `aesgcm`, case-insensitive
//   (R8188-2-a, R8291-4-e, RENC04-4-c) -> else encoding_invalid;
// - aes128gcm: the body starts with a complete RFC 8188 §2.1 header (salt, rs >= 18, idlen,
//   keyid) -> else body_malformed; strict also requires a 65-byte 0x04 keyid (R8291-4-c) and
//   no aesgcm-style Encryption salt / Crypto-Key dh (R8291-X-c);
// - aesgcm: `Encryption` with a 16-byte base64url salt and `Crypto-Key` with a dh value
//   (RENC04-2-a, RENC04-3.1-a) -> else encryption_headers; tolerant of ';' or ',' separators,
//   quotes, padding and extra params such as rs and keyid (RENC04-4-f, RVAPID01-4-b).
result<Encoding> parse_encoding(const EncodingInput& in, config::Profile profile);

}  // namespace pushsvc::webpush
