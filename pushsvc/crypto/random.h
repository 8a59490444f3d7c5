#pragma once
// CSPRNG access (OpenSSL RAND_bytes, DRBG seeded by the OS). Used for endpoint ids, salts, keys
// and anything else that must be unguessable (RFC 8030 §8.3: capability URLs need >= 120 bits of
// randomness). Thread-safe: OpenSSL keeps per-thread DRBG state; id-sized requests are served
// from a per-thread block of its output (refilled after fork).

#include <cstddef>
#include <string>

namespace pushsvc::crypto {

// `n` random octets. A failing CSPRNG leaves no safe way to continue (ids would become
// predictable), so this calls std::abort instead of returning an error.
std::string random_bytes(std::size_t n);
// n such octets appended to `out`.
void random_append(std::string& out, std::size_t n);

}  // namespace pushsvc::crypto
