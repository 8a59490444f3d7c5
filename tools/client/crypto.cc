#include "tools/client/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace webpush_client {
namespace {

struct CipherCtxFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

}  // namespace

Bytes random_bytes(std::size_t n) {
    Bytes out(n);
    if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    return out;
}

Bytes sha256(const Bytes& data) {
    Bytes out(32);
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr);
    return out;
}

Bytes hmac_sha256(const Bytes& key, const Bytes& data) {
    Bytes out(32);
    unsigned int len = 0;
    static const std::uint8_t kEmpty = 0;
    HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()),
         data.empty() ? &kEmpty : data.data(), data.size(), out.data(), &len);
    return out;
}

Bytes hkdf_extract(const Bytes& salt, const Bytes& ikm) {
    // RFC 5869 §2.2: an absent salt is HashLen zero octets.
    return hmac_sha256(salt.empty() ? Bytes(32, 0) : salt, ikm);
}

Bytes hkdf_expand(const Bytes& prk, const Bytes& info, std::size_t length) {
    Bytes out;
    Bytes t;
    std::uint8_t counter = 1;
    while (out.size() < length) {
        Bytes input = t;
        input.insert(input.end(), info.begin(), info.end());
        input.push_back(counter++);
        t = hmac_sha256(prk, input);
        out.insert(out.end(), t.begin(), t.end());
    }
    out.resize(length);
    return out;
}

Bytes aes128gcm_seal(const Bytes& key, const Bytes& nonce, const Bytes& plaintext) {
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    int len = 0;
    Bytes out(plaintext.size() + kGcmTagSize);
    if (!ctx || key.size() != 16 || nonce.size() != 12 ||
        EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
        EVP_EncryptUpdate(ctx.get(), out.data(), &len, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), out.data() + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize,
                            out.data() + plaintext.size()) != 1) {
        throw std::runtime_error("AES-128-GCM encryption failed");
    }
    return out;
}

Result<Bytes> aes128gcm_open(const Bytes& key, const Bytes& nonce, const Bytes& sealed) {
    if (sealed.size() < kGcmTagSize) {
        return make_error(Errc::truncated, "record shorter than the AES-GCM tag");
    }
    CipherCtx ctx(EVP_CIPHER_CTX_new());
    const std::size_t n = sealed.size() - kGcmTagSize;
    Bytes out(n + 1);
    Bytes tag(sealed.end() - kGcmTagSize, sealed.end());
    int len = 0;
    if (!ctx || key.size() != 16 || nonce.size() != 12 ||
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, key.data(), nonce.data()) != 1 ||
        EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(), static_cast<int>(n)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, tag.data()) != 1) {
        return make_error(Errc::crypto, "AES-128-GCM setup failed");
    }
    int final_len = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), out.data() + len, &final_len) != 1) {
        return make_error(Errc::decrypt_failed,
                          "AES-GCM authentication failed (wrong keys or auth secret, or "
                          "corrupted data)");
    }
    out.resize(n);
    return out;
}

}  // namespace webpush_client
