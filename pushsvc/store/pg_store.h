#pragma once
// PgStore: the Store on PostgreSQL (store.backend = "postgres"), so that several pushsvc nodes
// can share one replicated database. libpq directly (pg_conn.h); the schema is created and
// upgraded by pushsvc on open (pg_schema.h; tables in docs/storage.md).
//
// Ownership: owns a pool of connections; destroying the store closes them. The clock (if
// given) must outlive the store; it decides what is expired in get_message()/delete_message().
// Thread-safety: every method may be called from any thread concurrently; each call holds one
// pooled connection while it runs, and blocks on PostgreSQL, so callers on network threads
// hand calls to the store's executor (app/). Concurrent enqueue() calls are group-committed:
// a caller sends every waiting append in one pipeline and one transaction, with up to four such
// batches in flight.
// Consistency: every change of a queue first locks that queue's row in `queues`, which also
// holds its length: the queue cap is exact, Topic replacement race-free and a queue's commit
// order is its seq order (seq comes from a sequence, taken under that lock).
// Durability: a call returns after PostgreSQL committed it (with the server's default
// synchronous_commit, after the commit is flushed, and with synchronous replication, on the
// standby too).
// Errors: errc::store_failure when the database cannot be reached, the connection breaks
// (failover) or does not answer within statement_timeout_ms + 1 s; the broken connection is
// dropped and the next call connects again (to whichever host is the primary by then).

#include <memory>
#include <string>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/store.h"

namespace pushsvc::store {

struct PgOptions {
    std::string dsn;                // libpq connection string (multi-host allowed)
    int pool_size = 8;              // connections at most
    int connect_timeout_ms = 3000;  // per connection attempt, all hosts together
    int statement_timeout_ms = 5000;
    // How long push_target() may answer from this process's cache (pg_target_cache.h says
    // what may lag, and why pushes stay exact); 0 reads the database every time.
    int cache_ms = 2000;
    const base::Clock* clock = nullptr;  // expiry in get/delete_message; nullptr = system
};

class PgStore final : public Store {
  public:
    // Connects once (so a wrong DSN or an unreachable database fails here, with libpq's
    // message in `error`) and brings the schema up to date.
    static std::unique_ptr<PgStore> open(const PgOptions& opts, std::string& error);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    // "host:port" of the server the first connection reached, and the schema version it had
    // before open (0: created now): for the startup log.
    std::string server() const;
    int schema_found() const;
    static int schema_version();         // the version this build writes
    static const char* pending_query();  // what pending() runs: to EXPLAIN its plan
    // Appends committed together at most. Each waits in its
    // caller's thread until its batch commits, so a caller wanting full batches lends the
    // store this many threads beyond pool_size (app/: the store executor).
    static constexpr std::size_t kMaxAppendBatch = 64;

    result<void> put_user_agent(const UserAgentRecord& ua) override;
    result<std::optional<UserAgentRecord>> get_user_agent(std::string_view uaid) override;
    result<void> delete_user_agent(std::string_view uaid) override;
    result<bool> touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) override;
    result<std::vector<std::string>> idle_user_agents(AgentKind kind, base::UnixMs seen_before,
                                                      std::size_t limit) override;

    result<void> put_subscription(const SubscriptionRecord& sub) override;
    result<std::optional<SubscriptionRecord>> get_subscription(std::string_view id) override;
    result<std::optional<PushTarget>> push_target(std::string_view subscription_id) override;
    result<std::vector<SubscriptionRecord>> subscriptions_of(std::string_view uaid) override;
    result<bool> delete_subscription(std::string_view id) override;

    using Store::enqueue;
    result<std::optional<std::string>> enqueue(MessageRecord& msg, std::size_t max_queued,
                                               RouteSeen* route) override;
    result<std::vector<MessageRecord>> pending(std::string_view uaid, base::UnixMs now,
                                               std::uint64_t after_seq, std::size_t limit) override;
    result<std::size_t> queued(std::string_view uaid, std::size_t limit) override;
    result<std::optional<MessageRecord>> get_message(std::string_view id) override;
    result<void> mark_delivered(std::string_view id) override;
    result<std::optional<MessageRecord>> delete_message(std::string_view id) override;
    result<std::optional<base::UnixMs>> next_expiry() override;
    result<std::size_t> sweep_expired(base::UnixMs now, std::size_t limit,
                                      std::vector<MessageRecord>* with_receipt) override;
    result<StoreStats> stats() override;
    result<std::uint64_t> set_route(std::string_view uaid, const RouteRecord& route) override;
    result<std::optional<RouteRecord>> get_route(std::string_view uaid) override;
    result<bool> clear_route(std::string_view uaid, std::uint64_t version) override;

  private:
    struct Impl;
    explicit PgStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace pushsvc::store
