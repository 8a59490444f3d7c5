#include "pushsvc/store/crc32c.h"

// Why this file exists: RocksDB checksums its WAL, MANIFEST and blob records with CRC32C, so
// every 3 KB message body is checksummed on its way to the WAL and again into a blob file.
// Debian builds librocksdb "portable", which compiles out the SSE4.2 instruction path: its
// crc32c::Extend ran a table loop, 10% of all pushsvc CPU at full ingestion rate (perf,
// BENCHMARKS.md). The store's CMakeLists links every consumer with `--wrap` for that symbol,
// so RocksDB's calls (from the static librocksdb.a) land in __wrap_... below, which computes
// the identical CRC32C with the crc32 instruction, or hands over to the library's own
// (__real_...) on a CPU without it. tests/unit/store/crc32c_test.cc checks both.

#include <atomic>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace pushsvc::store {
namespace {

enum Used : int { kNone, kHardware, kLibrary };
std::atomic<int> used{kNone};  // set by the first redirected call (relaxed: a report only)

}  // namespace

const char* crc32c_implementation() {
    switch (used.load(std::memory_order_relaxed)) {
        case kHardware:
            return "sse4.2";
        case kLibrary:
            return "rocksdb";
        default:
            return "none yet";
    }
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(std::uint32_t crc, const char* data,
                                                                std::size_t n) {
    std::uint64_t c = ~crc;
    const auto* p = reinterpret_cast<const unsigned char*>(data);
    for (; n >= 8; n -= 8, p += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
    }
    auto c32 = static_cast<std::uint32_t>(c);
    for (; n > 0; --n, ++p) c32 = _mm_crc32_u8(c32, *p);
    return ~c32;
}

}  // namespace pushsvc::store

extern "C" std::uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(std::uint32_t crc, const char* data,
                                                                std::size_t n);

// RocksDB's calls to rocksdb::crc32c::Extend(uint32_t, const char*, size_t) arrive here (the
// linker's --wrap, see above).
extern "C" std::uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(std::uint32_t crc, const char* data,
                                                                std::size_t n) {
    using namespace pushsvc::store;
    // __builtin_cpu_init: this may run before libgcc's own constructor has read the CPU model.
    static const bool have_sse42 = [] {
        __builtin_cpu_init();
        const bool yes = __builtin_cpu_supports("sse4.2") != 0;
        used.store(yes ? kHardware : kLibrary, std::memory_order_relaxed);
        return yes;
    }();
    return have_sse42 ? crc32c_hardware(crc, data, n)
                      : __real__ZN7rocksdb6crc32c6ExtendEjPKcm(crc, data, n);
}

#else  // not x86-64: RocksDB's own implementation stays in use.

}  // namespace pushsvc::store

#endif
