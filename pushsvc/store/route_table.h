#pragma once
// RouteTable: the routes of Store (set_route, get_route, clear_route) in memory, for the
// stores that belong to one process: MemoryStore, and RocksStore, whose database no other
// node can read. Nothing is lost by not persisting them: after a restart no connection of the
// old process exists, so every route it had written would be stale.
//
// Thread-safety: every method may be called from any thread; one mutex serialises them, so
// versions grow in the order of the calls and set_route never loses to an older version.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/store/records.h"

namespace pushsvc::store {

class RouteTable {
  public:
    std::uint64_t set(std::string_view uaid, const RouteRecord& route) {
        std::lock_guard lk(mu_);
        RouteRecord r = route;
        r.version = ++last_version_;
        auto it = routes_.find(uaid);
        // A connection that attached later on another node keeps its route (Store::set_route).
        if (it != routes_.end() && it->second.node_id != route.node_id &&
            it->second.connected_ms > route.connected_ms)
            return 0;
        routes_.insert_or_assign(std::string(uaid), std::move(r));
        return last_version_;
    }

    std::optional<RouteRecord> get(std::string_view uaid) const {
        std::lock_guard lk(mu_);
        auto it = routes_.find(uaid);
        if (it == routes_.end()) return std::nullopt;
        return it->second;
    }

    bool clear(std::string_view uaid, std::uint64_t version) {
        std::lock_guard lk(mu_);
        auto it = routes_.find(uaid);
        if (it == routes_.end() || it->second.version != version) return false;
        routes_.erase(it);
        return true;
    }

  private:
    mutable std::mutex mu_;
    std::uint64_t last_version_ = 0;
    std::map<std::string, RouteRecord, std::less<>> routes_;
};

}  // namespace pushsvc::store
