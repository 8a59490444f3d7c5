// RocksStore's queue: enqueue (with Topic replacement and the per-UA cap), reading, acks and
// expiry. The rest of the store is in rocks_store.cc; shared internals in rocks_store_impl.h.

#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "pushsvc/store/rocks_store_impl.h"

namespace pushsvc::store {

// --- messages ---

result<std::optional<std::string>> RocksStore::enqueue(MessageRecord& msg, std::size_t max_queued,
                                                       RouteSeen* /*route: not read*/) {
    MessageRecord* one[] = {&msg};
    return std::move(enqueue_batch(one, max_queued, {}).front());
}

namespace {

// The stripes a batch's user agents hash to, locked in ascending order (every writer that
// holds two stripes at once takes them in that order, and single writers hold one: no
// deadlock) and released when this goes out of scope.
class StripeLocks {
  public:
    StripeLocks(std::array<std::mutex, kStripes>& stripes, std::array<bool, kStripes> used)
        : stripes_(stripes), used_(used) {
        for (std::size_t i = 0; i < kStripes; ++i)
            if (used_[i]) stripes_[i].lock();
    }
    ~StripeLocks() { unlock(); }
    StripeLocks(const StripeLocks&) = delete;
    StripeLocks& operator=(const StripeLocks&) = delete;
    void unlock() {
        for (std::size_t i = kStripes; i-- > 0;)
            if (std::exchange(used_[i], false)) stripes_[i].unlock();
    }

  private:
    std::array<std::mutex, kStripes>& stripes_;
    std::array<bool, kStripes> used_;
};

// A message of the batch that is in the WriteBatch.
struct Staged {
    MessageRecord* msg = nullptr;
    std::size_t index = 0;           // in the batch (and in its results)
    std::size_t caller_id_size = 0;  // msg->id before the locator was appended
    std::string qkey, tkey;          // tkey: "" without a topic
    bool replacement = false;        // replaced a message: the queue did not grow
    bool live = true;                // false: a later message of the batch replaced it
};

}  // namespace

std::vector<Store::Enqueued> RocksStore::enqueue_batch(std::span<MessageRecord* const> msgs,
                                                       std::size_t max_queued,
                                                       std::span<RouteSeen* const> /*not read*/) {
    std::vector<Enqueued> out;
    out.reserve(msgs.size());
    std::vector<Staged> staged;
    staged.reserve(msgs.size());
    std::size_t inline_bytes = 0;
    std::array<bool, kStripes> used{};
    for (const MessageRecord* msg : msgs) {
        used[Impl::stripe_of(msg->uaid)] = true;
        if (msg->body.size() < kBodyLogMin) inline_bytes += msg->body.size();
    }
    // Sized once for the records (~200 octets of fields each, and the bodies kept in them)
    // and their index entries.
    rocksdb::WriteBatch batch(inline_bytes + 1024 * msgs.size());
    // The user agents' stripes make the cap check, the topic lookup, the seq and the write one
    // step for every writer of these queues (RFC 8030 §5.4 replacement is race-free, and the
    // cap exact), for the whole batch.
    StripeLocks locks(impl_->stripes, used);
    for (std::size_t i = 0; i < msgs.size(); ++i) {
        MessageRecord& msg = *msgs[i];
        if (max_queued != kNoQueueCap) {
            auto queued = impl_->queued_locked(msg.uaid, max_queued);
            if (!queued) {
                out.push_back(failure());
                continue;
            }
            // The batch's earlier messages to this queue count as queued already.
            std::size_t n = *queued;
            for (const auto& s : staged) n += !s.replacement && s.msg->uaid == msg.uaid;
            if (n >= max_queued) {
                out.emplace_back(errc::too_many_requests);
                continue;
            }
        }
        Staged st{.msg = &msg, .index = i, .caller_id_size = msg.id.size()};
        std::optional<std::string> replaced;
        if (!msg.topic.empty()) {
            st.tkey = topic_key(msg.subscription_id, msg.topic);
            // The holder of the topic is the batch's own latest message with it, if any (its
            // topic key is in the WriteBatch, not yet in the database).
            Staged* holder = nullptr;
            for (auto& s : staged)
                if (s.live && s.tkey == st.tkey) holder = &s;
            if (holder) {
                impl_->erase_message(batch, holder->qkey, *holder->msg);
                holder->live = false;
                replaced = holder->msg->id;
            } else {
                std::string old_id;
                bool failed = false;
                switch (impl_->get(st.tkey, old_id)) {
                    case Got::failed:
                        failed = true;
                        break;
                    case Got::absent:
                        break;
                    case Got::found: {
                        auto old_qkey = impl_->queue_key_of(old_id);
                        if (!old_qkey) {
                            failed = true;
                            break;
                        }
                        if (!*old_qkey) break;
                        auto old = impl_->get_record<MessageRecord>(**old_qkey);
                        if (!old) {
                            failed = true;
                            break;
                        }
                        if (*old) {
                            impl_->erase_message(batch, **old_qkey, **old);
                            replaced = std::move(old_id);
                        }
                    }
                }
                if (failed) {
                    out.push_back(failure());
                    continue;
                }
            }
        }
        auto seq = impl_->next_seq();
        if (!seq) {
            out.push_back(failure());
            continue;
        }
        msg.seq = *seq;
        // The id handed out names where the message is (rocks_keys.h): no id index to write.
        const std::string xkey = expiry_key(msg.expires_ms, msg.seq);
        msg.id += impl_->sealed_locator(xkey);
        st.qkey = queue_key(msg.uaid, msg.seq);
        // The record itself is put once the bodies are in the log (below); a message this
        // batch replaces gets none (its deletes are in the batch already).
        batch
            .Put(slice(xkey),
                 slice(expiry_value(st.qkey, msg.received_ms, msg.id, msg.subscription_id,
                                    msg.topic, msg.receipt_status == 0 ? msg.receipt_id : "")))
            .PermitUncheckedError();
        if (!st.tkey.empty()) batch.Put(slice(st.tkey), slice(msg.id)).PermitUncheckedError();
        st.replacement = replaced.has_value();
        staged.push_back(std::move(st));
        out.emplace_back(std::move(replaced));
    }
    if (staged.empty()) return out;
    auto fail_all = [&] {
        for (auto& s : staged) {
            impl_->counts(s.msg->uaid).forget(s.msg->uaid);
            s.msg->id.resize(s.caller_id_size);
            out[s.index] = failure();
        }
    };
    // The bodies for the log, in one write ahead of the records that name them.
    std::vector<std::string_view> bodies;
    std::vector<std::string> refs;
    for (const auto& s : staged)
        if (s.live && s.msg->body.size() >= kBodyLogMin) bodies.push_back(s.msg->body);
    BodyLog::Pin pin;
    if (!bodies.empty() && !impl_->bodies->append(bodies, refs, pin)) {
        fail_all();
        return out;
    }
    std::size_t next_ref = 0;
    for (const auto& s : staged) {
        if (!s.live) continue;
        const MessageRecord& msg = *s.msg;
        std::string_view ref;  // "": the body stays in the record
        if (msg.body.size() >= kBodyLogMin) ref = refs[next_ref++];
        batch.Put(slice(s.qkey), slice(Impl::encode_message(msg, ref))).PermitUncheckedError();
    }
    if (!impl_->write(batch)) {
        fail_all();
        return out;
    }
    pin.release();
    for (const auto& s : staged) {
        if (!s.replacement) impl_->counts(s.msg->uaid).added(s.msg->uaid);
        impl_->expiry_enqueued(s.msg->expires_ms);
    }
    locks.unlock();
    // One fsync for the batch (and, through the group commit, for concurrent writers).
    if (auto r = impl_->make_durable(); !r)
        for (const auto& s : staged) out[s.index] = failure();
    return out;
}

result<std::vector<MessageRecord>> RocksStore::pending(std::string_view uaid, base::UnixMs now,
                                                       std::uint64_t after_seq, std::size_t limit) {
    std::vector<MessageRecord> out;
    if (limit == 0 || after_seq == std::numeric_limits<std::uint64_t>::max()) return out;
    const std::string prefix = lp_key(kQueueTag, uaid);
    // A page shorter than `limit` tells the caller the queue ends there (delivery_window.h),
    // so a message dropped for its body (below) is made up for by reading on.
    for (std::uint64_t from = after_seq; out.size() < limit;) {
        std::vector<MessageRecord> page;
        std::vector<std::pair<std::string, std::string>> in_log;  // queue key, body reference
        bool bad = false, more = true;  // more: the scan wanted more, the queue ended
        auto each = [&](std::string_view key, std::string_view value) {
            MessageRecord msg;
            std::string body_ref;
            // The next page starts after this key's seq ('q' lp(uaid) be64(seq)), not the
            // record's: a damaged record must not move the scan backwards.
            std::string_view seq = key.substr(key.size() < 8 ? 0 : key.size() - 8);
            if (!codec::read_be64(seq, from) || !codec::decode(value, msg, &body_ref)) {
                bad = true;
                return false;
            }
            if (now < msg.expires_ms) {  // R8030-5.2-h
                page.push_back(std::move(msg));
                // The key is needed only to read a body from the log again (load_body).
                in_log.emplace_back(body_ref.empty() ? std::string_view() : key,
                                    std::move(body_ref));
            }
            more = out.size() + page.size() < limit;
            return more;
        };
        const bool ok = impl_->scan(prefix, queue_key(uaid, from + 1), each);
        if (!ok || bad) return failure();
        // The bodies are read after the scan (its iterator pins memtables and files while
        // open).
        for (std::size_t i = 0; i < page.size(); ++i) {
            switch (impl_->load_body(in_log[i].first, page[i], std::move(in_log[i].second))) {
                case Impl::Body::failed:
                    return failure();
                case Impl::Body::gone:  // acked, replaced or swept since the scan
                case Impl::Body::lost:
                    break;
                case Impl::Body::loaded:
                    out.push_back(std::move(page[i]));
            }
        }
        if (more) break;  // the scan ran to the end of the queue
    }
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
    MessageRecord msg;
    std::string body_ref;
    switch (impl_->read_message(**qkey, msg, body_ref)) {
        case Got::failed:
            return failure();
        case Got::absent:
            return std::nullopt;
        case Got::found:
            break;
    }
    if (impl_->clock->now_ms() >= msg.expires_ms) return std::nullopt;
    switch (impl_->load_body(**qkey, msg, std::move(body_ref))) {
        case Impl::Body::failed:
            return failure();
        case Impl::Body::gone:
        case Impl::Body::lost:
            return std::nullopt;
        case Impl::Body::loaded:
            break;
    }
    return std::optional<MessageRecord>(std::move(msg));
}

result<void> RocksStore::mark_delivered(std::string_view id) {
    auto found = impl_->with_message_locked(id, [&](const std::string& qkey, std::string_view,
                                                    MessageRecord& msg,
                                                    const std::string& body_ref) {
        if (msg.delivered) return true;
        msg.delivered = true;
        rocksdb::WriteBatch batch;
        batch.Put(slice(qkey), slice(Impl::encode_message(msg, body_ref))).PermitUncheckedError();
        return impl_->write(batch);
    });
    if (!found) return failure();
    return impl_->make_durable();
}

result<std::optional<MessageRecord>> RocksStore::delete_message(std::string_view id) {
    std::optional<MessageRecord> removed;
    auto found = impl_->with_message_locked(id, [&](const std::string& qkey, std::string_view uaid,
                                                    MessageRecord& msg, const std::string&) {
        if (impl_->clock->now_ms() < msg.expires_ms) {
            removed = msg;
            removed->body.clear();
        }
        rocksdb::WriteBatch batch;
        impl_->erase_message(batch, qkey, msg);
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
                batch.Delete(slice(xkey)).PermitUncheckedError();
                if (impl_->legacy_ids && !impl_->id_has_locator(e.id, xkey))  // before format 3
                    batch.Delete(slice(tagged(kMessageIdTag, e.id))).PermitUncheckedError();
                if (!e.topic.empty())
                    batch.Delete(slice(topic_key(e.subscription_id, e.topic)))
                        .PermitUncheckedError();
                gone.id = e.id;
                gone.receipt_id = e.receipt_id;
            } else {  // format 1: the record says what to delete
                auto msg = impl_->get_record<MessageRecord>(e.qkey);
                if (!msg) return failure();
                if (!*msg || (*msg)->expires_ms > now) continue;  // acked or replaced meanwhile
                impl_->erase_message(batch, e.qkey, **msg);
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
    impl_->erased.fetch_add(swept, std::memory_order_relaxed);  // the body log's collector
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
