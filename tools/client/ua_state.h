#pragma once
// Persistent state of a simulated user agent: its uaid (WebSocket protocol) and, per
// subscription, the channel id, endpoint, RFC 8030 subscription resource, application server
// key and the private UA keys (RFC 8291 §3.1, §3.2). Stored as JSON so a reconnect can resume
// the same uaid and still decrypt (offline delivery tests). Holds secrets: files are written
// with mode 0600. Value type.

#include <optional>
#include <string>
#include <vector>

#include "tools/client/user_agent_keys.h"

namespace webpush_client {

struct UaChannel {
    std::string channel_id;        // WebSocket channelID (empty for RFC 8030 subscriptions)
    std::string endpoint;          // push resource / pushEndpoint
    std::string subscription_url;  // RFC 8030 subscription resource (empty for WebSocket)
    std::string app_server_key;    // base64url, empty when unrestricted
    UserAgentKeys keys;

    Subscription subscription() const { return keys.subscription(endpoint); }
};

struct UaState {
    std::string uaid;
    std::string server;
    std::vector<UaChannel> channels;

    const UaChannel* find(std::string_view channel_id) const;

    std::string to_json() const;
    static Result<UaState> from_json(std::string_view text);
    static Result<UaState> load(const std::string& path);
    Result<void> save(const std::string& path) const;  // atomic replace, mode 0600
};

}  // namespace webpush_client
