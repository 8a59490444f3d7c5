#include "tools/client/aesgcm.h"

#include "tools/client/crypto.h"
#include "tools/client/header_params.h"

namespace webpush_client {
namespace {

constexpr std::size_t kPadLengthSize = 2;

void append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

struct Keys {
    Bytes cek;
    Bytes nonce_base;
};

// ENC04 §3.3-3.5.
Keys derive(const Bytes& ecdh_secret, const Bytes& auth, const Bytes& salt, const Bytes& ua_pub,
            const Bytes& as_pub) {
    Bytes auth_info;
    append(auth_info, "Content-Encoding: auth");
    auth_info.push_back(0);
    Bytes ikm = hkdf(auth, ecdh_secret, auth_info, 32);

    Bytes context;
    append(context, "P-256");
    context.push_back(0);
    for (const Bytes* key : {&ua_pub, &as_pub}) {
        context.push_back(std::uint8_t(key->size() >> 8));
        context.push_back(std::uint8_t(key->size()));
        context.insert(context.end(), key->begin(), key->end());
    }
    Bytes prk = hkdf_extract(salt, ikm);
    Bytes cek_info;
    append(cek_info, "Content-Encoding: aesgcm");
    cek_info.push_back(0);
    cek_info.insert(cek_info.end(), context.begin(), context.end());
    Bytes nonce_info;
    append(nonce_info, "Content-Encoding: nonce");
    nonce_info.push_back(0);
    nonce_info.insert(nonce_info.end(), context.begin(), context.end());
    return Keys{hkdf_expand(prk, cek_info, 16), hkdf_expand(prk, nonce_info, 12)};
}

Bytes record_nonce(const Bytes& base, std::uint64_t seq) {
    Bytes nonce = base;
    for (int i = 0; i < 8; ++i) nonce[11 - i] ^= std::uint8_t((seq >> (8 * i)) & 0xff);
    return nonce;
}

}  // namespace

std::string AesgcmEncrypted::encryption_header() const {
    std::string out = "salt=" + base64url_encode(salt);
    if (rs != kDefaultRecordSize) out += ";rs=" + std::to_string(rs);
    return out;
}

std::string AesgcmEncrypted::crypto_key_header() const {
    return "dh=" + base64url_encode(sender_public);
}

Result<AesgcmEncrypted> webpush_aesgcm_encrypt(const P256Key& ua_public, const Bytes& auth_secret,
                                               const Bytes& plaintext,
                                               const WebPushEncryptParams& params) {
    if (auth_secret.size() != 16) {
        return make_error(Errc::invalid_key, "auth secret must be 16 octets");
    }
    if (params.rs <= kPadLengthSize) {
        return make_error(Errc::invalid_argument, "aesgcm: record size must exceed 2");
    }
    P256Key sender = params.sender_key ? *params.sender_key : P256Key::generate();
    auto secret = sender.ecdh(ua_public);
    if (!secret) return secret.error();
    AesgcmEncrypted out;
    out.salt = params.salt.empty() ? random_bytes(16) : params.salt;
    if (out.salt.size() != 16) {
        return make_error(Errc::invalid_argument, "aesgcm: salt must be 16 octets");
    }
    out.sender_public = sender.public_bytes();
    out.rs = params.rs;
    Keys keys = derive(*secret, auth_secret, out.salt, ua_public.public_bytes(), out.sender_public);

    const std::size_t capacity = params.rs - kPadLengthSize;
    std::size_t pad_left = params.padding;
    std::size_t pos = 0;
    std::uint64_t seq = 0;
    while (true) {
        std::size_t record_pad = std::min<std::size_t>({pad_left, capacity, 0xffff});
        pad_left -= record_pad;
        std::size_t take = std::min(capacity - record_pad, plaintext.size() - pos);
        Bytes record;
        record.push_back(std::uint8_t(record_pad >> 8));
        record.push_back(std::uint8_t(record_pad));
        record.insert(record.end(), record_pad, 0);
        record.insert(record.end(), plaintext.begin() + long(pos),
                      plaintext.begin() + long(pos + take));
        Bytes sealed = aes128gcm_seal(keys.cek, record_nonce(keys.nonce_base, seq), record);
        out.body.insert(out.body.end(), sealed.begin(), sealed.end());
        pos += take;
        ++seq;
        // A full final record would look truncated, so a short (possibly empty) record
        // always ends the message.
        if (record.size() < params.rs && pad_left == 0 && pos >= plaintext.size()) break;
    }
    return out;
}

Result<AesgcmParams> parse_encryption_header(std::string_view value) {
    auto entries = parse_param_entries(value);
    if (entries.empty()) return make_error(Errc::bad_header, "Encryption header is empty");
    AesgcmParams out;
    const ParamList& p = entries.front();
    const std::string* salt = find_param(p, "salt");
    if (!salt) return make_error(Errc::bad_header, "Encryption header has no salt");
    auto salt_bytes = base64url_decode(*salt);
    if (!salt_bytes || salt_bytes->size() != 16) {
        return make_error(Errc::bad_header, "Encryption salt is not 16 base64url octets");
    }
    out.salt = *salt_bytes;
    if (const std::string* rs = find_param(p, "rs")) {
        try {
            unsigned long v = std::stoul(*rs);
            if (v <= kPadLengthSize || v > 0xffffffffUL) throw std::out_of_range("rs");
            out.rs = std::uint32_t(v);
        } catch (const std::exception&) {
            return make_error(Errc::bad_header, "Encryption rs is invalid");
        }
    }
    if (const std::string* keyid = find_param(p, "keyid")) out.keyid = *keyid;
    return out;
}

Result<Bytes> find_crypto_key_dh(std::string_view value, const std::optional<std::string>& keyid) {
    std::optional<std::string> found;
    for (const auto& entry : parse_param_entries(value)) {
        const std::string* dh = find_param(entry, "dh");
        if (!dh) continue;
        const std::string* id = find_param(entry, "keyid");
        if (keyid && id && *id == *keyid) {
            found = *dh;
            break;
        }
        if (!found) found = *dh;
    }
    if (!found) return make_error(Errc::bad_header, "Crypto-Key header has no dh");
    auto bytes = base64url_decode(*found);
    if (!bytes) return make_error(Errc::bad_header, "Crypto-Key dh is not base64url");
    return bytes;
}

Result<Bytes> webpush_aesgcm_decrypt(const P256Key& ua_private, const Bytes& auth_secret,
                                     const Bytes& body, std::string_view encryption_header,
                                     std::string_view crypto_key_header) {
    if (auth_secret.size() != 16) {
        return make_error(Errc::invalid_key, "auth secret must be 16 octets");
    }
    auto params = parse_encryption_header(encryption_header);
    if (!params) return params.error();
    auto dh = find_crypto_key_dh(crypto_key_header, params->keyid);
    if (!dh) return dh.error();
    auto sender = P256Key::from_public_bytes(*dh);
    if (!sender) return make_error(Errc::bad_header, "Crypto-Key dh: " + sender.error().message);
    auto secret = ua_private.ecdh(*sender);
    if (!secret) return secret.error();
    Keys keys = derive(*secret, auth_secret, params->salt, ua_private.public_bytes(), *dh);

    const std::size_t chunk = std::size_t(params->rs) + kGcmTagSize;
    Bytes out;
    std::size_t pos = 0;
    std::uint64_t seq = 0;
    if (body.empty()) return make_error(Errc::truncated, "aesgcm: empty body");
    while (pos < body.size()) {
        std::size_t len = std::min(chunk, body.size() - pos);
        if (len == chunk && pos + len == body.size()) {
            return make_error(Errc::truncated, "aesgcm: message ends with a full record");
        }
        if (len < kGcmTagSize + kPadLengthSize) {
            return make_error(Errc::truncated,
                              "aesgcm: record " + std::to_string(seq) + " too short");
        }
        Bytes sealed(body.begin() + long(pos), body.begin() + long(pos + len));
        auto plain = aes128gcm_open(keys.cek, record_nonce(keys.nonce_base, seq), sealed);
        if (!plain) {
            return make_error(plain.error().code, "aesgcm: record " + std::to_string(seq) + ": " +
                                                      plain.error().message);
        }
        std::size_t pad = (std::size_t((*plain)[0]) << 8) | (*plain)[1];
        if (pad + kPadLengthSize > plain->size()) {
            return make_error(Errc::bad_padding, "aesgcm: padding longer than the record");
        }
        for (std::size_t i = 0; i < pad; ++i) {
            if ((*plain)[kPadLengthSize + i] != 0) {
                return make_error(Errc::bad_padding, "aesgcm: non-zero padding");
            }
        }
        out.insert(out.end(), plain->begin() + long(kPadLengthSize + pad), plain->end());
        pos += len;
        ++seq;
    }
    return out;
}

}  // namespace webpush_client
