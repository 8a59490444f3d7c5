#pragma once
// The RocksStore test fixture and helpers, shared by rocks_store_test.cc (persistence,
// formats, sync, crashes) and rocks_store_bodies_test.cc (the body log).

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/record_codec.h"
#include "pushsvc/store/rocks_keys.h"
#include "pushsvc/store/rocks_store.h"
#include "tests/unit/store/store_test_support.h"

namespace pushsvc::store::testing {

// The caller's id of a message stored in format 3: its id minus the 16-octet locator.
inline std::string name_of(const std::string& id) {
    return id.size() < keys::kLocatorSize ? id : id.substr(0, id.size() - keys::kLocatorSize);
}

class RocksStoreTest : public ::testing::Test {
  protected:
    // `collect_every`: the body log's collector thread (none by default: tests call
    // collect_bodies()).
    std::unique_ptr<RocksStore> open(bool sync = false,
                                     std::chrono::milliseconds collect_every = {}) {
        auto r = RocksStore::open(path_, RocksOptions{.sync = sync,
                                                      .clock = &clock_,
                                                      .body_collect_interval = collect_every,
                                                      .body_segment_bytes = segment_bytes_});
        if (!r) {
            ADD_FAILURE() << "open failed: " << r.error().message();
            return nullptr;
        }
        return std::move(*r);
    }

    // The body log's segment files and their sizes (a file the collector removes meanwhile
    // is left out).
    std::map<std::string, std::uintmax_t> body_files(const std::string& db) const {
        std::map<std::string, std::uintmax_t> out;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(db + "/bodies", ec)) {
            std::error_code size_ec;
            const auto size = e.file_size(size_ec);
            if (!size_ec) out.emplace(e.path().filename().string(), size);
        }
        return out;
    }
    std::uintmax_t body_bytes(const std::string& db) const {
        std::uintmax_t n = 0;
        for (const auto& [name, size] : body_files(db)) n += size;
        return n;
    }

    // Polls `done` until it holds or 20 s passed (what another thread does has no event to
    // wait on here); its last answer.
    template <class Done>
    static bool eventually(Done&& done) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (!done() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return done();
    }

    base::FakeClock clock_{kT0};
    testing::TempDir dir_;
    std::string path_ = dir_.path() + "/nested/db";
    std::uint64_t segment_bytes_ = 64u << 20;
};

inline std::string be64(std::uint64_t v) {
    std::string out;
    codec::append_be64(out, v);
    return out;
}

}  // namespace pushsvc::store::testing
