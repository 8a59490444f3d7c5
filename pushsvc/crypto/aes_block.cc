#include "pushsvc/crypto/aes_block.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace pushsvc::crypto {
namespace {

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

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

// Idle contexts of one direction, each with the key set and padding off: ECB over whole
// blocks keeps no state between updates, so a context is reused as it is.
struct AesBlockKey::Pool {
    const EVP_CIPHER* cipher = nullptr;
    std::string key;
    int enc = 1;
    std::mutex mu;
    std::vector<CipherCtx> idle;

    CipherCtx take() {
        {
            std::lock_guard lk(mu);
            if (!idle.empty()) {
                CipherCtx ctx = std::move(idle.back());
                idle.pop_back();
                return ctx;
            }
        }
        CipherCtx ctx(EVP_CIPHER_CTX_new());
        if (!ctx ||
            EVP_CipherInit_ex(ctx.get(), cipher, nullptr,
                              reinterpret_cast<const unsigned char*>(key.data()), nullptr,
                              enc) != 1 ||
            EVP_CIPHER_CTX_set_padding(ctx.get(), 0) != 1)
            std::abort();
        return ctx;
    }
    void give(CipherCtx ctx) {
        constexpr std::size_t kMaxIdle = 16;
        std::lock_guard lk(mu);
        if (idle.size() < kMaxIdle) idle.push_back(std::move(ctx));
    }
    void run(std::span<const char, kAesBlockSize> in, std::span<char, kAesBlockSize> out) {
        CipherCtx ctx = take();
        int len = 0;
        if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                             reinterpret_cast<const unsigned char*>(in.data()),
                             static_cast<int>(kAesBlockSize)) != 1 ||
            len != static_cast<int>(kAesBlockSize))
            std::abort();
        give(std::move(ctx));
    }
    ~Pool() { OPENSSL_cleanse(key.data(), key.size()); }
};

AesBlockKey::AesBlockKey(std::string_view key)
    : encrypting_(std::make_unique<Pool>()), decrypting_(std::make_unique<Pool>()) {
    const EVP_CIPHER* cipher = ecb_for(key.size());
    if (cipher == nullptr) throw std::invalid_argument("AES keys are 16 or 32 octets");
    for (auto* p : {encrypting_.get(), decrypting_.get()}) {
        p->cipher = cipher;
        p->key.assign(key);
    }
    decrypting_->enc = 0;
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
