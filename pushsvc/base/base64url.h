#pragma once
// base64url (RFC 4648 §5) as used throughout Web Push: keys, salts, tokens, ids.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pushsvc::base {

// Unpadded base64url.
std::string base64url_encode(std::string_view bytes);
// The same, appended to `out` (no string of its own). `bytes` must not view `out`.
void base64url_append(std::string& out, std::string_view bytes);

// Strict decoder: URL-safe alphabet only, no padding, no whitespace.
std::optional<std::string> base64url_decode(std::string_view text);
// The same into a caller's buffer (no allocation): the decoded size, or nullopt when `text`
// does not decode or `out` is shorter than text.size() * 3 / 4 octets.
std::optional<std::size_t> base64url_decode_to(std::string_view text, std::span<char> out);

// Tolerant decoder for keys that real senders put on the wire: accepts trailing '=' padding
// and the standard alphabet ('+', '/') too (autopush does the same).
std::optional<std::string> base64_decode_lenient(std::string_view text);

// True when every character is in the URL-safe alphabet (A-Z a-z 0-9 - _).
bool is_base64url_alphabet(std::string_view text);

}  // namespace pushsvc::base
