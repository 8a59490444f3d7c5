#include "pushsvc/store/crc32c.h"

// Why this file exists: every byte RocksDB writes is CRC32C-checksummed (WAL records, blob
// records, table blocks). Debian builds librocksdb "portable", which compiles out the SSE4.2
// instruction path, so its crc32c::Extend runs a table loop: 10% of all pushsvc CPU at full
// ingestion rate (perf, BENCHMARKS.md). The store's CMakeLists links every consumer with
// `--wrap` for that symbol, so RocksDB's calls to it land in __wrap_... below, which computes
// the identical CRC32C with the CPU's crc32 instruction when it has one.
// tests/unit/store/crc32c_test.cc checks it against the library's own definition (__real_...).

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace pushsvc::store {
namespace {

constexpr std::uint32_t kCastagnoli = 0x82f63b78;  // reflected polynomial

constexpr std::array<std::uint32_t, 256> make_table() {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
        std::uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCastagnoli : c >> 1;
        t[i] = c;
    }
    return t;
}

constexpr auto kTable = make_table();

}  // namespace

std::uint32_t crc32c_software(std::uint32_t crc, const char* data, std::size_t n) {
    std::uint32_t c = ~crc;
    const auto* p = reinterpret_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) c = kTable[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return ~c;
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

namespace {
// __builtin_cpu_init: this may run before libgcc's own constructor has read the CPU model.
const bool kHaveSse42 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") != 0;
}();
}  // namespace

const char* crc32c_implementation() { return kHaveSse42 ? "sse4.2" : "software"; }

}  // namespace pushsvc::store

// RocksDB's calls to rocksdb::crc32c::Extend(uint32_t, const char*, size_t) arrive here (the
// linker's --wrap, see above). This object file must be linked before librocksdb's objects
// ask for the symbol: RocksStore::open calls crc32c_implementation() to make sure it is.
extern "C" std::uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(std::uint32_t crc, const char* data,
                                                                std::size_t n) {
    return pushsvc::store::kHaveSse42 ? pushsvc::store::crc32c_hardware(crc, data, n)
                                      : pushsvc::store::crc32c_software(crc, data, n);
}

#else  // not x86_64: RocksDB's own implementation stays in use.

std::uint32_t crc32c_hardware(std::uint32_t crc, const char* data, std::size_t n) {
    return crc32c_software(crc, data, n);
}

const char* crc32c_implementation() { return "rocksdb"; }

}  // namespace pushsvc::store

#endif
