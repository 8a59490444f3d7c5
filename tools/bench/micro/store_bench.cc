// Micro-benchmarks: RocksStore enqueue (put) and delete_message (ack) of a 3 KB message,
// sync off and on. With sync on, several threads show the group commit.
#include <benchmark/benchmark.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "pushsvc/store/rocks_store.h"

namespace {

using namespace pushsvc;
namespace fs = std::filesystem;

std::atomic<std::uint64_t> g_ids{0};

store::MessageRecord make_message(int thread) {
    store::MessageRecord m;
    m.id = "m" + std::to_string(g_ids++);
    m.uaid = "ua" + std::to_string(thread);
    m.subscription_id = "sub" + std::to_string(thread);
    m.received_ms = 1'700'000'000'000;
    m.expires_ms = m.received_ms + 60'000;
    m.ttl_s = 60;
    m.content_encoding = "aes128gcm";
    m.body.assign(3000, 'x');
    return m;
}

// One store per benchmark (sync on or off), shared by its threads.
struct Shared {
    std::mutex mu;
    std::unique_ptr<store::RocksStore> db;
    fs::path dir;
    int users = 0;
};
Shared g_shared[2];

store::RocksStore& open_store(bool sync) {
    auto& s = g_shared[sync ? 1 : 0];
    std::lock_guard lock(s.mu);
    if (!s.db) {
        s.dir = fs::temp_directory_path() /
                ("pushsvc-micro-" + std::to_string(::getpid()) + (sync ? "-sync" : "-nosync"));
        fs::remove_all(s.dir);
        s.db = store::RocksStore::open(s.dir.string(), {sync, nullptr}).value();
    }
    ++s.users;
    return *s.db;
}

void close_store(bool sync) {
    auto& s = g_shared[sync ? 1 : 0];
    std::lock_guard lock(s.mu);
    if (--s.users == 0) {
        s.db.reset();
        fs::remove_all(s.dir);
    }
}

void BM_StoreEnqueueAck(benchmark::State& state) {
    bool sync = state.range(0) != 0;
    auto& db = open_store(sync);
    for (auto _ : state) {
        auto m = make_message(state.thread_index());
        if (!db.enqueue(m)) state.SkipWithError("enqueue failed");
        if (!db.delete_message(m.id)) state.SkipWithError("ack failed");
    }
    state.SetItemsProcessed(state.iterations());
    close_store(sync);
}
BENCHMARK(BM_StoreEnqueueAck)->Arg(0)->Arg(1)->Threads(1)->Threads(8)->UseRealTime();

void BM_StoreEnqueue(benchmark::State& state) {
    bool sync = state.range(0) != 0;
    auto& db = open_store(sync);
    for (auto _ : state) {
        auto m = make_message(state.thread_index());
        if (!db.enqueue(m)) state.SkipWithError("enqueue failed");
    }
    state.SetItemsProcessed(state.iterations());
    close_store(sync);
}
BENCHMARK(BM_StoreEnqueue)->Arg(0)->Arg(1)->Threads(1)->Threads(16)->UseRealTime();

}  // namespace
