#include "pushsvc/obs/metrics.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::obs {
namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
        ++n;
    return n;
}

TEST(Metrics, SmallRegistryRendersExactly) {
    Registry r;
    r.counter("t_requests_total", "Requests.", {{"code", "200"}}).inc(3);
    r.counter("t_requests_total", "Requests.", {{"code", "404"}}).inc();
    r.counter("t_plain_total", "No labels.");
    auto& h = r.histogram("t_latency_seconds", "Latency.");
    h.observe_us(40);          // first bucket (<= 50us)
    h.observe_us(50);          // boundary: still the first bucket (le is inclusive)
    h.observe_us(700);         // <= 1ms
    h.observe_us(20'000'000);  // above 10s: +Inf only
    double level = 2.5;
    auto g = r.gauge("t_level", "A level.", {{"pool", "a"}}, [&level] { return level; });

    EXPECT_EQ(r.render(),
              "# HELP t_latency_seconds Latency.\n"
              "# TYPE t_latency_seconds histogram\n"
              "t_latency_seconds_bucket{le=\"5e-05\"} 2\n"
              "t_latency_seconds_bucket{le=\"0.0001\"} 2\n"
              "t_latency_seconds_bucket{le=\"0.00025\"} 2\n"
              "t_latency_seconds_bucket{le=\"0.0005\"} 2\n"
              "t_latency_seconds_bucket{le=\"0.001\"} 3\n"
              "t_latency_seconds_bucket{le=\"0.0025\"} 3\n"
              "t_latency_seconds_bucket{le=\"0.005\"} 3\n"
              "t_latency_seconds_bucket{le=\"0.01\"} 3\n"
              "t_latency_seconds_bucket{le=\"0.05\"} 3\n"
              "t_latency_seconds_bucket{le=\"0.25\"} 3\n"
              "t_latency_seconds_bucket{le=\"1\"} 3\n"
              "t_latency_seconds_bucket{le=\"10\"} 3\n"
              "t_latency_seconds_bucket{le=\"+Inf\"} 4\n"
              "t_latency_seconds_sum 20.00079\n"
              "t_latency_seconds_count 4\n"
              "# HELP t_level A level.\n"
              "# TYPE t_level gauge\n"
              "t_level{pool=\"a\"} 2.5\n"
              "# HELP t_plain_total No labels.\n"
              "# TYPE t_plain_total counter\n"
              "t_plain_total 0\n"
              "# HELP t_requests_total Requests.\n"
              "# TYPE t_requests_total counter\n"
              "t_requests_total{code=\"200\"} 3\n"
              "t_requests_total{code=\"404\"} 1\n");
}

TEST(Metrics, HelpAndTypeOncePerFamilyWhateverTheSeries) {
    Registry r;
    for (int i = 0; i < 5; ++i)
        r.counter("t_errors_total", "Errors.", {{"reason", "r" + std::to_string(i)}}).inc();
    r.histogram("t_seconds", "Time.", {{"route", "a"}});
    r.histogram("t_seconds", "Time.", {{"route", "b"}});
    auto g1 = r.gauge("t_up", "Up.", {{"c", "x"}}, [] { return 1.0; });
    auto g2 = r.gauge("t_up", "Up.", {{"c", "y"}}, [] { return 0.0; });
    std::string text = r.render();
    for (const char* family : {"t_errors_total", "t_seconds", "t_up"}) {
        EXPECT_EQ(occurrences(text, std::string("# HELP ") + family + " "), 1u) << family;
        EXPECT_EQ(occurrences(text, std::string("# TYPE ") + family + " "), 1u) << family;
    }
    EXPECT_EQ(occurrences(text, "\nt_errors_total{"), 5u);
    EXPECT_EQ(occurrences(text, "t_seconds_count{route="), 2u);
}

TEST(Metrics, TheSameSeriesIsTheSameObject) {
    Registry r;
    auto& a = r.counter("t_total", "T.", {{"k", "v"}});
    auto& b = r.counter("t_total", "T.", {{"k", "v"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &r.counter("t_total", "T.", {{"k", "w"}}));
    EXPECT_EQ(r.find_counter("t_total", {{"k", "v"}}), &a);
    EXPECT_EQ(r.find_counter("t_total", {{"k", "nope"}}), nullptr);
    EXPECT_EQ(r.find_counter("t_other_total"), nullptr);
}

TEST(Metrics, ConflictingOrMalformedRegistrationsThrow) {
    Registry r;
    r.counter("t_total", "Help one.");
    EXPECT_THROW(r.counter("t_total", "Help two."), std::logic_error);
    EXPECT_THROW(r.histogram("t_total", "Help one."), std::logic_error);
    EXPECT_THROW(r.counter("t_bare_total", ""), std::invalid_argument);  // HELP is required
    EXPECT_THROW(r.counter("9starts_with_digit", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("has-dash", "x"), std::invalid_argument);
    EXPECT_THROW(r.counter("t_l_total", "x", {{"bad-label", "v"}}), std::invalid_argument);
    EXPECT_THROW(r.counter("t_l_total", "x", {{"__reserved", "v"}}), std::invalid_argument);
    EXPECT_THROW(r.histogram("t_h_seconds", "x", {{"le", "1"}}), std::invalid_argument);
    auto g = r.gauge("t_g", "G.", {}, [] { return 1.0; });
    EXPECT_THROW((void)r.gauge("t_g", "G.", {}, [] { return 2.0; }), std::logic_error);
    EXPECT_THROW((void)r.gauge("t_g2", "G.", {}, {}), std::invalid_argument);
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
    Registry r;
    r.counter("t_total", "Line one\nback\\slash \"quotes\" stay.",
              {{"path", "a\"b\\c\nd"}, {"z", "plain"}})
        .inc();
    EXPECT_EQ(r.render(),
              "# HELP t_total Line one\\nback\\\\slash \"quotes\" stay.\n"
              "# TYPE t_total counter\n"
              "t_total{path=\"a\\\"b\\\\c\\nd\",z=\"plain\"} 1\n");
    EXPECT_EQ(escape_label_value("ünïcode ok"), "ünïcode ok");
}

TEST(Metrics, ValuesUsePrometheusSpelling) {
    EXPECT_EQ(format_value(0), "0");
    EXPECT_EQ(format_value(42), "42");
    EXPECT_EQ(format_value(123456789012.0), "123456789012");
    EXPECT_EQ(format_value(-3), "-3");
    EXPECT_EQ(format_value(0.25), "0.25");
    EXPECT_EQ(format_value(1e-4), "0.0001");
    EXPECT_EQ(format_value(5e-5), "5e-05");
    EXPECT_EQ(format_value(1e300), "1e+300");
    EXPECT_EQ(format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Metrics, GaugeCallbacksRunAtRenderTimeAndStopWithTheirHandle) {
    Registry r;
    int calls = 0;
    double value = 1;
    auto g = r.gauge("t_queue", "Queue.", {}, [&] {
        ++calls;
        return value;
    });
    EXPECT_EQ(calls, 0);  // registering does not evaluate
    EXPECT_NE(r.render().find("t_queue 1\n"), std::string::npos);
    value = 7;
    EXPECT_NE(r.render().find("t_queue 7\n"), std::string::npos);
    EXPECT_EQ(calls, 2);

    Gauge moved = std::move(g);  // the moved-from handle no longer owns the series
    g.reset();
    EXPECT_NE(r.render().find("t_queue 7\n"), std::string::npos);
    moved.reset();
    EXPECT_EQ(r.render(), "");  // no series left: no HELP/TYPE without samples either
    EXPECT_EQ(calls, 3);
    // The series can be registered anew once the old handle is gone.
    auto again = r.gauge("t_queue", "Queue.", {}, [] { return 3.0; });
    EXPECT_NE(r.render().find("t_queue 3\n"), std::string::npos);
}

TEST(Metrics, AGaugeGroupReadsOncePerRenderAndFeedsSeveralFamilies) {
    Registry r;
    int snapshots = 0;
    auto g = r.gauges({{"t_queued", "Queued.", {}},
                       {"t_disk_bytes", "Disk.", {}},
                       {"t_age_seconds", "Age.", {{"of", "oldest"}}}},
                      [&] {
                          ++snapshots;
                          return std::vector<double>{12, 4096, 1.5};
                      });
    EXPECT_EQ(
        r.render(),
        "# HELP t_age_seconds Age.\n# TYPE t_age_seconds gauge\nt_age_seconds{of=\"oldest\"} 1.5\n"
        "# HELP t_disk_bytes Disk.\n# TYPE t_disk_bytes gauge\nt_disk_bytes 4096\n"
        "# HELP t_queued Queued.\n# TYPE t_queued gauge\nt_queued 12\n");
    EXPECT_EQ(snapshots, 1);

    // All or nothing: the second spec collides, so the first is not added either.
    EXPECT_THROW((void)r.gauges({{"t_fresh", "Fresh.", {}}, {"t_queued", "Queued.", {}}},
                                [] {
                                    return std::vector<double>{1, 2};
                                }),
                 std::logic_error);
    EXPECT_THROW((void)r.gauges({{"t_twice", "T.", {}}, {"t_twice", "T.", {}}},
                                [] {
                                    return std::vector<double>{1, 2};
                                }),
                 std::logic_error);
    EXPECT_EQ(r.render().find("t_fresh"), std::string::npos);
    EXPECT_EQ(r.render().find("t_twice"), std::string::npos);

    // A callback that returns too few values shows NaN rather than a made-up number.
    auto short_group =
        r.gauges({{"t_a", "A.", {}}, {"t_b", "B.", {}}}, [] { return std::vector<double>{5}; });
    std::string text = r.render();
    EXPECT_NE(text.find("t_a 5\n"), std::string::npos);
    EXPECT_NE(text.find("t_b NaN\n"), std::string::npos);
    g.reset();
    short_group.reset();
    EXPECT_EQ(r.render(), "");
}

TEST(Metrics, ConcurrentIncrementsSumExactly) {
    Registry r;
    constexpr int kThreads = 8;
    constexpr int kPerThread = 100'000;
    auto& shared = r.counter("t_shared_total", "Shared.");
    auto& h = r.histogram("t_shared_seconds", "Shared.");
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            // Each thread also resolves the series itself, racing the registration path.
            auto& mine = r.counter("t_shared_total", "Shared.");
            auto& labelled =
                r.counter("t_by_thread_total", "Per thread.", {{"t", std::to_string(t % 2)}});
            for (int i = 0; i < kPerThread; ++i) {
                (i % 2 ? shared : mine).inc();
                labelled.inc();
                h.observe_us(100);
            }
        });
    // Scrapes while the increments run must not disturb them.
    for (int i = 0; i < 20; ++i) (void)r.render();
    for (auto& th : threads) th.join();
    EXPECT_EQ(shared.value(), std::uint64_t(kThreads) * kPerThread);
    EXPECT_EQ(r.find_counter("t_by_thread_total", {{"t", "0"}})->value(),
              std::uint64_t(kThreads / 2) * kPerThread);
    std::string text = r.render();
    EXPECT_NE(text.find("t_shared_seconds_count 800000\n"), std::string::npos);
    EXPECT_NE(text.find("t_shared_seconds_sum 80\n"), std::string::npos);  // 800000 x 100us
}

TEST(Metrics, ProcessExpositionHasEveryCatalogFamilyAndProcessGauges) {
    std::string text = render_prometheus();
    for (const char* line : {
             "# TYPE pushsvc_errors_total counter\n",
             "pushsvc_errors_total{reason=\"ttl_missing\"} ",
             "pushsvc_ws_frames_total{type=\"register\"} ",
             "pushsvc_receipts_total{status=\"410\"} ",
             "pushsvc_connections_total{protocol=\"h2c\"} ",
             "# TYPE pushsvc_push_seconds histogram\n",
             "pushsvc_build_info{version=\"",
             "# TYPE pushsvc_uptime_seconds gauge\n",
             "# TYPE pushsvc_process_start_time_seconds gauge\n",
         })
        EXPECT_NE(text.find(line), std::string::npos) << line;
    EXPECT_EQ(text.find("reason=\"ok\""), std::string::npos);  // ok is not an error
    // The catalog's references are the registry's series.
    const Counter& frames = catalog().ws_frame(WsFrame::nack);
    EXPECT_EQ(registry().find_counter("pushsvc_ws_frames_total", {{"type", "nack"}}), &frames);
    EXPECT_EQ(&catalog().error(errc::ok), &catalog().error(errc::internal));
}

}  // namespace
}  // namespace pushsvc::obs
