#pragma once
// Parsed VAPID credentials remembered by the exact header values they were parsed from. A
// sender reuses one Authorization value for hours (RFC 8292 §5: tokens are meant to be
// reused), and on a TokenCache hit parsing it (auth-params, the JWS alphabet check, base64 of
// the key) and hashing it (the TokenCache id, the key's SHA-256 that restricted endpoint
// tokens carry) cost more than everything else VAPID does for a push. These are pure
// functions of the header values, so a hit answers exactly what parse_credentials() and the
// digests would.
//
// Owns: a table of `slots` entries, each found by a hash of the Authorization value only
// (direct-mapped): a value that lands on an occupied slot replaces its entry, so no input
// makes a lookup cost more than one parse and a comparison (there are no chains to flood).
// Only successful parses of values up to kMaxCachedHeader octets are kept.
// Thread-safety: every member may be called from any thread at once (one mutex per group of
// slots, never held while parsing or hashing).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/vapid/credentials.h"

namespace pushsvc::vapid {

struct ParsedCredentials {
    Credentials creds;
    std::string key_hash;  // SHA-256 of creds.key
    std::string token_id;  // TokenCache::id_of(creds)
};

class CredentialsCache {
  public:
    // Header values longer than this are parsed every time (real ones are ~400 octets).
    static constexpr std::size_t kMaxCachedHeader = 2048;

    // `slots` 0: nothing is remembered.
    explicit CredentialsCache(std::size_t slots);
    CredentialsCache(const CredentialsCache&) = delete;
    CredentialsCache& operator=(const CredentialsCache&) = delete;

    // As parse_credentials(authorization, crypto_key, opts), with the digests.
    result<std::shared_ptr<const ParsedCredentials>> parse(
        std::optional<std::string_view> authorization, std::optional<std::string_view> crypto_key,
        const ParseOptions& opts);

    // Calls answered from the table, for tests.
    std::uint64_t hits() const;

  private:
    struct Entry {
        std::string authorization;
        std::optional<std::string> crypto_key;  // compared only for the WebPush scheme
        ParseOptions opts;
        std::shared_ptr<const ParsedCredentials> parsed;
        bool matches(std::string_view authorization, std::optional<std::string_view> crypto_key,
                     const ParseOptions& opts) const;
    };
    static constexpr std::size_t kLockGroups = 16;

    std::vector<std::unique_ptr<Entry>> slots_;
    mutable std::array<std::mutex, kLockGroups> locks_;
    std::atomic<std::uint64_t> hits_{0};
};

}  // namespace pushsvc::vapid
