#include "pushsvc/store/rocks_options.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace pushsvc::store {

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
