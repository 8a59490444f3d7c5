#pragma once
// CRC32C (Castagnoli) for RocksDB's checksums: see crc32c.cc for why pushsvc supplies it.

#include <cstddef>
#include <cstdint>

namespace pushsvc::store {

#if defined(__x86_64__)
// Extends `crc` (0 to start) over n bytes with the CPU's crc32 instruction, exactly as
// rocksdb::crc32c::Extend does; call only where the CPU has SSE4.2 (crc32c_implementation()).
std::uint32_t crc32c_hardware(std::uint32_t crc, const char* data, std::size_t n);
#endif

// What RocksDB's checksums have run on so far in this process: "sse4.2" (pushsvc's),
// "rocksdb" (the library's own: no SSE4.2, not x86-64, or not redirected at all, as with a
// shared librocksdb), or "none yet".
const char* crc32c_implementation();

}  // namespace pushsvc::store
