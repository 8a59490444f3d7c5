#pragma once
// A Store that hands every call to another store: tests derive from it and override only the
// calls they fault or count (a failing-over database, a store call that throws). The calls with
// a default in Store (push_target, enqueue_batch) keep it, so they go through the overrides.

#include "pushsvc/store/store.h"

namespace pushsvc::testing {

class ForwardingStore : public store::Store {
  public:
    explicit ForwardingStore(store::Store& inner) : inner_(inner) {}

    result<void> put_user_agent(const store::UserAgentRecord& ua) override {
        return inner_.put_user_agent(ua);
    }
    result<std::optional<store::UserAgentRecord>> get_user_agent(std::string_view id) override {
        return inner_.get_user_agent(id);
    }
    result<void> delete_user_agent(std::string_view id) override {
        return inner_.delete_user_agent(id);
    }
    result<bool> touch_user_agent(std::string_view id, base::UnixMs t) override {
        return inner_.touch_user_agent(id, t);
    }
    result<std::vector<std::string>> idle_user_agents(store::AgentKind k, base::UnixMs t,
                                                      std::size_t n) override {
        return inner_.idle_user_agents(k, t, n);
    }
    result<void> put_subscription(const store::SubscriptionRecord& s) override {
        return inner_.put_subscription(s);
    }
    result<std::optional<store::SubscriptionRecord>> get_subscription(
        std::string_view id) override {
        return inner_.get_subscription(id);
    }
    result<std::vector<store::SubscriptionRecord>> subscriptions_of(std::string_view id) override {
        return inner_.subscriptions_of(id);
    }
    result<bool> delete_subscription(std::string_view id) override {
        return inner_.delete_subscription(id);
    }
    using store::Store::enqueue;
    result<std::optional<std::string>> enqueue(store::MessageRecord& m, std::size_t cap,
                                               store::RouteSeen* route) override {
        return inner_.enqueue(m, cap, route);
    }
    result<std::vector<store::MessageRecord>> pending(std::string_view id, base::UnixMs now,
                                                      std::uint64_t after, std::size_t n) override {
        return inner_.pending(id, now, after, n);
    }
    result<std::size_t> queued(std::string_view id, std::size_t n) override {
        return inner_.queued(id, n);
    }
    result<std::optional<store::MessageRecord>> get_message(std::string_view id) override {
        return inner_.get_message(id);
    }
    result<void> mark_delivered(std::string_view id) override { return inner_.mark_delivered(id); }
    result<std::optional<store::MessageRecord>> delete_message(std::string_view id) override {
        return inner_.delete_message(id);
    }
    result<std::optional<base::UnixMs>> next_expiry() override { return inner_.next_expiry(); }
    result<std::size_t> sweep_expired(base::UnixMs now, std::size_t n,
                                      std::vector<store::MessageRecord>* r) override {
        return inner_.sweep_expired(now, n, r);
    }
    result<std::uint64_t> set_route(std::string_view uaid, const store::RouteRecord& r) override {
        return inner_.set_route(uaid, r);
    }
    result<std::optional<store::RouteRecord>> get_route(std::string_view uaid) override {
        return inner_.get_route(uaid);
    }
    result<bool> clear_route(std::string_view uaid, std::uint64_t version) override {
        return inner_.clear_route(uaid, version);
    }
    result<store::StoreStats> stats() override { return inner_.stats(); }

  private:
    store::Store& inner_;
};

}  // namespace pushsvc::testing
