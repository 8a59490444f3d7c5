#include "pushsvc/webpush/channel_backend.h"

namespace pushsvc::webpush {

result<bool> ServiceChannelBackend::touch_user_agent(std::string_view uaid) {
    return service_.seen(uaid);
}

result<std::string> ServiceChannelBackend::create_user_agent() {
    store::UserAgentRecord ua{new_id(), clock_.now_ms(), clock_.now_ms()};
    if (auto r = store_.put_user_agent(ua); !r) return r.error();
    return ua.uaid;
}

result<std::vector<store::SubscriptionRecord>> ServiceChannelBackend::subscriptions(
    std::string_view uaid) {
    return store_.subscriptions_of(uaid);
}

result<Subscription> ServiceChannelBackend::subscribe(std::string_view uaid,
                                                      std::string_view channel_id,
                                                      const std::optional<std::string>& key) {
    SubscribeRequest req;
    req.uaid = std::string(uaid);
    req.channel_id = std::string(channel_id);
    req.app_server_key = key;
    return service_.subscribe(req);
}

result<bool> ServiceChannelBackend::unsubscribe(std::string_view subscription_id) {
    return store_.delete_subscription(subscription_id);
}

result<std::vector<store::MessageRecord>> ServiceChannelBackend::pending(std::string_view uaid,
                                                                         std::uint64_t after_seq,
                                                                         std::size_t limit) {
    return store_.pending(uaid, clock_.now_ms(), after_seq, limit);
}

result<bool> ServiceChannelBackend::ack(std::string_view message_id) {
    return service_.acknowledge(message_id);
}

}  // namespace pushsvc::webpush
