#include "tools/client/user_agent.h"

#include <algorithm>

#include "tools/client/header_params.h"

namespace webpush_client {

UserAgent::UserAgent(UaState state, ClientOptions options)
    : state_(std::move(state)), connection_(std::move(options)) {}

Result<void> UserAgent::connect(const std::string& url) {
    auto connected = connection_.connect(url);
    if (!connected) return connected;
    // Firefox sends its uaid only when it has at least one subscription.
    std::optional<std::string> uaid;
    if (!state_.uaid.empty() && !state_.channels.empty()) uaid = state_.uaid;
    auto reply = connection_.hello(uaid);
    if (!reply) return reply.error();
    dropped_ = false;
    if (reply->uaid != state_.uaid) {
        dropped_ = !state_.channels.empty();
        state_.channels.clear();
        state_.uaid = reply->uaid;
    }
    state_.server = url;
    return {};
}

Result<UaChannel> UserAgent::subscribe(const std::optional<Bytes>& application_server_key) {
    if (application_server_key) {
        auto key = P256Key::from_public_bytes(*application_server_key);
        if (!key)
            return make_error(Errc::invalid_key, "application server key: " + key.error().message);
    }
    std::string channel_id = make_channel_id();
    auto reply = connection_.register_channel(channel_id, application_server_key);
    if (!reply) return reply.error();
    UaChannel channel{channel_id, reply->push_endpoint, "",
                      application_server_key ? base64url_encode(*application_server_key) : "",
                      UserAgentKeys::generate()};
    state_.channels.push_back(channel);
    return channel;
}

Result<void> UserAgent::unsubscribe(const std::string& channel_id, int code) {
    auto& chans = state_.channels;
    chans.erase(std::remove_if(chans.begin(), chans.end(),
                               [&](const UaChannel& c) { return c.channel_id == channel_id; }),
                chans.end());
    auto reply = connection_.unregister(channel_id, code);
    if (!reply) return reply.error();
    if (reply->status != 200) {
        return make_error(Errc::protocol,
                          "unregister answered with status " + std::to_string(reply->status));
    }
    return {};
}

Result<ReceivedMessage> UserAgent::receive(std::optional<std::chrono::milliseconds> timeout,
                                           bool auto_ack) {
    auto n = connection_.next_notification(timeout);
    if (!n) return n.error();
    ReceivedMessage m;
    m.notification = std::move(*n);
    const UaChannel* channel = nullptr;
    for (const auto& c : state_.channels) {
        if (iequals(c.channel_id, m.notification.channel_id)) channel = &c;
    }
    if (!channel) {
        m.ack_code = 102;
        m.error = make_error(Errc::protocol,
                             "notification for unknown channel " + m.notification.channel_id);
    } else if (!m.notification.data) {
        m.plaintext = Bytes{};  // a "tickle": push event with null data
    } else if (!m.notification.has_headers) {
        m.plaintext = Bytes{};  // Firefox delivers an empty push when headers are missing
    } else {
        auto body = m.notification.body();
        auto plain = body ? channel->keys.decrypt(*body, m.notification.encoding_headers())
                          : Result<Bytes>(body.error());
        if (plain) {
            m.plaintext = std::move(*plain);
        } else {
            m.ack_code = 101;
            m.error = plain.error();
        }
    }
    if (auto_ack) {
        auto acked = connection_.ack(m.notification.channel_id, m.notification.version, m.ack_code);
        if (!acked) return acked.error();
    }
    return m;
}

}  // namespace webpush_client
