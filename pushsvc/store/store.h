#pragma once
// Store: durable state of the push service. Implementations: RocksStore (default, RocksDB),
// PgStore (PostgreSQL, shared by the nodes of a cluster) and MemoryStore (tests only). All methods
// are thread-safe and synchronous; with `sync = true` a write returns after fsync, so callers on
// network threads hand writes to the store's own executor (see app/).
//
// Errors: errc::store_failure for I/O or corruption; "absent" is an empty optional, not an
// error.

#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/store/records.h"

namespace pushsvc::store {

// What an operator watches (GET /metrics): computed by Store::stats().
struct StoreStats {
    std::uint64_t queued_messages = 0;  // expired ones not yet swept included
    std::uint64_t user_agents = 0;
    std::uint64_t receipt_subscriptions = 0;
    std::uint64_t disk_bytes = 0;  // everything under the store's folder (0: not on disk)
    // Arrival time of the oldest queued message; nullopt when nothing is queued.
    std::optional<base::UnixMs> oldest_received_ms;
};

class Store {
  public:
    virtual ~Store() = default;

    // --- user agents and subscriptions ---
    // Creates or replaces a user agent record (last_seen_ms included: it is how "seen" is
    // recorded, so callers write it sparingly).
    virtual result<void> put_user_agent(const UserAgentRecord& ua) = 0;
    virtual result<std::optional<UserAgentRecord>> get_user_agent(std::string_view uaid) = 0;
    // Removes the user agent, all its subscriptions and all its queued messages.
    virtual result<void> delete_user_agent(std::string_view uaid) = 0;
    // Records that the user agent was seen; false (and nothing written) if it does not exist,
    // so a record deleted since it was read is not brought back.
    virtual result<bool> touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) = 0;
    // User agents of `kind` whose last_seen_ms < seen_before, least recently seen first, at
    // most `limit`: the candidates for collection (push.ua_idle_days, receipt expiry).
    virtual result<std::vector<std::string>> idle_user_agents(AgentKind kind,
                                                              base::UnixMs seen_before,
                                                              std::size_t limit) = 0;

    virtual result<void> put_subscription(const SubscriptionRecord& sub) = 0;
    virtual result<std::optional<SubscriptionRecord>> get_subscription(std::string_view id) = 0;
    // The subscription and its owner, for the push path. Exact by default (get_subscription
    // and get_user_agent). A store shared by several processes (PgStore) may answer from a
    // per-process cache that lags other processes' writes by a bounded time; its enqueue()
    // then checks in the same atomic step that the subscription still exists.
    // Shared and read-only, so that a store with a cache hands out what it holds without a copy
    // (every push asks for one).
    struct PushTarget {
        std::shared_ptr<const SubscriptionRecord> subscription;  // never null
        std::shared_ptr<const UserAgentRecord> owner;            // null: the user agent is gone
    };
    virtual result<std::optional<PushTarget>> push_target(std::string_view subscription_id) {
        auto sub = get_subscription(subscription_id);
        if (!sub) return sub.error();
        if (!*sub) return std::nullopt;
        auto owner = get_user_agent((*sub)->uaid);
        if (!owner) return owner.error();
        PushTarget t{std::make_shared<const SubscriptionRecord>(std::move(**sub)), nullptr};
        if (*owner) t.owner = std::make_shared<const UserAgentRecord>(std::move(**owner));
        return std::optional(std::move(t));
    }
    virtual result<std::vector<SubscriptionRecord>> subscriptions_of(std::string_view uaid) = 0;
    // Removes the subscription and its queued messages. Returns false if it did not exist.
    virtual result<bool> delete_subscription(std::string_view id) = 0;

    // --- messages ---
    static constexpr std::size_t kNoQueueCap = std::numeric_limits<std::size_t>::max();

    // Appends to the owner's queue, assigning msg.seq (monotonic across the store). A store
    // may append to msg.id what it needs to find the message without an index of ids
    // (RocksStore appends 16 octets: its expiry and seq); from then on the message is named by
    // msg.id as enqueue leaves it (get_message, mark_delivered, delete_message, pending, the
    // id a Topic replacement returns), and the caller's id alone names nothing. MemoryStore
    // and PgStore keep the id as given. When
    // msg.topic is set, an undelivered message of the same subscription with the same topic is
    // removed in the same atomic write (RFC 8030 §5.4); its id is returned so callers can
    // suppress its receipt. The message is in the WAL when this returns.
    // When the user agent's queue already holds `max_queued` messages (expired ones not yet
    // swept included), nothing is written and the error is errc::too_many_requests; a Topic
    // replacement counts too. The count and the append are one step for all writers of the
    // queue, so concurrent senders cannot overshoot the cap.
    // A subscription that no longer exists gets errc::subscription_gone from a store whose
    // push_target() may be stale (PgStore); the others assume the caller just read it.
    // `route`, when given, receives what the store read of the user agent's route in the same
    // step (RouteSeen), read after the queue's lock so that a connection whose route it does
    // not show reads the queue after this append is visible (PgStore's set_route takes that
    // lock too).
    virtual result<std::optional<std::string>> enqueue(MessageRecord& msg, std::size_t max_queued,
                                                       RouteSeen* route) = 0;
    result<std::optional<std::string>> enqueue(MessageRecord& msg, std::size_t max_queued) {
        return enqueue(msg, max_queued, nullptr);
    }
    result<std::optional<std::string>> enqueue(MessageRecord& msg) {
        return enqueue(msg, kNoQueueCap, nullptr);
    }

    // Enqueues msgs[0], msgs[1], ... as enqueue() called for each in that order would: a later
    // message sees the earlier ones (the queue cap counts them, a Topic replaces an earlier
    // message of the batch), and out[i] is what enqueue() would have returned for msgs[i]. A
    // store that can writes them all at once (batched_enqueue()); every message whose result
    // is a value is in the WAL (with `sync`, fsynced) when this returns. The default is a
    // loop of enqueue() (MemoryStore, PgStore). `routes` is empty or has one entry (possibly
    // null) per message: enqueue()'s `route`.
    using Enqueued = result<std::optional<std::string>>;
    virtual std::vector<Enqueued> enqueue_batch(std::span<MessageRecord* const> msgs,
                                                std::size_t max_queued,
                                                std::span<RouteSeen* const> routes) {
        std::vector<Enqueued> out;
        out.reserve(msgs.size());
        for (std::size_t i = 0; i < msgs.size(); ++i)
            out.push_back(enqueue(*msgs[i], max_queued, i < routes.size() ? routes[i] : nullptr));
        return out;
    }
    // Whether enqueue_batch() is one write (one WAL append, one fsync) rather than a loop: only
    // then do callers gain by collecting messages for it (http::Api, per HTTP/2 read).
    virtual bool batched_enqueue() const noexcept { return false; }

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

    // The earliest expires_ms of any queued message (nullopt when none): when the next
    // sweep_expired() has work, so expiry is prompt without polling.
    virtual result<std::optional<base::UnixMs>> next_expiry() = 0;

    // Deletes up to `limit` messages whose expires_ms <= now, earliest first; returns how
    // many (fewer than `limit`: none are left). Reclaims their space. When `with_receipt` is
    // given, the swept messages that asked for a receipt are appended to it (without their
    // bodies), so a failure receipt can be sent (RFC 8030 §6.3).
    virtual result<std::size_t> sweep_expired(base::UnixMs now, std::size_t limit,
                                              std::vector<MessageRecord>* with_receipt) = 0;

    // --- routes (cluster mode, docs/cluster.md) ---
    // Routes are the cluster router's records, kept apart from the user agent: a route names
    // the node holding a connection, for as long as that connection lasts. RocksStore and
    // MemoryStore keep them in memory (their store belongs to one process, and after a
    // restart no connection of the old process exists); PgStore in the shared database.

    // Records that route.node_id (at route.address) holds a connection of `uaid` since
    // route.connected_ms, replacing the route of any earlier connection (route.version is
    // ignored). Returns the version assigned to this route: unique within the store and larger
    // than that of every route set before. 0 when nothing was written because the stored route
    // belongs to a later connection: one with a larger version written concurrently, or one
    // that attached on another node after route.connected_ms (a write retried after a
    // failover for an older connection must not displace the browser's newer one).
    virtual result<std::uint64_t> set_route(std::string_view uaid, const RouteRecord& route) = 0;
    virtual result<std::optional<RouteRecord>> get_route(std::string_view uaid) = 0;
    // Compare-and-delete: removes the route of `uaid` only while its version is `version`
    // (the connection that set it ends, or it was found stale), so the cleanup of an older
    // connection never removes the route of a newer one. True when it removed it.
    // delete_user_agent() leaves routes alone: the router clears them after telling the node.
    virtual result<bool> clear_route(std::string_view uaid, std::uint64_t version) = 0;

    // Counts for operators. Costs a pass over the expiry index (O(queued messages), keys
    // only): call it from background work at a slow cadence, never per request.
    virtual result<StoreStats> stats() = 0;
};

}  // namespace pushsvc::store
