#pragma once
// Cached queue lengths for RocksStore::queued(). The queue cap is checked on every push, and
// counting by scan reads every queued message of the user agent (values included: ~3 KB each,
// read and decompressed from SST blocks), so a growing offline queue made each push slower
// (profiled: most of the ingestion CPU). One QueueCounts per stripe; every call is made under
// that stripe's mutex, which every queue mutation of those user agents also holds, so a cached
// count is exact. Only complete counts (below the caller's limit) are cached.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pushsvc::store {

class QueueCounts {
  public:
    std::optional<std::size_t> get(std::string_view uaid) const {
        auto it = counts_.find(std::string(uaid));
        if (it == counts_.end()) return std::nullopt;
        return it->second;
    }
    void set(std::string_view uaid, std::size_t n) {
        // Bounded: dropping entries only costs a recount.
        if (counts_.size() >= kMaxEntries) counts_.clear();
        counts_[std::string(uaid)] = n;
    }
    void added(std::string_view uaid) {
        if (auto it = counts_.find(std::string(uaid)); it != counts_.end()) ++it->second;
    }
    void removed(std::string_view uaid) {
        auto it = counts_.find(std::string(uaid));
        if (it == counts_.end()) return;
        if (it->second == 0) {
            counts_.erase(it);  // cannot happen if exact; recount rather than guess
        } else {
            --it->second;
        }
    }
    void forget(std::string_view uaid) { counts_.erase(std::string(uaid)); }

  private:
    static constexpr std::size_t kMaxEntries = 4096;
    std::unordered_map<std::string, std::size_t> counts_;
};

}  // namespace pushsvc::store
