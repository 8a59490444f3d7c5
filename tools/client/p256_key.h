#pragma once
// A P-256 (secp256r1) key, private or public only, as used by Web Push for both ECDH
// (RFC 8291 §3.1: the UA's p256dh key and the application server's ephemeral key) and ECDSA
// (RFC 8292 §2 / RFC 7518 §3.4: ES256 VAPID signatures).
//
// Owns one OpenSSL EVP_PKEY; copies share it (OpenSSL keys are immutable once built and
// safe to use from several threads). Public keys travel as the 65-octet uncompressed point
// (0x04 || X || Y, SEC1 §2.3.3), private keys as the 32-octet scalar.

#include <memory>
#include <string>

#include "tools/client/base64url.h"

struct evp_pkey_st;

namespace webpush_client {

class P256Key {
  public:
    static P256Key generate();
    // 32-octet private scalar; the public point is derived.
    static Result<P256Key> from_private_bytes(const Bytes& d);
    // 65-octet uncompressed point; validated to lie on the curve (RFC 8291 §7).
    static Result<P256Key> from_public_bytes(const Bytes& point);
    static Result<P256Key> from_public_base64url(std::string_view text);
    // PEM: PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" (what openssl ecparam and the
    // web-push / py_vapid tools write).
    static Result<P256Key> from_pem(std::string_view pem);
    static Result<P256Key> from_pem_file(const std::string& path);

    bool has_private() const { return has_private_; }
    Bytes public_bytes() const;            // 65 octets
    std::string public_base64url() const;  // unpadded
    Bytes private_bytes() const;           // 32 octets; empty if public only
    std::string private_pem() const;       // PKCS#8 PEM; empty if public only

    // ECDH (SEC1 §3.3.1): the 32-octet X coordinate of d * peer.
    Result<Bytes> ecdh(const P256Key& peer) const;

    // ES256 (RFC 7518 §3.4): SHA-256 + ECDSA, signature as the 64-octet R || S.
    Result<Bytes> sign_es256(const Bytes& message) const;
    bool verify_es256(const Bytes& message, const Bytes& signature) const;

    evp_pkey_st* native() const { return key_.get(); }

  private:
    P256Key(std::shared_ptr<evp_pkey_st> key, bool has_private)
        : key_(std::move(key)), has_private_(has_private) {}

    std::shared_ptr<evp_pkey_st> key_;
    bool has_private_ = false;
};

}  // namespace webpush_client
