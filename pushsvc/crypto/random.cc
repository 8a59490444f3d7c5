#include "pushsvc/crypto/random.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>

namespace pushsvc::crypto {
namespace {

void fill(unsigned char* out, std::size_t n) {
    while (n > 0) {
        // RAND_bytes takes an int length; fill very large requests in slices.
        const std::size_t chunk = std::min<std::size_t>(n, INT_MAX);
        if (RAND_bytes(out, static_cast<int>(chunk)) != 1) std::abort();
        out += chunk;
        n -= chunk;
    }
}

// Ids (16 octets, one per push) are served from a per-thread block of DRBG output: one
// RAND_bytes call costs about as much as a 1 KiB one (0.6 vs 0.7 us), and was 3% of ingestion
// CPU. Keys and anything longer come straight from RAND_bytes. A forked child must not hand
// out the bytes its parent will: fork() bumps the generation (an atfork handler) and every
// thread refills before using a block from an older one. Children made without running atfork
// handlers (_Fork, raw clone) would repeat them; pushsvc makes none.
std::atomic<unsigned> fork_generation{0};
const bool kForkHandler = [] {
    return pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
}();

struct Block {
    std::array<unsigned char, 1024> bytes;
    std::size_t left = 0;
    unsigned generation = 0;
};
constexpr std::size_t kBufferedMax = 16;

}  // namespace

std::string random_bytes(std::size_t n) {
    std::string out;
    random_append(out, n);
    return out;
}

void random_append(std::string& out, std::size_t n) {
    const std::size_t at = out.size();
    out.resize(at + n);
    auto* dst = reinterpret_cast<unsigned char*>(out.data() + at);
    thread_local Block block;
    if (n > kBufferedMax || !kForkHandler) {
        fill(dst, n);
        return;
    }
    const unsigned generation = fork_generation.load(std::memory_order_relaxed);
    if (block.left < n || block.generation != generation) {
        fill(block.bytes.data(), block.bytes.size());
        block.left = block.bytes.size();
        block.generation = generation;
    }
    unsigned char* src = block.bytes.data() + block.bytes.size() - block.left;
    std::copy_n(src, n, dst);
    std::fill_n(src, n, 0);  // handed out once, and not left in memory
    block.left -= n;
}

}  // namespace pushsvc::crypto
