#pragma once
// RocksStore's internals, shared by rocks_store.cc (open, user agents, subscriptions, backups)
// and rocks_messages.cc (the queue): the database handle, the stripe locks and caches, and
// the helpers every method uses. Private to those files (RocksDB headers stay out of
// rocks_store.h).

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "pushsvc/crypto/aes_block.h"
#include "pushsvc/store/body_log.h"
#include "pushsvc/store/queue_counts.h"
#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"
#include "pushsvc/store/rocks_store.h"
#include "pushsvc/store/subscription_cache.h"

namespace pushsvc::store {

using namespace keys;

// 2: user agents indexed by kind and last_seen ('a' keys), received_ms in expiry values.
// 3: message ids carry their locator, no 'm' key for new messages (rocks_keys.h).
// 4: message records may name a body in the body log (record version 3, body_log.h).
// Older formats are migrated on open (rocks_format.cc).
constexpr std::uint64_t kFormatVersion = 4;
// AES-128 key of the message id locators ('#idkey', made with the store).
constexpr std::size_t kIdKeySize = 16;
// Sequence numbers are handed out from memory; the store persists a ceiling kSeqBlock ahead
// before any seq at or above the old ceiling is used, so seq keeps growing across reopen.
constexpr std::uint64_t kSeqBlock = 1u << 16;
constexpr std::size_t kStripes = 64;
// Bodies of at least this many octets go to the body log (body_log.h); shorter ones stay in
// their record, where a reference (24 octets) and a read would cost about as much.
constexpr std::size_t kBodyLogMin = 256;

// Converts to any result<T> as errc::store_failure (the error for any I/O or corruption).
struct Failure {
    template <class T>
    operator result<T>() const {  // NOLINT(google-explicit-constructor)
        return result<T>(boost::system::in_place_error, make_error_code(errc::store_failure));
    }
};

inline Failure failure() { return {}; }

inline rocksdb::Slice slice(std::string_view s) { return {s.data(), s.size()}; }
inline std::string_view view(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

enum class Got { found, absent, failed };

struct RocksStore::Impl {
    std::unique_ptr<rocksdb::DB> db;
    std::string path;
    bool sync = false;
    // Message bodies of kBodyLogMin octets and more (rocks_bodies.cc). Set at open.
    std::unique_ptr<BodyLog> bodies;
    // One collection of the body log at a time; a backup holds it too, so that no segment its
    // copy of the database names is removed before the segments are copied.
    std::mutex collect_mu;
    // The background collection (rocks_bodies.cc): its thread waits here until `stopping`.
    std::mutex collector_mu;
    std::condition_variable collector_cv;
    bool stopping = false;
    std::thread collector;
    // Grows with every removal of messages (the collector's other sign of activity; not an
    // exact count).
    mutable std::atomic<std::uint64_t> erased{0};
    base::SystemClock system_clock;
    const base::Clock* clock = &system_clock;

    // Serialises mutations of one user agent's queue and subscriptions.
    std::array<std::mutex, kStripes> stripes;
    std::array<QueueCounts, kStripes> queue_counts;
    SubscriptionCache subscriptions;  // forget() after every write that touches one
    UserAgentCache user_agents;       // the same for user agent records
    // What those caches load on a miss.
    auto subscription_loader(std::string_view id) {
        return [this, id] { return get_record<SubscriptionRecord>(tagged(kSubscriptionTag, id)); };
    }
    auto user_agent_loader(std::string_view uaid) {
        return [this, uaid] { return get_record<UserAgentRecord>(tagged(kUserAgentTag, uaid)); };
    }

    // Messages stored before format 3 may be live, whose ids have an 'm' key (their ids were
    // handed out as URLs and WebSocket versions, so they keep working). Set at open.
    bool legacy_ids = false;
    // Encrypts the locator at the end of every message id (rocks_keys.h); its 16 random
    // octets are made with the store and kept in it ('#idkey'). Set at open.
    std::unique_ptr<crypto::AesBlockKey> id_key;

    // The id suffix of the message at expiry key `xkey` ('x' + the plain locator).
    std::string sealed_locator(std::string_view xkey) const {
        std::string out(kLocatorSize, '\0');
        id_key->encrypt(std::span<const char, kLocatorSize>(xkey.data() + 1, kLocatorSize),
                        std::span<char, kLocatorSize>(out.data(), kLocatorSize));
        return out;
    }
    // The expiry key the end of `id` names; "" when it is too short to have a locator.
    std::string expiry_key_of_id(std::string_view id) const {
        if (id.size() < kLocatorSize) return {};
        std::string xkey(1 + kLocatorSize, kExpiryTag);
        id_key->decrypt(
            std::span<const char, kLocatorSize>(id.data() + id.size() - kLocatorSize, kLocatorSize),
            std::span<char, kLocatorSize>(xkey.data() + 1, kLocatorSize));
        return xkey;
    }
    // Whether `id` is a format-3 id of the message at expiry key `xkey` (if not, the message
    // was stored before format 3 and has an 'm' key). Only asked while legacy ids may live.
    bool id_has_locator(std::string_view id, std::string_view xkey) const {
        return xkey.size() == 1 + kLocatorSize && id.size() >= kLocatorSize &&
               id.substr(id.size() - kLocatorSize) == sealed_locator(xkey);
    }

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
        stop_collector();
        if (db) db->Close().PermitUncheckedError();
    }
    void stop_collector() {
        {
            std::lock_guard lk(collector_mu);
            stopping = true;
        }
        collector_cv.notify_all();
        if (collector.joinable()) collector.join();
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
            // The bodies first: a record durable before the body it names would name nothing
            // after a power loss.
            const bool ok = bodies->sync() && db->SyncWAL().ok();
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
    void erase_message(rocksdb::WriteBatch& batch, std::string_view qkey,
                       const MessageRecord& msg) const {
        const std::string xkey = expiry_key(msg.expires_ms, msg.seq);
        erased.fetch_add(1, std::memory_order_relaxed);
        batch.Delete(slice(qkey)).PermitUncheckedError();
        batch.Delete(slice(xkey)).PermitUncheckedError();
        // Only a message of format 2 or before has an id index entry.
        if (legacy_ids && !id_has_locator(msg.id, xkey))
            batch.Delete(slice(tagged(kMessageIdTag, msg.id))).PermitUncheckedError();
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
        // Format 3: the id's locator names its expiry key, whose value names the queue key
        // and holds the whole id, so an id with any other random part finds nothing.
        if (const std::string xkey = expiry_key_of_id(id); !xkey.empty()) {
            std::string value;
            switch (get(xkey, value)) {
                case Got::failed:
                    return failure();
                case Got::absent:
                    break;
                case Got::found: {
                    ExpiryEntry e;
                    if (!split_expiry_value(value, e)) return failure();
                    if (e.received && same_id(e.id, id))
                        return std::optional<std::string>(std::string(e.qkey));
                }
            }
        }
        // An id handed out before format 3 has an 'm' key.
        if (!legacy_ids) return std::nullopt;
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

    // The message record at `qkey`, without its body (`body_ref` names it in the body log; ""
    // when the record holds it). A record that does not decode is `failed`.
    Got read_message(std::string_view qkey, MessageRecord& msg, std::string& body_ref) {
        std::string value;
        const Got got = get(qkey, value);
        if (got != Got::found) return got;
        return codec::decode(value, msg, &body_ref) ? Got::found : Got::failed;
    }

    // Calls fn(qkey, uaid, msg, body_ref) for message `id` with its user agent's stripe locked
    // (msg without its body; body_ref "" when the record holds it); fn returns false on a write
    // failure. Returns false if there is no such message.
    template <class Fn>
    result<bool> with_message_locked(std::string_view id, Fn&& fn) {
        auto qkey = queue_key_of(id);
        if (!qkey) return failure();
        if (!*qkey) return false;
        std::string_view uaid;
        if (!uaid_of_queue_key(**qkey, uaid)) return failure();
        std::lock_guard lk(stripe(uaid));
        // Re-read under the lock: a concurrent ack, replacement or sweep may have won.
        MessageRecord msg;
        std::string body_ref;
        switch (read_message(**qkey, msg, body_ref)) {
            case Got::failed:
                return failure();
            case Got::absent:
                return false;
            case Got::found:
                break;
        }
        if (msg.id != id) return false;
        if (!fn(**qkey, uaid, msg, body_ref)) return failure();
        return true;
    }

    // The record of `msg` (at `body_ref` in the log, or holding its body when "").
    static std::string encode_message(const MessageRecord& msg, std::string_view body_ref) {
        return body_ref.empty() ? codec::encode(msg) : codec::encode_with_body_ref(msg, body_ref);
    }
    // Reads into msg.body the body its record at `qkey` names (`body_ref`; nothing to do for
    // ""). A collection may have removed the segment since the record was read, the message
    // being deleted or its body moved (rocks_bodies.cc): the record is then read again.
    // `gone`: the message is no longer stored; `lost`: its record names a body that is not
    // in the log (see load_body); `failed`: RocksDB failed.
    enum class Body { loaded, gone, lost, failed };
    Body load_body(std::string_view qkey, MessageRecord& msg, std::string body_ref);

    // Format 1 had no last_seen index; rewrites every user agent (rocks_format.cc).
    result<void> migrate_from_1(const std::string& format_key, const std::string& format_2);
    // Format 2 wrote an 'm' key per message; nothing is rewritten (rocks_format.cc).
    result<void> migrate_from_2(const std::string& format_key, const std::string& format_3);
    // Format 3 stores are format 4 stores without a body log yet (rocks_format.cc).
    result<void> migrate_from_3(const std::string& format_key, const std::string& format_4);

    // Count of keys under `prefix` (keys only are looked at; values stay unread).
    result<std::uint64_t> count_keys(const std::string& prefix) {
        std::uint64_t n = 0;
        if (!scan(prefix, prefix, [&](std::string_view, std::string_view) { return ++n, true; }))
            return failure();
        return n;
    }

    // Checks the format (migrating older ones), finds legacy ids, loads the seq ceiling.
    result<void> open_meta();
};

}  // namespace pushsvc::store
