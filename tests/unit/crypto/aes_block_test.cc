#include "pushsvc/crypto/aes_block.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/crypto/random.h"
#include "tests/unit/crypto/hex.h"

namespace pushsvc::crypto {
namespace {

using test::hex;
using test::unhex;

std::string run(const AesBlockKey& k, const std::string& in, bool encrypt) {
    std::string out(kAesBlockSize, '\0');
    const std::span<const char, kAesBlockSize> src(in.data(), kAesBlockSize);
    const std::span<char, kAesBlockSize> dst(out.data(), kAesBlockSize);
    if (encrypt) {
        k.encrypt(src, dst);
    } else {
        k.decrypt(src, dst);
    }
    return out;
}

// FIPS-197 Appendix C.1 (AES-128) and C.3 (AES-256).
TEST(AesBlockKey, MatchesFips197KnownAnswers) {
    const std::string plain = unhex("00112233445566778899aabbccddeeff");
    const AesBlockKey k128(unhex("000102030405060708090a0b0c0d0e0f"));
    const AesBlockKey k256(
        unhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));
    for (int round = 0; round < 2; ++round) {  // the second time on reused contexts
        EXPECT_EQ(hex(run(k128, plain, true)), "69c4e0d86a7b0430d8cdb78070b4c55a");
        EXPECT_EQ(hex(run(k128, unhex("69c4e0d86a7b0430d8cdb78070b4c55a"), false)), hex(plain));
        EXPECT_EQ(hex(run(k256, plain, true)), "8ea2b7ca516745bfeafc49904b496089");
        EXPECT_EQ(hex(run(k256, unhex("8ea2b7ca516745bfeafc49904b496089"), false)), hex(plain));
    }
    EXPECT_THROW(AesBlockKey(std::string(24, '\0')), std::invalid_argument);
}

TEST(AesBlockKey, RoundTripsFromManyThreadsAtOnce) {
    const AesBlockKey k(random_bytes(16));
    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                const std::string in = random_bytes(kAesBlockSize);
                const std::string sealed = run(k, in, true);
                if (sealed == in || run(k, sealed, false) != in) ++failures[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace pushsvc::crypto
