#pragma once
// The simulated user agent the scenarios observe delivery with. Two kinds, chosen by --ua:
//   websocket  the WebSocket push protocol browsers speak (as Firefox does): register
//              gives the endpoint; stored messages arrive after hello.
//   rfc8030    RFC 8030 §4 subscribe + §6 monitoring: HTTP/2 GET on the subscription resource,
//              messages as server pushes; drain() sends `Prefer: wait=0`.
// Both keep the UA's private keys (RFC 8291 §3.1, §3.2) and decrypt what arrives.
// Not thread-safe.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/client/client_options.h"
#include "tools/client/http_message.h"
#include "tools/client/p256_key.h"
#include "tools/client/subscription.h"
#include "tools/client/user_agent_keys.h"

namespace conformance {

class Context;

struct UaSubscription {
    int handle = 0;                // driver's own id
    std::string push_url;          // endpoint (Link rel="urn:ietf:params:push" / pushEndpoint)
    std::string subscription_url;  // RFC 8030 resource; "" for WebSocket
    std::string channel_id;        // WebSocket channel; "" for RFC 8030
    std::optional<webpush_client::P256Key> restricted_to;
    std::shared_ptr<webpush_client::UserAgentKeys> keys;  // null when the target made the keys
    std::optional<webpush_client::Subscription> browser;  // then: what the target handed out
};

// One delivered message as the UA saw it.
struct Delivered {
    std::string id;  // RFC 8030: pushed :path (message resource); WebSocket: version
    webpush_client::Headers headers;  // pushed response headers, or the notification headers
    std::string body;
    std::optional<std::string> plaintext;  // decrypted ("" for a body-less push)
    std::string decrypt_error;
    int status = 200;  // pushed response status (RFC 8030)
    bool raw = true;   // body and headers observed (false: only the plaintext is known)
};

struct DrainOptions {
    std::optional<std::string> urgency;  // RFC 8030 §5.3 threshold on the monitoring request
    bool ack = true;                     // acknowledge what arrives (RFC 8030 §6.2)
};

class UaDriver {
  public:
    virtual ~UaDriver() = default;
    virtual std::string_view name() const = 0;
    virtual webpush_client::Result<UaSubscription> subscribe(
        const std::optional<webpush_client::P256Key>& key) = 0;
    // Every message available now (store-and-forward), then the UA goes offline again.
    virtual webpush_client::Result<std::vector<Delivered>> drain(const UaSubscription& sub,
                                                                 const DrainOptions& options) = 0;
    // Connects and stays online so messages (including TTL 0) arrive at once.
    virtual webpush_client::Result<void> go_online(const UaSubscription& sub) = 0;
    virtual webpush_client::Result<Delivered> next(const UaSubscription& sub,
                                                   std::chrono::milliseconds timeout) = 0;
    virtual void go_offline(const UaSubscription& sub) = 0;
};

std::unique_ptr<UaDriver> make_websocket_driver(Context& ctx);
std::unique_ptr<UaDriver> make_rfc8030_driver(Context& ctx);
// npm web-push-testing's subscribe / get-notifications API (wpt_driver.cc).
std::unique_ptr<UaDriver> make_web_push_testing_driver(Context& ctx);

// Decrypts a delivered body with the subscription's keys (both codings).
void decrypt_into(const UaSubscription& sub, Delivered& d);

}  // namespace conformance
