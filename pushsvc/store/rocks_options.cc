#include "pushsvc/store/rocks_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <string_view>

#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"

namespace pushsvc::store {

namespace {

// Where a push's keys go in the memtable's skip list. A queue key ('q' lp(uaid) be64(seq))
// lands right after the previous one of the same user agent, an expiry key ('x' be64(expiry)
// be64(seq)) after the previous expiry key for the usual constant TTL; so for these RocksDB
// keeps, per prefix, where the last insert went and starts the next search there, instead of
// from the top of a list of ~60k entries (callgrind: the skip-list search was a quarter of
// the instructions of a push). Message-id keys (stores of format 2 only) get no hint. A hint costs
// ~250 bytes per prefix until its memtable is flushed: one per user agent pushed to meanwhile.
class InsertHintPrefix final : public rocksdb::SliceTransform {
  public:
    const char* Name() const override { return "pushsvc.InsertHintPrefix"; }
    rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
        return rocksdb::Slice(key.data(), prefix_size(key));
    }
    bool InDomain(const rocksdb::Slice& key) const override { return prefix_size(key) > 0; }

  private:
    // 0 when the key gets no hint.
    static std::size_t prefix_size(const rocksdb::Slice& key) {
        if (key.empty()) return 0;
        if (key[0] == keys::kExpiryTag) return 1;
        if (key[0] != keys::kQueueTag) return 0;
        std::string_view rest(key.data() + 1, key.size() - 1);
        std::string_view uaid;
        if (!codec::read_lp(rest, uaid)) return 0;
        return key.size() - rest.size();
    }
};

}  // namespace

rocksdb::Options rocks_options() {
    // Settings for a small box holding a queue of ~3 KB encrypted (incompressible) bodies
    // that mostly die young. Measured with tools/bench/bench-ingest.sh (BENCHMARKS.md).
    rocksdb::Options o;
    o.create_if_missing = true;
    o.max_background_jobs = 2;
    // 64 MiB memtables: fewer L0 files, and a message acked within a memtable's lifetime
    // never reaches an SST or blob file at all.
    o.write_buffer_size = 64 << 20;
    o.max_write_buffer_number = 2;
    o.memtable_insert_with_hint_prefix_extractor = std::make_shared<InsertHintPrefix>();
    // RocksDB ignores insert hints for concurrent memtable writes; with pushes written from
    // two network threads a write group is rarely more than one batch, so the leader
    // inserting a group alone costs little.
    o.allow_concurrent_memtable_write = false;
    o.max_open_files = 512;
    o.keep_log_file_num = 3;
    o.max_log_file_size = 1 << 20;
    o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    // Message bodies go to blob files at flush; the LSM then holds only keys, small records
    // and blob references, so compaction stops rewriting bodies and the subscription lookups
    // of every push stay in cached blocks (ingestion 13k/s -> 27k/s). Garbage collection
    // relocates the few live bodies of the oldest blob files so acked ones free disk space.
    o.enable_blob_files = true;
    o.min_blob_size = 256;
    o.blob_file_size = 64 << 20;
    o.enable_blob_garbage_collection = true;
    // ...and when the oldest blob files are half garbage, compaction is scheduled for them
    // rather than waiting for one to come by (a quiet queue would otherwise keep them).
    o.blob_garbage_collection_force_threshold = 0.5;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(8 << 20);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    // Index and filter blocks live with the open table (bounded by max_open_files): in the
    // block cache they were evicted by data blocks and re-read and decompressed on every Get.
    table.cache_index_and_filter_blocks = false;
    o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

    return o;
}

}  // namespace pushsvc::store
