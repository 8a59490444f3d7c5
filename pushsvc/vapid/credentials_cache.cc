#include "pushsvc/vapid/credentials_cache.h"

#include <functional>

#include "pushsvc/crypto/hash.h"
#include "pushsvc/vapid/token_cache.h"

namespace pushsvc::vapid {

CredentialsCache::CredentialsCache(std::size_t slots) : slots_(slots) {}

bool CredentialsCache::Entry::matches(std::string_view auth, std::optional<std::string_view> ck,
                                      const ParseOptions& o) const {
    if (auth != authorization || o.allow_bearer != opts.allow_bearer ||
        o.allow_padded_key != opts.allow_padded_key)
        return false;
    // Scheme vapid takes its key from `k` and ignores Crypto-Key (which an aesgcm push
    // varies per message); WebPush / Bearer read the key from it.
    if (parsed->creds.scheme == Scheme::vapid) return true;
    return ck.has_value() == crypto_key.has_value() && (!ck || *ck == *crypto_key);
}

result<std::shared_ptr<const ParsedCredentials>> CredentialsCache::parse(
    std::optional<std::string_view> authorization, std::optional<std::string_view> crypto_key,
    const ParseOptions& opts) {
    const bool cacheable = !slots_.empty() && authorization &&
                           authorization->size() <= kMaxCachedHeader &&
                           (!crypto_key || crypto_key->size() <= kMaxCachedHeader);
    std::size_t slot = 0;
    if (cacheable) {
        slot = std::hash<std::string_view>{}(*authorization) % slots_.size();
        std::lock_guard lk(locks_[slot % kLockGroups]);
        const auto& e = slots_[slot];
        if (e && e->matches(*authorization, crypto_key, opts)) {
            hits_.fetch_add(1, std::memory_order_relaxed);
            return e->parsed;
        }
    }
    auto creds = parse_credentials(authorization, crypto_key, opts);
    if (!creds) return creds.error();
    auto parsed = std::make_shared<ParsedCredentials>();
    parsed->key_hash = crypto::sha256(creds->key);
    parsed->token_id = TokenCache::id_of(*creds);
    parsed->creds = std::move(*creds);
    if (cacheable) {
        auto e = std::make_unique<Entry>();
        e->authorization = *authorization;
        if (crypto_key) e->crypto_key = std::string(*crypto_key);
        e->opts = opts;
        e->parsed = parsed;
        std::lock_guard lk(locks_[slot % kLockGroups]);
        slots_[slot].swap(e);  // the replaced entry is freed after the lock is released
    }
    return std::shared_ptr<const ParsedCredentials>(std::move(parsed));
}

std::uint64_t CredentialsCache::hits() const { return hits_.load(std::memory_order_relaxed); }

}  // namespace pushsvc::vapid
