#pragma once
// The legacy "aesgcm" content coding as used by draft-ietf-webpush-encryption-04 (on top of
// draft-ietf-httpbis-encryption-encoding-03). Still emitted by web-push (node), web-push-php,
// webpush-java and others, and decrypted by Firefox.
//
// Salt travels in `Encryption: salt=...[;rs=...]`, the sender key in `Crypto-Key: dh=...`.
// Key schedule (ENC04 §3.3-3.5): IKM = HKDF(auth, ECDH, "Content-Encoding: auth" || 0x00, 32);
// context = "P-256" || 0x00 || len(ua_pub) || ua_pub || len(as_pub) || as_pub (uint16 lengths);
// CEK = HKDF(salt, IKM, "Content-Encoding: aesgcm" || 0x00 || context, 16);
// nonce = HKDF(salt, IKM, "Content-Encoding: nonce" || 0x00 || context, 12).
// Each record's plaintext is a 2-octet padding length || zero padding || data; records hold
// rs plaintext octets (rs + 16 ciphertext octets), the last one fewer. Pure, thread-safe.

#include <optional>
#include <string>

#include "tools/client/aes128gcm.h"

namespace webpush_client {

struct AesgcmEncrypted {
    Bytes body;
    Bytes salt;
    Bytes sender_public;  // 65 octets, for Crypto-Key dh=
    std::uint32_t rs = kDefaultRecordSize;
    // Header values, base64url without padding (what Firefox accepts).
    std::string encryption_header() const;  // "salt=...", plus ";rs=N" when not 4096
    std::string crypto_key_header() const;  // "dh=..."
};

Result<AesgcmEncrypted> webpush_aesgcm_encrypt(const P256Key& ua_public, const Bytes& auth_secret,
                                               const Bytes& plaintext,
                                               const WebPushEncryptParams& params = {});

struct AesgcmParams {
    Bytes salt;
    std::uint32_t rs = kDefaultRecordSize;
    std::optional<std::string> keyid;
};
// Parses an Encryption header (first entry; parameters separated by ';').
Result<AesgcmParams> parse_encryption_header(std::string_view value);
// Finds the dh= value in a Crypto-Key header (entries separated by ',', parameters by ';',
// values optionally quoted), preferring the entry whose keyid matches.
Result<Bytes> find_crypto_key_dh(std::string_view value, const std::optional<std::string>& keyid);

Result<Bytes> webpush_aesgcm_decrypt(const P256Key& ua_private, const Bytes& auth_secret,
                                     const Bytes& body, std::string_view encryption_header,
                                     std::string_view crypto_key_header);

}  // namespace webpush_client
