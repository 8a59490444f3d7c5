#include "pushsvc/store/rocks_store.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <limits>
#include <mutex>
#include <system_error>

#include "pushsvc/store/queue_counts.h"
#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"
#include "pushsvc/store/rocks_options.h"
#include "pushsvc/store/subscription_cache.h"

namespace pushsvc::store {
namespace {

using namespace keys;

// 2: user agents indexed by kind and last_seen ('a' keys), received_ms in expiry values.
// Format 1 is migrated on open (Impl::migrate_from_1).
constexpr std::uint64_t kFormatVersion = 2;
// Sequence numbers are handed out from memory; the store persists a ceiling kSeqBlock ahead
// before any seq at or above the old ceiling is used, so seq keeps growing across reopen.
constexpr std::uint64_t kSeqBlock = 1u << 16;
constexpr std::size_t kStripes = 64;

// Converts to any result<T> as errc::store_failure (the error for any I/O or corruption).
struct Failure {
    template <class T>
    operator result<T>() const {  // NOLINT(google-explicit-constructor)
        return result<T>(boost::system::in_place_error, make_error_code(errc::store_failure));
    }
};

Failure failure() { return {}; }

rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

enum class Got { found, absent, failed };

}  // namespace

struct RocksStore::Impl {
    std::unique_ptr<rocksdb::DB> db;
    std::string path;
    bool sync = false;
    base::SystemClock system_clock;
    const base::Clock* clock = &system_clock;

    // Serialises mutations of one user agent's queue and subscriptions.
    std::array<std::mutex, kStripes> stripes;
    std::array<QueueCounts, kStripes> queue_counts;
    SubscriptionCache subscriptions;  // forget() after every write that touches one
    UserAgentCache user_agents;       // the same for user agent records

    std::atomic<std::uint64_t> last_seq{0};
    std::atomic<std::uint64_t> seq_ceiling{0};
    std::mutex reserve_mu;

    // No live expiry key sorts below 'x' be64(expiry_floor) (a biased time): sweeps and
    // next_expiry() start there instead of at the front of the index, where the tombstones of
    // everything swept lie until compaction (seeking over a million of them on every batch
    // made a mass expiry quadratic). A sweep raises it to the last expiry it removed; an
    // enqueue below it (only a clock moved back can do that) lowers it. A sweep also keeps
    // below its new floor every expiry enqueued while it ran (enqueued_min): a push whose
    // clock read came long before its write may expire before what the sweep removed.
    std::atomic<std::uint64_t> expiry_floor{0};
    std::atomic<std::uint64_t> enqueued_min{std::numeric_limits<std::uint64_t>::max()};

    std::string expiry_scan_start() const {
        std::string start(1, kExpiryTag);
        codec::append_be64(start, expiry_floor.load());
        return start;
    }
    static void lower(std::atomic<std::uint64_t>& v, std::uint64_t to) {
        std::uint64_t cur = v.load(std::memory_order_relaxed);
        while (to < cur && !v.compare_exchange_weak(cur, to)) {
        }
    }
    // After an enqueue's write: one load each when nothing is lower (the common case).
    void expiry_enqueued(base::UnixMs expires) {
        lower(enqueued_min, bias(expires));
        lower(expiry_floor, bias(expires));
    }

    // Group commit of WAL fsyncs (sync = true): at most one SyncWAL() runs; it covers every
    // write that finished before it started.
    std::mutex sync_mu;
    std::condition_variable sync_cv;
    std::uint64_t sync_tickets = 0;
    std::uint64_t synced = 0;
    bool syncing = false;

    ~Impl() {
        if (db) db->Close().PermitUncheckedError();
    }

    std::mutex& stripe(std::string_view uaid) { return stripes[stripe_of(uaid)]; }
    // Queue lengths of the stripe's user agents; use only under stripe(uaid).
    QueueCounts& counts(std::string_view uaid) { return queue_counts[stripe_of(uaid)]; }
    static std::size_t stripe_of(std::string_view uaid) {
        return std::hash<std::string_view>{}(uaid) % kStripes;
    }

    Got get(std::string_view key, std::string& value) {
        const auto st = db->Get(rocksdb::ReadOptions(), slice(key), &value);
        if (st.ok()) return Got::found;
        return st.IsNotFound() ? Got::absent : Got::failed;
    }

    template <class Record>
    result<std::optional<Record>> get_record(std::string_view key) {
        std::string value;
        switch (get(key, value)) {
            case Got::absent:
                return std::nullopt;
            case Got::failed:
                return failure();
            case Got::found:
                break;
        }
        Record r;
        if (!codec::decode(value, r)) return failure();
        return std::optional<Record>(std::move(r));
    }

    // Calls fn(key, value) for keys starting with `prefix`, from `start` (>= prefix) on, while
    // fn returns true. Returns false on an iterator error.
    template <class Fn>
    bool scan(const std::string& prefix, std::string_view start, Fn&& fn) {
        const std::string upper = successor(prefix);
        const rocksdb::Slice upper_slice(upper);
        rocksdb::ReadOptions ro;
        if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
        std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
        for (it->Seek(slice(start)); it->Valid(); it->Next()) {
            const auto key = view(it->key());
            if (!key.starts_with(prefix)) break;
            if (!fn(key, view(it->value()))) break;
        }
        return it->status().ok();
    }

    // Writes through the WAL without fsync; make_durable() adds the fsync when configured.
    bool write(rocksdb::WriteBatch& batch) {
        return db->Write(rocksdb::WriteOptions(), &batch).ok();
    }

    result<void> make_durable() {
        if (!sync) return {};
        std::unique_lock lk(sync_mu);
        const std::uint64_t ticket = ++sync_tickets;
        while (synced < ticket) {
            if (syncing) {
                sync_cv.wait(lk);
                continue;
            }
            syncing = true;
            const std::uint64_t target = sync_tickets;
            lk.unlock();
            const bool ok = db->SyncWAL().ok();
            lk.lock();
            syncing = false;
            if (ok) synced = std::max(synced, target);
            sync_cv.notify_all();
            if (!ok) return failure();
        }
        return {};
    }

    result<std::uint64_t> next_seq() {
        const std::uint64_t seq = last_seq.fetch_add(1) + 1;
        if (seq < seq_ceiling.load()) return seq;
        std::lock_guard lk(reserve_mu);
        const std::uint64_t ceiling = seq_ceiling.load();
        if (seq < ceiling) return seq;
        // The ceiling reaches the WAL before any message using it (WAL recovery keeps a
        // prefix), so no fsync is needed here even without `sync`.
        const std::uint64_t next = std::max(ceiling, seq) + kSeqBlock;
        std::string value;
        codec::append_be64(value, next);
        rocksdb::WriteBatch batch;
        if (!batch.Put(slice(tagged(kMetaTag, "seq")), slice(value)).ok() || !write(batch)) {
            return failure();
        }
        seq_ceiling.store(next);
        return seq;
    }

    // Adds deletes for a message and all its index entries. Invariant (kept under the
    // stripe lock): a live message with a topic is the one its topic key points to.
    static void erase_message(rocksdb::WriteBatch& batch, std::string_view qkey,
                              const MessageRecord& msg) {
        batch.Delete(slice(qkey)).PermitUncheckedError();
        batch.Delete(slice(tagged(kMessageIdTag, msg.id))).PermitUncheckedError();
        batch.Delete(slice(expiry_key(msg.expires_ms, msg.seq))).PermitUncheckedError();
        if (!msg.topic.empty()) {
            batch.Delete(slice(topic_key(msg.subscription_id, msg.topic))).PermitUncheckedError();
        }
    }

    // Deletes every queued message of `uaid` (of subscription `only_sub` if not null).
    bool erase_queue(rocksdb::WriteBatch& batch, std::string_view uaid,
                     const std::string* only_sub) {
        bool bad = false;
        const std::string prefix = lp_key(kQueueTag, uaid);
        const bool ok = scan(prefix, prefix, [&](std::string_view key, std::string_view value) {
            MessageRecord msg;
            if (!codec::decode(value, msg)) {
                bad = true;
                return false;
            }
            if (only_sub == nullptr || msg.subscription_id == *only_sub) {
                erase_message(batch, key, msg);
            }
            return true;
        });
        return ok && !bad;
    }

    // Queue length of `uaid`, counting no further than `limit`. Call under stripe(uaid), so no
    // enqueue or removal of this queue runs between the count and caching it (queue_counts.h).
    result<std::size_t> queued_locked(std::string_view uaid, std::size_t limit) {
        std::size_t n = 0;
        if (limit == 0) return n;
        auto& known_counts = counts(uaid);
        if (auto known = known_counts.get(uaid)) return std::min(*known, limit);
        const std::string prefix = lp_key(kQueueTag, uaid);
        if (!scan(prefix, prefix, [&](std::string_view, std::string_view) { return ++n < limit; }))
            return failure();
        if (n < limit) known_counts.set(uaid, n);  // a complete count
        return n;
    }

    // The queue key of message `id`, nullopt if there is no such message.
    result<std::optional<std::string>> queue_key_of(std::string_view id) {
        std::string qkey;
        switch (get(tagged(kMessageIdTag, id), qkey)) {
            case Got::failed:
                return failure();
            case Got::absent:
                return std::nullopt;
            case Got::found:
                break;
        }
        return std::optional<std::string>(std::move(qkey));
    }

    // Calls fn(qkey, uaid, msg) for message `id` with its user agent's stripe locked; fn
    // returns false on a write failure. Returns false if there is no such message.
    template <class Fn>
    result<bool> with_message_locked(std::string_view id, Fn&& fn) {
        auto qkey = queue_key_of(id);
        if (!qkey) return failure();
        if (!*qkey) return false;
        std::string_view uaid;
        if (!uaid_of_queue_key(**qkey, uaid)) return failure();
        std::lock_guard lk(stripe(uaid));
        // Re-read under the lock: a concurrent ack, replacement or sweep may have won.
        auto msg = get_record<MessageRecord>(**qkey);
        if (!msg) return failure();
        if (!*msg || (*msg)->id != id) return false;
        if (!fn(**qkey, uaid, **msg)) return failure();
        return true;
    }

    // Format 1 had no last_seen index and named receipt subscriptions only by their uaid:
    // 'R' + 16 random bytes (a WebSocket uaid is 16 bytes, an RFC 8030 set id too). Every
    // user agent record is rewritten with its kind and indexed; expiry values keep their
    // format-1 shape (the queue key alone) until their message goes, which split_expiry_value
    // reads. Idempotent: a crash before the format key is written repeats it on next open.
    result<void> migrate_from_1(const std::string& format_key, const std::string& format_2) {
        const base::UnixMs now = clock->now_ms();
        rocksdb::WriteBatch batch;
        bool bad = false;
        const std::string prefix(1, kUserAgentTag);
        const bool ok = scan(prefix, prefix, [&](std::string_view key, std::string_view value) {
            UserAgentRecord ua;
            if (!codec::decode(value, ua)) {
                bad = true;
                return false;
            }
            if (ua.uaid.size() == 17 && ua.uaid.front() == 'R') ua.kind = AgentKind::receipts;
            // Format 1 wrote last_seen on WebSocket hellos only: subscription sets and receipt
            // subscriptions kept their creation time. Counting idleness from the upgrade keeps
            // it from collecting live ones at once.
            ua.last_seen_ms = std::max(ua.last_seen_ms, now);
            batch.Put(slice(key), slice(codec::encode(ua))).PermitUncheckedError();
            batch
                .Put(slice(seen_key(std::uint8_t(ua.kind), ua.last_seen_ms, ua.uaid)),
                     rocksdb::Slice())
                .PermitUncheckedError();
            return true;
        });
        if (!ok || bad) return failure();
        batch.Put(slice(format_key), slice(format_2)).PermitUncheckedError();
        rocksdb::WriteOptions wo;
        wo.sync = true;  // the format key says the index is complete: make both durable
        if (!db->Write(wo, &batch).ok()) return failure();
        return {};
    }

    // Count of keys under `prefix` (keys only are looked at; values stay unread).
    result<std::uint64_t> count_keys(const std::string& prefix) {
        std::uint64_t n = 0;
        if (!scan(prefix, prefix, [&](std::string_view, std::string_view) { return ++n, true; }))
            return failure();
        return n;
    }

    result<void> open_meta() {
        std::string value;
        const std::string format_key = tagged(kMetaTag, "format");
        std::string expected;
        codec::append_be64(expected, kFormatVersion);
        std::string format_1;
        codec::append_be64(format_1, 1);
        switch (get(format_key, value)) {
            case Got::failed:
                return failure();
            case Got::found:
                if (value == format_1) {
                    if (auto r = migrate_from_1(format_key, expected); !r) return failure();
                } else if (value != expected) {
                    return failure();
                }
                break;
            case Got::absent: {
                rocksdb::WriteBatch batch;
                batch.Put(slice(format_key), slice(expected)).PermitUncheckedError();
                if (!db->Write(rocksdb::WriteOptions(), &batch).ok()) return failure();
                break;
            }
        }
        switch (get(tagged(kMetaTag, "seq"), value)) {
            case Got::failed:
                return failure();
            case Got::absent:
                break;
            case Got::found: {
                std::string_view in = value;
                std::uint64_t ceiling = 0;
                if (!codec::read_be64(in, ceiling)) return failure();
                last_seq.store(ceiling);
                seq_ceiling.store(ceiling);
                break;
            }
        }
        return {};
    }
};

RocksStore::RocksStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RocksStore::~RocksStore() = default;

result<std::unique_ptr<RocksStore>> RocksStore::open(const std::string& path,
                                                     const RocksOptions& opts) {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return failure();

    const rocksdb::Options o = rocks_options();
    rocksdb::DB* raw = nullptr;
    if (!rocksdb::DB::Open(o, path, &raw).ok()) return failure();
    auto impl = std::make_unique<Impl>();
    impl->db.reset(raw);
    impl->path = path;
    impl->sync = opts.sync;
    if (opts.clock != nullptr) impl->clock = opts.clock;
    if (auto r = impl->open_meta(); !r) return failure();
    return std::unique_ptr<RocksStore>(new RocksStore(std::move(impl)));
}

// --- user agents and subscriptions ---

// Writes `ua` (created, or replacing what `update` makes of the stored record; nothing when
// `update` is given and there is no record). Under the stripe: the old record's index entry
// is the one replaced, and a record deleted meanwhile is not brought back by an update.
result<bool> RocksStore::write_user_agent(const UserAgentRecord& fresh,
                                          const std::function<void(UserAgentRecord&)>* update) {
    {
        std::lock_guard lk(impl_->stripe(fresh.uaid));
        const std::string key = tagged(kUserAgentTag, fresh.uaid);
        auto old = impl_->get_record<UserAgentRecord>(key);
        if (!old) return failure();
        if (update && !*old) return false;
        UserAgentRecord ua = fresh;
        if (update) {
            ua = **old;
            (*update)(ua);
        }
        rocksdb::WriteBatch batch;
        if (*old)
            batch.Delete(slice(seen_key(std::uint8_t((*old)->kind), (*old)->last_seen_ms, ua.uaid)))
                .PermitUncheckedError();
        batch.Put(slice(key), slice(codec::encode(ua))).PermitUncheckedError();
        batch
            .Put(slice(seen_key(std::uint8_t(ua.kind), ua.last_seen_ms, ua.uaid)), rocksdb::Slice())
            .PermitUncheckedError();
        const bool written = impl_->write(batch);
        impl_->user_agents.forget(ua.uaid);
        if (!written) return failure();
    }
    if (auto r = impl_->make_durable(); !r) return failure();
    return true;
}

result<void> RocksStore::put_user_agent(const UserAgentRecord& ua) {
    auto r = write_user_agent(ua, nullptr);
    if (!r) return r.error();
    return {};
}

result<bool> RocksStore::touch_user_agent(std::string_view uaid, base::UnixMs last_seen_ms) {
    const std::function<void(UserAgentRecord&)> set = [&](UserAgentRecord& ua) {
        ua.last_seen_ms = last_seen_ms;
    };
    return write_user_agent(UserAgentRecord{.uaid = std::string(uaid)}, &set);
}

result<std::optional<UserAgentRecord>> RocksStore::get_user_agent(std::string_view uaid) {
    return impl_->user_agents.get(
        uaid, [&] { return impl_->get_record<UserAgentRecord>(tagged(kUserAgentTag, uaid)); });
}

result<std::vector<std::string>> RocksStore::idle_user_agents(AgentKind kind,
                                                              base::UnixMs seen_before,
                                                              std::size_t limit) {
    std::vector<std::string> out;
    if (limit == 0) return out;
    const std::string prefix = seen_prefix(std::uint8_t(kind));
    const bool ok = impl_->scan(prefix, prefix, [&](std::string_view key, std::string_view) {
        key.remove_prefix(prefix.size());
        std::uint64_t seen = 0;
        if (!codec::read_be64(key, seen) || seen >= bias(seen_before)) return false;
        out.emplace_back(key);
        return out.size() < limit;
    });
    if (!ok) return failure();
    return out;
}

result<void> RocksStore::delete_user_agent(std::string_view uaid) {
    {
        std::lock_guard lk(impl_->stripe(uaid));
        const std::string key = tagged(kUserAgentTag, uaid);
        auto old = impl_->get_record<UserAgentRecord>(key);
        if (!old) return failure();
        rocksdb::WriteBatch batch;
        batch.Delete(slice(key)).PermitUncheckedError();
        if (*old)
            batch.Delete(slice(seen_key(std::uint8_t((*old)->kind), (*old)->last_seen_ms, uaid)))
                .PermitUncheckedError();
        const std::string prefix = lp_key(kUaSubsTag, uaid);
        std::vector<std::string> sub_ids;
        const bool ok = impl_->scan(prefix, prefix, [&](std::string_view key, std::string_view) {
            batch.Delete(slice(key)).PermitUncheckedError();
            sub_ids.emplace_back(key.substr(prefix.size()));
            batch.Delete(slice(tagged(kSubscriptionTag, sub_ids.back()))).PermitUncheckedError();
            return true;
        });
        impl_->counts(uaid).forget(uaid);
        const bool written = ok && impl_->erase_queue(batch, uaid, nullptr) && impl_->write(batch);
        for (const auto& id : sub_ids) impl_->subscriptions.forget(id);
        impl_->user_agents.forget(uaid);
        if (!written) return failure();
    }
    return impl_->make_durable();
}

result<void> RocksStore::put_subscription(const SubscriptionRecord& sub) {
    {
        std::lock_guard lk(impl_->stripe(sub.uaid));
        const std::string key = tagged(kSubscriptionTag, sub.id);
        auto old = impl_->get_record<SubscriptionRecord>(key);
        if (!old) return failure();
        rocksdb::WriteBatch batch;
        if (*old && (*old)->uaid != sub.uaid) {
            std::string stale = lp_key(kUaSubsTag, (*old)->uaid);
            stale.append(sub.id);
            batch.Delete(slice(stale)).PermitUncheckedError();
        }
        std::string index = lp_key(kUaSubsTag, sub.uaid);
        index.append(sub.id);
        batch.Put(slice(key), slice(codec::encode(sub))).PermitUncheckedError();
        batch.Put(slice(index), rocksdb::Slice()).PermitUncheckedError();
        const bool written = impl_->write(batch);
        impl_->subscriptions.forget(sub.id);
        if (!written) return failure();
    }
    return impl_->make_durable();
}

result<std::optional<SubscriptionRecord>> RocksStore::get_subscription(std::string_view id) {
    return impl_->subscriptions.get(
        id, [&] { return impl_->get_record<SubscriptionRecord>(tagged(kSubscriptionTag, id)); });
}

result<std::vector<SubscriptionRecord>> RocksStore::subscriptions_of(std::string_view uaid) {
    std::vector<std::string> ids;
    const std::string prefix = lp_key(kUaSubsTag, uaid);
    const bool ok = impl_->scan(prefix, prefix, [&](std::string_view key, std::string_view) {
        ids.emplace_back(key.substr(prefix.size()));
        return true;
    });
    if (!ok) return failure();
    std::vector<SubscriptionRecord> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto sub = get_subscription(id);
        if (!sub) return failure();
        // Skip one deleted or moved since the scan.
        if (*sub && (*sub)->uaid == uaid) out.push_back(std::move(**sub));
    }
    return out;
}

result<bool> RocksStore::delete_subscription(std::string_view id) {
    const std::string key = tagged(kSubscriptionTag, id);
    auto found = impl_->get_record<SubscriptionRecord>(key);
    if (!found) return failure();
    if (!*found) return false;
    const SubscriptionRecord sub = std::move(**found);
    {
        std::lock_guard lk(impl_->stripe(sub.uaid));
        std::string value;
        switch (impl_->get(key, value)) {  // deleted by a concurrent caller?
            case Got::failed:
                return failure();
            case Got::absent:
                return false;
            case Got::found:
                break;
        }
        rocksdb::WriteBatch batch;
        std::string index = lp_key(kUaSubsTag, sub.uaid);
        index.append(sub.id);
        batch.Delete(slice(key)).PermitUncheckedError();
        batch.Delete(slice(index)).PermitUncheckedError();
        impl_->counts(sub.uaid).forget(sub.uaid);
        const bool written = impl_->erase_queue(batch, sub.uaid, &sub.id) && impl_->write(batch);
        impl_->subscriptions.forget(sub.id);
        if (!written) return failure();
    }
    if (auto r = impl_->make_durable(); !r) return failure();
    return true;
}

// --- messages ---

result<std::optional<std::string>> RocksStore::enqueue(MessageRecord& msg, std::size_t max_queued) {
    std::optional<std::string> replaced;
    {
        // Same user agent -> same stripe: the cap check, the topic lookup, the seq and the
        // write are one step for every writer of this queue (RFC 8030 §5.4 replacement is
        // race-free, and the cap exact).
        std::lock_guard lk(impl_->stripe(msg.uaid));
        if (max_queued != kNoQueueCap) {
            auto queued = impl_->queued_locked(msg.uaid, max_queued);
            if (!queued) return failure();
            if (*queued >= max_queued) return errc::too_many_requests;
        }
        rocksdb::WriteBatch batch;
        const std::string tkey =
            msg.topic.empty() ? std::string() : topic_key(msg.subscription_id, msg.topic);
        if (!tkey.empty()) {
            std::string old_id;
            std::string old_qkey;
            switch (impl_->get(tkey, old_id)) {
                case Got::failed:
                    return failure();
                case Got::absent:
                    break;
                case Got::found:
                    switch (impl_->get(tagged(kMessageIdTag, old_id), old_qkey)) {
                        case Got::failed:
                            return failure();
                        case Got::absent:
                            break;
                        case Got::found: {
                            auto old = impl_->get_record<MessageRecord>(old_qkey);
                            if (!old) return failure();
                            if (*old) {
                                Impl::erase_message(batch, old_qkey, **old);
                                replaced = std::move(old_id);
                            }
                        }
                    }
            }
        }
        auto seq = impl_->next_seq();
        if (!seq) return failure();
        msg.seq = *seq;
        const std::string qkey = queue_key(msg.uaid, msg.seq);
        batch.Put(slice(qkey), slice(codec::encode(msg))).PermitUncheckedError();
        batch.Put(slice(tagged(kMessageIdTag, msg.id)), slice(qkey)).PermitUncheckedError();
        batch
            .Put(slice(expiry_key(msg.expires_ms, msg.seq)),
                 slice(expiry_value(qkey, msg.received_ms, msg.id, msg.subscription_id, msg.topic,
                                    msg.receipt_status == 0 ? msg.receipt_id : "")))
            .PermitUncheckedError();
        if (!tkey.empty()) batch.Put(slice(tkey), slice(msg.id)).PermitUncheckedError();
        if (!impl_->write(batch)) {
            impl_->counts(msg.uaid).forget(msg.uaid);
            return failure();
        }
        if (!replaced) impl_->counts(msg.uaid).added(msg.uaid);  // a replacement: same length
        impl_->expiry_enqueued(msg.expires_ms);
    }
    if (auto r = impl_->make_durable(); !r) return failure();
    return replaced;
}

result<std::vector<MessageRecord>> RocksStore::pending(std::string_view uaid, base::UnixMs now,
                                                       std::uint64_t after_seq, std::size_t limit) {
    std::vector<MessageRecord> out;
    if (limit == 0 || after_seq == std::numeric_limits<std::uint64_t>::max()) return out;
    const std::string prefix = lp_key(kQueueTag, uaid);
    const std::string start = queue_key(uaid, after_seq + 1);
    bool bad = false;
    const bool ok = impl_->scan(prefix, start, [&](std::string_view, std::string_view value) {
        MessageRecord msg;
        if (!codec::decode(value, msg)) {
            bad = true;
            return false;
        }
        if (now < msg.expires_ms) out.push_back(std::move(msg));  // R8030-5.2-h
        return out.size() < limit;
    });
    if (!ok || bad) return failure();
    return out;
}

result<std::size_t> RocksStore::queued(std::string_view uaid, std::size_t limit) {
    std::lock_guard lk(impl_->stripe(uaid));
    return impl_->queued_locked(uaid, limit);
}

result<std::optional<MessageRecord>> RocksStore::get_message(std::string_view id) {
    auto qkey = impl_->queue_key_of(id);
    if (!qkey) return failure();
    if (!*qkey) return std::nullopt;
    auto msg = impl_->get_record<MessageRecord>(**qkey);
    if (!msg) return failure();
    if (*msg && impl_->clock->now_ms() >= (*msg)->expires_ms) return std::nullopt;
    return msg;
}

result<void> RocksStore::mark_delivered(std::string_view id) {
    auto found = impl_->with_message_locked(
        id, [&](const std::string& qkey, std::string_view, MessageRecord& msg) {
            if (msg.delivered) return true;
            msg.delivered = true;
            rocksdb::WriteBatch batch;
            batch.Put(slice(qkey), slice(codec::encode(msg))).PermitUncheckedError();
            return impl_->write(batch);
        });
    if (!found) return failure();
    return impl_->make_durable();
}

result<std::optional<MessageRecord>> RocksStore::delete_message(std::string_view id) {
    std::optional<MessageRecord> removed;
    auto found = impl_->with_message_locked(
        id, [&](const std::string& qkey, std::string_view uaid, MessageRecord& msg) {
            if (impl_->clock->now_ms() < msg.expires_ms) {
                removed = msg;
                removed->body.clear();
            }
            rocksdb::WriteBatch batch;
            Impl::erase_message(batch, qkey, msg);
            if (!impl_->write(batch)) {
                impl_->counts(uaid).forget(uaid);
                return false;
            }
            impl_->counts(uaid).removed(uaid);
            return true;
        });
    if (!found) return failure();
    if (!*found) return std::nullopt;
    if (auto r = impl_->make_durable(); !r) return failure();
    return removed;
}

result<std::optional<base::UnixMs>> RocksStore::next_expiry() {
    std::optional<base::UnixMs> next;
    const std::string prefix(1, kExpiryTag);
    bool bad = false;
    const bool ok = impl_->scan(
        prefix, impl_->expiry_scan_start(), [&](std::string_view key, std::string_view) {
            key.remove_prefix(1);
            std::uint64_t expires = 0;
            bad = !codec::read_be64(key, expires);
            if (!bad) next = static_cast<base::UnixMs>(expires ^ (std::uint64_t{1} << 63));
            return false;
        });
    if (!ok || bad) return failure();
    return next;
}

result<std::size_t> RocksStore::sweep_expired(base::UnixMs now, std::size_t limit,
                                              std::vector<MessageRecord>* with_receipt) {
    // Up to `limit` expired entries of the expiry index (key and value), grouped by stripe so
    // each stripe is locked once and its deletions are one write: a mass expiry costs writes
    // per batch, not per message. The index value names every key to delete, so the sweep
    // reads no record (bodies sit in blob files: reading them made a sweep ~4k msg/s).
    std::array<std::vector<std::pair<std::string, std::string>>, kStripes> by_stripe;
    std::size_t found = 0;
    const std::string prefix(1, kExpiryTag);
    // Reset before the scan's snapshot: an enqueue this scan cannot see is counted in it.
    impl_->enqueued_min.store(std::numeric_limits<std::uint64_t>::max());
    const std::uint64_t floor_at_start = impl_->expiry_floor.load();
    std::uint64_t last_expires = floor_at_start;
    bool bad = false;
    const bool ok = impl_->scan(
        prefix, impl_->expiry_scan_start(), [&](std::string_view key, std::string_view value) {
            if (found >= limit) return false;
            std::string_view rest = key.substr(1);
            std::uint64_t expires = 0;
            ExpiryEntry entry;
            std::string_view uaid;
            if (!codec::read_be64(rest, expires) || !split_expiry_value(value, entry) ||
                !uaid_of_queue_key(entry.qkey, uaid)) {
                bad = true;
                return false;
            }
            if (expires > bias(now)) return false;
            last_expires = expires;
            by_stripe[Impl::stripe_of(uaid)].emplace_back(key, value);
            ++found;
            return true;
        });
    if (!ok || bad) return failure();

    // Deleting expired messages needs no fsync: one lost in a crash is swept again.
    std::size_t swept = 0;
    for (std::size_t stripe = 0; stripe < kStripes; ++stripe) {
        if (by_stripe[stripe].empty()) continue;
        std::lock_guard lk(impl_->stripes[stripe]);
        rocksdb::WriteBatch batch;
        std::vector<std::string_view> owners;  // one entry per message erased in this batch
        std::vector<MessageRecord> receipts;
        for (const auto& [xkey, value] : by_stripe[stripe]) {
            ExpiryEntry e;
            split_expiry_value(value, e);
            MessageRecord gone;  // what a 410 receipt needs: the id and the receipt id
            if (e.received) {
                // An ack or a replacement deletes the expiry key in the same write as the
                // message, so its presence under the stripe lock says the message is there.
                std::string unused;
                switch (impl_->get(xkey, unused)) {
                    case Got::failed:
                        return failure();
                    case Got::absent:
                        continue;
                    case Got::found:
                        break;
                }
                batch.Delete(slice(e.qkey)).PermitUncheckedError();
                batch.Delete(slice(tagged(kMessageIdTag, e.id))).PermitUncheckedError();
                batch.Delete(slice(xkey)).PermitUncheckedError();
                if (!e.topic.empty())
                    batch.Delete(slice(topic_key(e.subscription_id, e.topic)))
                        .PermitUncheckedError();
                gone.id = e.id;
                gone.receipt_id = e.receipt_id;
            } else {  // format 1: the record says what to delete
                auto msg = impl_->get_record<MessageRecord>(e.qkey);
                if (!msg) return failure();
                if (!*msg || (*msg)->expires_ms > now) continue;  // acked or replaced meanwhile
                Impl::erase_message(batch, e.qkey, **msg);
                gone.id = (*msg)->id;
                if ((*msg)->receipt_status == 0) gone.receipt_id = (*msg)->receipt_id;
            }
            std::string_view uaid;
            uaid_of_queue_key(e.qkey, uaid);
            owners.push_back(uaid);
            if (with_receipt && !gone.receipt_id.empty()) {
                gone.uaid = uaid;
                receipts.push_back(std::move(gone));
            }
        }
        if (owners.empty()) continue;
        if (!impl_->write(batch)) {
            for (auto uaid : owners) impl_->counts(uaid).forget(uaid);
            return failure();
        }
        for (auto uaid : owners) impl_->counts(uaid).removed(uaid);
        swept += owners.size();
        if (with_receipt)
            with_receipt->insert(with_receipt->end(), std::make_move_iterator(receipts.begin()),
                                 std::make_move_iterator(receipts.end()));
    }
    // Everything below last_expires was removed (or was gone already) but for what was
    // enqueued meanwhile, so scans may start there; unless an enqueue lowered the floor
    // meanwhile (the exchange then fails and keeps the lower one).
    std::uint64_t expected = floor_at_start;
    if (impl_->expiry_floor.compare_exchange_strong(
            expected, std::min(last_expires, impl_->enqueued_min.load())))
        // An enqueue that lowered enqueued_min after our load (and left the floor alone, being
        // above floor_at_start) must not end up below the raised floor.
        Impl::lower(impl_->expiry_floor, impl_->enqueued_min.load());
    return swept;
}

result<StoreStats> RocksStore::stats() {
    StoreStats out;
    const std::string prefix(1, kExpiryTag);
    bool bad = false;
    const bool ok = impl_->scan(prefix, prefix, [&](std::string_view, std::string_view value) {
        ExpiryEntry e;
        if (!split_expiry_value(value, e)) {
            bad = true;
            return false;
        }
        ++out.queued_messages;
        std::optional<base::UnixMs> received = e.received;
        if (!received) {  // a format-1 entry: the record has it
            auto msg = impl_->get_record<MessageRecord>(e.qkey);
            if (msg && *msg) received = (*msg)->received_ms;
        }
        if (received && (!out.oldest_received_ms || *received < *out.oldest_received_ms))
            out.oldest_received_ms = received;
        return true;
    });
    if (!ok || bad) return failure();
    auto uas = impl_->count_keys(seen_prefix(std::uint8_t(AgentKind::user_agent)));
    auto receipts = impl_->count_keys(seen_prefix(std::uint8_t(AgentKind::receipts)));
    if (!uas || !receipts) return failure();
    out.user_agents = *uas;
    out.receipt_subscriptions = *receipts;
    std::error_code ec;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(impl_->path, ec)) {
        std::error_code size_ec;
        if (entry.is_regular_file(size_ec)) out.disk_bytes += entry.file_size(size_ec);
    }
    return out;
}

}  // namespace pushsvc::store

namespace pushsvc::store {

std::string RocksStore::checkpoint(const std::string& dir) {
    rocksdb::Checkpoint* raw = nullptr;
    auto st = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
    if (!st.ok()) return st.ToString();
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush 0: always flush, so the copy holds table and blob files and a WAL
    // with nothing unflushed in it.
    st = cp->CreateCheckpoint(dir, 0);
    return st.ok() ? std::string() : st.ToString();
}

RocksStore::Verified RocksStore::verify_copy(const std::string& dir) {
    Verified out;
    rocksdb::DB* raw = nullptr;
    auto st = rocksdb::DB::OpenForReadOnly(rocks_options(), dir, &raw);
    if (!st.ok()) {
        out.error = st.ToString();
        return out;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    st = db->VerifyChecksum();
    if (!st.ok()) {
        out.error = st.ToString();
        return out;
    }
    // Reading every value also reads every blob a record points to.
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        (void)it->value();
        ++out.records;
    }
    if (!it->status().ok()) out.error = it->status().ToString();
    return out;
}

}  // namespace pushsvc::store
