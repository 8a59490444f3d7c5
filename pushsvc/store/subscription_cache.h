#pragma once
// Records by id for the lookups every push makes: RocksStore::push_target() (profiled: ~8 % of
// h2c ingestion CPU as a RocksDB Get through two memtables and the L0 files), which shares the
// cached subscription and its owner (the idle check) without copying them, and
// get_subscription() / get_user_agent(), which copy. Coherent because every
// change of such a record goes through RocksStore, which calls forget() after its write; a
// miss reads the database under the shard's mutex and caches what it read before releasing
// it, so a read that raced a delete either saw the delete or is erased by the forget() that
// follows it. Bounded: a full shard starts over.

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pushsvc/base/result.h"
#include "pushsvc/store/records.h"

namespace pushsvc::store {

template <class Record>
class RecordCache {
  public:
    using Shared = std::shared_ptr<const Record>;

    // The cached record, else load() under the shard lock (cached if found); null when there
    // is no such record. Shared, not copied: the push path reads two per push.
    // `load` returns result<std::optional<Record>>.
    template <class Load>
    result<Shared> get_shared(std::string_view id, const Load& load) {
        Shard& s = shard(id);
        std::lock_guard lk(s.mu);
        if (auto it = s.records.find(id); it != s.records.end()) return it->second;
        auto loaded = load();
        if (!loaded) return loaded.error();
        if (!*loaded) return Shared();
        auto record = std::make_shared<const Record>(std::move(**loaded));
        if (s.records.size() >= kShardEntries) s.records.clear();
        s.records.emplace(std::string(id), record);
        return record;
    }
    // The same as a copy.
    template <class Load>
    result<std::optional<Record>> get(std::string_view id, const Load& load) {
        auto record = get_shared(id, load);
        if (!record) return record.error();
        if (!*record) return std::nullopt;
        return std::optional<Record>(**record);
    }

    // After a write that changed or removed subscription `id`.
    void forget(std::string_view id) {
        Shard& s = shard(id);
        std::lock_guard lk(s.mu);
        if (auto it = s.records.find(id); it != s.records.end()) s.records.erase(it);
    }

  private:
    static constexpr std::size_t kShards = 16;
    static constexpr std::size_t kShardEntries = 4096;  // ~64k records, ~16 MiB at most
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view v) const noexcept {
            return std::hash<std::string_view>{}(v);
        }
    };
    struct Shard {
        std::mutex mu;
        // Looked up by string_view, without a std::string made per lookup.
        std::unordered_map<std::string, Shared, Hash, std::equal_to<>> records;
    };
    Shard& shard(std::string_view id) {
        return shards_[std::hash<std::string_view>{}(id) % kShards];
    }
    std::array<Shard, kShards> shards_;
};

using SubscriptionCache = RecordCache<SubscriptionRecord>;
using UserAgentCache = RecordCache<UserAgentRecord>;

}  // namespace pushsvc::store
