#pragma once
// In-service user agents of the test double: subscriptions whose browser side lives inside
// pushsvc. The service generates the UA's P-256 key pair and 16-octet auth secret (RFC 8291
// §3.1, §3.2), hands out the browser-format subscription JSON (PushSubscription.toJSON()), and
// records every message delivered to it: headers, raw body, decrypted plaintext (aes128gcm and
// aesgcm, decrypt.h), TTL-0 messages included (they are delivered because these agents are
// always online, RFC 8030 §5.2).
//
// Each agent is its own user agent (uaid) attached to the delivery hub as a Target; stored
// messages are drained from the store and acknowledged like a WebSocket UA would (RFC 8030
// §6.2), synchronously inside wake(), so a message is recorded before its push is answered.
// Thread-safe: every method may be called from any thread; one mutex guards the records and is
// never held while calling the push service or the store.

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/store/store.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::testdouble {

struct RecordedMessage {
    base::UnixMs received_ms = 0;
    std::string message_id;  // base64url, the message resource's last segment
    std::uint32_t ttl = 0;
    std::string urgency;  // very-low | low | normal | high
    std::string topic;
    std::string content_encoding, encryption, crypto_key;
    std::string body;
    std::optional<std::string> plaintext;
    std::string decrypt_error;
};

class InServiceAgents {
  public:
    InServiceAgents(webpush::PushService& service, store::Store& store, delivery::Hub& hub,
                    const base::Clock& clock);
    ~InServiceAgents();

    struct Created {
        std::string id;               // the control API's name for it (base64url)
        boost::json::object browser;  // {"endpoint", "expirationTime", "keys": {p256dh, auth}}
    };
    // `app_server_key`: base64url P-256 key for a restricted subscription (RFC 8292 §4), or "".
    result<Created> create(const std::string& app_server_key);

    bool exists(const std::string& id) const;
    // The endpoint (push resource URL) of an agent's subscription.
    std::optional<std::string> endpoint(const std::string& id) const;
    // Drains anything stored, then returns the records (nullopt: unknown id).
    std::optional<std::vector<RecordedMessage>> messages(const std::string& id);
    bool clear_messages(const std::string& id);
    // Removes the subscription from the service (next push: 410 compat / 404 strict); the
    // records stay readable. False for an unknown id.
    bool expire(const std::string& id);
    // expire() and forget the records.
    bool remove(const std::string& id);
    void remove_all();
    std::vector<std::string> ids() const;

    // Delivery entry points (called by the hub Target).
    void deliver_direct(const std::string& uaid, const store::MessageRecord& message);
    void drain(const std::string& uaid);

  private:
    struct Agent;
    std::shared_ptr<Agent> find(const std::string& id) const;
    std::shared_ptr<Agent> find_by_uaid(const std::string& uaid) const;
    void record(Agent& agent, const store::MessageRecord& message);

    webpush::PushService& service_;
    store::Store& store_;
    delivery::Hub& hub_;
    const base::Clock& clock_;
    mutable std::mutex mu_;
    std::map<std::string, std::shared_ptr<Agent>> by_id_;
    std::map<std::string, std::shared_ptr<Agent>> by_uaid_;
};

boost::json::object to_json(const RecordedMessage& m);

}  // namespace pushsvc::testdouble
