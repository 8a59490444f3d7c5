#pragma once
// TokenBuckets: one token bucket per key (a sender's VAPID key, a client address), the rate
// limits of RFC 8030 §8.4 and of the abuse limits in docs/limits.md. A bucket holds up to
// `burst` tokens and gains `per_min` a minute; each request takes one, and a request finding the
// bucket empty is refused with the number of seconds until a token is there (Retry-After).
//
// Time is the service clock (base::Clock), not steady_clock, so the test double's clock moves
// refill buckets in tests without sleeping; a clock that steps back refills nothing and
// restarts the count from the new "now".
//
// Memory is bounded: at most `max_keys` buckets are kept (spread over shards). A full bucket
// is the same as no bucket, so idle keys whose buckets refilled are dropped as they are met
// at the cold end of each shard's LRU order, and when a shard is at its share of `max_keys`
// the least recently used key is dropped to make room. An attacker rotating keys or addresses
// therefore cannot grow the table; the worst it gets is the bucket of a key it pushed out of
// the table starting full again, which is no more than the new keys it uses give it anyway.
//
// Thread-safe: keys are spread over shards, each under its own mutex, so network threads on
// several cores rarely contend.

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pushsvc/base/clock.h"

namespace pushsvc::base {

struct BucketOptions {
    // Tokens gained per minute (per minute, not second, so slow limits such as new user agents
    // per address can say "one every 30 s"); 0 = unlimited (nothing is tracked).
    std::uint32_t per_min = 0;
    std::uint32_t burst = 1;  // bucket size: requests allowed at once after a quiet time
    std::size_t max_keys = 100'000;
};

// The answer to one request.
struct Admit {
    bool allowed = true;
    std::uint32_t retry_after_s = 0;  // when refused: seconds until a token is there (>= 1)
    explicit operator bool() const noexcept { return allowed; }
};

class TokenBuckets {
  public:
    TokenBuckets(BucketOptions options, const Clock& clock);
    TokenBuckets(const TokenBuckets&) = delete;
    TokenBuckets& operator=(const TokenBuckets&) = delete;

    // Takes one token from `key`'s bucket.
    Admit take(std::string_view key);

    bool unlimited() const noexcept { return options_.per_min == 0; }
    // Buckets held now (all shards).
    std::size_t size() const;
    // The most buckets ever held at once: at most max_keys rounded up to the shard count.
    std::size_t capacity() const noexcept { return per_shard_ * kShards; }

  private:
    // Tokens are counted in 1/60000ths, so a bucket refills exactly per millisecond of the
    // clock: per_min units a millisecond.
    static constexpr std::int64_t kUnit = 60'000;
    static constexpr std::size_t kShards = 16;
    struct Bucket {
        std::string key;
        std::int64_t units;
        UnixMs last_ms;
    };
    struct Shard {
        mutable std::mutex mutex;
        std::list<Bucket> lru;  // front: most recently used
        std::unordered_map<std::string_view, std::list<Bucket>::iterator> index;
    };

    // Refills `b` up to `now`.
    void refill(Bucket& b, UnixMs now) const noexcept;
    bool full(const Bucket& b) const noexcept { return b.units >= capacity_units_; }
    Shard& shard_of(std::string_view key);

    const BucketOptions options_;
    const Clock& clock_;
    const std::int64_t capacity_units_;
    const std::int64_t full_after_ms_;  // an empty bucket is full after this long
    const std::size_t per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace pushsvc::base
