#pragma once
// Web Push message encryption, both content codings behind one call: RFC 8291 "aes128gcm"
// (RFC 8188 body header, no extra headers) and the legacy "aesgcm" of
// draft-ietf-webpush-encryption-04 (salt and sender key in the Encryption / Crypto-Key headers).
// Pure functions; thread-safe.

#include <optional>
#include <string>

#include "tools/client/aes128gcm.h"

namespace webpush_client {

enum class ContentEncoding { aes128gcm, aesgcm };

std::string_view to_string(ContentEncoding e);
Result<ContentEncoding> parse_content_encoding(std::string_view text);  // case-insensitive

struct EncryptOptions {
    ContentEncoding encoding = ContentEncoding::aes128gcm;
    std::uint32_t rs = kDefaultRecordSize;
    std::size_t padding = 0;
    // Deterministic encryption for test vectors; random when unset.
    std::optional<P256Key> sender_key;
    Bytes salt;
};

struct EncryptedPayload {
    ContentEncoding encoding = ContentEncoding::aes128gcm;
    Bytes body;
    std::string encryption;  // aesgcm only: Encryption header value ("salt=...")
    std::string crypto_key;  // aesgcm only: Crypto-Key header value ("dh=...")
};

Result<EncryptedPayload> encrypt_payload(const P256Key& ua_public, const Bytes& auth_secret,
                                         const Bytes& plaintext,
                                         const EncryptOptions& options = {});

// What a user agent receives next to the body (HTTP/2 pushed response headers, or the
// `headers` object of a WebSocket notification).
struct EncodingHeaders {
    std::string content_encoding;
    std::string encryption;
    std::string crypto_key;
};

Result<Bytes> decrypt_payload(const P256Key& ua_private, const Bytes& auth_secret,
                              const Bytes& body, const EncodingHeaders& headers);

}  // namespace webpush_client
