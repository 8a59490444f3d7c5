#pragma once
// The status report behind GET / (from a browser) and GET /status.json: what an operator
// wants to see at a glance (version, uptime, listeners and origin, connected browsers by
// channel, queued messages, pushes and deliveries per second, recent errors by reason, store
// size). It never holds endpoints, keys, tokens or payloads: only counts.
//
// Rates need two readings of the counters some time apart. Instead of a timer, every report
// keeps a reading (at most one per 10 s, for 15 minutes): pushes per second are measured
// over the last minute of readings, errors over the oldest kept reading, and the JSON says
// since when. A page left open (it refreshes every few seconds) keeps the readings fresh;
// nobody looking costs nothing.
//
// Thread-safe: report() may be called from any thread.

#include <boost/json/object.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "pushsvc/store/store.h"

namespace pushsvc::web {

// What the report shows that only the application knows; the counters it reads itself
// (obs::catalog()).
struct StatusSources {
    std::string origin;  // endpoint URL origin
    std::string profile;
    std::vector<std::pair<std::string, std::string>> listeners;  // name -> address
    std::function<std::uint64_t()> websocket_connected;
    std::function<std::uint64_t()> http2_connected;
    std::function<store::StoreStats()> store_stats;  // the cached copy, never the store itself
    std::string store_backend;                       // "rocksdb", ...
};

// Milliseconds of std::chrono::steady_clock, the time report() measures rates in.
std::int64_t steady_ms() noexcept;

class StatusReport {
  public:
    // `now_ms`: steady time (steady_ms()) of the first reading, which rates and error counts
    // start from until later readings exist.
    StatusReport(StatusSources sources, std::int64_t now_ms);

    // The report as JSON; `now_ms` is steady time (rates) and `unix_now_ms` wall time (ages).
    boost::json::object report(std::int64_t now_ms, std::int64_t unix_now_ms);

    // Readings are taken at most this often and kept this long.
    static constexpr std::int64_t kReadingEveryMs = 10'000;
    static constexpr std::int64_t kKeepMs = 15 * 60'000;
    static constexpr std::int64_t kRateWindowMs = 60'000;

  private:
    struct Reading {
        std::int64_t at_ms = 0;
        std::uint64_t pushes = 0;
        std::uint64_t deliveries = 0;
        std::vector<std::uint64_t> errors;  // by errc
    };
    static Reading read_counters(std::int64_t now_ms);

    StatusSources sources_;
    std::mutex mu_;
    std::deque<Reading> readings_;  // oldest first; never empty
};

}  // namespace pushsvc::web
