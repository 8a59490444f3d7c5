#pragma once
// RocksStore's key layout (see README.md): one column family, the first byte of each key
// names its table, binary ids are length-prefixed so they never collide. Pure string
// encoding, no RocksDB; used only by rocks_store.cc and its tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/base/clock.h"

namespace pushsvc::store::keys {

// The first byte of every key names its table; see README.md for the full layout.
inline constexpr char kMetaTag = '#';          // '#' name                     -> meta value
inline constexpr char kUserAgentTag = 'u';     // 'u' uaid                     -> UserAgentRecord
inline constexpr char kSubscriptionTag = 's';  // 's' sub_id                   -> SubscriptionRecord
inline constexpr char kUaSubsTag = 'i';        // 'i' lp(uaid) sub_id          -> ""
inline constexpr char kQueueTag = 'q';         // 'q' lp(uaid) be64(seq)       -> MessageRecord
inline constexpr char kMessageIdTag = 'm';     // 'm' msg_id  -> queue key (format <= 2 ids only)
inline constexpr char kTopicTag = 't';         // 't' lp(sub_id) topic         -> msg_id
inline constexpr char kExpiryTag = 'x';        // 'x' be64(expires^bias) be64(seq) -> expiry value
inline constexpr char kSeenTag = 'a';          // 'a' kind be64(last_seen^bias) uaid -> ""

std::string tagged(char tag, std::string_view tail);
std::string lp_key(char tag, std::string_view id);
std::string queue_key(std::string_view uaid, std::uint64_t seq);
std::string topic_key(std::string_view sub_id, std::string_view topic);
// Signed times sort correctly as unsigned big-endian once the sign bit is flipped.
std::uint64_t bias(base::UnixMs t);
std::string expiry_key(base::UnixMs expires_ms, std::uint64_t seq);

// Message ids (format 3): the caller's random id followed by 16 octets that say where the
// message is: its locator, be64(expires^bias) be64(seq) (the tail of its expiry key),
// encrypted as one AES block under the store's id key (rocks_store_impl.h), so ids of
// different messages share nothing an observer could link (RFC 8030 §8.2). The expiry value
// names the queue key and holds the whole id, so an id finds its message with no index of
// its own, and only the id that was handed out (the random part included) matches.
inline constexpr std::size_t kLocatorSize = 16;
std::string id_locator(base::UnixMs expires_ms, std::uint64_t seq);
// Equal ids, in time independent of where they differ (the random part is the secret).
bool same_id(std::string_view a, std::string_view b);
bool uaid_of_queue_key(std::string_view qkey, std::string_view& uaid);
// The value of an expiry key (format 2): the queue key, be64(received_ms), then lp() of the
// message id, subscription id, topic and receipt id ("" unless the message asked for a
// receipt): all a sweep needs to remove the message and send its 410 receipt without reading
// the record, whose body sits in a blob file. Format 1 values hold the queue key alone.
struct ExpiryEntry {
    std::string_view qkey;
    std::optional<base::UnixMs> received;  // nullopt: a format-1 value, read the record
    std::string_view id, subscription_id, topic, receipt_id;
};
std::string expiry_value(std::string_view qkey, base::UnixMs received_ms, std::string_view id,
                         std::string_view subscription_id, std::string_view topic,
                         std::string_view receipt_id);
bool split_expiry_value(std::string_view value, ExpiryEntry& out);
// Index of user agents by kind and last_seen_ms (Store::idle_user_agents).
std::string seen_prefix(std::uint8_t kind);
std::string seen_key(std::uint8_t kind, base::UnixMs last_seen_ms, std::string_view uaid);
// Smallest key greater than every key starting with `prefix`; "" if there is none.
std::string successor(std::string prefix);

}  // namespace pushsvc::store::keys
