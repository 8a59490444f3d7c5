#pragma once
// base64url (RFC 4648 §5) as used throughout Web Push: keys, salts, JWT segments and
// WebSocket `data`. Encoding never pads (RFC 8291 §3.2, RFC 7515 §2). Decoding accepts input
// with or without `=` padding, since Firefox pads the register `key` on purpose and some
// senders pad Crypto-Key values. Standard-alphabet characters (`+`, `/`) are rejected.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/client/error.h"

namespace webpush_client {

using Bytes = std::vector<std::uint8_t>;

std::string base64url_encode(const std::uint8_t* data, std::size_t size);
inline std::string base64url_encode(const Bytes& data) {
    return base64url_encode(data.data(), data.size());
}
std::string base64url_encode(std::string_view data);

// Accepts unpadded input and correctly padded input; rejects a wrong amount of padding,
// characters outside the URL-safe alphabet and non-zero trailing bits are tolerated.
Result<Bytes> base64url_decode(std::string_view text);

Bytes to_bytes(std::string_view text);
std::string to_string(const Bytes& bytes);

}  // namespace webpush_client
