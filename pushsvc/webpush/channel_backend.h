#pragma once
// What the user-agent channel state machine (ua_channel.h) needs from the rest of the service:
// user agents, their subscriptions and their message queue. ServiceChannelBackend implements
// it over PushService + Store; tests may implement it over a MemoryStore the same way.
// Calls are synchronous and may block on a store write (fsync when store.sync is on).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/store/store.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::webpush {

class ChannelBackend {
  public:
    virtual ~ChannelBackend() = default;
    // The user agent if it exists and is not past its idle age; records that it was seen
    // (PushService::seen).
    virtual result<bool> touch_user_agent(std::string_view uaid) = 0;
    // A fresh user agent; returns its raw uaid.
    virtual result<std::string> create_user_agent() = 0;
    virtual result<std::vector<store::SubscriptionRecord>> subscriptions(std::string_view uaid) = 0;
    // A WebSocket subscription; `key` is the application server key as Firefox sends it
    // (base64url, padded or not) -> errc::bad_subscribe_key when invalid.
    virtual result<Subscription> subscribe(std::string_view uaid, std::string_view channel_id,
                                           const std::optional<std::string>& key) = 0;
    virtual result<bool> unsubscribe(std::string_view subscription_id) = 0;
    virtual result<std::vector<store::MessageRecord>> pending(std::string_view uaid,
                                                              std::uint64_t after_seq,
                                                              std::size_t limit) = 0;
    // Deletes exactly one message (the ack). False if it was gone already.
    virtual result<bool> ack(std::string_view message_id) = 0;
    // The push resource URL of a subscription (as handed out, R8030-6-c).
    virtual std::string endpoint_url(const store::SubscriptionRecord& sub) = 0;
    // A message was sent to a user agent: a later DELETE of it is an acknowledgement, which
    // earns a receipt when one was asked for (RFC 8030 §6.2).
    virtual void delivered(const store::MessageRecord& message) = 0;
    // Whether delivered(message) writes to the store (it records the delivery of a message
    // that asked for a receipt). Backends that cannot tell say yes.
    virtual bool delivery_writes(const store::MessageRecord& /*message*/) { return true; }
    // Whether `message` is past its TTL now: a message handed over with a wake-up (it may
    // have waited in a notification to another node) is then not sent, as pending() never
    // returns one (R8030-5.2-h).
    virtual bool expired(const store::MessageRecord& message) = 0;
    // One hello (or one new user agent) from `client` against the per-address rate limits
    // (rate_limits.h). Backends without limits (tests) allow everything.
    virtual base::Admit admit(Limited /*which*/, std::string_view /*client*/) { return {}; }
};

class ServiceChannelBackend final : public ChannelBackend {
  public:
    ServiceChannelBackend(PushService& service, store::Store& store, const base::Clock& clock)
        : service_(service), store_(store), clock_(clock) {}

    result<bool> touch_user_agent(std::string_view uaid) override;
    result<std::string> create_user_agent() override;
    result<std::vector<store::SubscriptionRecord>> subscriptions(std::string_view uaid) override;
    result<Subscription> subscribe(std::string_view uaid, std::string_view channel_id,
                                   const std::optional<std::string>& key) override;
    result<bool> unsubscribe(std::string_view subscription_id) override;
    result<std::vector<store::MessageRecord>> pending(std::string_view uaid,
                                                      std::uint64_t after_seq,
                                                      std::size_t limit) override;
    result<bool> ack(std::string_view message_id) override;
    std::string endpoint_url(const store::SubscriptionRecord& sub) override {
        return service_.endpoint_url(sub);
    }
    void delivered(const store::MessageRecord& message) override {
        service_.mark_delivered(message);
    }
    bool delivery_writes(const store::MessageRecord& message) override {
        return PushService::records_delivery(message);
    }
    bool expired(const store::MessageRecord& message) override {
        return clock_.now_ms() >= message.expires_ms;
    }
    base::Admit admit(Limited which, std::string_view client) override {
        return service_.rate_limits().take(which, client);
    }

  private:
    PushService& service_;
    store::Store& store_;
    const base::Clock& clock_;
};

}  // namespace pushsvc::webpush
