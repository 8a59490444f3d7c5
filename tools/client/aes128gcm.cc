#include "tools/client/aes128gcm.h"

#include "tools/client/crypto.h"

namespace webpush_client {
namespace {

constexpr std::size_t kSaltSize = 16;

void append(Bytes& out, std::string_view text) { out.insert(out.end(), text.begin(), text.end()); }

// RFC 8188 §2.3: the per-record nonce is the nonce base XORed with the sequence number,
// a 96-bit big-endian integer.
Bytes record_nonce(const Bytes& base, std::uint64_t seq) {
    Bytes nonce = base;
    for (int i = 0; i < 8; ++i) {
        nonce[11 - i] ^= std::uint8_t((seq >> (8 * i)) & 0xff);
    }
    return nonce;
}

struct Keys {
    Bytes cek;
    Bytes nonce_base;
};

// RFC 8188 §2.2, §2.3.
Keys derive(const Bytes& salt, const Bytes& ikm) {
    Bytes prk = hkdf_extract(salt, ikm);
    Bytes cek_info;
    append(cek_info, "Content-Encoding: aes128gcm");
    cek_info.push_back(0);
    Bytes nonce_info;
    append(nonce_info, "Content-Encoding: nonce");
    nonce_info.push_back(0);
    return Keys{hkdf_expand(prk, cek_info, 16), hkdf_expand(prk, nonce_info, 12)};
}

}  // namespace

Result<Aes128gcmHeader> parse_aes128gcm_header(const Bytes& body) {
    if (body.size() < 21) {
        return make_error(Errc::truncated, "aes128gcm: body shorter than the 21-octet header");
    }
    Aes128gcmHeader h;
    h.salt.assign(body.begin(), body.begin() + kSaltSize);
    h.rs = (std::uint32_t(body[16]) << 24) | (std::uint32_t(body[17]) << 16) |
           (std::uint32_t(body[18]) << 8) | std::uint32_t(body[19]);
    std::size_t idlen = body[20];
    if (body.size() < 21 + idlen) {
        return make_error(Errc::truncated, "aes128gcm: body shorter than its keyid");
    }
    h.keyid.assign(body.begin() + 21, body.begin() + 21 + long(idlen));
    if (h.rs < 18) {
        return make_error(Errc::bad_header, "aes128gcm: record size below 18 (RFC 8188 2.1)");
    }
    return h;
}

Result<Bytes> aes128gcm_encrypt(const Bytes& ikm, const Bytes& plaintext,
                                const Aes128gcmParams& params) {
    if (params.rs < 18) {
        return make_error(Errc::invalid_argument, "aes128gcm: record size must be >= 18");
    }
    if (params.keyid.size() > 255) {
        return make_error(Errc::invalid_argument, "aes128gcm: keyid longer than 255 octets");
    }
    Bytes salt = params.salt.empty() ? random_bytes(kSaltSize) : params.salt;
    if (salt.size() != kSaltSize) {
        return make_error(Errc::invalid_argument, "aes128gcm: salt must be 16 octets");
    }
    Keys keys = derive(salt, ikm);

    Bytes out = salt;
    out.push_back(std::uint8_t(params.rs >> 24));
    out.push_back(std::uint8_t(params.rs >> 16));
    out.push_back(std::uint8_t(params.rs >> 8));
    out.push_back(std::uint8_t(params.rs));
    out.push_back(std::uint8_t(params.keyid.size()));
    out.insert(out.end(), params.keyid.begin(), params.keyid.end());

    // Each record carries up to rs - 17 octets of data + padding, then the delimiter.
    const std::size_t capacity = params.rs - kGcmTagSize - 1;
    std::size_t pad_left = params.padding;
    std::size_t pos = 0;
    std::uint64_t seq = 0;
    while (true) {
        // Padding goes first, but every record keeps room for at least one data octet
        // (the layout of RFC 8188 §3.2 and of the reference implementation).
        std::size_t record_pad = std::min(pad_left, capacity > 1 ? capacity - 1 : capacity);
        if (pad_left > 0 && record_pad == 0) record_pad = 1;
        pad_left -= record_pad;
        std::size_t take = std::min(capacity - record_pad, plaintext.size() - pos);
        bool last = pos + take >= plaintext.size() && pad_left == 0;
        Bytes record(plaintext.begin() + long(pos), plaintext.begin() + long(pos + take));
        record.push_back(last ? 0x02 : 0x01);
        record.insert(record.end(), record_pad, 0);
        Bytes sealed = aes128gcm_seal(keys.cek, record_nonce(keys.nonce_base, seq), record);
        out.insert(out.end(), sealed.begin(), sealed.end());
        pos += take;
        ++seq;
        if (last) break;
    }
    return out;
}

Result<Bytes> aes128gcm_decrypt(
    const Bytes& body, const std::function<Result<Bytes>(const Aes128gcmHeader&)>& ikm_for_keyid) {
    auto header = parse_aes128gcm_header(body);
    if (!header) return header.error();
    auto ikm = ikm_for_keyid(*header);
    if (!ikm) return ikm.error();
    Keys keys = derive(header->salt, *ikm);

    std::size_t pos = header->size();
    if (pos >= body.size()) {
        return make_error(Errc::truncated, "aes128gcm: no records after the header");
    }
    Bytes out;
    std::uint64_t seq = 0;
    while (pos < body.size()) {
        std::size_t len = std::min<std::size_t>(header->rs, body.size() - pos);
        bool last = pos + len >= body.size();
        if (len <= kGcmTagSize) {
            return make_error(Errc::truncated, "aes128gcm: record " + std::to_string(seq) +
                                                   " too short (" + std::to_string(len) +
                                                   " octets)");
        }
        Bytes sealed(body.begin() + long(pos), body.begin() + long(pos + len));
        auto plain = aes128gcm_open(keys.cek, record_nonce(keys.nonce_base, seq), sealed);
        if (!plain) {
            return make_error(plain.error().code, "aes128gcm: record " + std::to_string(seq) +
                                                      ": " + plain.error().message);
        }
        // RFC 8188 §2: strip zero padding, then the delimiter must be 0x02 on the last
        // record and 0x01 on every other one.
        std::size_t end = plain->size();
        while (end > 0 && (*plain)[end - 1] == 0) --end;
        if (end == 0) {
            return make_error(Errc::bad_padding, "aes128gcm: record " + std::to_string(seq) +
                                                     " has no padding delimiter");
        }
        std::uint8_t delimiter = (*plain)[end - 1];
        if (last && delimiter == 0x01) {
            return make_error(Errc::truncated,
                              "aes128gcm: message truncated (last record has delimiter 0x01)");
        }
        if (delimiter != (last ? 0x02 : 0x01)) {
            return make_error(Errc::bad_padding, "aes128gcm: record " + std::to_string(seq) +
                                                     " has a wrong padding delimiter");
        }
        out.insert(out.end(), plain->begin(), plain->begin() + long(end - 1));
        pos += len;
        ++seq;
    }
    return out;
}

Bytes webpush_ikm(const Bytes& ecdh_secret, const Bytes& auth_secret, const Bytes& ua_public,
                  const Bytes& as_public) {
    Bytes info;
    append(info, "WebPush: info");
    info.push_back(0);
    info.insert(info.end(), ua_public.begin(), ua_public.end());
    info.insert(info.end(), as_public.begin(), as_public.end());
    return hkdf(auth_secret, ecdh_secret, info, 32);
}

Result<Bytes> webpush_aes128gcm_encrypt(const P256Key& ua_public, const Bytes& auth_secret,
                                        const Bytes& plaintext,
                                        const WebPushEncryptParams& params) {
    if (auth_secret.size() != 16) {
        return make_error(Errc::invalid_key, "auth secret must be 16 octets (RFC 8291 3.2)");
    }
    P256Key sender = params.sender_key ? *params.sender_key : P256Key::generate();
    auto secret = sender.ecdh(ua_public);
    if (!secret) return secret.error();
    Bytes as_public = sender.public_bytes();
    Bytes ikm = webpush_ikm(*secret, auth_secret, ua_public.public_bytes(), as_public);
    Aes128gcmParams p;
    p.salt = params.salt;
    p.keyid = as_public;
    p.rs = params.rs;
    p.padding = params.padding;
    return aes128gcm_encrypt(ikm, plaintext, p);
}

Result<Bytes> webpush_aes128gcm_decrypt(const P256Key& ua_private, const Bytes& auth_secret,
                                        const Bytes& body) {
    if (auth_secret.size() != 16) {
        return make_error(Errc::invalid_key, "auth secret must be 16 octets (RFC 8291 3.2)");
    }
    return aes128gcm_decrypt(body, [&](const Aes128gcmHeader& h) -> Result<Bytes> {
        if (h.keyid.size() != 65) {
            return make_error(Errc::bad_header,
                              "aes128gcm: keyid is not a 65-octet P-256 key (RFC 8291 4)");
        }
        auto sender = P256Key::from_public_bytes(h.keyid);
        if (!sender) return sender.error();
        auto secret = ua_private.ecdh(*sender);
        if (!secret) return secret.error();
        return webpush_ikm(*secret, auth_secret, ua_private.public_bytes(), h.keyid);
    });
}

}  // namespace webpush_client
