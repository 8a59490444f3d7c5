#pragma once
// WebSocket user-agent connection speaking the push protocol of ua_protocol.h (RFC 6455
// WebSocket, subprotocol "push-notification", ws:// or wss://). Synchronous facade: a read is
// always outstanding while any call runs, so frames that arrive while waiting for a reply
// (e.g. a notification during register) are queued, never lost. The request helpers wait for
// the matching reply (by messageType and channelID) within options.timeout.
// Owns its io_context; not thread-safe (one connection per thread).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/client/client_options.h"
#include "tools/client/ua_protocol.h"

namespace webpush_client {

struct CloseInfo {
    int code = 0;  // WebSocket close code (4774: do not reconnect automatically)
    std::string reason;
};

class UaConnection {
  public:
    explicit UaConnection(ClientOptions options = {});
    ~UaConnection();
    UaConnection(const UaConnection&) = delete;
    UaConnection& operator=(const UaConnection&) = delete;

    // TCP/TLS connect + WebSocket handshake offering "push-notification".
    Result<void> connect(const std::string& url);
    bool is_open() const;
    std::string selected_protocol() const;  // Sec-WebSocket-Protocol of the handshake answer

    // Sends hello and waits for the hello reply; validates it like Firefox does.
    Result<HelloReply> hello(const std::optional<std::string>& uaid = {});
    // Sends register and waits for the reply with the same channelID; status must be 200.
    Result<RegisterReply> register_channel(const std::string& channel_id,
                                           const std::optional<Bytes>& application_server_key = {});
    Result<UnregisterReply> unregister(const std::string& channel_id, int code = 200);
    Result<void> ack(const std::vector<AckUpdate>& updates);
    Result<void> ack(const std::string& channel_id, const std::string& version, int code = 100) {
        return ack(std::vector<AckUpdate>{{channel_id, version, code}});
    }
    Result<void> nack(const std::string& version, int code);
    // Sends "{}" and waits for a pong; other frames received meanwhile are queued.
    Result<void> ping(std::optional<std::chrono::milliseconds> timeout = {});

    // Next server message not consumed by a request helper (notifications, broadcasts, ...).
    // Frames that are not JSON objects are skipped, as Firefox does.
    Result<ServerMessage> next_message(std::optional<std::chrono::milliseconds> timeout = {});
    // Next notification; other queued messages before it are dropped.
    Result<Notification> next_notification(std::optional<std::chrono::milliseconds> timeout = {});

    // Raw access for protocol tests: send any text frame / read the next unparsed frame.
    Result<void> send_text(const std::string& text);
    Result<std::string> read_text(std::optional<std::chrono::milliseconds> timeout = {});

    // Set once the server closed the connection (or it failed).
    std::optional<CloseInfo> close_info() const;
    void close(int code = 1000);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace webpush_client
