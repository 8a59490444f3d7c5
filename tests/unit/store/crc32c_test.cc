// pushsvc's CRC32C, which RocksDB's checksums run on (see pushsvc/store/crc32c.cc): RocksDB's
// calls must reach it, and it must give exactly the library's own results, or no store written
// before (or by another build) would open again.

#include "pushsvc/store/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "pushsvc/store/rocks_store.h"
#include "tests/unit/store/store_test_support.h"

#if defined(__x86_64__)
// With the store's `--wrap` link option, RocksDB's calls go to the first (pushsvc's); the
// second is the library's own definition. Without the option this file would not link.
extern "C" std::uint32_t __wrap__ZN7rocksdb6crc32c6ExtendEjPKcm(std::uint32_t, const char*,
                                                                std::size_t);
extern "C" std::uint32_t __real__ZN7rocksdb6crc32c6ExtendEjPKcm(std::uint32_t, const char*,
                                                                std::size_t);
#endif

namespace pushsvc::store {
namespace {

using Crc = std::uint32_t (*)(std::uint32_t, const char*, std::size_t);

std::uint32_t of(Crc crc, std::string_view s) { return crc(0, s.data(), s.size()); }

// RFC 3720 §B.4 check values, and the customary "123456789".
void expect_known_answers(Crc crc) {
    std::string incrementing;
    for (int i = 0; i < 32; ++i) incrementing.push_back(char(i));
    EXPECT_EQ(of(crc, std::string(32, '\0')), 0x8a9136aau);
    EXPECT_EQ(of(crc, std::string(32, '\xff')), 0x62a8ab43u);
    EXPECT_EQ(of(crc, incrementing), 0x46dd794eu);
    EXPECT_EQ(of(crc, "123456789"), 0xe3069283u);
    EXPECT_EQ(of(crc, ""), 0u);
}

#if defined(__x86_64__)
// Opening and writing a store checksums WAL and MANIFEST records: through pushsvc's
// implementation, not silently past it (as with a shared librocksdb, which --wrap cannot reach).
TEST(Crc32c, RocksDbChecksumsRunOnOurs) {
    testing::TempDir dir;
    {
        auto store = RocksStore::open(dir.path() + "/db", RocksOptions{});
        ASSERT_TRUE(store);
        MessageRecord m = testing::make_message("m1", "ua1", "s1");
        ASSERT_TRUE((*store)->enqueue(m));
    }
    const std::string_view used = crc32c_implementation();
    EXPECT_TRUE(used == "sse4.2" || used == "rocksdb") << used;
    if (__builtin_cpu_supports("sse4.2")) {
        EXPECT_EQ(used, "sse4.2");
    }
}

TEST(Crc32c, HardwareGivesTheRfc3720CheckValues) {
    if (!__builtin_cpu_supports("sse4.2")) GTEST_SKIP() << "no SSE4.2";
    expect_known_answers(&crc32c_hardware);
}

TEST(Crc32c, OursMatchesRocksDbsOwnOnAnyInput) {
    const Crc library = &__real__ZN7rocksdb6crc32c6ExtendEjPKcm;
    const Crc ours = &__wrap__ZN7rocksdb6crc32c6ExtendEjPKcm;
    expect_known_answers(library);
    expect_known_answers(ours);
    // Also when a checksum is extended piece by piece, as the WAL writer does.
    std::mt19937_64 rng(20261123);
    for (int round = 0; round < 300; ++round) {
        std::string data(rng() % 5000, '\0');
        for (auto& c : data) c = char(rng());
        const std::size_t split = data.empty() ? 0 : rng() % data.size();
        const std::uint32_t seed = round % 3 == 0 ? 0 : std::uint32_t(rng());
        auto extend_twice = [&](Crc crc) {
            return crc(crc(seed, data.data(), split), data.data() + split, data.size() - split);
        };
        ASSERT_EQ(extend_twice(ours), extend_twice(library))
            << "round " << round << ", " << data.size() << " bytes";
    }
}
#endif

}  // namespace
}  // namespace pushsvc::store
