#pragma once
// Decryption of Web Push message bodies for the test double's in-service user agents, on
// pushsvc/crypto (P-256 ECDH, HKDF-SHA-256, AES-128-GCM):
//   aes128gcm  RFC 8291 §3.3-§3.4 key schedule + RFC 8188 §2 records (header salt, rs, keyid;
//              delimiter 0x01 on every record but the last, 0x02 on the last)
//   aesgcm     draft-ietf-webpush-encryption-04 §3.3-§3.5 (salt in Encryption, sender key in
//              Crypto-Key dh, 2-octet padding length per record) as deployed senders emit it
// A body that fails any check is reported undecryptable with the reason (RFC 8291 §4 / RFC
// 8188 §2: such a message is discarded by a real user agent, never shown). Pure functions.

#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/crypto/p256.h"

namespace pushsvc::testdouble {

struct DecryptResult {
    std::optional<std::string> plaintext;
    std::string error;  // why not, when plaintext is empty
};

struct EncodingFields {
    std::string content_encoding;  // "aes128gcm" or "aesgcm" (case-insensitive)
    std::string encryption;        // aesgcm: Encryption header value
    std::string crypto_key;        // aesgcm: Crypto-Key header value
};

// Decrypts `body` for the user agent holding `ua_key` and `auth` (16 octets). An empty body
// is the empty plaintext whatever the coding (RFC 8030 §5 "tickle").
DecryptResult decrypt(const crypto::P256PrivateKey& ua_key, std::string_view auth,
                      std::string_view body, const EncodingFields& fields);

// The value of parameter `name` in a Crypto-Key / Encryption header: parameters separated by
// ';' or ',', optional whitespace and quotes (all seen from real senders). nullopt when absent.
std::optional<std::string> header_param(std::string_view header, std::string_view name);

}  // namespace pushsvc::testdouble
