#pragma once
// Internal to pushsvc/crypto: OpenSSL cipher contexts that keep a key's set-up (AES round keys,
// GCM's GHASH table) between calls, for AesGcmKey and AesBlockKey. take() hands out an idle
// context, or makes one (when more threads than ever before use the key at once); give()
// keeps up to 16. The key bytes are kept to make new contexts, and wiped at the end.

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace pushsvc::crypto {

struct CtxFree {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

class CipherCtxPool {
  public:
    // Sets a new context up for `key` (cipher, key, direction); false if OpenSSL refused.
    using Init = bool (*)(EVP_CIPHER_CTX* ctx, const EVP_CIPHER* cipher, const unsigned char* key,
                          int enc);

    CipherCtxPool(const EVP_CIPHER* cipher, std::string_view key, int enc, Init init)
        : cipher_(cipher), key_(key), enc_(enc), init_(init) {}
    ~CipherCtxPool() { OPENSSL_cleanse(key_.data(), key_.size()); }
    CipherCtxPool(const CipherCtxPool&) = delete;
    CipherCtxPool& operator=(const CipherCtxPool&) = delete;

    // An idle context, or a new one; null when OpenSSL could not make one.
    CipherCtx take() {
        {
            std::lock_guard lk(mu_);
            if (!idle_.empty()) {
                CipherCtx ctx = std::move(idle_.back());
                idle_.pop_back();
                return ctx;
            }
        }
        CipherCtx ctx(EVP_CIPHER_CTX_new());
        if (ctx &&
            !init_(ctx.get(), cipher_, reinterpret_cast<const unsigned char*>(key_.data()), enc_))
            ctx.reset();
        return ctx;
    }
    void give(CipherCtx ctx) {
        constexpr std::size_t kMaxIdle = 16;
        std::lock_guard lk(mu_);
        if (idle_.size() < kMaxIdle) idle_.push_back(std::move(ctx));
    }

  private:
    const EVP_CIPHER* cipher_;
    std::string key_;
    int enc_;
    Init init_;
    std::mutex mu_;
    std::vector<CipherCtx> idle_;
};

}  // namespace pushsvc::crypto
