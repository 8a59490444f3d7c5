#pragma once
// AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 128-bit tag appended to the ciphertext, the
// layout of RFC 8188 §2 records and of our endpoint tokens. AES-128 for a 16-octet key (RFC 8291,
// draft aesgcm), AES-256 for a 32-octet key.
//
// The free functions are stateless and safe to call from any thread (a fresh EVP_CIPHER_CTX
// per call); AesGcmKey keeps the key set up for a key used on every request. Never reuse an (key,
// iv) pair for two different plaintexts: callers derive IVs per record (RFC 8188 §2.3) or draw them
// from random_bytes().

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pushsvc::crypto {

inline constexpr std::size_t kGcmIvSize = 12;
inline constexpr std::size_t kGcmTagSize = 16;

// ciphertext || tag (plaintext.size() + 16 octets). Preconditions: key is 16 or 32 octets and
// iv is 12 octets; violating them is a programming error and aborts (keys and IVs are never
// taken from the wire unchecked).
std::string aes_gcm_seal(std::string_view key, std::string_view iv, std::string_view plaintext,
                         std::string_view aad = {});

// The plaintext, or nullopt when authentication fails: wrong key, IV or AAD, a modified
// ciphertext or tag, input shorter than the tag, or a key/IV of the wrong size. The caller
// cannot tell these apart on purpose. Never throws.
std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view iv,
                                        std::string_view ciphertext_and_tag,
                                        std::string_view aad = {});

// Decryption under one fixed key that is used on every request (the endpoint token key):
// a fresh context per call spends more on allocating it and expanding the key (AES round
// keys, GHASH table) than on opening a ~70-octet token. Contexts with the key set are kept in
// a pool, one per thread using the key at the same moment, so open() only sets the IV.
// Thread-safe (a context is used by one call at a time); not copyable (share it by pointer).
class AesGcmKey {
  public:
    // `key`: 16 or 32 octets; std::invalid_argument otherwise.
    explicit AesGcmKey(std::string_view key);
    ~AesGcmKey();
    AesGcmKey(const AesGcmKey&) = delete;
    AesGcmKey& operator=(const AesGcmKey&) = delete;

    // As aes_gcm_open(key, iv, ciphertext_and_tag, aad), the plaintext written to `out`
    // (which must hold ciphertext_and_tag.size() - 16 octets, or nullopt): its size, or
    // nullopt when authentication fails or the sizes are wrong. Never throws.
    std::optional<std::size_t> open(std::string_view iv, std::string_view ciphertext_and_tag,
                                    std::string_view aad, std::span<char> out) const;

  private:
    struct Pool;
    std::unique_ptr<Pool> pool_;
};

}  // namespace pushsvc::crypto
