// RocksStore's body log (body_log.h): reading a body a record names, and giving back the
// space of segments whose bodies are dead.
//
// A body dies with its message (ack, expiry, Topic replacement, unsubscribe) without the log
// hearing of it: a collection counts, per segment, the bodies that queue records still name.
// Sealed segments nobody names are removed. A sealed segment that is mostly dead but pinned
// by a few long-lived messages (a four-week TTL to a browser that never comes back) has
// those bodies moved to the active segment, and goes at the next collection: the log never
// holds much more than the live bodies plus what arrived since the last collection.
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <set>

#include "pushsvc/base/base64url.h"
#include "pushsvc/store/rocks_store_impl.h"

namespace pushsvc::store {
namespace {

// A sealed segment with less than this share of its octets live has its bodies moved out.
constexpr std::uint64_t kMoveBelowPercent = 50;
// At most this many octets are moved per collection (the rest wait for the next one).
constexpr std::uint64_t kMoveBytesPerPass = 64u << 20;

}  // namespace

RocksStore::Impl::Body RocksStore::Impl::load_body(std::string_view qkey, MessageRecord& msg,
                                                   std::string body_ref) {
    // A body moved again between each read and the next is read where it went last: each
    // move is a collection, at least seconds apart.
    for (int attempt = 0; !body_ref.empty(); ++attempt) {
        switch (bodies->read(body_ref, msg.body)) {
            case BodyLog::Read::ok:
                return Body::loaded;
            case BodyLog::Read::failed:  // says nothing about the body: the caller retries
                return Body::failed;
            case BodyLog::Read::missing:
                break;
        }
        MessageRecord again;
        std::string again_ref;
        switch (read_message(qkey, again, again_ref)) {
            case Got::failed:
                return Body::failed;
            case Got::absent:
                return Body::gone;
            case Got::found:
                break;
        }
        if (again.id != msg.id) return Body::gone;
        if (again_ref == body_ref || attempt == 8) break;  // the record still names it
        body_ref = std::move(again_ref);                   // moved by a collection meanwhile
    }
    if (body_ref.empty()) return Body::loaded;
    // A record whose body is not in the log: with `sync`, a power loss can leave the record of
    // a push that was never answered (a concurrent writer's WAL fsync took it along, while its
    // body's fsync had not come); without `sync` a power loss promises nothing; or the disk
    // damaged it. Its queue is still read; the sweep removes the record when it expires.
    spdlog::error("store: message {} names a body the body log does not hold; skipped",
                  base::base64url_encode(msg.id));
    return Body::lost;
}

result<RocksStore::BodyCollection> RocksStore::collect_bodies() {
    Impl& im = *impl_;
    std::lock_guard lk(im.collect_mu);
    // On every way out: the page-cache advice for the segments this sealed has been given, so
    // no file of the log stays open for it (BodyLog::settle_advice).
    struct Settle {
        BodyLog& log;
        ~Settle() { log.settle_advice(); }
    } settle{*im.bodies};
    BodyCollection out;
    // After the drain every record naming a body in a segment below `below` is written, so
    // the scan (whose iterator starts after it) sees them all; appends from now on go to
    // `below` or later, and only this collection moves bodies. An active segment under an
    // eighth of the segment size stays active (a new segment per quiet interval would make
    // thousands of small files over a month of long-TTL pushes).
    const std::uint64_t segment_bytes = im.bodies->segment_bytes();
    const std::uint64_t below = im.bodies->seal_and_drain(segment_bytes / 8);
    std::map<std::uint64_t, std::uint64_t> live;  // segment, live octets
    std::size_t undecodable = 0;
    const std::string prefix(1, kQueueTag);
    // Calls fn(key, ref) for every record naming a body. A record that does not decode is
    // skipped (reads refuse it anyway): one damaged record must not stop every collection.
    auto each_ref = [&](auto&& fn) {
        return im.scan(prefix, prefix, [&](std::string_view key, std::string_view value) {
            MessageRecord msg;
            std::string ref;
            if (!codec::decode(value, msg, &ref))
                ++undecodable;
            else if (!ref.empty())
                fn(key, ref);
            return true;
        });
    };
    if (!each_ref([&](std::string_view, const std::string& ref) {
            live[*BodyLog::segment_of(ref)] += *BodyLog::length_of(ref);
        }))
        return failure();
    if (undecodable > 0)
        spdlog::error("store: {} queue records do not decode; the body log ignores them",
                      undecodable);
    // With `sync`, what the scan saw (a message deleted, a body moved) is made durable before
    // a segment goes for it: after a power loss the WAL must not bring back a record naming a
    // removed segment.
    if (auto r = im.make_durable(); !r) return failure();

    std::set<std::uint64_t> named;
    std::set<std::uint64_t> to_empty;  // mostly dead, or small: their live bodies move
    std::uint64_t to_move = 0;
    for (const auto& [id, size] : im.bodies->sealed_segments()) {
        if (id >= below) continue;
        const auto it = live.find(id);
        if (it == live.end()) continue;
        named.insert(id);
        out.live_bytes += it->second;
        const bool mostly_dead = it->second * 100 < size * kMoveBelowPercent;
        const bool small = size < segment_bytes / 8;  // left by a restart
        if ((mostly_dead || small) && to_move < kMoveBytesPerPass) {
            to_empty.insert(id);
            to_move += it->second;
        }
    }
    out.segments_removed = im.bodies->collect(named, below);

    if (to_empty.empty()) return out;
    std::vector<std::string> keys;
    if (!each_ref([&](std::string_view key, const std::string& ref) {
            if (to_empty.contains(*BodyLog::segment_of(ref))) keys.emplace_back(key);
        }))
        return failure();
    // A move writes the body first, makes it durable (with `sync`: a record naming it must not
    // reach the disk before it), and only then rewrites the records, each checked again under
    // its stripe: one that changed meanwhile keeps its reference (the copy is garbage).
    struct Move {
        std::string qkey, from;
        std::string to;
        BodyLog::Pin pin;
    };
    std::vector<Move> moves;
    moves.reserve(keys.size());
    for (auto& qkey : keys) {
        MessageRecord msg;
        std::string ref;
        switch (im.read_message(qkey, msg, ref)) {
            case Got::failed:
                return failure();
            case Got::absent:  // gone since the scan
                continue;
            case Got::found:
                break;
        }
        if (ref.empty() || !to_empty.contains(*BodyLog::segment_of(ref))) continue;
        std::string body;
        switch (im.bodies->read(ref, body)) {
            case BodyLog::Read::ok:
                break;
            case BodyLog::Read::failed:
                return failure();
            case BodyLog::Read::missing:  // lost (see load_body): nothing to move
                spdlog::error("store: message {} names a body the body log does not hold",
                              base::base64url_encode(msg.id));
                continue;
        }
        Move& m = moves.emplace_back();
        m.qkey = std::move(qkey);
        m.from = std::move(ref);
        const std::string_view bodies[] = {body};
        std::vector<std::string> refs;
        if (!im.bodies->append(bodies, refs, m.pin)) return failure();
        m.to = std::move(refs[0]);
    }
    if (moves.empty()) return out;
    if (auto r = im.make_durable(); !r) return failure();
    for (auto& m : moves) {
        std::string_view uaid;
        if (!uaid_of_queue_key(m.qkey, uaid)) continue;
        std::lock_guard stripe(im.stripe(uaid));
        MessageRecord msg;
        std::string ref;
        switch (im.read_message(m.qkey, msg, ref)) {
            case Got::failed:
                return failure();
            case Got::absent:
                continue;
            case Got::found:
                break;
        }
        if (ref != m.from) continue;  // changed since: the copy is garbage
        rocksdb::WriteBatch batch;
        batch.Put(slice(m.qkey), slice(codec::encode_with_body_ref(msg, m.to)))
            .PermitUncheckedError();
        if (!im.write(batch)) return failure();
        m.pin.release();
        ++out.bodies_moved;
    }
    // (The next collection's make_durable, before it removes the segments these bodies left,
    // makes the rewritten records durable, even if this one failed halfway.)
    return out;
}

void RocksStore::start_body_collector(std::chrono::milliseconds interval) {
    impl_->collector = std::thread([this, interval] {
        std::unique_lock lk(impl_->collector_mu);
        auto wait = interval;
        // Appends and erased messages as of the last collection that succeeded (none yet:
        // the first interval collects what an earlier run left).
        std::optional<std::uint64_t> seen;
        while (!impl_->collector_cv.wait_for(lk, wait, [&] { return impl_->stopping; })) {
            lk.unlock();
            const auto started = std::chrono::steady_clock::now();
            // Nothing appended or erased since the last collection: nothing to give back (a
            // quiet store with a large backlog is not read through every interval).
            const std::uint64_t activity = impl_->bodies->appends() + impl_->erased.load();
            if (activity != seen) {
                if (collect_bodies())
                    seen = activity;
                else
                    spdlog::error("store: collection of the body log failed; retrying later");
            }
            // A collection reads every queue record: with a large backlog it is spaced out so
            // that it takes at most a tenth of a thread.
            const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
            wait = std::max(interval, 10 * took);
            lk.lock();
        }
    });
}

}  // namespace pushsvc::store
