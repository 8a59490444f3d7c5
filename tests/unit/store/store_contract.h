#pragma once
// The fixture of the Store contract suites (store_contract_test.cc, store_route_contract_test.cc):
// one store per test from each backend. Built without PUSHSVC_CONTRACT_POSTGRES the backends
// are MemoryStore and RocksStore (a real RocksDB in a fresh /tmp directory); with it, PgStore
// on a real PostgreSQL 15 started for the run, a fresh schema per test.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/memory_store.h"
#include "pushsvc/store/rocks_store.h"
#include "tests/unit/store/store_test_support.h"
#ifdef PUSHSVC_CONTRACT_POSTGRES
#include "pushsvc/store/pg_conn.h"
#include "pushsvc/store/pg_store.h"
#include "tests/support/pg_instance.h"
#endif

namespace pushsvc::store::contract {

using testing::kT0;
using testing::make_message;
using testing::make_subscription;
using testing::must;

struct MemoryBackend {
    explicit MemoryBackend(const base::Clock* clock)
        : store(std::make_unique<MemoryStore>(clock)) {}
    std::unique_ptr<Store> store;
};

struct RocksBackend {
    explicit RocksBackend(const base::Clock* clock) {
        auto opened = RocksStore::open(dir.path() + "/db", RocksOptions{.clock = clock});
        if (!opened) {
            ADD_FAILURE() << "open failed: " << opened.error().message();
            store = std::make_unique<MemoryStore>(clock);  // keeps the test from crashing
            return;
        }
        store = std::move(*opened);
    }
    testing::TempDir dir;  // declared first: destroyed after the store closes
    std::unique_ptr<Store> store;
};

#ifdef PUSHSVC_CONTRACT_POSTGRES
// One server for the whole run; each test gets its own schema, so it starts from an empty
// database and the schema is created from scratch every time.
inline pushsvc::testing::PgInstance& pg_server() { return pushsvc::testing::shared_pg_instance(); }

struct PostgresBackend {
    explicit PostgresBackend(const base::Clock* clock) {
        static int counter = 0;
        const std::string schema = "contract_" + std::to_string(++counter);
        std::string error;
        auto admin = pg::PgConn::connect(pg_server().dsn(), 10'000, 10'000, error);
        pg::PgError err;
        if (!admin || !admin->exec_script("CREATE SCHEMA " + schema, err)) {
            ADD_FAILURE() << "cannot create schema: " << error << err.message;
            store = std::make_unique<MemoryStore>(clock);
            return;
        }
        PgOptions opts{.dsn = pg_server().dsn() + " options='-c search_path=" + schema + "'",
                       .pool_size = 4,
                       .clock = clock};
        auto opened = PgStore::open(opts, error);
        if (!opened) {
            ADD_FAILURE() << "open failed: " << error;
            store = std::make_unique<MemoryStore>(clock);
            return;
        }
        store = std::move(opened);
    }
    std::unique_ptr<Store> store;
};
#endif

template <class Backend>
class StoreContract : public ::testing::Test {
  protected:
    Store& store() { return *backend_.store; }

    // Tests name messages ("m1"); Store::enqueue may extend the id it is given (RocksStore
    // appends where the message is), so the id a message is stored under is looked up by
    // name, and ids the store returns are turned back into names.
    result<std::optional<std::string>> enqueue(MessageRecord& m,
                                               std::size_t cap = Store::kNoQueueCap) {
        const std::string name = m.id;
        auto r = store().enqueue(m, cap);
        if (!r) return r;
        {
            std::lock_guard lk(names_mu_);
            ids_[name] = m.id;
            names_[m.id] = name;
        }
        if (*r) return std::optional<std::string>(name_of(**r));
        return r;
    }
    // The stored id of message `name` (the name itself if it was never enqueued).
    std::string id(const std::string& name) {
        std::lock_guard lk(names_mu_);
        auto it = ids_.find(name);
        return it == ids_.end() ? name : it->second;
    }
    std::string name_of(const std::string& id) {
        std::lock_guard lk(names_mu_);
        auto it = names_.find(id);
        return it == names_.end() ? id : it->second;
    }

    // Enqueues and returns the assigned seq.
    std::uint64_t add(MessageRecord m) {
        must(enqueue(m));
        return m.seq;
    }

    std::vector<std::string> pending_ids(const std::string& uaid, base::UnixMs now = kT0,
                                         std::uint64_t after = 0, std::size_t limit = 1000) {
        std::vector<std::string> ids;
        for (const auto& m : must(store().pending(uaid, now, after, limit)))
            ids.push_back(name_of(m.id));
        return ids;
    }

    std::mutex names_mu_;
    std::map<std::string, std::string> ids_, names_;

    base::FakeClock clock_{kT0};
    Backend backend_{&clock_};
};

struct BackendName {
    template <class T>
    static std::string GetName(int) {
        if (std::is_same_v<T, MemoryBackend>) return "Memory";
        if (std::is_same_v<T, RocksBackend>) return "Rocks";
        return "Postgres";
    }
};

#ifdef PUSHSVC_CONTRACT_POSTGRES
using Backends = ::testing::Types<PostgresBackend>;
#else
using Backends = ::testing::Types<MemoryBackend, RocksBackend>;
#endif

}  // namespace pushsvc::store::contract
