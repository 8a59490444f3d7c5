#include "pushsvc/web/status.h"

#include <algorithm>
#include <chrono>

#include "pushsvc/base/errc.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/metrics.h"

namespace pushsvc::web {
namespace {

constexpr std::size_t kErrcCount = static_cast<std::size_t>(errc::internal) + 1;

double per_second(std::uint64_t now, std::uint64_t then, std::int64_t ms) {
    return ms > 0 && now >= then ? double(now - then) * 1000.0 / double(ms) : 0.0;
}

}  // namespace

std::int64_t steady_ms() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

StatusReport::StatusReport(StatusSources sources, std::int64_t now_ms)
    : sources_(std::move(sources)) {
    readings_.push_back(read_counters(now_ms));
}

StatusReport::Reading StatusReport::read_counters(std::int64_t now_ms) {
    const auto& c = obs::catalog();
    Reading r{now_ms, c.push_accepted.value(), c.delivered.value(), {}};
    r.errors.resize(kErrcCount);
    for (std::size_t i = 1; i < kErrcCount; ++i)
        r.errors[i] = c.error(static_cast<errc>(i)).value();
    return r;
}

boost::json::object StatusReport::report(std::int64_t now_ms, std::int64_t unix_now_ms) {
    Reading now = read_counters(now_ms);
    Reading rate_base, error_base;
    {
        std::lock_guard lock(mu_);
        // Rates over the newest reading at least a minute old (else the oldest one).
        rate_base = readings_.front();
        for (const auto& r : readings_)
            if (now_ms - r.at_ms >= kRateWindowMs) rate_base = r;
        error_base = readings_.front();
        if (now_ms - readings_.back().at_ms >= kReadingEveryMs) readings_.push_back(now);
        // Keep one reading older than the window, so errors cover at least 15 minutes.
        while (readings_.size() > 1 && now_ms - readings_[1].at_ms >= kKeepMs)
            readings_.pop_front();
    }
    const std::int64_t rate_ms = now_ms - rate_base.at_ms;

    boost::json::object errors;
    for (std::size_t i = 1; i < kErrcCount; ++i)
        if (now.errors[i] > error_base.errors[i])
            errors[errc_name(static_cast<errc>(i))] = now.errors[i] - error_base.errors[i];

    boost::json::object listeners;
    for (const auto& [name, address] : sources_.listeners) listeners[name] = address;

    store::StoreStats stats = sources_.store_stats ? sources_.store_stats() : store::StoreStats{};
    double oldest_age_s =
        stats.oldest_received_ms
            ? std::max(0.0, double(unix_now_ms - *stats.oldest_received_ms) / 1000.0)
            : 0.0;

    auto ws = sources_.websocket_connected ? sources_.websocket_connected() : 0;
    auto h2 = sources_.http2_connected ? sources_.http2_connected() : 0;
    return boost::json::object{
        {"service", "pushsvc"},
        {"version", obs::build_version()},
        {"uptime_s", std::int64_t(obs::uptime_seconds())},
        {"origin", sources_.origin},
        {"profile", sources_.profile},
        {"listeners", std::move(listeners)},
        {"connected", {{"websocket", ws}, {"http2", h2}, {"total", ws + h2}}},
        {"rates",
         {{"window_s", double(rate_ms) / 1000.0},
          {"pushes_per_s", per_second(now.pushes, rate_base.pushes, rate_ms)},
          {"deliveries_per_s", per_second(now.deliveries, rate_base.deliveries, rate_ms)}}},
        {"totals", {{"pushes", now.pushes}, {"deliveries", now.deliveries}}},
        {"errors",
         {{"window_s", double(now_ms - error_base.at_ms) / 1000.0},
          {"by_reason", std::move(errors)}}},
        {"store",
         {{"backend", sources_.store_backend},
          {"queued_messages", stats.queued_messages},
          {"user_agents", stats.user_agents},
          {"receipt_subscriptions", stats.receipt_subscriptions},
          {"disk_bytes", stats.disk_bytes},
          {"oldest_queued_age_s", oldest_age_s}}},
    };
}

}  // namespace pushsvc::web
