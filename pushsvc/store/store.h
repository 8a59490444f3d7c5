#pragma once
// Store: durable state of the push service. Implementations: RocksStore (default, RocksDB) and
// MemoryStore (tests only). All methods are thread-safe and synchronous; with `sync = true`
// a write returns after fsync, so callers on network threads hand writes to the store's own
// executor (see app/).
//
// Errors: errc::store_failure for I/O or corruption; "absent" is an empty optional, not an
// error.

#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/store/records.h"

namespace pushsvc::store {

class Store {
  public:
    virtual ~Store() = default;

    // --- user agents and subscriptions ---
    virtual result<void> put_user_agent(const UserAgentRecord& ua) = 0;
    virtual result<std::optional<UserAgentRecord>> get_user_agent(std::string_view uaid) = 0;
    // Removes the user agent, all its subscriptions and all its queued messages.
    virtual result<void> delete_user_agent(std::string_view uaid) = 0;

    virtual result<void> put_subscription(const SubscriptionRecord& sub) = 0;
    virtual result<std::optional<SubscriptionRecord>> get_subscription(std::string_view id) = 0;
    virtual result<std::vector<SubscriptionRecord>> subscriptions_of(std::string_view uaid) = 0;
    // Removes the subscription and its queued messages. Returns false if it did not exist.
    virtual result<bool> delete_subscription(std::string_view id) = 0;

    // --- messages ---
    static constexpr std::size_t kNoQueueCap = std::numeric_limits<std::size_t>::max();

    // Appends to the owner's queue, assigning msg.seq (monotonic across the store). When
    // msg.topic is set, an undelivered message of the same subscription with the same topic is
    // removed in the same atomic write (RFC 8030 §5.4); its id is returned so callers can
    // suppress its receipt. The message is in the WAL when this returns.
    // When the user agent's queue already holds `max_queued` messages (expired ones not yet
    // swept included), nothing is written and the error is errc::too_many_requests; a Topic
    // replacement counts too. The count and the append are one step for all writers of the
    // queue, so concurrent senders cannot overshoot the cap.
    virtual result<std::optional<std::string>> enqueue(MessageRecord& msg,
                                                       std::size_t max_queued) = 0;
    result<std::optional<std::string>> enqueue(MessageRecord& msg) {
        return enqueue(msg, kNoQueueCap);
    }

    // Unexpired messages of a user agent in arrival order with seq > after_seq, at most
    // `limit`.
    virtual result<std::vector<MessageRecord>> pending(std::string_view uaid, base::UnixMs now,
                                                       std::uint64_t after_seq,
                                                       std::size_t limit) = 0;

    // How many messages are queued for a user agent (expired ones not yet swept included),
    // counting no further than `limit`: enough to enforce a queue cap without reading it all.
    virtual result<std::size_t> queued(std::string_view uaid, std::size_t limit) = 0;

    virtual result<std::optional<MessageRecord>> get_message(std::string_view id) = 0;

    // Records durably that message `id` was sent to a user agent (MessageRecord::delivered);
    // nothing happens if it is gone.
    virtual result<void> mark_delivered(std::string_view id) = 0;

    // Removes exactly one message and returns it without its body; nullopt if it did not exist
    // (already acked, replaced, cancelled or swept) or had expired (it is removed then too).
    virtual result<std::optional<MessageRecord>> delete_message(std::string_view id) = 0;

    // Deletes messages whose expires_ms <= now; returns how many. Reclaims their space. When
    // `with_receipt` is given, the swept messages that asked for a receipt are appended to it
    // (without their bodies), so a failure receipt can be sent (RFC 8030 §6.3).
    virtual result<std::size_t> sweep_expired(base::UnixMs now,
                                              std::vector<MessageRecord>* with_receipt) = 0;
};

}  // namespace pushsvc::store
