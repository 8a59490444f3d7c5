#pragma once
// Frames of the WebSocket push protocol that Firefox speaks to its push service (Mozilla's
// "webpush" flavour of the SimplePush protocol, dom/push/PushServiceWebSocket.sys.mjs).
// All frames are JSON text on a WebSocket with subprotocol "push-notification".
//
// Client -> server: hello, register, unregister, ack, nack, ping ("{}"), broadcast_subscribe;
// built exactly as Firefox 153 writes them (member order, padded register key).
// Server -> client: hello, register, unregister replies, notification, broadcast, and pongs
// (a frame that is "{}", lacks messageType, or has messageType "ping"). messageType matches
// case-insensitively; unknown types parse as UnknownMessage and are ignored by callers.
// Pure functions; thread-safe.

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tools/client/base64url.h"
#include "tools/client/push_encryption.h"

namespace webpush_client {

inline constexpr char kPushSubprotocol[] = "push-notification";

// ---- client -> server ----------------------------------------------------------------------
// {"messageType":"hello","broadcasts":{},"use_webpush":true[,"uaid":"..."]}
std::string make_hello(const std::optional<std::string>& uaid = {},
                       const std::map<std::string, std::string>& broadcasts = {});
// {"channelID":"...","messageType":"register"[,"key":"<padded base64url>"]}
std::string make_register(const std::string& channel_id,
                          const std::optional<Bytes>& application_server_key = {},
                          bool pad_key = true);
// {"channelID":"...","messageType":"unregister","code":200}; 200 manual, 201 quota, 202 revoked.
std::string make_unregister(const std::string& channel_id, int code = 200);

// Ack codes: 100 delivered, 101 decryption error, 102 not delivered.
struct AckUpdate {
    std::string channel_id;
    std::string version;
    int code = 100;
};
std::string make_ack(const std::vector<AckUpdate>& updates);
// {"messageType":"nack","version":"...","code":301|302|303}
std::string make_nack(const std::string& version, int code);
std::string make_ping();  // "{}"
std::string make_broadcast_subscribe(const std::map<std::string, std::string>& broadcasts);

// Lower-case, hyphenated random (v4) UUID, the channelID form Firefox uses.
std::string make_channel_id();

// ---- server -> client ----------------------------------------------------------------------
struct HelloReply {
    std::string uaid;
    int status = 0;
    bool use_webpush = false;
    std::map<std::string, std::string> broadcasts;
};
struct RegisterReply {
    std::string channel_id;
    int status = 0;
    std::string push_endpoint;
};
struct UnregisterReply {
    std::string channel_id;
    int status = 0;
};
struct Notification {
    std::string channel_id;
    std::string version;
    std::optional<std::string> data;  // base64url of the pushed body, as sent
    bool has_headers = false;
    std::string encoding;        // headers.encoding
    std::string encryption;      // headers.encryption
    std::string crypto_key;      // headers.crypto_key
    std::string encryption_key;  // headers.encryption_key (aesgcm128, obsolete)

    EncodingHeaders encoding_headers() const { return {encoding, encryption, crypto_key}; }
    Result<Bytes> body() const;  // decoded data (empty when absent)
};
struct Broadcast {
    std::map<std::string, std::string> broadcasts;
};
struct Pong {};
struct UnknownMessage {
    std::string message_type;
    std::string text;
};

using ServerMessage = std::variant<HelloReply, RegisterReply, UnregisterReply, Notification,
                                   Broadcast, Pong, UnknownMessage>;

// Errc::invalid_json for text that is not a JSON object (Firefox ignores such frames).
Result<ServerMessage> parse_server_message(std::string_view text);

// What Firefox requires of a hello reply: uaid a non-empty string of at most 128 chars;
// use_webpush true (else it falls back to payload-less SimplePush).
Result<void> validate_hello(const HelloReply& reply);

}  // namespace webpush_client
