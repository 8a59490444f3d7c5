#pragma once
// What the store keeps. Plain values; serialisation is the store implementation's business.
// Ids are opaque byte strings minted by webpush/ from the CSPRNG (16 bytes); a message id may
// be extended by the store when it is enqueued (Store::enqueue).

#include <cstdint>
#include <optional>
#include <string>

#include "pushsvc/base/clock.h"

namespace pushsvc::store {

// What a queue-owning record is, which decides how long it may stay unseen before it is
// collected: a user agent (a browser over WebSocket, an RFC 8030 subscription set) after
// push.ua_idle_days, a receipt subscription (RFC 8030 §5.1) after push.max_ttl.
enum class AgentKind : std::uint8_t { user_agent = 0, receipts = 1 };

// A user agent (browser profile) or a receipt subscription: owns subscriptions; its messages
// form one queue.
struct UserAgentRecord {
    std::string uaid;
    base::UnixMs created_ms = 0;
    // When the owner last showed itself (hello, monitor, a push naming a receipt
    // subscription); written at most once per day per user agent, so it is accurate to a day.
    base::UnixMs last_seen_ms = 0;
    AgentKind kind = AgentKind::user_agent;
};

struct SubscriptionRecord {
    std::string id;              // subscription id (part of the endpoint token)
    std::string uaid;            // owning user agent
    std::string channel_id;      // WebSocket channelID (Firefox); empty for RFC 8030 subscribe
    std::string app_server_key;  // raw 65-byte P-256 key for restricted subscriptions, else ""
    base::UnixMs created_ms = 0;
};

// A stored push message (RFC 8030 §5). Urgency is 0 very-low .. 3 high.
struct MessageRecord {
    std::string id;    // message id (the message resource path segment)
    std::string uaid;  // queue it belongs to
    std::string subscription_id;
    std::uint64_t seq = 0;  // arrival order within the store; assigned by enqueue()
    // Not stored: the seq enqueue() gave the message appended to this queue just before this
    // one, where the store says (PgStore); 0 = unknown. A session that has read its queue up
    // to it takes this message from its wake-up without reading the queue (DeliveryWindow).
    std::uint64_t prev_seq = 0;
    base::UnixMs received_ms = 0;  // Last-Modified (R8030-7.2-a)
    base::UnixMs expires_ms = 0;   // received + TTL; never returned once now >= expires
    std::uint32_t ttl_s = 0;
    std::uint8_t urgency = 2;
    std::string topic;                 // "" = none
    std::string content_encoding;      // "aes128gcm", "aesgcm" or ""
    std::string encryption;            // aesgcm Encryption value as forwarded ("salt=...")
    std::string crypto_key;            // aesgcm Crypto-Key as forwarded ("dh=...")
    std::string receipt_id;            // RFC 8030 §5.1 receipt subscription, "" if none; in a
                                       // receipt record: the acknowledged message's id
    std::uint16_t receipt_status = 0;  // a receipt record (queued on a receipt subscription):
                                       // 204 acknowledged, 410 expired undelivered (§6.3)
    bool delivered = false;  // a message asking for a receipt was sent to a user agent, so its
                             // DELETE is an acknowledgement (204 receipt), not a cancel
    std::string body;        // byte-exact
};

// Cluster mode (docs/cluster.md): which pushsvc node holds a connection of a user agent (a
// WebSocket browser, an RFC 8030 monitor), so a push accepted on another node can tell that
// node to look at the queue. One per uaid; the latest connection's route replaces earlier ones.
struct RouteRecord {
    std::string node_id;  // cluster.node_id of the node holding the connection
    std::string address;  // cluster.advertise of that node: where its internal listener is
    // The connection's identity, assigned by Store::set_route: unique within the store and
    // larger for every later set_route, across nodes (no clock involved). A node clears its
    // route by this version, so an older connection's cleanup never removes a newer one's.
    std::uint64_t version = 0;
    base::UnixMs connected_ms = 0;  // since when (the node's clock; for operators)
};

// The route of a user agent as Store::enqueue() read it in the same step as the append, so the
// router needs no read of its own after a push. `read` is false when the store did not read
// it (RocksStore and MemoryStore keep routes in memory: Store::get_route costs nothing there).
struct RouteSeen {
    bool read = false;
    std::optional<RouteRecord> route;  // none: not connected anywhere
};

}  // namespace pushsvc::store
