// The status report (web/status.h): rates measured over the readings it keeps, errors since
// the oldest kept reading, the figures the application gives, and nothing that names an
// endpoint, key or payload.
#include "pushsvc/web/status.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::web {
namespace {

constexpr std::int64_t kT0 = 1'000'000;  // steady ms; any origin will do

StatusSources sources() {
    StatusSources s;
    s.origin = "https://push.example";
    s.profile = "compat";
    s.listeners = {{"tls", "0.0.0.0:443"}};
    s.websocket_connected = [] { return std::uint64_t{3}; };
    s.http2_connected = [] { return std::uint64_t{2}; };
    s.store_stats = [] {
        store::StoreStats st;
        st.queued_messages = 7;
        st.disk_bytes = 4096;
        st.oldest_received_ms = 1'000;
        return st;
    };
    s.store_backend = "postgres";
    return s;
}

double num(const boost::json::value& v) {
    return v.is_double() ? v.as_double() : double(v.to_number<std::int64_t>());
}

TEST(StatusReport, RatesCountOnlyWhatHappenedSinceTheFirstReading) {
    // Counters are process-wide: whatever earlier tests added is before the first reading.
    obs::catalog().push_accepted.inc(1000);
    StatusReport report(sources(), kT0);
    obs::catalog().push_accepted.inc(120);
    obs::catalog().delivered.inc(60);
    auto j = report.report(kT0 + 60'000, 61'000);
    EXPECT_DOUBLE_EQ(num(j.at("rates").at("pushes_per_s")), 2.0);
    EXPECT_DOUBLE_EQ(num(j.at("rates").at("deliveries_per_s")), 1.0);
    EXPECT_DOUBLE_EQ(num(j.at("rates").at("window_s")), 60.0);
}

TEST(StatusReport, RatesUseTheNewestReadingAMinuteOld) {
    StatusReport report(sources(), kT0);
    obs::catalog().push_accepted.inc(600);
    report.report(kT0 + 60'000, 0);  // reading: 600 pushes in
    obs::catalog().push_accepted.inc(30);
    auto j = report.report(kT0 + 120'000, 0);  // the last minute saw 30
    EXPECT_DOUBLE_EQ(num(j.at("rates").at("pushes_per_s")), 0.5);
}

TEST(StatusReport, ErrorsByReasonSinceTheOldestKeptReading) {
    StatusReport report(sources(), kT0);
    obs::catalog().error(errc::ttl_missing).inc(4);
    obs::catalog().error(errc::rate_limited).inc(1);
    auto j = report.report(kT0 + 30'000, 0);
    const auto& by = j.at("errors").at("by_reason").as_object();
    EXPECT_EQ(by.at("ttl_missing").to_number<std::int64_t>(), 4);
    EXPECT_EQ(by.at("rate_limited").to_number<std::int64_t>(), 1);
    EXPECT_EQ(by.size(), 2u);  // reasons that did not move are left out
    EXPECT_DOUBLE_EQ(num(j.at("errors").at("window_s")), 30.0);
    // Readings older than 15 minutes are dropped, so old errors age out.
    report.report(kT0 + 20 * 60'000, 0);
    auto later = report.report(kT0 + 40 * 60'000, 0);
    EXPECT_TRUE(later.at("errors").at("by_reason").as_object().empty());
}

TEST(StatusReport, ShowsWhatTheApplicationGivesAndNoSecrets) {
    StatusReport report(sources(), kT0);
    auto j = report.report(kT0 + 1, 11'000);
    EXPECT_EQ(j.at("connected").at("websocket").to_number<int>(), 3);
    EXPECT_EQ(j.at("connected").at("total").to_number<int>(), 5);
    EXPECT_EQ(j.at("store").at("backend").as_string(), "postgres");
    EXPECT_EQ(j.at("store").at("queued_messages").to_number<int>(), 7);
    EXPECT_DOUBLE_EQ(num(j.at("store").at("oldest_queued_age_s")), 10.0);
    EXPECT_EQ(j.at("listeners").at("tls").as_string(), "0.0.0.0:443");
    EXPECT_FALSE(j.at("version").as_string().empty());
}

}  // namespace
}  // namespace pushsvc::web
