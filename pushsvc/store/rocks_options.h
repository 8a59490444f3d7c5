#pragma once
// RocksStore's RocksDB tuning, with the measurement behind each choice (BENCHMARKS.md, "What
// was tuned"). Used only by rocks_store.cc.

#include <rocksdb/options.h>

namespace pushsvc::store {

rocksdb::Options rocks_options();

}  // namespace pushsvc::store
