#pragma once
// RocksStore: the default Store, one RocksDB database under `path` (see README.md for the key
// layout). RocksDB headers stay out of this header (rocks_store_impl.h has them).
//
// Ownership: owns the database handle; destroying the store closes it. The clock (if given)
// must outlive the store; it decides what is expired in get_message()/delete_message(), which
// take no `now`. Without one, SystemClock.
// Thread-safety: every method may be called from any thread concurrently. Mutations of one
// user agent's queue are serialised by a striped mutex (so Topic replacement, RFC 8030 §5.4,
// is race-free and a queue's commit order equals its seq order); with `sync`, the fsync
// happens after that mutex is released and is shared by concurrent writers (group commit).
// Durability: every write goes through the WAL (a returned write survives kill -9); with
// `sync = true` it is also fsynced before the call returns (survives power loss).
// Errors: errc::store_failure for any RocksDB error or undecodable record.
// Routes (cluster mode) are kept in memory, not in RocksDB: see route_table.h.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/route_table.h"
#include "pushsvc/store/store.h"

namespace pushsvc::store {

struct RocksOptions {
    bool sync = false;                   // fsync every write before returning
    const base::Clock* clock = nullptr;  // expiry in get/delete_message; nullptr = system
    // How often the body log is collected on the store's own thread (at least; longer when a
    // collection takes long, and skipped while nothing was stored or removed); 0: never
    // (tests call collect_bodies()).
    std::chrono::milliseconds body_collect_interval{30'000};
    // Size at which the body log starts a new segment (tests make it small).
    std::uint64_t body_segment_bytes = 64u << 20;
};

class RocksStore final : public Store {
  public:
    // Opens (creating directories and the database if missing) the database at `path`.
    static result<std::unique_ptr<RocksStore>> open(const std::string& path,
                                                    const RocksOptions& opts);
    ~RocksStore() override;
    RocksStore(const RocksStore&) = delete;
    RocksStore& operator=(const RocksStore&) = delete;

    result<void> put_user_agent(const UserAgentRecord& ua) override;
    result<std::optional<UserAgentRecord>> get_user_agent(std::string_view uaid) override;
    result<void> delete_user_agent(std::string_view uaid) override;
    result<bool> touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) override;
    result<std::vector<std::string>> idle_user_agents(AgentKind kind, base::UnixMs seen_before,
                                                      std::size_t limit) override;

    result<void> put_subscription(const SubscriptionRecord& sub) override;
    result<std::optional<SubscriptionRecord>> get_subscription(std::string_view id) override;
    // From the record caches, shared (no copies).
    result<std::optional<PushTarget>> push_target(std::string_view subscription_id) override;
    result<std::vector<SubscriptionRecord>> subscriptions_of(std::string_view uaid) override;
    result<bool> delete_subscription(std::string_view id) override;

    using Store::enqueue;
    result<std::optional<std::string>> enqueue(MessageRecord& msg, std::size_t max_queued,
                                               RouteSeen* route) override;
    // One WriteBatch for the whole batch, under the stripes of all its user agents (locked in
    // ascending order, so batches and single writers never deadlock).
    std::vector<Enqueued> enqueue_batch(std::span<MessageRecord* const> msgs,
                                        std::size_t max_queued,
                                        std::span<RouteSeen* const> routes) override;
    bool batched_enqueue() const noexcept override { return true; }
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

    // Routes in memory (route_table.h says why that is enough for this store).
    result<std::uint64_t> set_route(std::string_view uaid, const RouteRecord& route) override {
        return routes_.set(uaid, route);
    }
    result<std::optional<RouteRecord>> get_route(std::string_view uaid) override {
        return routes_.get(uaid);
    }
    result<bool> clear_route(std::string_view uaid, std::uint64_t version) override {
        return routes_.clear(uaid, version);
    }

    // Hot backup (`pushsvc backup`): an openable copy of the database as it is now, in `dir`
    // (must not exist), made with RocksDB's Checkpoint while writes go on: the memtable is
    // flushed, file deletions are held off while the live table and blob files are
    // hard-linked (copied when `dir` is on another file system) and the MANIFEST is copied up
    // to the size that lists exactly them, so the copy is one consistent point in the write
    // history. Returns "" or RocksDB's reason.
    std::string checkpoint(const std::string& dir);

    // Opens the database copy at `dir` read-only (never writing to it) and verifies the
    // checksum of every table and blob block in it; the number of records, or the reason it
    // failed in `error`.
    struct Verified {
        std::uint64_t records = 0;
        std::string error;
    };
    static Verified verify_copy(const std::string& dir);

    // One collection of the body log (rocks_bodies.cc): segments no queue record names are
    // removed; the live bodies of sealed segments that are mostly dead are moved to the
    // active one, so that the next collection removes those too.
    struct BodyCollection {
        std::size_t segments_removed = 0;
        std::size_t bodies_moved = 0;
        std::uint64_t live_bytes = 0;  // named by records, in sealed segments
    };
    result<BodyCollection> collect_bodies();

  private:
    void start_body_collector(std::chrono::milliseconds interval);
    result<bool> write_user_agent(const UserAgentRecord& fresh,
                                  const std::function<void(UserAgentRecord&)>* update);
    struct Impl;
    explicit RocksStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    RouteTable routes_;
};

}  // namespace pushsvc::store
