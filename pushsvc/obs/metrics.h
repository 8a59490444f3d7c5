#pragma once
// Metric registry with Prometheus text exposition (format 0.0.4, GET /metrics).
//
// What is lock-free and what is not:
//  - Counter::inc and Histogram::observe_us are relaxed atomic adds: lock-free, no allocation.
//    This is the only part meant for hot paths.
//  - Registering a series (counter(), histogram(), gauge()) takes the registry mutex, builds
//    strings and may allocate. Call sites resolve their series once (see obs/catalog.h) and
//    keep the reference, which stays valid for the life of the registry.
//  - render() takes the same mutex and calls every gauge callback under it, so a callback
//    must not register or unregister metrics (it would deadlock); it should be cheap, since
//    it runs on every scrape.
//
// A family (one metric name) has one type and one help text, given when it is first
// registered; registering the same name with another type or another help text is a
// programming error and throws std::logic_error. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pushsvc::obs {

// Each counter on a cache line of its own: counters bumped by different threads must not
// bounce one line between cores.
class alignas(64) Counter {
  public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

// Latency histogram with fixed buckets in microseconds (50us .. 10s), exposed in seconds.
class alignas(64) Histogram {
  public:
    static constexpr int kBuckets = 12;
    static constexpr std::uint64_t kBoundsUs[kBuckets] = {
        50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 50'000, 250'000, 1'000'000, 10'000'000};
    void observe_us(std::uint64_t us) noexcept;

    // Observations in bucket i alone (not cumulative); i == kBuckets is above the last bound.
    std::uint64_t bucket(int i) const noexcept {
        return buckets_[i].load(std::memory_order_relaxed);
    }
    std::uint64_t sum_us() const noexcept { return sum_us_.load(std::memory_order_relaxed); }

  private:
    // No separate count: the exposition derives _count from the buckets, so _count always
    // equals the +Inf bucket even while observations race with a scrape.
    std::atomic<std::uint64_t> buckets_[kBuckets + 1]{};
    std::atomic<std::uint64_t> sum_us_{0};
};

// Label pairs in exposition order, e.g. {{"reason", "ttl_missing"}}. Values are escaped on
// output; names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with "__".
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry;

// One series of a gauge group: see Registry::gauges.
struct GaugeSpec {
    std::string name;
    std::string help;
    Labels labels;
};

// A registered gauge series (or group of series); unregisters on destruction, after which its
// callback is not running and is never called again (so it may capture objects that die with the
// handle).
class Gauge {
  public:
    Gauge() = default;
    Gauge(Gauge&& other) noexcept
        : registry_(std::exchange(other.registry_, nullptr)), id_(other.id_) {}
    Gauge& operator=(Gauge&& other) noexcept;
    Gauge(const Gauge&) = delete;
    Gauge& operator=(const Gauge&) = delete;
    ~Gauge() { reset(); }
    void reset() noexcept;

  private:
    friend class Registry;
    Gauge(Registry* registry, std::uint64_t id) : registry_(registry), id_(id) {}
    Registry* registry_ = nullptr;
    std::uint64_t id_ = 0;
};

class Registry {
  public:
    Registry() = default;
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // The series `name{labels}`, created on first call; later calls return the same object.
    Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, const Labels& labels = {});
    // A gauge whose value `read` computes at render time. One live registration per series:
    // registering `name{labels}` again while the first Gauge lives throws std::logic_error.
    [[nodiscard]] Gauge gauge(std::string_view name, std::string_view help, const Labels& labels,
                              std::function<double()> read);
    // Several gauge series computed together: `read` runs once per render and returns one
    // value per spec, in order (missing values render as NaN). For figures that come from one
    // costly snapshot, e.g. one Store::stats() call for queued messages, disk bytes and the
    // oldest message's age. All or nothing: if any series is invalid or taken, none is added.
    [[nodiscard]] Gauge gauges(std::vector<GaugeSpec> specs,
                               std::function<std::vector<double>()> read);

    // Lookup without creating (tests, diagnostics): nullptr if not registered.
    const Counter* find_counter(std::string_view name, const Labels& labels = {}) const;

    // Every family sorted by name, each with one # HELP and one # TYPE line, its series sorted
    // by label text.
    std::string render() const;

  private:
    friend class Gauge;
    enum class Type { counter, gauge, histogram };
    struct GaugeGroup {
        std::uint64_t id;
        std::function<std::vector<double>()> read;
    };
    struct GaugeSeries {
        std::shared_ptr<const GaugeGroup> group;
        std::size_t index;
    };
    struct Family {
        Type type;
        std::string help;
        // Keyed by the rendered label body (`a="x",b="y"`); std::map keeps the output sorted
        // and the unique_ptr targets stable.
        std::map<std::string, std::unique_ptr<Counter>> counters;
        std::map<std::string, std::unique_ptr<Histogram>> histograms;
        std::map<std::string, GaugeSeries> gauges;
    };
    Family& family(std::string_view name, std::string_view help, Type type);
    void unregister(std::uint64_t id) noexcept;

    mutable std::mutex mu_;
    std::map<std::string, Family, std::less<>> families_;
    std::uint64_t next_gauge_id_ = 1;
};

// The process-wide registry that GET /metrics renders. Besides what the service registers it
// holds pushsvc_build_info, pushsvc_process_start_time_seconds and pushsvc_uptime_seconds.
Registry& registry();

// Shorthands on registry().
inline Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {}) {
    return registry().counter(name, help, labels);
}
inline Histogram& histogram(std::string_view name, std::string_view help,
                            const Labels& labels = {}) {
    return registry().histogram(name, help, labels);
}
[[nodiscard]] inline Gauge gauge(std::string_view name, std::string_view help, const Labels& labels,
                                 std::function<double()> read) {
    return registry().gauge(name, help, labels, std::move(read));
}
[[nodiscard]] inline Gauge gauges(std::vector<GaugeSpec> specs,
                                  std::function<std::vector<double>()> read) {
    return registry().gauges(std::move(specs), std::move(read));
}

// The build's version (PUSHSVC_VERSION, pushsvc_build_info) and seconds since the process
// started (monotonic), as the status page shows them.
std::string_view build_version() noexcept;
double uptime_seconds() noexcept;

// The exposition of registry(), with every catalog metric (obs/catalog.h) present even before
// its first increment.
std::string render_prometheus();

// Exposition helpers, public for tests: a sample value (shortest round-trip form; NaN, +Inf,
// -Inf as Prometheus spells them) and a label value with \\, \" and \n escaped.
std::string format_value(double v);
std::string escape_label_value(std::string_view v);

}  // namespace pushsvc::obs
