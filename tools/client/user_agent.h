#pragma once
// A simulated browser on the WebSocket push protocol, as Firefox behaves
// (PushServiceWebSocket.sys.mjs): hello with the stored uaid when it has subscriptions,
// drops its subscriptions when the server answers with a different uaid, makes a fresh
// channelID + P-256 key pair + auth secret per subscription (RFC 8291 §3.1, §3.2), decrypts
// notifications by headers.encoding and acks each one (100 delivered, 101 decryption error,
// 102 unknown channel). Its UaState can be saved and loaded to resume the same uaid.
// Not thread-safe.

#include <optional>
#include <string>

#include "tools/client/ua_connection.h"
#include "tools/client/ua_state.h"

namespace webpush_client {

struct ReceivedMessage {
    Notification notification;       // as received
    std::optional<Bytes> plaintext;  // decrypted payload (empty Bytes for a data-less push)
    std::optional<Error> error;      // why it could not be decrypted / delivered
    int ack_code = 100;
};

class UserAgent {
  public:
    explicit UserAgent(UaState state = {}, ClientOptions options = {});

    // Connects and says hello (with the stored uaid if there are stored subscriptions).
    Result<void> connect(const std::string& url);
    // True when the last hello reply carried a different uaid and the stored subscriptions
    // were dropped.
    bool subscriptions_dropped() const { return dropped_; }

    // New subscription, optionally restricted to an application server key (65 octets).
    Result<UaChannel> subscribe(const std::optional<Bytes>& application_server_key = {});
    Result<void> unsubscribe(const std::string& channel_id, int code = 200);

    // Next notification, decrypted with its channel's keys; acked unless auto_ack is false.
    Result<ReceivedMessage> receive(std::optional<std::chrono::milliseconds> timeout = {},
                                    bool auto_ack = true);

    const UaState& state() const { return state_; }
    UaConnection& connection() { return connection_; }
    void close() { connection_.close(); }

  private:
    UaState state_;
    UaConnection connection_;
    bool dropped_ = false;
};

}  // namespace webpush_client
