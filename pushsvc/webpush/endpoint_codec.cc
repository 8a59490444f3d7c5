#include "pushsvc/webpush/endpoint_codec.h"

#include <stdexcept>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/aes_gcm.h"
#include "pushsvc/crypto/hash.h"

namespace pushsvc::webpush {
namespace {
constexpr char kVersion = 1;
constexpr std::string_view kAad = "pushsvc endpoint v1";
constexpr std::size_t kIvLen = 12;
constexpr std::size_t kTagLen = 16;
constexpr std::size_t kMaxTokenChars = 256;
}  // namespace

EndpointCodec::EndpointCodec(std::vector<std::string> keys) : keys_(std::move(keys)) {
    if (keys_.empty()) throw std::invalid_argument("endpoint codec needs at least one key");
    for (const auto& k : keys_)
        if (k.size() != 32) throw std::invalid_argument("endpoint token keys must be 32 bytes");
}

std::string EndpointCodec::encode(const EndpointToken& token) const {
    // plaintext: version || idlen || id || key_hash (0 or 32 bytes)
    std::string plain;
    plain.push_back(kVersion);
    plain.push_back(static_cast<char>(token.subscription_id.size()));
    plain += token.subscription_id;
    plain += token.key_hash;
    // Synthetic IV: deterministic per plaintext, distinct for distinct plaintexts.
    std::string iv = crypto::hmac_sha256(keys_.front(), plain).substr(0, kIvLen);
    return base::base64url_encode(iv + crypto::aes_gcm_seal(keys_.front(), iv, plain, kAad));
}

result<EndpointToken> EndpointCodec::decode(std::string_view text) const {
    if (text.size() > kMaxTokenChars) return errc::token_invalid;
    auto raw = base::base64url_decode(text);
    if (!raw || raw->size() < kIvLen + kTagLen + 2) return errc::token_invalid;
    std::string_view iv = std::string_view(*raw).substr(0, kIvLen);
    std::string_view sealed = std::string_view(*raw).substr(kIvLen);
    for (const auto& key : keys_) {
        auto plain = crypto::aes_gcm_open(key, iv, sealed, kAad);
        if (!plain) continue;
        if (plain->size() < 2 || (*plain)[0] != kVersion) return errc::token_invalid;
        std::size_t idlen = std::uint8_t((*plain)[1]);
        std::size_t rest = plain->size() - 2;
        if (idlen == 0 || idlen > rest || (rest - idlen != 0 && rest - idlen != 32))
            return errc::token_invalid;
        return EndpointToken{plain->substr(2, idlen), plain->substr(2 + idlen)};
    }
    return errc::token_invalid;
}

}  // namespace pushsvc::webpush
