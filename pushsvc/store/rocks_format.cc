// RocksStore's on-disk format: the version check at open and the migrations from older
// formats (README.md lists what each format changed).

#include "pushsvc/crypto/random.h"
#include "pushsvc/store/rocks_store_impl.h"

namespace pushsvc::store {

// Format 1 had no last_seen index and named receipt subscriptions only by their uaid:
// 'R' + 16 random bytes (a WebSocket uaid is 16 bytes, an RFC 8030 set id too). Every
// user agent record is rewritten with its kind and indexed; expiry values keep their
// format-1 shape (the queue key alone) until their message goes, which split_expiry_value
// reads. Idempotent: a crash before the format key is written repeats it on next open.
result<void> RocksStore::Impl::migrate_from_1(const std::string& format_key,
                                              const std::string& format_2) {
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
            .Put(slice(seen_key(std::uint8_t(ua.kind), ua.last_seen_ms, ua.uaid)), rocksdb::Slice())
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

// Format 2 indexed every message by its random id ('m' id -> queue key); format 3 ids carry
// their locator instead (rocks_keys.h), so a push writes one key less. Ids already handed out
// (message URLs held by application servers, WebSocket versions a browser may ack after the
// upgrade) cannot change, so their 'm' keys stay and are read until their message goes
// (queue_key_of, erase_message and the sweep know both kinds). Nothing else is rewritten:
// the id key is made and the format key written, synced, so a downgrade refuses the store
// instead of missing the new messages.
result<void> RocksStore::Impl::migrate_from_2(const std::string& format_key,
                                              const std::string& format_3) {
    rocksdb::WriteBatch batch;
    batch.Put(slice(tagged(kMetaTag, "idkey")), slice(crypto::random_bytes(kIdKeySize)))
        .PermitUncheckedError();
    batch.Put(slice(format_key), slice(format_3)).PermitUncheckedError();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!db->Write(wo, &batch).ok()) return failure();
    return {};
}

// Format 4 adds the body log: its records (version 3) name a body there, which a format-3
// binary cannot read. Nothing is rewritten (records holding their bodies read as before); the
// format key is written, synced, so that a downgrade refuses the store instead of failing on
// every queue that holds a body in the log.
result<void> RocksStore::Impl::migrate_from_3(const std::string& format_key,
                                              const std::string& format_4) {
    rocksdb::WriteBatch batch;
    batch.Put(slice(format_key), slice(format_4)).PermitUncheckedError();
    rocksdb::WriteOptions wo;
    wo.sync = true;
    if (!db->Write(wo, &batch).ok()) return failure();
    return {};
}

result<void> RocksStore::Impl::open_meta() {
    std::string value;
    const std::string format_key = tagged(kMetaTag, "format");
    auto format = [](std::uint64_t v) {
        std::string out;
        codec::append_be64(out, v);
        return out;
    };
    const std::string expected = format(kFormatVersion);
    switch (get(format_key, value)) {
        case Got::failed:
            return failure();
        case Got::found:
            // Each migration is idempotent and ends by writing its format key: a crash
            // before that repeats it on the next open.
            if (value == format(1)) {
                if (auto r = migrate_from_1(format_key, format(2)); !r) return failure();
                value = format(2);
            }
            if (value == format(2)) {
                if (auto r = migrate_from_2(format_key, format(3)); !r) return failure();
                value = format(3);
            }
            if (value == format(3)) {
                if (auto r = migrate_from_3(format_key, expected); !r) return failure();
                value = expected;
            }
            if (value != expected) return failure();
            break;
        case Got::absent: {  // a new store
            rocksdb::WriteBatch batch;
            batch.Put(slice(tagged(kMetaTag, "idkey")), slice(crypto::random_bytes(kIdKeySize)))
                .PermitUncheckedError();
            batch.Put(slice(format_key), slice(expected)).PermitUncheckedError();
            rocksdb::WriteOptions wo;
            wo.sync = true;  // once: every id handed out depends on the key
            if (!db->Write(wo, &batch).ok()) return failure();
            break;
        }
    }
    switch (get(tagged(kMetaTag, "idkey"), value)) {
        case Got::found:
            if (value.size() == kIdKeySize) break;
            [[fallthrough]];
        case Got::failed:
        case Got::absent:
            return failure();
    }
    id_key = std::make_unique<crypto::AesBlockKey>(value);
    // Any 'm' key left: ids of an older format may still be looked up (one Seek at open).
    const std::string legacy_prefix(1, kMessageIdTag);
    if (!scan(legacy_prefix, legacy_prefix, [&](std::string_view, std::string_view) {
            legacy_ids = true;
            return false;
        }))
        return failure();
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

}  // namespace pushsvc::store
