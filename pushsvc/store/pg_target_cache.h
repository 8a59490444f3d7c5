#pragma once
// PgStore's per-process cache behind Store::push_target() (pg_store.cc only): subscriptions and
// their owners as this process last read them, each for at most `max_age`.
//
// Why a stale answer is safe: a subscription never changes once written, only disappears;
// every append from the push path checks in the database, under the queue's lock, that its
// subscription still exists (pushsvc_append), so a push for one removed on another node gets
// 410, never a stored message. What may lag by up to `max_age` is a user agent's last_seen_ms
// (so a user agent crossing push.ua_idle_days on another node's hello answers 410 that much
// later or earlier) and a TTL-0 push, which is never stored and so never checked. Writes through
// this process forget what they change before and after the write (Bracket; a read racing the
// write may still keep the old copy, for at most `max_age`), and an append refused because its
// subscription is gone forgets it. Absence is never cached: a subscription made on another
// node a moment ago must work at once.
//
// Bounded: a map that reaches `max_entries` is emptied (a full cache only costs reads).
// Thread-safety: every method may be called from any thread (one mutex).

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pushsvc/store/store.h"

namespace pushsvc::store::pg {

class TargetCache {
  public:
    using Clock = std::chrono::steady_clock;
    TargetCache(std::chrono::milliseconds max_age, std::size_t max_entries)
        : max_age_(max_age), max_entries_(max_entries) {}

    std::optional<Store::PushTarget> get(std::string_view subscription_id) {
        if (max_age_.count() <= 0) return std::nullopt;
        const auto now = Clock::now();
        std::lock_guard lk(mu_);
        auto sub = subs_.find(subscription_id);
        if (sub == subs_.end() || sub->second.until <= now) return std::nullopt;
        auto owner = owners_.find(sub->second.value->uaid);
        if (owner == owners_.end() || owner->second.until <= now) return std::nullopt;
        return Store::PushTarget{sub->second.value, owner->second.value};
    }

    // Only targets whose owner exists are kept.
    void put(const Store::PushTarget& t) {
        if (max_age_.count() <= 0 || !t.owner) return;
        const auto until = Clock::now() + max_age_;
        std::lock_guard lk(mu_);
        keep(subs_, t.subscription->id, t.subscription, until);
        keep(owners_, t.owner->uaid, t.owner, until);
    }

    void forget_subscription(std::string_view id) {
        std::lock_guard lk(mu_);
        if (auto it = subs_.find(id); it != subs_.end()) subs_.erase(it);
    }
    void forget_user_agent(std::string_view uaid) {
        std::lock_guard lk(mu_);
        if (auto it = owners_.find(uaid); it != owners_.end()) owners_.erase(it);
    }

    // Forgets a subscription or a user agent when made and again when destroyed, around the
    // write that changes it.
    class Bracket {
      public:
        enum Kind { subscription, user_agent };
        Bracket(TargetCache& cache, Kind kind, std::string_view key)
            : cache_(cache), kind_(kind), key_(key) {
            forget();
        }
        ~Bracket() { forget(); }
        Bracket(const Bracket&) = delete;
        Bracket& operator=(const Bracket&) = delete;

      private:
        void forget() {
            kind_ == subscription ? cache_.forget_subscription(key_)
                                  : cache_.forget_user_agent(key_);
        }
        TargetCache& cache_;
        Kind kind_;
        std::string_view key_;
    };

  private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    template <class T>
    struct Entry {
        T value;
        Clock::time_point until;
    };
    template <class T>
    using Map = std::unordered_map<std::string, Entry<T>, Hash, std::equal_to<>>;

    template <class T>
    void keep(Map<T>& map, const std::string& key, const T& value, Clock::time_point until) {
        if (map.size() >= max_entries_ && !map.contains(key)) map.clear();
        map.insert_or_assign(key, Entry<T>{value, until});
    }

    const std::chrono::milliseconds max_age_;
    const std::size_t max_entries_;
    std::mutex mu_;
    Map<std::shared_ptr<const SubscriptionRecord>> subs_;
    Map<std::shared_ptr<const UserAgentRecord>> owners_;
};

}  // namespace pushsvc::store::pg
