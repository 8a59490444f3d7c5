#include "pushsvc/crypto/webpush_keys.h"

#include "pushsvc/crypto/hash.h"

namespace pushsvc::crypto {

Aes128gcmKeys aes128gcm_keys(std::string_view ecdh_secret, std::string_view auth,
                             std::string_view ua_public, std::string_view as_public,
                             std::string_view salt) {
    std::string key_info = std::string("WebPush: info") + '\0';
    key_info.append(ua_public).append(as_public);
    std::string ikm = hkdf_sha256(auth, ecdh_secret, key_info, 32);
    return {hkdf_sha256(salt, ikm, std::string("Content-Encoding: aes128gcm") + '\0', 16),
            hkdf_sha256(salt, ikm, std::string("Content-Encoding: nonce") + '\0', 12)};
}

}  // namespace pushsvc::crypto
