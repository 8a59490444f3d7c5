#pragma once
// Endpoint tokens: the last path segment of a push resource (endpoint URL). A token is
// AES-256-GCM(version, subscription id, restricted flag, SHA-256 of the application server key
// or 32 zero bytes) under the first configured key, base64url-encoded. The IV is synthetic
// (HMAC of the plaintext under the key, as in SIV modes), so one subscription always has the
// same endpoint: the push resource named in a pushed message's Link equals the one handed out
// (RFC 8030 §6), while tokens of different subscriptions stay unlinkable (§8.2) and carry
// >= 120 bits of secret-dependent content (§8.3). Any configured key may decrypt, so keys can
// rotate: add a new key first in the list, keep the old ones until their endpoints are gone.
// Immutable after construction; thread-safe. Restricted and unrestricted tokens have the same
// length, so a token does not reveal whether its subscription is restricted; tokens of the
// older format (hash only when restricted) still decode.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/crypto/aes_gcm.h"

namespace pushsvc::webpush {

struct EndpointToken {
    std::string subscription_id;  // raw id bytes
    std::string key_hash;         // 32-byte SHA-256 of the restricting key, or "" (unrestricted)
};

class EndpointCodec {
  public:
    // `keys`: raw 32-byte AES keys, the first one encrypts. Throws std::invalid_argument at
    // startup if the list is empty or a key has the wrong size.
    explicit EndpointCodec(std::vector<std::string> keys);

    std::string encode(const EndpointToken& token) const;

    // errc::token_invalid for anything that is not a token minted with one of our keys
    // (tampered, truncated, wrong alphabet, unknown key).
    result<EndpointToken> decode(std::string_view text) const;

  private:
    std::vector<std::string> keys_;
    // The same keys set up once for decoding (a token is opened on every push); shared by
    // copies of the codec.
    std::vector<std::shared_ptr<const crypto::AesGcmKey>> openers_;
};

}  // namespace pushsvc::webpush
