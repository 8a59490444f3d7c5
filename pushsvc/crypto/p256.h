#pragma once
// NIST P-256 keys (SEC 1 / X9.62) as RAII wrappers around OpenSSL's EVP_PKEY: the ES256
// signatures of VAPID (RFC 8292 §2, RFC 7518 §3.4) and the ECDH agreement of RFC 8291 §3.1.
//
// Ownership: each object owns one reference to an EVP_PKEY and frees it on destruction. Keys
// are immutable after construction, so const member functions may be called from any number of
// threads at once (each call uses its own OpenSSL context). Moved-from objects may only be
// destroyed or assigned to.
//
// Errors: functions that take outside input (`from_uncompressed`, `verify_es256`, `ecdh`)
// report failure through their return value and leave OpenSSL's per-thread error queue empty, so
// unrelated code on the same thread (TLS) never sees stale errors. Failures with no outside
// cause (key generation, signing with our own key) mean OpenSSL is broken or out of memory and
// call std::abort.

#include <memory>
#include <string>
#include <string_view>

#include "pushsvc/base/result.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY; the header stays free of OpenSSL includes.

namespace pushsvc::crypto {

inline constexpr std::size_t kP256PublicSize = 65;   // 0x04 || X || Y
inline constexpr std::size_t kP256PrivateSize = 32;  // scalar d, big-endian
inline constexpr std::size_t kEs256SignatureSize = 64;

namespace detail {
struct PkeyFree {
    void operator()(evp_pkey_st* key) const noexcept;
};
using PkeyPtr = std::unique_ptr<evp_pkey_st, PkeyFree>;
}  // namespace detail

class P256PrivateKey;

// A validated public key. Copying shares the underlying EVP_PKEY (reference counted).
class P256PublicKey {
  public:
    // Accepts exactly the 65-octet uncompressed encoding (SEC 1 §2.3.3: 0x04 || X || Y) of a
    // point on P-256 that is not the point at infinity; compressed (0x02/0x03) and hybrid forms
    // are refused, as RFC 8292 §3.2 and RFC 8291 §3.1 name only the uncompressed form. Anything
    // else -> errc::bad_request; callers map that to their own error (vapid_invalid, ...).
    static result<P256PublicKey> from_uncompressed(std::string_view raw65);

    // ES256 (RFC 7518 §3.4): ECDSA P-256 with SHA-256 over `signing_input`, signature given
    // as the JOSE fixed-size R || S (64 octets). Any other length, including the ASN.1 DER
    // form that some libraries produce, is refused (R8292-2-h). Never throws.
    bool verify_es256(std::string_view signing_input, std::string_view raw_sig64) const;

    // The 65-octet encoding this key was created from.
    const std::string& raw() const noexcept { return raw_; }

    P256PublicKey(const P256PublicKey& other);
    P256PublicKey& operator=(const P256PublicKey& other);
    P256PublicKey(P256PublicKey&&) noexcept = default;
    P256PublicKey& operator=(P256PublicKey&&) noexcept = default;
    ~P256PublicKey() = default;

  private:
    friend class P256PrivateKey;
    P256PublicKey(detail::PkeyPtr key, std::string raw) noexcept;

    detail::PkeyPtr key_;
    std::string raw_;
};

// A private key. Not copyable (one owner of secret material); movable.
class P256PrivateKey {
  public:
    // A fresh key from the CSPRNG.
    static P256PrivateKey generate();

    // A key from its 32-octet big-endian scalar (RFC 8291 test vectors, stored keys). The
    // scalar must be in [1, n-1]; otherwise errc::bad_request.
    static result<P256PrivateKey> from_private_raw(std::string_view d32);

    // 65-octet uncompressed public key.
    std::string public_raw() const { return public_raw_; }

    // 32-octet big-endian scalar. Secret: never log it.
    std::string private_raw() const;

    // ES256 signature over `msg`, JOSE form R || S (64 octets). Randomised (each call differs).
    std::string sign_es256(std::string_view msg) const;

    // ECDH (RFC 8291 §3.1, SEC 1 §3.3.1): the 32-octet X coordinate of d * peer. Returns an
    // empty string when `peer_raw65` is not a valid uncompressed P-256 point.
    std::string ecdh(std::string_view peer_raw65) const;

    P256PrivateKey(P256PrivateKey&&) noexcept = default;
    P256PrivateKey& operator=(P256PrivateKey&&) noexcept = default;
    P256PrivateKey(const P256PrivateKey&) = delete;
    P256PrivateKey& operator=(const P256PrivateKey&) = delete;
    ~P256PrivateKey() = default;

  private:
    P256PrivateKey(detail::PkeyPtr key, std::string public_raw) noexcept;

    detail::PkeyPtr key_;
    std::string public_raw_;
};

}  // namespace pushsvc::crypto
