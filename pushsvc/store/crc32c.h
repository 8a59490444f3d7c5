#pragma once
// CRC32C (Castagnoli) for RocksDB's checksums: see crc32c.cc for why pushsvc supplies it.

#include <cstddef>
#include <cstdint>

namespace pushsvc::store {

// Extends `crc` (0 to start) over n bytes, as rocksdb::crc32c::Extend does.
std::uint32_t crc32c_software(std::uint32_t crc, const char* data, std::size_t n);
// The same with the CPU's crc32 instruction; call only when crc32c_implementation() says
// "sse4.2".
std::uint32_t crc32c_hardware(std::uint32_t crc, const char* data, std::size_t n);

// Which implementation RocksDB's checksums run on: "sse4.2" or "software" (ours, on x86-64),
// "rocksdb" (the library's own, elsewhere).
const char* crc32c_implementation();

}  // namespace pushsvc::store
