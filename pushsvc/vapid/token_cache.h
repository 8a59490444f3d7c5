#pragma once
// A bounded cache of VAPID tokens whose signature has been verified (RFC 8292 §5: tokens are
// meant to be reused, so a push service may cache verification results; R8292-5-a).
//
// Owns: up to `capacity` entries, each the SHA-256 of (key, token) and the SignedClaims of that
// token; least recently used entries are evicted first. Storing a digest instead of the token
// keeps entries small and the hash table immune to chosen-collision flooding.
//
// Thread-safety: every member function may be called from any thread at once; one mutex guards
// the table and is never held during a signature verification.
//
// Semantics: verify() answers exactly what verify_jwt() would. Only tokens that pass every check
// are inserted. On a hit the signature is not verified again, but `exp` and `aud` are checked
// against the current request's options every time (R8292-4.2-e, R8292-4.2-f, R8292-5-a); an
// entry found expired is dropped.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pushsvc/base/result.h"
#include "pushsvc/vapid/credentials.h"
#include "pushsvc/vapid/jwt.h"

namespace pushsvc::vapid {

class TokenCache {
  public:
    // capacity 0 disables caching (every call verifies).
    explicit TokenCache(std::size_t capacity);

    TokenCache(const TokenCache&) = delete;
    TokenCache& operator=(const TokenCache&) = delete;

    // As verify_jwt(creds, opts); errc::vapid_invalid on any failure.
    result<Claims> verify(const Credentials& creds, const VerifyOptions& opts);
    // The same with the entry id computed already (`id` must be id_of(creds); a
    // CredentialsCache keeps it with the parsed header).
    result<Claims> verify(const Credentials& creds, std::string_view id, const VerifyOptions& opts);
    // The verdict alone (accept_claims()), with no claims copied out: the push path's call.
    result<void> accept(const Credentials& creds, std::string_view id, const VerifyOptions& opts);
    // The id of the entry for `creds`: SHA-256(len(key) || key || token).
    static std::string id_of(const Credentials& creds);

    std::size_t size() const;
    std::size_t capacity() const noexcept { return capacity_; }
    // Calls answered from the cache, for metrics and tests.
    std::uint64_t hits() const;

  private:
    // verify() and accept(): `check` is check_claims or accept_claims.
    template <class Check>
    auto lookup(const Credentials& creds, std::string_view id, const VerifyOptions& opts,
                Check check) -> decltype(check(SignedClaims{}, opts));

    struct Entry {
        std::string id;  // SHA-256(len(key) || key || token)
        SignedClaims claims;
    };
    using List = std::list<Entry>;
    // The id is a uniform digest already: its first 8 octets are a good hash.
    // Transparent, so a lookup by string_view allocates nothing.
    struct IdHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view id) const noexcept;
    };

    void insert(std::string id, SignedClaims claims);

    const std::size_t capacity_;
    mutable std::mutex mu_;
    List lru_;  // front = most recently used
    std::unordered_map<std::string, List::iterator, IdHash, std::equal_to<>> index_;
    std::uint64_t hits_ = 0;
};

}  // namespace pushsvc::vapid
