#include "pushsvc/testdouble/decrypt.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/hash.h"
#include "pushsvc/crypto/webpush_keys.h"

namespace pushsvc::testdouble {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    return std::string(s);
}

// Nonce for record `seq`: the base nonce XOR the big-endian sequence number (RFC 8188 §2.3).
std::string record_nonce(std::string nonce, std::uint64_t seq) {
    for (int i = 0; i < 8; ++i)
        nonce[nonce.size() - 1 - i] = char(nonce[nonce.size() - 1 - i] ^ ((seq >> (8 * i)) & 0xff));
    return nonce;
}

DecryptResult fail(std::string why) { return {std::nullopt, std::move(why)}; }

// RFC 8291 §3.4 + RFC 8188 §2.
DecryptResult aes128gcm(const crypto::P256PrivateKey& ua, std::string_view auth,
                        std::string_view body) {
    if (body.size() < 21) return fail("aes128gcm body shorter than its header (RFC 8188 §2.1)");
    std::string_view salt = body.substr(0, 16);
    std::uint32_t rs = (std::uint32_t(std::uint8_t(body[16])) << 24) |
                       (std::uint32_t(std::uint8_t(body[17])) << 16) |
                       (std::uint32_t(std::uint8_t(body[18])) << 8) | std::uint8_t(body[19]);
    std::size_t idlen = std::uint8_t(body[20]);
    if (rs < 18) return fail("rs below 18 (RFC 8188 §2.1)");
    if (body.size() < 21 + idlen) return fail("body shorter than the keyid");
    std::string as_pub(body.substr(21, idlen));
    if (idlen != crypto::kP256PublicSize) return fail("keyid is not a 65-octet P-256 key");
    std::string ecdh = ua.ecdh(as_pub);
    if (ecdh.empty()) return fail("keyid is not a point on P-256 (RFC 8291 §7)");
    auto [cek, nonce] = crypto::aes128gcm_keys(ecdh, auth, ua.public_raw(), as_pub, salt);
    std::string_view rest = body.substr(21 + idlen);
    if (rest.empty()) return fail("no record");
    std::string out;
    for (std::uint64_t seq = 0; !rest.empty(); ++seq) {
        std::string_view record = rest.substr(0, std::min<std::size_t>(rs, rest.size()));
        rest.remove_prefix(record.size());
        bool last = rest.empty();
        auto plain = crypto::aes_gcm_open(cek, record_nonce(nonce, seq), record);
        if (!plain) return fail("AES-GCM authentication failed (wrong keys or altered body)");
        auto pos = plain->find_last_not_of('\0');
        if (pos == std::string::npos) return fail("record without a padding delimiter");
        char delimiter = (*plain)[pos];
        if (delimiter != (last ? '\x02' : '\x01'))
            return fail(std::string("wrong padding delimiter 0x0") + char('0' + delimiter) +
                        (last ? " on the last record (RFC 8291 §4)" : " (RFC 8188 §2)"));
        out.append(*plain, 0, pos);
    }
    return {out, {}};
}

// draft-ietf-webpush-encryption-04 §3.3-§3.5, aesgcm record format (2-octet padding length).
DecryptResult aesgcm(const crypto::P256PrivateKey& ua, std::string_view auth, std::string_view body,
                     const EncodingFields& f) {
    auto salt_text = header_param(f.encryption, "salt");
    auto dh_text = header_param(f.crypto_key, "dh");
    if (!salt_text) return fail("aesgcm without Encryption: salt");
    if (!dh_text) return fail("aesgcm without Crypto-Key: dh");
    auto salt = base::base64url_decode(*salt_text);
    auto as_pub = base::base64url_decode(*dh_text);
    if (!salt || salt->size() != 16) return fail("salt is not 16 octets");
    if (!as_pub || as_pub->size() != crypto::kP256PublicSize) return fail("dh is not 65 octets");
    std::size_t rs = 4096;
    if (auto r = header_param(f.encryption, "rs")) {
        try {
            rs = std::stoul(*r);
        } catch (...) {
            return fail("rs is not a number");
        }
    }
    if (rs <= 2) return fail("rs must exceed the 2-octet padding overhead");
    std::string ecdh = ua.ecdh(*as_pub);
    if (ecdh.empty()) return fail("dh is not a point on P-256");
    std::string ikm =
        crypto::hkdf_sha256(auth, ecdh, std::string("Content-Encoding: auth") + '\0', 32);
    auto len = [](const std::string& k) { return std::string{'\0', char(k.size())}; };
    std::string context = std::string("P-256") + '\0' + len(ua.public_raw()) + ua.public_raw() +
                          len(*as_pub) + *as_pub;
    std::string cek = crypto::hkdf_sha256(
        *salt, ikm, std::string("Content-Encoding: aesgcm") + '\0' + context, 16);
    std::string nonce = crypto::hkdf_sha256(
        *salt, ikm, std::string("Content-Encoding: nonce") + '\0' + context, 12);
    std::string out;
    std::string_view rest = body;
    for (std::uint64_t seq = 0; !rest.empty(); ++seq) {
        std::string_view record = rest.substr(0, std::min(rs + 16, rest.size()));
        rest.remove_prefix(record.size());
        if (record.size() < 18) return fail("aesgcm record shorter than 18 octets");
        auto plain = crypto::aes_gcm_open(cek, record_nonce(nonce, seq), record);
        if (!plain) return fail("AES-GCM authentication failed (wrong keys or altered body)");
        std::size_t pad = (std::size_t(std::uint8_t((*plain)[0])) << 8) | std::uint8_t((*plain)[1]);
        if (2 + pad > plain->size()) return fail("padding longer than the record");
        if (plain->find_first_not_of('\0', 2) < 2 + pad) return fail("non-zero padding");
        out.append(*plain, 2 + pad, std::string::npos);
    }
    return {out, {}};
}

}  // namespace

std::optional<std::string> header_param(std::string_view header, std::string_view name) {
    std::size_t pos = 0;
    while (pos <= header.size()) {
        std::size_t end = header.find_first_of(";,", pos);
        if (end == std::string_view::npos) end = header.size();
        std::string_view item = header.substr(pos, end - pos);
        auto eq = item.find('=');
        if (eq != std::string_view::npos && lower(trim(item.substr(0, eq))) == lower(name))
            return trim(item.substr(eq + 1));
        pos = end + 1;
    }
    return std::nullopt;
}

DecryptResult decrypt(const crypto::P256PrivateKey& ua_key, std::string_view auth,
                      std::string_view body, const EncodingFields& fields) {
    if (body.empty()) return {std::string(), {}};
    std::string coding = lower(trim(fields.content_encoding));
    if (coding == "aes128gcm") return aes128gcm(ua_key, auth, body);
    if (coding == "aesgcm") return aesgcm(ua_key, auth, body, fields);
    return fail(coding.empty() ? "body without Content-Encoding (not encrypted)"
                               : "unknown content coding '" + coding + "'");
}

}  // namespace pushsvc::testdouble
