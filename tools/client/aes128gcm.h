#pragma once
// The "aes128gcm" content coding (RFC 8188) and its Web Push key schedule (RFC 8291).
//
// RFC 8188 §2.1 header: salt(16) || rs(uint32, big endian) || idlen(1) || keyid(idlen).
// Records (§2): every record but the last is exactly rs octets of ciphertext; each record's
// plaintext is data || delimiter || zero padding, delimiter 0x01 for non-final records and
// 0x02 for the final one. CEK and nonce come from HKDF (§2.2, §2.3); the nonce is XORed with
// the record sequence number.
//
// RFC 8291 §3.3/§3.4: IKM = HKDF(salt = auth_secret, ikm = ECDH(as, ua),
// info = "WebPush: info" || 0x00 || ua_public || as_public, L = 32), keyid = as_public.
// All functions are pure and thread-safe.

#include <cstdint>
#include <functional>
#include <optional>

#include "tools/client/base64url.h"
#include "tools/client/p256_key.h"

namespace webpush_client {

constexpr std::uint32_t kDefaultRecordSize = 4096;

struct Aes128gcmHeader {
    Bytes salt;  // 16 octets
    std::uint32_t rs = kDefaultRecordSize;
    Bytes keyid;
    std::size_t size() const { return 21 + keyid.size(); }
};

// Parses the RFC 8188 §2.1 header at the start of `body`.
Result<Aes128gcmHeader> parse_aes128gcm_header(const Bytes& body);

struct Aes128gcmParams {
    Bytes salt;                             // 16 octets; random if empty
    Bytes keyid;                            // header keyid
    std::uint32_t rs = kDefaultRecordSize;  // >= 18
    std::size_t padding = 0;  // total zero-padding octets, spent on the earliest records
};

// RFC 8188 encryption with the given input keying material.
Result<Bytes> aes128gcm_encrypt(const Bytes& ikm, const Bytes& plaintext,
                                const Aes128gcmParams& params);
// RFC 8188 decryption; `ikm_for_keyid` maps the header keyid to the IKM.
Result<Bytes> aes128gcm_decrypt(
    const Bytes& body, const std::function<Result<Bytes>(const Aes128gcmHeader&)>& ikm_for_keyid);
inline Result<Bytes> aes128gcm_decrypt(const Bytes& body, const Bytes& ikm) {
    return aes128gcm_decrypt(body, [&](const Aes128gcmHeader&) -> Result<Bytes> { return ikm; });
}

// RFC 8291 §3.4 key derivation. `ua_public` and `as_public` are 65-octet points.
Bytes webpush_ikm(const Bytes& ecdh_secret, const Bytes& auth_secret, const Bytes& ua_public,
                  const Bytes& as_public);

struct WebPushEncryptParams {
    std::optional<P256Key> sender_key;  // application server's ephemeral key; fresh if unset
    Bytes salt;                         // random if empty
    std::uint32_t rs = kDefaultRecordSize;
    std::size_t padding = 0;
};

// RFC 8291 §3.4 + §4 sender side: body = header (keyid = sender public key) || records.
Result<Bytes> webpush_aes128gcm_encrypt(const P256Key& ua_public, const Bytes& auth_secret,
                                        const Bytes& plaintext,
                                        const WebPushEncryptParams& params = {});
// RFC 8291 user-agent side: keyid must be a 65-octet P-256 point (§4).
Result<Bytes> webpush_aes128gcm_decrypt(const P256Key& ua_private, const Bytes& auth_secret,
                                        const Bytes& body);

}  // namespace webpush_client
