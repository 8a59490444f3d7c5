#include "pushsvc/webpush/endpoint_codec.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/hash.h"

namespace pushsvc::webpush {
namespace {
// v1 (before issue 14): version || idlen || id || key_hash, the hash present only for
// restricted subscriptions, so the token length told restricted from unrestricted ones.
// v2: version || idlen || id || restricted flag || 32-byte field (the hash, or zeros), so
// every token of one id length has one length. v1 tokens still decode: endpoints handed out
// before the change keep working.
constexpr char kVersion1 = 1;
constexpr char kVersion2 = 2;
constexpr std::size_t kHashLen = 32;
constexpr std::string_view kAad = "pushsvc endpoint v1";
constexpr std::size_t kIvLen = 12;
constexpr std::size_t kTagLen = 16;
constexpr std::size_t kMaxTokenChars = 256;
}  // namespace

EndpointCodec::EndpointCodec(std::vector<std::string> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) throw std::invalid_argument("endpoint codec needs at least one key");
    for (const auto& k : keys_) {
        if (k.size() != 32) throw std::invalid_argument("endpoint token keys must be 32 bytes");
        openers_.push_back(std::make_shared<const crypto::AesGcmKey>(k));
    }
}

std::string EndpointCodec::encode(const EndpointToken& token) const {
    // plaintext (v2): version || idlen || id || restricted (0/1) || key_hash or 32 zeros
    const bool restricted = !token.key_hash.empty();
    if (restricted && token.key_hash.size() != kHashLen)
        throw std::invalid_argument("endpoint key hash must be 32 bytes");
    std::string plain;
    plain.push_back(kVersion2);
    plain.push_back(static_cast<char>(token.subscription_id.size()));
    plain += token.subscription_id;
    plain.push_back(restricted ? 1 : 0);
    plain += restricted ? token.key_hash : std::string(kHashLen, '\0');
    // Synthetic IV: deterministic per plaintext, distinct for distinct plaintexts.
    std::string iv = crypto::hmac_sha256(keys_.front(), plain).substr(0, kIvLen);
    return base::base64url_encode(iv + crypto::aes_gcm_seal(keys_.front(), iv, plain, kAad));
}

result<EndpointToken> EndpointCodec::decode(std::string_view text) const {
    // Decoded and opened in buffers on the stack: nothing is allocated but the token's fields.
    if (text.size() > kMaxTokenChars) return errc::token_invalid;
    std::array<char, kMaxTokenChars * 3 / 4> raw_buf;
    auto raw_size = base::base64url_decode_to(text, raw_buf);
    if (!raw_size || *raw_size < kIvLen + kTagLen + 2) return errc::token_invalid;
    const std::string_view raw(raw_buf.data(), *raw_size);
    const std::string_view iv = raw.substr(0, kIvLen);
    const std::string_view sealed = raw.substr(kIvLen);
    std::array<char, kMaxTokenChars * 3 / 4> plain_buf;
    for (const auto& key : openers_) {
        auto plain_size = key->open(iv, sealed, kAad, plain_buf);
        if (!plain_size) continue;
        const std::string_view plain(plain_buf.data(), *plain_size);
        if (plain.size() < 2) return errc::token_invalid;
        const char version = plain[0];
        std::size_t idlen = std::uint8_t(plain[1]);
        std::size_t rest = plain.size() - 2;
        if (idlen == 0 || idlen > rest) return errc::token_invalid;
        const std::string_view id = plain.substr(2, idlen);
        std::string_view tail = plain.substr(2 + idlen);
        if (version == kVersion1) {
            if (!tail.empty() && tail.size() != kHashLen) return errc::token_invalid;
            return EndpointToken{std::string(id), std::string(tail)};
        }
        if (version != kVersion2 || tail.size() != 1 + kHashLen) return errc::token_invalid;
        if (tail[0] == 0) {
            // Unrestricted: the field is padding and must be zeros (one token per id).
            if (!std::all_of(tail.begin() + 1, tail.end(), [](char c) { return c == 0; }))
                return errc::token_invalid;
            return EndpointToken{std::string(id), ""};
        }
        if (tail[0] != 1) return errc::token_invalid;
        return EndpointToken{std::string(id), std::string(tail.substr(1))};
    }
    return errc::token_invalid;
}

}  // namespace pushsvc::webpush
