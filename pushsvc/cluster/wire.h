#pragma once
// What one pushsvc node tells another over the internal listener (cluster.listen,
// docs/cluster.md), and how the request is authenticated. Pure functions, no I/O; used by the
// sending side (peer_client.h) and the receiving side (internal_api.h), and by tests.
//
//   POST /_cluster/v1/notify HTTP/1.1
//   authorization: PushsvcCluster t=<unix ms>, mac=<base64url HMAC-SHA-256>
//   content-type: application/json
//
//   {"to": "<node id>", "from": "<node id>",
//    "events": [{"kind": "wake", "uaid": "<b64url>"},
//               {"kind": "wake", "uaid": "<b64url>", "message": "<b64url record>",
//                "prev": <seq>},
//               {"kind": "direct", "uaid": "<b64url>", "message": "<b64url record>"},
//               {"kind": "acked", "uaid": "<b64url>", "id": "<b64url message id>"},
//               {"kind": "removed", "uaid": "<b64url>", "id": "<b64url subscription id>"}]}
//
// answered 200 {"absent": [i, ...]}: the indexes of the events whose user agent the node does
// not hold (their routes are stale). The MAC covers the timestamp, the method, the path and
// the body, under cluster.secret: the secret never crosses the network, a request cannot be
// altered, and one captured is refused once it is kReplayWindowMs old (replaying it sooner
// wakes user agents to read their queues again, and delivers a `direct` TTL-0 message once
// more to a browser still connected: no nonce is kept, SECURITY.md).
//
// Thread-safety: stateless.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/store/records.h"

namespace pushsvc::cluster {

inline constexpr std::string_view kNotifyPath = "/_cluster/v1/notify";
inline constexpr std::string_view kAuthScheme = "PushsvcCluster";
// How far a request's timestamp may be from the receiver's clock (either way): generous for
// clocks kept by NTP, short enough that a captured request soon stops working.
inline constexpr std::int64_t kReplayWindowMs = 300'000;

// One thing the node holding a user agent should do for it, exactly what the hub does for a
// local session (delivery/hub.h).
struct Event {
    enum class Kind {
        wake,     // a message was stored: read the queue, or take `message` if it follows
                  // what a session read (when the store named its prev_seq)
        direct,   // a TTL-0 message, never stored: deliver `message` now if connected
        acked,    // message `id` was deleted through its resource (ack or cancel)
        removed,  // subscription `id` ("" = the whole user agent) was removed
    };
    Kind kind = Kind::wake;
    std::string uaid;
    std::string id;
    std::shared_ptr<const store::MessageRecord> message;  // direct; wake (optional)
};

struct Notification {
    std::string to;    // the receiving node's cluster.node_id: an address taken over by another
                       // node answers every event absent
    std::string from;  // the sender's cluster.node_id (for logs)
    std::vector<Event> events;
};

std::string encode(const Notification& n);
// nullopt for anything but a well-formed notification (unknown kinds, bad base64url, a
// direct event without a decodable message).
std::optional<Notification> decode(std::string_view body);

std::string encode_absent(const std::vector<std::size_t>& absent);
// The absent indexes, each below `events`; nullopt when the body is not such an answer.
std::optional<std::vector<std::size_t>> decode_absent(std::string_view body, std::size_t events);

// The Authorization value for a request made at `now_ms`.
std::string sign(std::string_view secret, std::int64_t now_ms, std::string_view method,
                 std::string_view path, std::string_view body);

enum class AuthResult { ok, missing, invalid };
// Checks an Authorization value (nullopt: no header) in constant time: `missing` when there
// is none or it is another scheme, `invalid` for a wrong MAC or a timestamp outside
// kReplayWindowMs of `now_ms`.
AuthResult verify(std::string_view secret, const std::optional<std::string>& authorization,
                  std::int64_t now_ms, std::string_view method, std::string_view path,
                  std::string_view body);

}  // namespace pushsvc::cluster
