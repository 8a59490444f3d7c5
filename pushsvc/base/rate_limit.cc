#include "pushsvc/base/rate_limit.h"

#include <algorithm>
#include <functional>

namespace pushsvc::base {

TokenBuckets::TokenBuckets(BucketOptions options, const Clock& clock)
    : options_(options),
      clock_(clock),
      capacity_units_(std::int64_t(std::max<std::uint32_t>(options.burst, 1)) * kUnit),
      full_after_ms_(
          options.per_min == 0 ? 0 : (capacity_units_ + options.per_min - 1) / options.per_min),
      per_shard_(std::max<std::size_t>(1, (options.max_keys + kShards - 1) / kShards)) {}

TokenBuckets::Shard& TokenBuckets::shard_of(std::string_view key) {
    // Mixed again: std::hash of a string may leave the low bits of similar keys alike.
    const std::size_t h = std::hash<std::string_view>()(key);
    return shards_[((h * 0x9E3779B97F4A7C15ull) >> 59) % kShards];
}

void TokenBuckets::refill(Bucket& b, UnixMs now) const noexcept {
    if (now <= b.last_ms) {
        // Same millisecond, or the clock stepped back: nothing earned; counting restarts at
        // the new "now" so a step back does not lock the key out for the difference.
        b.last_ms = now;
        return;
    }
    const std::int64_t elapsed = now - b.last_ms;
    b.last_ms = now;
    // Below full_after_ms_ the product stays under capacity + per_min: no overflow.
    b.units = elapsed >= full_after_ms_
                  ? capacity_units_
                  : std::min(capacity_units_, b.units + elapsed * options_.per_min);
}

Admit TokenBuckets::take(std::string_view key) {
    if (unlimited()) return {};
    const UnixMs now = clock_.now_ms();
    Shard& s = shard_of(key);
    std::lock_guard lock(s.mutex);
    // Buckets at the cold end that refilled hold nothing a fresh bucket would not: dropped, a
    // couple per call, so the table shrinks back to the keys in use once a burst of new keys
    // is over.
    for (int i = 0; i < 2 && !s.lru.empty(); ++i) {
        Bucket& cold = s.lru.back();
        refill(cold, now);
        if (!full(cold)) break;
        s.index.erase(cold.key);
        s.lru.pop_back();
    }
    Bucket* b = nullptr;
    if (auto it = s.index.find(key); it != s.index.end()) {
        s.lru.splice(s.lru.begin(), s.lru, it->second);  // most recent now; iterators stay valid
        b = &*it->second;
        refill(*b, now);
    } else {
        if (s.index.size() >= per_shard_) {
            // At the bound: the least recently used key goes, whatever its state.
            s.index.erase(s.lru.back().key);
            s.lru.pop_back();
        }
        s.lru.push_front(Bucket{std::string(key), capacity_units_, now});
        b = &s.lru.front();
        s.index.emplace(b->key, s.lru.begin());
    }
    if (b->units >= kUnit) {
        b->units -= kUnit;
        return {};
    }
    const std::int64_t wait_ms = (kUnit - b->units + options_.per_min - 1) / options_.per_min;
    return {false, static_cast<std::uint32_t>(std::max<std::int64_t>(1, (wait_ms + 999) / 1000))};
}

std::size_t TokenBuckets::size() const {
    std::size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s.mutex);
        n += s.index.size();
    }
    return n;
}

}  // namespace pushsvc::base
