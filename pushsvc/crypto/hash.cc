#include "pushsvc/crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>

namespace pushsvc::crypto {
namespace {

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Fetched once: with OpenSSL 3, EVP_sha256() makes every digest look the implementation up
// again (VAPID checks hash on every push). Never freed.
const EVP_MD* sha256_md() {
    static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    return md;
}

}  // namespace

std::string sha256(std::string_view data) {
    std::string out(kSha256Size, '\0');
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), reinterpret_cast<unsigned char*>(out.data()), &len,
                   sha256_md(), nullptr) != 1 ||
        len != kSha256Size)
        std::abort();
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    std::string out(kSha256Size, '\0');
    unsigned int len = 0;
    // One-shot HMAC() is not deprecated in OpenSSL 3 (only the HMAC_CTX API is). OpenSSL wants
    // a non-null key pointer even for an empty key.
    static const unsigned char kEmpty = 0;
    const unsigned char* k = key.empty() ? &kEmpty : bytes(key);
    if (HMAC(sha256_md(), k, static_cast<int>(key.size()), bytes(data), data.size(),
             reinterpret_cast<unsigned char*>(out.data()), &len) == nullptr ||
        len != kSha256Size)
        std::abort();
    return out;
}

std::string hkdf_sha256(std::string_view salt, std::string_view ikm, std::string_view info,
                        std::size_t len) {
    if (len > 255 * kSha256Size) std::abort();  // RFC 5869 §2.3: L <= 255*HashLen
    // Extract (§2.2): PRK = HMAC-Hash(salt, IKM); a missing salt is HashLen zeros.
    const std::string zero_salt(kSha256Size, '\0');
    const std::string prk = hmac_sha256(salt.empty() ? std::string_view(zero_salt) : salt, ikm);
    // Expand (§2.3): T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = first L octets.
    std::string okm;
    okm.reserve(len + kSha256Size);
    std::string t;
    std::string block;
    for (unsigned counter = 1; okm.size() < len; ++counter) {
        block.assign(t);
        block.append(info);
        block.push_back(static_cast<char>(counter));
        t = hmac_sha256(prk, block);
        okm.append(t);
    }
    okm.resize(len);
    return okm;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace pushsvc::crypto
