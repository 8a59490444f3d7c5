#include "tools/client/push_encryption.h"

#include "tools/client/aesgcm.h"
#include "tools/client/header_params.h"

namespace webpush_client {

std::string_view to_string(ContentEncoding e) {
    return e == ContentEncoding::aes128gcm ? "aes128gcm" : "aesgcm";
}

Result<ContentEncoding> parse_content_encoding(std::string_view text) {
    text = trim(text);
    if (iequals(text, "aes128gcm")) return ContentEncoding::aes128gcm;
    if (iequals(text, "aesgcm")) return ContentEncoding::aesgcm;
    return make_error(Errc::invalid_argument, "unsupported content encoding '" + std::string(text) +
                                                  "' (expected aes128gcm or aesgcm)");
}

Result<EncryptedPayload> encrypt_payload(const P256Key& ua_public, const Bytes& auth_secret,
                                         const Bytes& plaintext, const EncryptOptions& options) {
    WebPushEncryptParams params;
    params.sender_key = options.sender_key;
    params.salt = options.salt;
    params.rs = options.rs;
    params.padding = options.padding;
    EncryptedPayload out;
    out.encoding = options.encoding;
    if (options.encoding == ContentEncoding::aes128gcm) {
        auto body = webpush_aes128gcm_encrypt(ua_public, auth_secret, plaintext, params);
        if (!body) return body.error();
        out.body = std::move(*body);
        return out;
    }
    auto enc = webpush_aesgcm_encrypt(ua_public, auth_secret, plaintext, params);
    if (!enc) return enc.error();
    out.body = std::move(enc->body);
    out.encryption = enc->encryption_header();
    out.crypto_key = enc->crypto_key_header();
    return out;
}

Result<Bytes> decrypt_payload(const P256Key& ua_private, const Bytes& auth_secret,
                              const Bytes& body, const EncodingHeaders& headers) {
    auto encoding = parse_content_encoding(headers.content_encoding);
    if (!encoding) return encoding.error();
    if (*encoding == ContentEncoding::aes128gcm) {
        return webpush_aes128gcm_decrypt(ua_private, auth_secret, body);
    }
    if (headers.encryption.empty() || headers.crypto_key.empty()) {
        return make_error(Errc::bad_header, "aesgcm needs Encryption and Crypto-Key headers");
    }
    return webpush_aesgcm_decrypt(ua_private, auth_secret, body, headers.encryption,
                                  headers.crypto_key);
}

}  // namespace webpush_client
