#pragma once
// SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104), HKDF-SHA-256 (RFC 5869) and a constant-time
// comparison. Inputs and outputs are raw octet strings, never hex or base64.
//
// Users: RFC 8291 / draft aesgcm key derivation (HKDF), endpoint-token keys (HMAC), the VAPID
// verification cache (SHA-256), key comparison against a subscription's restriction (RFC 8292
// §4.2: compare `k` byte-wise, here without a timing side channel).
//
// Stateless free functions; safe to call from any thread. They allocate nothing but the
// returned string and cannot fail on valid arguments; an OpenSSL failure (out of memory inside
// the library) calls std::abort, since a wrong digest would be worse than no answer.

#include <cstddef>
#include <string>
#include <string_view>

namespace pushsvc::crypto {

inline constexpr std::size_t kSha256Size = 32;

// SHA-256 of `data`: 32 raw octets.
std::string sha256(std::string_view data);

// HMAC-SHA-256(key, data): 32 raw octets. Any key length (RFC 2104 §2 hashes long keys).
std::string hmac_sha256(std::string_view key, std::string_view data);

// HKDF-SHA-256 (RFC 5869 §2.2 extract, §2.3 expand): `len` octets of output keying material.
// An empty salt means HashLen zero octets (§2.2). Precondition: len <= 255 * 32 = 8160
// (§2.3); larger values are a programming error and abort.
std::string hkdf_sha256(std::string_view salt, std::string_view ikm, std::string_view info,
                        std::size_t len);

// True when a and b are equal. The time taken depends only on the lengths, never on the
// position of the first difference (lengths are not secret). noexcept.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace pushsvc::crypto
