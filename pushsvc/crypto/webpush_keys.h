#pragma once
// The RFC 8291 key schedule (§3.3-§3.4): from the ECDH secret between the user agent's and the
// application server's keys, the subscription's auth secret and a record salt, the AES-128-GCM
// content-encryption key and nonce of an aes128gcm body (RFC 8188 §2.2-§2.3). One place for
// both directions: the test double decrypts with it, the try-it page encrypts.

#include <string>
#include <string_view>

namespace pushsvc::crypto {

struct Aes128gcmKeys {
    std::string cek;    // 16 octets
    std::string nonce;  // 12 octets, XORed with the record sequence number per record
};

Aes128gcmKeys aes128gcm_keys(std::string_view ecdh_secret, std::string_view auth,
                             std::string_view ua_public, std::string_view as_public,
                             std::string_view salt);

}  // namespace pushsvc::crypto
