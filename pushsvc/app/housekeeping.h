#pragma once
// Housekeeping: the store's background work, all on one strand of the store executor (never
// on a network thread):
//  - expiry: when the store's earliest message expires (Store::next_expiry), expired messages
//    are swept in batches of `sweep_batch`, their 410 receipts sent (R8030-6.3-d). Between
//    batches the strand pauses as long as the batch took, so a mass expiry uses at most
//    half a core and store work queued on the executor runs in between. A message stored with an
//    earlier expiry than the one planned re-plans at once (expiring_at), as does a move of the
//    service clock (the test double), so expiry is prompt without polling;
//  - connected user agents are marked seen (PushService::refresh_connected), then user
//    agents and receipt subscriptions past their idle age are collected, every
//    `collect_period` of service time;
//  - store statistics for the metrics (Store::stats walks the expiry index, so it runs here,
//    at most every `stats_period`, and gauges read the cached copy).
//
// Thread-safety: expiring_at(), clock_moved() and stats() may be called from any thread;
// start() and stop() from one thread, start() once. After stop() no work is left on the
// executor, so a thread_pool running it can be joined.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "pushsvc/base/clock.h"
#include "pushsvc/store/store.h"
#include "pushsvc/webpush/push_service.h"

namespace pushsvc::app {

struct HousekeepingOptions {
    std::size_t sweep_batch = 1000;
    std::size_t collect_batch = 1000;
    base::UnixMs collect_period_ms = 3'600'000;  // service time between collections
    std::chrono::milliseconds stats_period{30'000};
    // The longest the strand sleeps without looking at the store again: a safety net for a
    // system clock that jumps (expiry is planned on wall time, the timer counts steady time).
    std::chrono::milliseconds max_sleep{60'000};
};

class Housekeeping {
  public:
    using OnlineFn = std::function<std::vector<std::string>()>;

    Housekeeping(boost::asio::any_io_executor executor, webpush::PushService& service,
                 store::Store& store, const base::Clock& clock, OnlineFn online,
                 HousekeepingOptions options);

    void start();
    // Cancels the timer and stops planning; returns at once (the strand finishes what runs).
    void stop();

    // A message expiring at `t` was stored: re-plans if that is earlier than the planned
    // wake-up. One atomic load when it is not (the common case: every push calls this).
    void expiring_at(base::UnixMs t);
    // The service clock was moved: re-plan now.
    void clock_moved();

    // The latest statistics (zeroes until the first pass).
    store::StoreStats stats() const;

  private:
    void post_run();
    void run(bool queued);
    void step();
    void arm(base::UnixMs wake_at);
    void resume_after(std::chrono::steady_clock::duration pause);

    boost::asio::strand<boost::asio::any_io_executor> strand_;
    boost::asio::steady_timer timer_;
    webpush::PushService& service_;
    store::Store& store_;
    const base::Clock& clock_;
    OnlineFn online_;
    HousekeepingOptions options_;

    static constexpr base::UnixMs kNever = std::numeric_limits<base::UnixMs>::max();
    std::atomic<base::UnixMs> planned_{kNever};  // service time of the armed wake-up
    std::atomic<bool> run_queued_{false};
    std::atomic<bool> stopped_{false};
    base::UnixMs next_collect_ms_ = 0;  // strand only
    std::chrono::steady_clock::time_point next_stats_{};

    mutable std::mutex stats_mu_;
    store::StoreStats stats_;
};

}  // namespace pushsvc::app
