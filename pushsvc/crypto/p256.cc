#include "pushsvc/crypto/p256.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstdlib>

namespace pushsvc::crypto {

void detail::PkeyFree::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

namespace {

constexpr char kGroupName[] = "prime256v1";

struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct SigFree {
    void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};
struct BnFree {
    void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
struct GroupFree {
    void operator()(EC_GROUP* g) const noexcept { EC_GROUP_free(g); }
};
struct PointFree {
    void operator()(EC_POINT* p) const noexcept { EC_POINT_free(p); }
};
struct ParamBldFree {
    void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct ParamFree {
    void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using Sig = std::unique_ptr<ECDSA_SIG, SigFree>;
using Bn = std::unique_ptr<BIGNUM, BnFree>;
using Group = std::unique_ptr<EC_GROUP, GroupFree>;
using Point = std::unique_ptr<EC_POINT, PointFree>;

const unsigned char* bytes(std::string_view s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Clears OpenSSL's per-thread error queue when a function that parsed outside input returns,
// so a failure here never shows up later in, e.g., SSL_get_error() on the same thread.
struct ErrorQueueGuard {
    ErrorQueueGuard() = default;
    ErrorQueueGuard(const ErrorQueueGuard&) = delete;
    ErrorQueueGuard& operator=(const ErrorQueueGuard&) = delete;
    ~ErrorQueueGuard() { ERR_clear_error(); }
};

// EVP_PKEY from OSSL_PARAMs (public key, or key pair when `priv` is set), then a full
// public-key check: on the curve, not infinity, correct order (SP 800-56A §5.6.2.3.3).
detail::PkeyPtr build_key(std::string_view pub65, const BIGNUM* priv) {
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
    if (!bld) return nullptr;
    if (OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kGroupName, 0) !=
            1 ||
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub65.data(),
                                         pub65.size()) != 1)
        return nullptr;
    if (priv != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1)
        return nullptr;
    std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
    if (!params) return nullptr;

    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
    EVP_PKEY* raw = nullptr;
    if (EVP_PKEY_fromdata(ctx.get(), &raw, priv != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params.get()) != 1)
        return nullptr;
    detail::PkeyPtr key(raw);

    PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
    return key;
}

// P-256 scalar multiplication d*G, encoded uncompressed. Empty on failure.
std::string public_from_scalar(const BIGNUM* d) {
    Group group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    if (!group) return {};
    Point point(EC_POINT_new(group.get()));
    if (!point || EC_POINT_mul(group.get(), point.get(), d, nullptr, nullptr, nullptr) != 1)
        return {};
    std::string out(kP256PublicSize, '\0');
    if (EC_POINT_point2oct(group.get(), point.get(), POINT_CONVERSION_UNCOMPRESSED,
                           reinterpret_cast<unsigned char*>(out.data()), out.size(),
                           nullptr) != kP256PublicSize)
        return {};
    return out;
}

}  // namespace

// ---- P256PublicKey ---------------------------------------------------------------------------

P256PublicKey::P256PublicKey(detail::PkeyPtr key, std::string raw) noexcept
    : key_(std::move(key)), raw_(std::move(raw)) {}

P256PublicKey::P256PublicKey(const P256PublicKey& other) : raw_(other.raw_) {
    if (other.key_ && EVP_PKEY_up_ref(other.key_.get()) == 1) key_.reset(other.key_.get());
}

P256PublicKey& P256PublicKey::operator=(const P256PublicKey& other) {
    if (this != &other) *this = P256PublicKey(other);
    return *this;
}

result<P256PublicKey> P256PublicKey::from_uncompressed(std::string_view raw65) {
    if (raw65.size() != kP256PublicSize || static_cast<unsigned char>(raw65[0]) != 0x04)
        return make_error_code(errc::bad_request);
    ErrorQueueGuard guard;
    detail::PkeyPtr key = build_key(raw65, nullptr);
    if (!key) return make_error_code(errc::bad_request);
    return P256PublicKey(std::move(key), std::string(raw65));
}

bool P256PublicKey::verify_es256(std::string_view signing_input, std::string_view raw_sig64) const {
    if (!key_ || raw_sig64.size() != kEs256SignatureSize) return false;
    ErrorQueueGuard guard;
    // JOSE R || S -> ASN.1 DER, the form OpenSSL verifies. r = 0, s = 0 or values >= n are
    // rejected by the verifier itself.
    Sig sig(ECDSA_SIG_new());
    if (!sig) return false;
    BIGNUM* r = BN_bin2bn(bytes(raw_sig64), 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes(raw_sig64) + 32, 32, nullptr);
    if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char der[80];  // at most 72 octets for P-256
    unsigned char* p = der;
    const int der_len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (der_len <= 0 || der_len > static_cast<int>(sizeof der) ||
        i2d_ECDSA_SIG(sig.get(), &p) != der_len)
        return false;

    MdCtx md(EVP_MD_CTX_new());
    if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1)
        return false;
    return EVP_DigestVerify(md.get(), der, static_cast<std::size_t>(der_len), bytes(signing_input),
                            signing_input.size()) == 1;
}

// ---- P256PrivateKey --------------------------------------------------------------------------

P256PrivateKey::P256PrivateKey(detail::PkeyPtr key, std::string public_raw) noexcept
    : key_(std::move(key)), public_raw_(std::move(public_raw)) {}

P256PrivateKey P256PrivateKey::generate() {
    detail::PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kGroupName));
    if (!key) std::abort();
    std::string pub(kP256PublicSize, '\0');
    std::size_t len = 0;
    // Generated keys use the uncompressed point format by default.
    if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                        reinterpret_cast<unsigned char*>(pub.data()), pub.size(),
                                        &len) != 1 ||
        len != kP256PublicSize || pub[0] != 0x04)
        std::abort();
    return P256PrivateKey(std::move(key), std::move(pub));
}

result<P256PrivateKey> P256PrivateKey::from_private_raw(std::string_view d32) {
    if (d32.size() != kP256PrivateSize) return make_error_code(errc::bad_request);
    ErrorQueueGuard guard;
    Bn d(BN_bin2bn(bytes(d32), static_cast<int>(d32.size()), nullptr));
    Group group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    if (!d || !group) return make_error_code(errc::bad_request);
    // 1 <= d <= n-1 (SEC 1 §3.2.1).
    if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0)
        return make_error_code(errc::bad_request);
    std::string pub = public_from_scalar(d.get());
    if (pub.empty()) return make_error_code(errc::bad_request);
    detail::PkeyPtr key = build_key(pub, d.get());
    if (!key) return make_error_code(errc::bad_request);
    return P256PrivateKey(std::move(key), std::move(pub));
}

std::string P256PrivateKey::private_raw() const {
    BIGNUM* raw = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) std::abort();
    Bn d(raw);
    std::string out(kP256PrivateSize, '\0');
    if (BN_bn2binpad(d.get(), reinterpret_cast<unsigned char*>(out.data()),
                     static_cast<int>(out.size())) != static_cast<int>(kP256PrivateSize))
        std::abort();
    return out;
}

std::string P256PrivateKey::sign_es256(std::string_view msg) const {
    MdCtx md(EVP_MD_CTX_new());
    if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1)
        std::abort();
    unsigned char der[80];
    std::size_t der_len = sizeof der;
    if (EVP_DigestSign(md.get(), der, &der_len, bytes(msg), msg.size()) != 1) std::abort();
    const unsigned char* p = der;
    Sig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
    if (!sig) std::abort();
    std::string out(kEs256SignatureSize, '\0');
    auto* dst = reinterpret_cast<unsigned char*>(out.data());
    if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), dst, 32) != 32 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), dst + 32, 32) != 32)
        std::abort();
    return out;
}

std::string P256PrivateKey::ecdh(std::string_view peer_raw65) const {
    auto peer = P256PublicKey::from_uncompressed(peer_raw65);
    if (!peer) return {};
    ErrorQueueGuard guard;
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer->key_.get()) != 1)
        return {};
    std::string out(32, '\0');
    std::size_t len = out.size();
    if (EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
        len != 32)
        return {};
    return out;
}

}  // namespace pushsvc::crypto
