#include "pushsvc/vapid/token_cache.h"

#include <algorithm>
#include <cstring>

#include "pushsvc/crypto/hash.h"

namespace pushsvc::vapid {

std::size_t TokenCache::IdHash::operator()(std::string_view id) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, id.data(), std::min(sizeof h, id.size()));
    return h;
}

TokenCache::TokenCache(std::size_t capacity) : capacity_(capacity) {}

std::string TokenCache::id_of(const Credentials& creds) {
    // Length-prefix the key so (key, token) pairs cannot run into each other.
    std::string input;
    input.reserve(8 + creds.key.size() + creds.token.size());
    const std::uint64_t key_len = creds.key.size();
    for (int i = 0; i < 8; ++i) input.push_back(static_cast<char>((key_len >> (8 * i)) & 0xff));
    input += creds.key;
    input += creds.token;
    return crypto::sha256(input);
}

result<Claims> TokenCache::verify(const Credentials& creds, const VerifyOptions& opts) {
    if (capacity_ == 0) return verify_jwt(creds, opts);
    return verify(creds, id_of(creds), opts);
}

template <class Check>
auto TokenCache::lookup(const Credentials& creds, std::string_view id, const VerifyOptions& opts,
                        Check check) -> decltype(check(SignedClaims{}, opts)) {
    if (capacity_ == 0) {
        auto signed_claims = verify_signature(creds);
        if (!signed_claims) return signed_claims.error();
        return check(*signed_claims, opts);
    }
    if (creds.token.size() > kMaxTokenSize) return make_error_code(errc::vapid_invalid);

    {
        // A hit is checked in place (a few comparisons), not copied out first: that copy was
        // three allocations per push.
        std::lock_guard lock(mu_);
        if (auto it = index_.find(id); it != index_.end()) {
            ++hits_;
            const auto entry = it->second;
            auto claims = check(entry->claims, opts);
            if (!claims && opts.now_ms > entry->claims.exp * 1000) {
                // Expired for good: nothing later can accept it.
                index_.erase(it);
                lru_.erase(entry);
            } else {
                lru_.splice(lru_.begin(), lru_, entry);
            }
            return claims;
        }
    }

    // Miss: the expensive verification runs without the lock.
    auto signed_claims = verify_signature(creds);
    if (!signed_claims) return signed_claims.error();
    auto claims = check(*signed_claims, opts);
    if (claims) insert(std::string(id), std::move(*signed_claims));
    return claims;
}

result<Claims> TokenCache::verify(const Credentials& creds, std::string_view id,
                                  const VerifyOptions& opts) {
    return lookup(creds, id, opts, check_claims);
}

result<void> TokenCache::accept(const Credentials& creds, std::string_view id,
                                const VerifyOptions& opts) {
    return lookup(creds, id, opts, accept_claims);
}

void TokenCache::insert(std::string id, SignedClaims claims) {
    std::lock_guard lock(mu_);
    if (index_.count(id) != 0) return;  // another thread verified the same token meanwhile
    lru_.push_front(Entry{std::move(id), std::move(claims)});
    index_.emplace(lru_.front().id, lru_.begin());
    while (lru_.size() > capacity_) {
        index_.erase(lru_.back().id);
        lru_.pop_back();
    }
}

std::size_t TokenCache::size() const {
    std::lock_guard lock(mu_);
    return lru_.size();
}

std::uint64_t TokenCache::hits() const {
    std::lock_guard lock(mu_);
    return hits_;
}

}  // namespace pushsvc::vapid
