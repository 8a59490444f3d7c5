#include "pushsvc/store/pg_store.h"

#include <algorithm>
#include <limits>

#include "pushsvc/store/pg_conn.h"
#include "pushsvc/store/pg_group_commit.h"
#include "pushsvc/store/pg_pool.h"
#include "pushsvc/store/pg_schema.h"
#include "pushsvc/store/pg_target_cache.h"

namespace pushsvc::store {
namespace {

using pg::Call;
using pg::PgConn;
using pg::PgError;
using pg::PgParams;
using pg::PgResult;
using pg::Pool;
using pg::Statement;

constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

std::int64_t clamp64(std::uint64_t v) {
    return v > std::uint64_t(kI64Max) ? kI64Max : std::int64_t(v);
}

// The columns of `messages`, in table order (the functions return SETOF messages too).
#define PUSHSVC_MESSAGE_COLUMNS                                                        \
    "id, uaid, subscription_id, seq, received_ms, expires_ms, ttl_s, urgency, topic, " \
    "content_encoding, encryption, crypto_key, receipt_id, receipt_status, delivered, body"

const Statement kPutUa{"put_ua",
                       "INSERT INTO user_agents (uaid, created_ms, last_seen_ms, kind) "
                       "VALUES ($1, $2, $3, $4) ON CONFLICT (uaid) DO UPDATE SET "
                       "created_ms = EXCLUDED.created_ms, last_seen_ms = EXCLUDED.last_seen_ms, "
                       "kind = EXCLUDED.kind"};
const Statement kGetUa{
    "get_ua", "SELECT uaid, created_ms, last_seen_ms, kind FROM user_agents WHERE uaid = $1"};
const Statement kDeleteUa{"delete_ua", "SELECT pushsvc_delete_user_agent($1)"};
const Statement kTouchUa{"touch_ua",
                         "UPDATE user_agents SET last_seen_ms = $2 WHERE uaid = $1 RETURNING 1"};
const Statement kIdleUas{"idle_uas",
                         "SELECT uaid FROM user_agents WHERE kind = $1 AND last_seen_ms < $2 "
                         "ORDER BY last_seen_ms, uaid LIMIT $3"};
const Statement kPutSub{"put_sub",
                        "INSERT INTO subscriptions (id, uaid, channel_id, app_server_key, "
                        "created_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET "
                        "uaid = EXCLUDED.uaid, channel_id = EXCLUDED.channel_id, "
                        "app_server_key = EXCLUDED.app_server_key, "
                        "created_ms = EXCLUDED.created_ms"};
const Statement kGetSub{"get_sub",
                        "SELECT id, uaid, channel_id, app_server_key, created_ms FROM "
                        "subscriptions WHERE id = $1"};
// push_target(): the subscription and its owner in one round trip.
const Statement kPushTarget{"push_target",
                            "SELECT s.id, s.uaid, s.channel_id, s.app_server_key, s.created_ms, "
                            "a.created_ms, a.last_seen_ms, a.kind FROM subscriptions s LEFT JOIN "
                            "user_agents a ON a.uaid = s.uaid WHERE s.id = $1"};
const Statement kSubsOf{"subs_of",
                        "SELECT id, uaid, channel_id, app_server_key, created_ms FROM "
                        "subscriptions WHERE uaid = $1 ORDER BY id"};
const Statement kDeleteSub{"delete_sub", "SELECT pushsvc_delete_subscription($1)"};
const Statement kAppend{"append",
                        "SELECT out_status, out_seq, out_replaced, out_node, out_address, "
                        "out_version, out_connected, out_prev FROM pushsvc_append($1, $2, $3, "
                        "$4, $5, $6, "
                        "$7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"};
// `expires_ms + 0`: the expiry index must not serve this read. With statistics taken when
// `messages` was nearly empty the planner estimated one row either way and chose a scan of
// every unexpired entry of that index (thousands of pages on a busy node) over the queue's own
// range; now the queue index (uaid, seq), already in seq order, is the only one that fits.
const Statement kPending{"pending", "SELECT " PUSHSVC_MESSAGE_COLUMNS
                                    " FROM messages WHERE uaid = $1 AND "
                                    "seq > $2 AND expires_ms + 0 > $3 ORDER BY seq LIMIT $4"};
// A queue's length is what appends counted in less what acknowledgements counted out
// (schema version 5: acks count on a row of their own, see pg_migrations.cc).
const Statement kQueued{"queued",
                        "SELECT q.queued - coalesce(k.acked, 0) FROM queues q LEFT JOIN "
                        "queue_acks k ON k.uaid = q.uaid WHERE q.uaid = $1"};
const Statement kGetMessage{"get_message",
                            "SELECT " PUSHSVC_MESSAGE_COLUMNS " FROM messages WHERE id = $1"};
const Statement kMarkDelivered{"mark_delivered",
                               "UPDATE messages SET delivered = true WHERE id = $1 AND NOT "
                               "delivered"};
const Statement kDeleteMessage{
    "delete_message", "SELECT " PUSHSVC_MESSAGE_COLUMNS " FROM pushsvc_delete_message($1)"};
// Run first in a transaction that deletes a message (an acknowledgement, a cancel): it commits
// without waiting for the WAL flush here or on the synchronous standby. Losing it in a crash or
// failover brings the message back, to be delivered again (at-least-once, docs/cluster.md);
// nothing answered 201 depends on it. Acks are as frequent as pushes, and waiting for the
// standby on each was most of a delivery's time under load.
const Statement kAsyncCommit{"async_commit",
                             "SELECT set_config('synchronous_commit', 'off', true)"};
const Statement kNextExpiry{"next_expiry", "SELECT min(expires_ms) FROM messages"};
const Statement kSweep{"sweep", "SELECT " PUSHSVC_MESSAGE_COLUMNS " FROM pushsvc_sweep($1, $2)"};
// A later connection's route is never overwritten by an earlier one's: the version comes from
// a sequence, and the update only happens when it is larger than the stored one (two nodes
// writing at once: whoever took the larger version wins, in whichever order they commit), and
// when the stored route's connection did not attach later on another node (a write retried
// after a failover carries its connection's attach time, and loses to a newer connection's).
// The function takes the queue's lock first (see pushsvc_append in pg_migrations.cc).
const Statement kSetRoute{"set_route", "SELECT pushsvc_set_route($1, $2, $3, $4)"};
const Statement kGetRoute{
    "get_route", "SELECT node_id, address, version, connected_ms FROM routes WHERE uaid = $1"};
const Statement kClearRoute{"clear_route",
                            "DELETE FROM routes WHERE uaid = $1 AND version = $2 RETURNING 1"};
const Statement kStats{
    "stats",
    "SELECT (SELECT coalesce(sum(queued), 0)::int8 FROM queues) - "
    "(SELECT coalesce(sum(acked), 0)::int8 FROM queue_acks), "
    "(SELECT min(received_ms) FROM messages), "
    "(SELECT count(*) FROM user_agents WHERE kind = 0), "
    "(SELECT count(*) FROM user_agents WHERE kind = 1), "
    "(SELECT sum(pg_total_relation_size(c))::int8 FROM unnest(ARRAY['user_agents', "
    "'subscriptions', 'queues', 'queue_acks', 'messages', 'routes']::regclass[]) c)"};

MessageRecord message_of(const PgResult& r, int row) {
    MessageRecord m;
    m.id = r.bytes(row, 0);
    m.uaid = r.bytes(row, 1);
    m.subscription_id = r.bytes(row, 2);
    m.seq = std::uint64_t(r.i64(row, 3));
    m.received_ms = r.i64(row, 4);
    m.expires_ms = r.i64(row, 5);
    m.ttl_s = std::uint32_t(r.i64(row, 6));
    m.urgency = std::uint8_t(r.i16(row, 7));
    m.topic = r.bytes(row, 8);
    m.content_encoding = r.bytes(row, 9);
    m.encryption = r.bytes(row, 10);
    m.crypto_key = r.bytes(row, 11);
    m.receipt_id = r.bytes(row, 12);
    m.receipt_status = std::uint16_t(r.i32(row, 13));
    m.delivered = r.boolean(row, 14);
    m.body = r.bytes(row, 15);
    return m;
}

SubscriptionRecord subscription_of(const PgResult& r, int row) {
    return SubscriptionRecord{.id = r.bytes(row, 0),
                              .uaid = r.bytes(row, 1),
                              .channel_id = r.bytes(row, 2),
                              .app_server_key = r.bytes(row, 3),
                              .created_ms = r.i64(row, 4)};
}

// One enqueue() waiting for the group commit.
struct Append : pg::GroupWaiter {
    Append(MessageRecord* m, std::int64_t c, RouteSeen* r) : msg(m), cap(c), route(r) {}
    MessageRecord* msg;
    std::int64_t cap;
    RouteSeen* route;  // the push path: check the subscription, return the route
    result<std::optional<std::string>> out = errc::store_failure;
};

}  // namespace

struct PgStore::Impl {
    explicit Impl(const PgOptions& o)
        : opts(o), pool(o), targets(std::chrono::milliseconds(o.cache_ms), kCachedTargets) {}
    static constexpr std::size_t kCachedTargets = 100'000;

    PgOptions opts;
    base::SystemClock system_clock;
    const base::Clock* clock = nullptr;
    Pool pool;
    pg::TargetCache targets;
    std::string server;
    int schema_found = 0;

    // Appends (enqueue) share commits (pg_group_commit.h): at most 4 batches at once, a
    // second one only when 8 wait.
    pg::GroupCommit<Append> appends{"an append", 4, 8, kMaxAppendBatch};

    // Runs `calls` as one transaction on a pooled connection, retrying (up to 3 times) when
    // PostgreSQL aborted it for a deadlock or a serialization failure.
    bool run(std::vector<Call>& calls, std::vector<PgResult>& out) {
        for (int attempt = 0;; ++attempt) {
            PgError err;
            auto conn = pool.acquire(err);
            if (!conn) {
                pool.report(err);
                return false;
            }
            bool ok = conn->run(calls, out, err);
            pool.release(std::move(conn));
            if (ok) return true;
            if (err.retryable() && attempt < 3) continue;
            pool.report(err);
            return false;
        }
    }

    // One statement; its result in `out`.
    bool one(const Statement& st, PgParams params, PgResult& out) {
        std::vector<Call> calls;
        calls.push_back({&st, std::move(params)});
        std::vector<PgResult> results;
        if (!run(calls, results)) return false;
        out = std::move(results.at(0));
        return true;
    }

    static Call enqueue_call(const Append& a) {
        const MessageRecord& m = *a.msg;
        PgParams p;
        p.bytes(m.id)
            .bytes(m.uaid)
            .bytes(m.subscription_id)
            .i64(m.received_ms)
            .i64(m.expires_ms)
            .i64(m.ttl_s)
            .i16(m.urgency)
            .bytes(m.topic)
            .bytes(m.content_encoding)
            .bytes(m.encryption)
            .bytes(m.crypto_key)
            .bytes(m.receipt_id)
            .i32(m.receipt_status)
            .boolean(m.delivered)
            .bytes(m.body)
            .i64(a.cap)
            .boolean(a.route != nullptr);
        return {&kAppend, std::move(p)};
    }

    static void settle(Append& a, const PgResult& r) {
        if (r.rows() != 1) {
            a.out = errc::store_failure;
        } else if (r.i32(0, 0) == 1) {
            a.out = errc::too_many_requests;
        } else if (r.i32(0, 0) == 2) {
            a.out = errc::subscription_gone;
        } else {
            a.msg->seq = std::uint64_t(r.i64(0, 1));
            a.msg->prev_seq = std::uint64_t(r.i64(0, 7));
            a.out = r.null(0, 2) ? std::optional<std::string>() : std::optional(r.bytes(0, 2));
            if (a.route) {
                a.route->read = true;
                if (r.null(0, 3))
                    a.route->route.reset();
                else
                    a.route->route = RouteRecord{.node_id = r.bytes(0, 3),
                                                 .address = r.bytes(0, 4),
                                                 .version = std::uint64_t(r.i64(0, 5)),
                                                 .connected_ms = r.i64(0, 6)};
            }
        }
    }

    // Appends sorted by uaid, so that concurrent transactions lock queue rows in one order,
    // run as one transaction, each settled with its result. If the transaction fails for one
    // of them (a duplicate id, say), each is retried alone, so only that one fails. A
    // connection that broke fails them all: whether it committed is unknown (the caller
    // answers 503, the sender retries).
    void commit_appends(std::vector<Append*>& batch) {
        std::stable_sort(batch.begin(), batch.end(), [](const Append* a, const Append* b) {
            return a->msg->uaid < b->msg->uaid;
        });
        std::vector<Call> calls;
        for (const Append* a : batch) calls.push_back(enqueue_call(*a));
        std::vector<PgResult> out;
        PgError err;
        for (int attempt = 0;; ++attempt) {
            auto conn = pool.acquire(err);
            if (!conn) break;
            bool ok = conn->run(calls, out, err);
            const bool broken = conn->broken();
            pool.release(std::move(conn));
            if (ok) {
                for (std::size_t i = 0; i < batch.size(); ++i) settle(*batch[i], out[i]);
                return;
            }
            if (broken) break;
            if (err.retryable() && attempt < 3) continue;
            if (batch.size() > 1) {
                for (Append* a : batch) {
                    std::vector<Call> alone{enqueue_call(*a)};
                    std::vector<PgResult> r;
                    if (run(alone, r)) settle(*a, r.at(0));
                }
                return;
            }
            break;
        }
        pool.report(err);  // every result stays a failure
    }
};

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() = default;

std::unique_ptr<PgStore> PgStore::open(const PgOptions& opts, std::string& error) {
    auto impl = std::make_unique<Impl>(opts);
    impl->clock = opts.clock != nullptr ? opts.clock : &impl->system_clock;
    auto conn =
        PgConn::connect(opts.dsn, opts.connect_timeout_ms, opts.statement_timeout_ms, error);
    if (!conn) return nullptr;
    PgError err;
    if (!pg::ensure_schema(*conn, impl->schema_found, err)) {
        error = err.message;
        return nullptr;
    }
    impl->server = conn->endpoint();
    impl->pool.add(std::move(conn));
    return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

std::string PgStore::server() const { return impl_->server; }
const char* PgStore::pending_query() { return kPending.sql; }
int PgStore::schema_found() const { return impl_->schema_found; }
int PgStore::schema_version() { return pg::schema_version(); }

result<void> PgStore::put_user_agent(const UserAgentRecord& ua) {
    pg::TargetCache::Bracket fresh(impl_->targets, pg::TargetCache::Bracket::user_agent, ua.uaid);
    PgResult r;
    if (!impl_->one(kPutUa,
                    std::move(PgParams()
                                  .bytes(ua.uaid)
                                  .i64(ua.created_ms)
                                  .i64(ua.last_seen_ms)
                                  .i16(std::int16_t(ua.kind))),
                    r))
        return errc::store_failure;
    return {};
}

result<std::optional<UserAgentRecord>> PgStore::get_user_agent(std::string_view uaid) {
    PgResult r;
    if (!impl_->one(kGetUa, std::move(PgParams().bytes(uaid)), r)) return errc::store_failure;
    if (r.rows() == 0) return std::nullopt;
    return std::optional(UserAgentRecord{.uaid = r.bytes(0, 0),
                                         .created_ms = r.i64(0, 1),
                                         .last_seen_ms = r.i64(0, 2),
                                         .kind = AgentKind(r.i16(0, 3))});
}

result<void> PgStore::delete_user_agent(std::string_view uaid) {
    pg::TargetCache::Bracket fresh(impl_->targets, pg::TargetCache::Bracket::user_agent, uaid);
    PgResult r;
    if (!impl_->one(kDeleteUa, std::move(PgParams().bytes(uaid)), r)) return errc::store_failure;
    return {};
}

result<bool> PgStore::touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) {
    pg::TargetCache::Bracket fresh(impl_->targets, pg::TargetCache::Bracket::user_agent, uaid);
    PgResult r;
    if (!impl_->one(kTouchUa, std::move(PgParams().bytes(uaid).i64(last_seen_ms)), r))
        return errc::store_failure;
    return r.rows() > 0;
}

result<std::vector<std::string>> PgStore::idle_user_agents(AgentKind kind, base::UnixMs seen_before,
                                                           std::size_t limit) {
    PgResult r;
    if (!impl_->one(
            kIdleUas,
            std::move(PgParams().i16(std::int16_t(kind)).i64(seen_before).i64(clamp64(limit))), r))
        return errc::store_failure;
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.bytes(i, 0));
    return out;
}

result<void> PgStore::put_subscription(const SubscriptionRecord& sub) {
    pg::TargetCache::Bracket fresh(impl_->targets, pg::TargetCache::Bracket::subscription, sub.id);
    PgResult r;
    if (!impl_->one(kPutSub,
                    std::move(PgParams()
                                  .bytes(sub.id)
                                  .bytes(sub.uaid)
                                  .bytes(sub.channel_id)
                                  .bytes(sub.app_server_key)
                                  .i64(sub.created_ms)),
                    r))
        return errc::store_failure;
    return {};
}

result<std::optional<SubscriptionRecord>> PgStore::get_subscription(std::string_view id) {
    PgResult r;
    if (!impl_->one(kGetSub, std::move(PgParams().bytes(id)), r)) return errc::store_failure;
    if (r.rows() == 0) return std::nullopt;
    return std::optional(subscription_of(r, 0));
}

result<std::optional<Store::PushTarget>> PgStore::push_target(std::string_view subscription_id) {
    if (auto hit = impl_->targets.get(subscription_id)) return hit;
    PgResult r;
    if (!impl_->one(kPushTarget, std::move(PgParams().bytes(subscription_id)), r))
        return errc::store_failure;
    if (r.rows() == 0) return std::nullopt;
    PushTarget t{std::make_shared<const SubscriptionRecord>(subscription_of(r, 0)), nullptr};
    if (!r.null(0, 5))
        t.owner = std::make_shared<const UserAgentRecord>(
            UserAgentRecord{.uaid = t.subscription->uaid,
                            .created_ms = r.i64(0, 5),
                            .last_seen_ms = r.i64(0, 6),
                            .kind = AgentKind(r.i16(0, 7))});
    impl_->targets.put(t);
    return std::optional(std::move(t));
}

result<std::vector<SubscriptionRecord>> PgStore::subscriptions_of(std::string_view uaid) {
    PgResult r;
    if (!impl_->one(kSubsOf, std::move(PgParams().bytes(uaid)), r)) return errc::store_failure;
    std::vector<SubscriptionRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(subscription_of(r, i));
    return out;
}

result<bool> PgStore::delete_subscription(std::string_view id) {
    pg::TargetCache::Bracket fresh(impl_->targets, pg::TargetCache::Bracket::subscription, id);
    PgResult r;
    if (!impl_->one(kDeleteSub, std::move(PgParams().bytes(id)), r)) return errc::store_failure;
    return r.rows() == 1 && r.boolean(0, 0);
}

result<std::optional<std::string>> PgStore::enqueue(MessageRecord& msg, std::size_t max_queued,
                                                    RouteSeen* route) {
    Append me(&msg, clamp64(max_queued), route);
    impl_->appends.submit(me,
                          [this](std::vector<Append*>& batch) { impl_->commit_appends(batch); });
    // A subscription the cache still had is gone: forget it, so the next push reads again.
    if (!me.out && me.out.error() == errc::subscription_gone)
        impl_->targets.forget_subscription(msg.subscription_id);
    return std::move(me.out);
}

result<std::vector<MessageRecord>> PgStore::pending(std::string_view uaid, base::UnixMs now,
                                                    std::uint64_t after_seq, std::size_t limit) {
    std::vector<MessageRecord> out;
    // seq is a bigint: nothing lies above its range, and a limit of 0 asks for nothing.
    if (limit == 0 || after_seq >= std::uint64_t(kI64Max)) return out;
    PgResult r;
    if (!impl_->one(
            kPending,
            std::move(
                PgParams().bytes(uaid).i64(std::int64_t(after_seq)).i64(now).i64(clamp64(limit))),
            r))
        return errc::store_failure;
    for (int i = 0; i < r.rows(); ++i) out.push_back(message_of(r, i));
    return out;
}

result<std::size_t> PgStore::queued(std::string_view uaid, std::size_t limit) {
    PgResult r;
    if (!impl_->one(kQueued, std::move(PgParams().bytes(uaid)), r)) return errc::store_failure;
    if (r.rows() == 0) return std::size_t{0};
    return std::min(std::size_t(std::max<std::int64_t>(0, r.i64(0, 0))), limit);
}

result<std::optional<MessageRecord>> PgStore::get_message(std::string_view id) {
    PgResult r;
    if (!impl_->one(kGetMessage, std::move(PgParams().bytes(id)), r)) return errc::store_failure;
    if (r.rows() == 0) return std::nullopt;
    MessageRecord m = message_of(r, 0);
    if (impl_->clock->now_ms() >= m.expires_ms) return std::nullopt;  // R8030-7.2-b
    return std::optional(std::move(m));
}

result<void> PgStore::mark_delivered(std::string_view id) {
    PgResult r;
    if (!impl_->one(kMarkDelivered, std::move(PgParams().bytes(id)), r)) return errc::store_failure;
    return {};
}

result<std::optional<MessageRecord>> PgStore::delete_message(std::string_view id) {
    // One transaction per acknowledgement: batched, they held message and queue_acks rows in
    // no common order and could deadlock with each other (BENCHMARKS.md, fourth round). It
    // commits without waiting for the flush (docs/storage.md).
    std::vector<Call> calls;
    calls.push_back({&kAsyncCommit, PgParams()});
    calls.push_back({&kDeleteMessage, std::move(PgParams().bytes(id))});
    std::vector<PgResult> out;
    if (!impl_->run(calls, out)) return errc::store_failure;
    const PgResult& r = out.at(1);
    if (r.rows() == 0) return std::nullopt;
    MessageRecord m = message_of(r, 0);
    // removed, not returned
    if (impl_->clock->now_ms() >= m.expires_ms) return std::nullopt;
    return std::optional(std::move(m));
}

result<std::optional<base::UnixMs>> PgStore::next_expiry() {
    PgResult r;
    if (!impl_->one(kNextExpiry, PgParams(), r)) return errc::store_failure;
    if (r.rows() == 0 || r.null(0, 0)) return std::nullopt;
    return std::optional(r.i64(0, 0));
}

result<std::size_t> PgStore::sweep_expired(base::UnixMs now, std::size_t limit,
                                           std::vector<MessageRecord>* with_receipt) {
    if (limit == 0) return std::size_t{0};
    PgResult r;
    if (!impl_->one(kSweep, std::move(PgParams().i64(now).i64(clamp64(limit))), r))
        return errc::store_failure;
    for (int i = 0; i < r.rows() && with_receipt; ++i) {
        MessageRecord m = message_of(r, i);
        if (!m.receipt_id.empty() && m.receipt_status == 0) with_receipt->push_back(std::move(m));
    }
    return std::size_t(r.rows());
}

result<std::uint64_t> PgStore::set_route(std::string_view uaid, const RouteRecord& route) {
    PgResult r;
    if (!impl_->one(kSetRoute,
                    std::move(PgParams()
                                  .bytes(uaid)
                                  .bytes(route.node_id)
                                  .bytes(route.address)
                                  .i64(route.connected_ms)),
                    r))
        return errc::store_failure;
    return r.rows() == 1 && !r.null(0, 0) ? std::uint64_t(r.i64(0, 0)) : std::uint64_t{0};
}

result<std::optional<RouteRecord>> PgStore::get_route(std::string_view uaid) {
    PgResult r;
    if (!impl_->one(kGetRoute, std::move(PgParams().bytes(uaid)), r)) return errc::store_failure;
    if (r.rows() == 0) return std::nullopt;
    return std::optional(RouteRecord{.node_id = r.bytes(0, 0),
                                     .address = r.bytes(0, 1),
                                     .version = std::uint64_t(r.i64(0, 2)),
                                     .connected_ms = r.i64(0, 3)});
}

result<bool> PgStore::clear_route(std::string_view uaid, std::uint64_t version) {
    PgResult r;
    if (!impl_->one(kClearRoute, std::move(PgParams().bytes(uaid).i64(clamp64(version))), r))
        return errc::store_failure;
    return r.rows() > 0;
}

result<StoreStats> PgStore::stats() {
    PgResult r;
    if (!impl_->one(kStats, PgParams(), r)) return errc::store_failure;
    StoreStats s;
    if (r.rows() != 1) return errc::store_failure;
    s.queued_messages = std::uint64_t(r.i64(0, 0));
    if (!r.null(0, 1)) s.oldest_received_ms = r.i64(0, 1);
    s.user_agents = std::uint64_t(r.i64(0, 2));
    s.receipt_subscriptions = std::uint64_t(r.i64(0, 3));
    s.disk_bytes = r.null(0, 4) ? 0 : std::uint64_t(r.i64(0, 4));
    return s;
}

}  // namespace pushsvc::store
