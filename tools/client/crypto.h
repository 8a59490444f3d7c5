#pragma once
// Symmetric primitives behind RFC 8188 / RFC 8291 / draft-ietf-webpush-encryption-04:
// HKDF-SHA-256 (RFC 5869), HMAC-SHA-256, SHA-256, AES-128-GCM with a 16-octet tag, and a
// CSPRNG. Thin wrappers over OpenSSL 3; stateless, callable from any thread.

#include <cstddef>

#include "tools/client/base64url.h"

namespace webpush_client {

constexpr std::size_t kGcmTagSize = 16;

Bytes random_bytes(std::size_t n);
Bytes sha256(const Bytes& data);
Bytes hmac_sha256(const Bytes& key, const Bytes& data);

// RFC 5869 §2.2 extract and §2.3 expand (any L up to 255 * 32).
Bytes hkdf_extract(const Bytes& salt, const Bytes& ikm);
Bytes hkdf_expand(const Bytes& prk, const Bytes& info, std::size_t length);
inline Bytes hkdf(const Bytes& salt, const Bytes& ikm, const Bytes& info, std::size_t length) {
    return hkdf_expand(hkdf_extract(salt, ikm), info, length);
}

// AES-128-GCM, 12-octet nonce, no AAD (RFC 8188 §2). Output / input is ciphertext || tag.
Bytes aes128gcm_seal(const Bytes& key, const Bytes& nonce, const Bytes& plaintext);
Result<Bytes> aes128gcm_open(const Bytes& key, const Bytes& nonce, const Bytes& sealed);

}  // namespace webpush_client
