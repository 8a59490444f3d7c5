#include "pushsvc/crypto/aes_gcm.h"

#include <openssl/evp.h>

#include <openssl/crypto.h>

#include <climits>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "pushsvc/crypto/cipher_pool.h"

namespace pushsvc::crypto {
namespace {

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

const EVP_CIPHER* cipher_for(std::size_t key_size) noexcept {
    // Fetched once: with OpenSSL 3, passing EVP_aes_*_gcm() makes every init look the
    // implementation up again (an endpoint token is opened on every push). Never freed.
    static const EVP_CIPHER* const aes128 = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
    static const EVP_CIPHER* const aes256 = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    switch (key_size) {
        case 16:
            return aes128;
        case 32:
            return aes256;
        default:
            return nullptr;
    }
}

// Shared by seal and open: checks sizes and sets up the context with key, IV and AAD.
CipherCtx start(bool encrypt, std::string_view key, std::string_view iv, std::string_view aad,
                std::size_t text_size) {
    const EVP_CIPHER* cipher = cipher_for(key.size());
    if (cipher == nullptr || iv.size() != kGcmIvSize || aad.size() > INT_MAX || text_size > INT_MAX)
        return nullptr;
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    if (!ctx) return nullptr;
    // 12 octets is GCM's default IV length, so no EVP_CTRL_GCM_SET_IVLEN is needed.
    if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, bytes(key), bytes(iv), encrypt ? 1 : 0) != 1)
        return nullptr;
    int len = 0;
    if (!aad.empty() &&
        EVP_CipherUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1)
        return nullptr;
    return ctx;
}

}  // namespace

std::string aes_gcm_seal(std::string_view key, std::string_view iv, std::string_view plaintext,
                         std::string_view aad) {
    CipherCtx ctx = start(true, key, iv, aad, plaintext.size());
    if (!ctx) std::abort();  // precondition violated (see header) or out of memory
    std::string out(plaintext.size() + kGcmTagSize, '\0');
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    int len = 0;
    if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), dst, &len, bytes(plaintext),
                                                static_cast<int>(plaintext.size())) != 1)
        std::abort();
    int tail = 0;
    if (EVP_EncryptFinal_ex(ctx.get(), dst + len, &tail) != 1 ||
        static_cast<std::size_t>(len + tail) != plaintext.size())
        std::abort();
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagSize),
                            dst + plaintext.size()) != 1)
        std::abort();
    return out;
}

std::optional<std::string> aes_gcm_open(std::string_view key, std::string_view iv,
                                        std::string_view ciphertext_and_tag, std::string_view aad) {
    if (ciphertext_and_tag.size() < kGcmTagSize) return std::nullopt;
    const std::string_view ciphertext =
        ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
    // EVP_CTRL_GCM_SET_TAG takes a non-const pointer; give it a copy.
    unsigned char tag[kGcmTagSize];
    for (std::size_t i = 0; i < kGcmTagSize; ++i)
        tag[i] = static_cast<unsigned char>(ciphertext_and_tag[ciphertext.size() + i]);

    CipherCtx ctx = start(false, key, iv, aad, ciphertext.size());
    if (!ctx) return std::nullopt;
    std::string out(ciphertext.size(), '\0');
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    int len = 0;
    if (!ciphertext.empty() && EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(ciphertext),
                                                 static_cast<int>(ciphertext.size())) != 1)
        return std::nullopt;
    if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) !=
        1)
        return std::nullopt;
    int tail = 0;
    // Final is where GCM compares the tag; on mismatch the plaintext is discarded.
    if (EVP_DecryptFinal_ex(ctx.get(), dst + len, &tail) != 1) return std::nullopt;
    out.resize(static_cast<std::size_t>(len + tail));
    return out;
}

// Contexts of the key for decryption; a context is reused only through the IV-only init in
// open(), which restarts GCM.
struct AesGcmKey::Pool : CipherCtxPool {
    using CipherCtxPool::CipherCtxPool;
};

AesGcmKey::AesGcmKey(std::string_view key) {
    const EVP_CIPHER* cipher = cipher_for(key.size());
    if (cipher == nullptr) throw std::invalid_argument("AES-GCM keys are 16 or 32 octets");
    pool_ = std::make_unique<Pool>(
        cipher, key, 0,
        [](EVP_CIPHER_CTX* c, const EVP_CIPHER* cipher, const unsigned char* k, int) {
            return EVP_DecryptInit_ex(c, cipher, nullptr, k, nullptr) == 1;
        });
}

AesGcmKey::~AesGcmKey() = default;

std::optional<std::size_t> AesGcmKey::open(std::string_view iv, std::string_view ciphertext_and_tag,
                                           std::string_view aad, std::span<char> out) const {
    if (ciphertext_and_tag.size() < kGcmTagSize || iv.size() != kGcmIvSize ||
        aad.size() > INT_MAX || ciphertext_and_tag.size() > INT_MAX)
        return std::nullopt;
    const std::size_t text_size = ciphertext_and_tag.size() - kGcmTagSize;
    if (out.size() < text_size) return std::nullopt;
    unsigned char tag[kGcmTagSize];
    for (std::size_t i = 0; i < kGcmTagSize; ++i)
        tag[i] = static_cast<unsigned char>(ciphertext_and_tag[text_size + i]);

    CipherCtx ctx = pool_->take();
    if (!ctx) return std::nullopt;
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    int aad_len = 0;
    int len = 0;
    int tail = 0;
    // Key NULL keeps the key schedule; a new IV restarts GCM (counter, GHASH, lengths).
    // Final is where GCM compares the tag; on mismatch the caller gets nothing.
    const bool ok =
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, bytes(iv)) == 1 &&
        (aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, bytes(aad),
                                          static_cast<int>(aad.size())) == 1) &&
        (text_size == 0 || EVP_DecryptUpdate(ctx.get(), dst, &len, bytes(ciphertext_and_tag),
                                             static_cast<int>(text_size)) == 1) &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kGcmTagSize), tag) ==
            1 &&
        EVP_DecryptFinal_ex(ctx.get(), dst + len, &tail) == 1;
    pool_->give(std::move(ctx));
    if (!ok || static_cast<std::size_t>(len + tail) != text_size) {
        OPENSSL_cleanse(out.data(), text_size);  // unauthenticated plaintext never leaves
        return std::nullopt;
    }
    return text_size;
}

}  // namespace pushsvc::crypto
