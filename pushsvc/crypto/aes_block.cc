#include "pushsvc/crypto/aes_block.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "pushsvc/crypto/cipher_pool.h"

namespace pushsvc::crypto {
namespace {

const EVP_CIPHER* ecb_for(std::size_t key_size) noexcept {
    // Fetched once (OpenSSL 3 looks EVP_aes_*_ecb() up again on every init). Never freed.
    static const EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    static const EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-ECB", nullptr);
    switch (key_size) {
        case 16:
            return aes128;
        case 32:
            return aes256;
        default:
            return nullptr;
    }
}

}  // namespace

// Contexts of one direction, each with the key set and padding off: ECB over whole blocks
// keeps no state between updates, so a context is reused as it is.
struct AesBlockKey::Pool : CipherCtxPool {
    using CipherCtxPool::CipherCtxPool;

    void run(std::span<const char, kAesBlockSize> in, std::span<char, kAesBlockSize> out) {
        CipherCtx ctx = take();
        if (!ctx) std::abort();
        int len = 0;
        if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                             reinterpret_cast<const unsigned char*>(in.data()),
                             static_cast<int>(kAesBlockSize)) != 1 ||
            len != static_cast<int>(kAesBlockSize))
            std::abort();
        give(std::move(ctx));
    }
};

AesBlockKey::AesBlockKey(std::string_view key) {
    const EVP_CIPHER* cipher = ecb_for(key.size());
    if (cipher == nullptr) throw std::invalid_argument("AES keys are 16 or 32 octets");
    constexpr CipherCtxPool::Init init = [](EVP_CIPHER_CTX* c, const EVP_CIPHER* cipher,
                                            const unsigned char* k, int enc) {
        return EVP_CipherInit_ex(c, cipher, nullptr, k, nullptr, enc) == 1 &&
               EVP_CIPHER_CTX_set_padding(c, 0) == 1;
    };
    encrypting_ = std::make_unique<Pool>(cipher, key, 1, init);
    decrypting_ = std::make_unique<Pool>(cipher, key, 0, init);
}

AesBlockKey::~AesBlockKey() = default;

void AesBlockKey::encrypt(std::span<const char, kAesBlockSize> in,
                          std::span<char, kAesBlockSize> out) const {
    encrypting_->run(in, out);
}

void AesBlockKey::decrypt(std::span<const char, kAesBlockSize> in,
                          std::span<char, kAesBlockSize> out) const {
    decrypting_->run(in, out);
}

}  // namespace pushsvc::crypto
