#include "pushsvc/store/rocks_store.h"

#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>
#include <system_error>

#include "pushsvc/base/base64url.h"
#include "pushsvc/store/rocks_options.h"
#include "pushsvc/store/rocks_store_impl.h"

namespace pushsvc::store {

RocksStore::RocksStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
// The collector uses the store: it stops before anything of the store goes.
RocksStore::~RocksStore() { impl_->stop_collector(); }

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
    impl->bodies = BodyLog::open((std::filesystem::path(path) / "bodies").string(),
                                 opts.body_segment_bytes, opts.sync);
    if (!impl->bodies) return failure();
    std::unique_ptr<RocksStore> store(new RocksStore(std::move(impl)));
    if (opts.body_collect_interval.count() > 0)
        store->start_body_collector(opts.body_collect_interval);
    return store;
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
    return impl_->user_agents.get(uaid, impl_->user_agent_loader(uaid));
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
    return impl_->subscriptions.get(id, impl_->subscription_loader(id));
}

result<std::optional<Store::PushTarget>> RocksStore::push_target(std::string_view subscription_id) {
    auto sub = impl_->subscriptions.get_shared(subscription_id,
                                               impl_->subscription_loader(subscription_id));
    if (!sub) return sub.error();
    if (!*sub) return std::nullopt;
    auto owner =
        impl_->user_agents.get_shared((*sub)->uaid, impl_->user_agent_loader((*sub)->uaid));
    if (!owner) return owner.error();
    return std::optional(PushTarget{std::move(*sub), std::move(*owner)});
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

}  // namespace pushsvc::store

namespace pushsvc::store {

std::string RocksStore::checkpoint(const std::string& dir) {
    // No collection meanwhile: every body the copy's records name is in the log until the
    // segments are copied (after the database: a record is written after its body).
    std::lock_guard lk(impl_->collect_mu);
    rocksdb::Checkpoint* raw = nullptr;
    auto st = rocksdb::Checkpoint::Create(impl_->db.get(), &raw);
    if (!st.ok()) return st.ToString();
    std::unique_ptr<rocksdb::Checkpoint> cp(raw);
    // log_size_for_flush 0: always flush, so the copy holds table and blob files and a WAL
    // with nothing unflushed in it.
    st = cp->CreateCheckpoint(dir, 0);
    if (!st.ok()) return st.ToString();
    return impl_->bodies->copy_to((std::filesystem::path(dir) / "bodies").string());
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
    // Reading every value also reads every blob a record points to, and every body in the
    // body log a message record names.
    const auto bodies = BodyLog::open_read_only((std::filesystem::path(dir) / "bodies").string());
    if (!bodies) {
        out.error = "cannot open the body log of " + dir;
        return out;
    }
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        const auto value = view(it->value());
        ++out.records;
        if (view(it->key()).starts_with(kQueueTag)) {
            MessageRecord msg;
            std::string ref;
            if (!codec::decode(value, msg, &ref) || (!ref.empty() && !bodies->read(ref))) {
                out.error = "message " + base::base64url_encode(msg.id) +
                            ": its record or its body in the body log is damaged or missing";
                return out;
            }
        }
    }
    if (!it->status().ok()) out.error = it->status().ToString();
    return out;
}

}  // namespace pushsvc::store
