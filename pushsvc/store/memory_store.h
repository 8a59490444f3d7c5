#pragma once
// MemoryStore: the Store contract over std::map, for tests only (nothing survives the process).
//
// Ownership: owns all records. The clock (if given) must outlive the store; it decides what is
// expired in get_message()/delete_message(), which take no `now`. Without one, SystemClock.
// Thread-safety: every method may be called from any thread; one mutex serialises them.
// Errors: none; the result<> types exist only to honour the Store interface.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/route_table.h"
#include "pushsvc/store/store.h"

namespace pushsvc::store {

class MemoryStore final : public Store {
  public:
    explicit MemoryStore(const base::Clock* clock = nullptr);

    result<void> put_user_agent(const UserAgentRecord& ua) override;
    result<std::optional<UserAgentRecord>> get_user_agent(std::string_view uaid) override;
    result<void> delete_user_agent(std::string_view uaid) override;
    result<bool> touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) override;
    result<std::vector<std::string>> idle_user_agents(AgentKind kind, base::UnixMs seen_before,
                                                      std::size_t limit) override;

    result<void> put_subscription(const SubscriptionRecord& sub) override;
    result<std::optional<SubscriptionRecord>> get_subscription(std::string_view id) override;
    result<std::vector<SubscriptionRecord>> subscriptions_of(std::string_view uaid) override;
    result<bool> delete_subscription(std::string_view id) override;

    using Store::enqueue;
    result<std::optional<std::string>> enqueue(MessageRecord& msg, std::size_t max_queued,
                                               RouteSeen* route) override;
    result<std::vector<MessageRecord>> pending(std::string_view uaid, base::UnixMs now,
                                               std::uint64_t after_seq, std::size_t limit) override;
    result<std::size_t> queued(std::string_view uaid, std::size_t limit) override;
    result<std::optional<MessageRecord>> get_message(std::string_view id) override;
    result<void> mark_delivered(std::string_view id) override;
    result<std::optional<MessageRecord>> delete_message(std::string_view id) override;
    result<std::optional<base::UnixMs>> next_expiry() override;
    result<std::size_t> sweep_expired(base::UnixMs now, std::size_t limit,
                                      std::vector<MessageRecord>* with_receipt) override;
    result<StoreStats> stats() override;

    // Routes in memory (route_table.h says why that is enough for this store).
    result<std::uint64_t> set_route(std::string_view uaid, const RouteRecord& route) override {
        return routes_.set(uaid, route);
    }
    result<std::optional<RouteRecord>> get_route(std::string_view uaid) override {
        return routes_.get(uaid);
    }
    result<bool> clear_route(std::string_view uaid, std::uint64_t version) override {
        return routes_.clear(uaid, version);
    }

  private:
    using Queue = std::map<std::uint64_t, MessageRecord>;  // seq -> message

    // Removes one message and its index entries. Caller holds mu_.
    void erase_locked(const std::string& uaid, std::uint64_t seq);
    std::size_t queued_locked(std::string_view uaid) const;

    base::SystemClock system_clock_;
    const base::Clock& clock_;

    std::mutex mu_;
    std::uint64_t last_seq_ = 0;
    std::map<std::string, UserAgentRecord, std::less<>> uas_;
    std::map<std::string, SubscriptionRecord, std::less<>> subs_;
    std::map<std::string, Queue, std::less<>> queues_;  // uaid -> queue
    std::map<std::string, std::pair<std::string, std::uint64_t>, std::less<>>
        by_id_;  // message id -> (uaid, seq)
    std::map<std::pair<std::string, std::string>, std::string> topics_;  // (sub, topic) -> id
    RouteTable routes_;
};

}  // namespace pushsvc::store
