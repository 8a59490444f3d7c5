#include "pushsvc/app/housekeeping.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <exception>

namespace pushsvc::app {

namespace asio = boost::asio;

Housekeeping::Housekeeping(asio::any_io_executor executor, webpush::PushService& service,
                           store::Store& store, const base::Clock& clock, OnlineFn online,
                           HousekeepingOptions options)
    : strand_(asio::make_strand(std::move(executor))),
      timer_(strand_),
      service_(service),
      store_(store),
      clock_(clock),
      online_(std::move(online)),
      options_(options) {}

void Housekeeping::start() {
    // The first collection waits a period: a restart should not scan everything at once.
    next_collect_ms_ = clock_.now_ms() + options_.collect_period_ms;
    post_run();
}

void Housekeeping::stop() {
    stopped_ = true;
    asio::post(strand_, [this] { timer_.cancel(); });
}

void Housekeeping::expiring_at(base::UnixMs t) {
    if (t >= planned_.load(std::memory_order_relaxed)) return;
    post_run();
}

void Housekeeping::clock_moved() {
    // Collection is due by service time too: a clock moved by days collects now.
    post_run();
}

store::StoreStats Housekeeping::stats() const {
    std::lock_guard lk(stats_mu_);
    return stats_;
}

void Housekeeping::post_run() {
    if (stopped_ || run_queued_.exchange(true)) return;  // one queued run is enough
    asio::post(strand_, [this] { run(true); });
}

void Housekeeping::run(bool queued) {
    // While this pass reads the store, any message stored meanwhile must queue another pass
    // (expiring_at compares with planned_), or one stored between our next_expiry() read and
    // arm() would wait for a later wake-up. planned_ is lowered before run_queued_ is cleared,
    // so a push that found a run queued is ordered before this pass's reads.
    planned_.store(std::numeric_limits<base::UnixMs>::min());
    if (queued) run_queued_ = false;
    if (stopped_) return;
    try {
        step();
    } catch (const std::exception& e) {
        // One bad pass must not end expiry for good: log it and try again later.
        spdlog::error("housekeeping: {}", e.what());
        arm(clock_.now_ms() + options_.max_sleep.count());
    }
}

void Housekeeping::step() {
    const base::UnixMs now = clock_.now_ms();
    const auto started = std::chrono::steady_clock::now();
    auto swept = service_.sweep(now, options_.sweep_batch);
    if (!swept) {
        spdlog::warn("housekeeping: expiry sweep failed: {}", swept.error().message());
    } else if (*swept == options_.sweep_batch) {
        // More are due. Pause as long as the batch took before the next one: a mass expiry
        // then takes at most half a core, and pushes and deliveries keep the rest.
        resume_after(std::chrono::steady_clock::now() - started);
        return;
    }
    if (now >= next_collect_ms_) {
        // Connected user agents first: being connected is being seen, however old the hello.
        for (const auto& uaid : online_()) {
            if (auto r = service_.refresh_connected(uaid); !r)
                spdlog::warn("housekeeping: could not mark a connected user agent seen");
        }
        auto removed = service_.collect_idle(options_.collect_batch);
        if (!removed) {
            spdlog::warn("housekeeping: idle collection failed: {}", removed.error().message());
        } else {
            if (*removed > 0) spdlog::info("housekeeping: removed {} idle user agents", *removed);
            if (*removed == options_.collect_batch) {
                post_run();  // more to collect, after the work queued behind us
                return;
            }
        }
        next_collect_ms_ = now + options_.collect_period_ms;
    }
    if (auto steady = std::chrono::steady_clock::now(); steady >= next_stats_) {
        if (auto s = store_.stats()) {
            std::lock_guard lk(stats_mu_);
            stats_ = *s;
        }
        next_stats_ = steady + options_.stats_period;
    }
    auto next = store_.next_expiry();
    base::UnixMs wake = std::min(next_collect_ms_, now + options_.max_sleep.count());
    if (next && *next) wake = std::min(wake, **next);
    arm(wake);
    // A push stored between the read above and arm() compared its expiry with no plan (it
    // was at its lowest) and did not wake us. Its write came before that comparison, which
    // came before arm() published the plan: a read now sees it.
    if (auto again = store_.next_expiry(); again && *again && **again < wake) arm(**again);
}

void Housekeeping::resume_after(std::chrono::steady_clock::duration pause) {
    if (stopped_) return;
    // planned_ stays at its lowest: the sweep in progress reaches any new expiry.
    timer_.expires_after(pause);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) run(false);
    });
}

void Housekeeping::arm(base::UnixMs wake_at) {
    if (stopped_) return;
    planned_.store(wake_at);
    const base::UnixMs delay = std::max<base::UnixMs>(0, wake_at - clock_.now_ms());
    timer_.expires_after(std::chrono::milliseconds(delay));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) run(false);
    });
}

}  // namespace pushsvc::app
