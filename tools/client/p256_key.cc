#include "tools/client/p256_key.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace webpush_client {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
    void operator()(T* p) const { F(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using GroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP, EC_GROUP_free>>;
using PointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT, EC_POINT_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using SigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;

std::shared_ptr<EVP_PKEY> wrap(EVP_PKEY* key) { return {key, EVP_PKEY_free}; }

GroupPtr p256_group() { return GroupPtr(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)); }

// Builds an EVP_PKEY from the encoded public point and an optional private scalar.
Result<std::shared_ptr<EVP_PKEY>> build(const Bytes& point, const BIGNUM* priv) {
    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld ||
        !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                          point.size()) ||
        (priv && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv))) {
        return make_error(Errc::crypto, "OpenSSL: cannot build key parameters");
    }
    ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                          params.get()) != 1) {
        return make_error(Errc::invalid_key, "not a valid P-256 key");
    }
    return wrap(key);
}

bool point_on_curve(const Bytes& point) {
    if (point.size() != 65 || point[0] != 0x04) return false;
    GroupPtr group = p256_group();
    PointPtr p(EC_POINT_new(group.get()));
    return p &&
           EC_POINT_oct2point(group.get(), p.get(), point.data(), point.size(), nullptr) == 1 &&
           EC_POINT_is_on_curve(group.get(), p.get(), nullptr) == 1 &&
           EC_POINT_is_at_infinity(group.get(), p.get()) == 0;
}

}  // namespace

P256Key P256Key::generate() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (!key) throw std::runtime_error("P-256 key generation failed");
    return P256Key(wrap(key), true);
}

Result<P256Key> P256Key::from_private_bytes(const Bytes& d) {
    if (d.size() != 32) {
        return make_error(Errc::invalid_key, "P-256 private key must be 32 octets");
    }
    BnPtr priv(BN_bin2bn(d.data(), 32, nullptr));
    GroupPtr group = p256_group();
    PointPtr pub(EC_POINT_new(group.get()));
    if (!priv || !pub || BN_is_zero(priv.get()) ||
        BN_cmp(priv.get(), EC_GROUP_get0_order(group.get())) >= 0 ||
        EC_POINT_mul(group.get(), pub.get(), priv.get(), nullptr, nullptr, nullptr) != 1) {
        return make_error(Errc::invalid_key, "P-256 private key out of range");
    }
    Bytes point(65);
    if (EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                           point.size(), nullptr) != 65) {
        return make_error(Errc::crypto, "OpenSSL: cannot encode public point");
    }
    auto key = build(point, priv.get());
    if (!key) return key.error();
    return P256Key(*key, true);
}

Result<P256Key> P256Key::from_public_bytes(const Bytes& point) {
    if (point.size() != 65 || point[0] != 0x04) {
        return make_error(Errc::invalid_key,
                          "P-256 public key must be a 65-octet uncompressed point (0x04...)");
    }
    if (!point_on_curve(point)) {
        return make_error(Errc::invalid_key, "P-256 public key is not on the curve");
    }
    auto key = build(point, nullptr);
    if (!key) return key.error();
    return P256Key(*key, false);
}

Result<P256Key> P256Key::from_public_base64url(std::string_view text) {
    auto bytes = base64url_decode(text);
    if (!bytes) return bytes.error();
    return from_public_bytes(*bytes);
}

Result<P256Key> P256Key::from_pem(std::string_view pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!raw) {
        return make_error(Errc::invalid_key, "not a PEM private key");
    }
    auto key = wrap(raw);
    char group[64] = {0};
    std::size_t len = 0;
    if (!EVP_PKEY_is_a(raw, "EC") ||
        EVP_PKEY_get_utf8_string_param(raw, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &len) != 1 ||
        std::string_view(group) != "prime256v1") {
        return make_error(Errc::invalid_key, "PEM key is not a P-256 (prime256v1) EC key");
    }
    return P256Key(key, true);
}

Result<P256Key> P256Key::from_pem_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error(Errc::io, "cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto key = from_pem(ss.str());
    if (!key) return make_error(key.error().code, path + ": " + key.error().message);
    return key;
}

Bytes P256Key::public_bytes() const {
    Bytes out(65);
    std::size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, out.data(), out.size(),
                                        &len) != 1 ||
        len != 65) {
        throw std::runtime_error("cannot export P-256 public key");
    }
    return out;
}

std::string P256Key::public_base64url() const { return base64url_encode(public_bytes()); }

Bytes P256Key::private_bytes() const {
    if (!has_private_) return {};
    BIGNUM* bn = nullptr;
    if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &bn) != 1) {
        throw std::runtime_error("cannot export P-256 private key");
    }
    BnPtr owned(bn);
    Bytes out(32);
    BN_bn2binpad(bn, out.data(), 32);
    return out;
}

std::string P256Key::private_pem() const {
    if (!has_private_) return {};
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr,
                                         nullptr) != 1) {
        throw std::runtime_error("cannot write PEM");
    }
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

Result<Bytes> P256Key::ecdh(const P256Key& peer) const {
    if (!has_private_) return make_error(Errc::invalid_key, "ECDH needs a private key");
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key_.get(), nullptr));
    std::size_t len = 0;
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
        EVP_PKEY_derive_set_peer(ctx.get(), peer.key_.get()) != 1 ||
        EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
        return make_error(Errc::crypto, "ECDH failed");
    }
    Bytes out(len);
    if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) {
        return make_error(Errc::crypto, "ECDH failed");
    }
    out.resize(len);
    return out;
}

Result<Bytes> P256Key::sign_es256(const Bytes& message) const {
    if (!has_private_) return make_error(Errc::invalid_key, "signing needs a private key");
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, message.data(), message.size()) != 1) {
        return make_error(Errc::crypto, "ES256 signing failed");
    }
    Bytes der(len);
    if (EVP_DigestSign(ctx.get(), der.data(), &len, message.data(), message.size()) != 1) {
        return make_error(Errc::crypto, "ES256 signing failed");
    }
    const unsigned char* p = der.data();
    SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
    if (!sig) return make_error(Errc::crypto, "ES256: bad DER signature");
    Bytes out(64);
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + 32, 32);
    return out;
}

bool P256Key::verify_es256(const Bytes& message, const Bytes& signature) const {
    if (signature.size() != 64) return false;
    SigPtr sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(signature.data(), 32, nullptr);
    BIGNUM* s = BN_bin2bn(signature.data() + 32, 32, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }
    unsigned char* der = nullptr;
    int der_len = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0) return false;
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
        der, [](unsigned char* p) { OPENSSL_free(p); });
    MdCtxPtr ctx(EVP_MD_CTX_new());
    return ctx &&
           EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), der, static_cast<std::size_t>(der_len), message.data(),
                            message.size()) == 1;
}

}  // namespace webpush_client
