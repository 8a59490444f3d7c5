#pragma once
// One AES block (16 octets) encrypted or decrypted under a fixed key: a keyed permutation of
// 128-bit values. RocksStore hides where a message is stored (its expiry and sequence number)
// inside the message's id with it, so ids of different messages share nothing an observer
// could link (RFC 8030 §8.2). Not an encryption mode: use it only on values that are never
// repeated or that may be recognised when repeated (the store's locators are unique).
//
// Contexts with the key set are kept in a pool (one per thread using the key at the same
// moment), so a call is one EVP update. Thread-safe; not copyable.

#include <cstddef>
#include <memory>
#include <span>
#include <string_view>

namespace pushsvc::crypto {

inline constexpr std::size_t kAesBlockSize = 16;

class AesBlockKey {
  public:
    // `key`: 16 or 32 octets (AES-128 / AES-256); std::invalid_argument otherwise.
    explicit AesBlockKey(std::string_view key);
    ~AesBlockKey();
    AesBlockKey(const AesBlockKey&) = delete;
    AesBlockKey& operator=(const AesBlockKey&) = delete;

    // out = E_k(in) / D_k(in); `in` and `out` are kAesBlockSize octets (may be the same).
    // Aborts if OpenSSL fails (out of memory): there is no meaningful fallback.
    void encrypt(std::span<const char, kAesBlockSize> in, std::span<char, kAesBlockSize> out) const;
    void decrypt(std::span<const char, kAesBlockSize> in, std::span<char, kAesBlockSize> out) const;

  private:
    struct Pool;
    std::unique_ptr<Pool> encrypting_, decrypting_;
};

}  // namespace pushsvc::crypto
