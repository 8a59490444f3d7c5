#pragma once
// Process-wide metric counters and histograms with Prometheus text exposition
// (GET /metrics). Counters are created on first use and live for the process; increments are
// lock-free after creation. Thread-safe.

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace pushsvc::obs {

class Counter {
  public:
    void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

// Latency histogram with fixed buckets in microseconds (50us .. 10s).
class Histogram {
  public:
    static constexpr int kBuckets = 12;
    static constexpr std::uint64_t kBoundsUs[kBuckets] = {
        50, 100, 250, 500, 1'000, 2'500, 5'000, 10'000, 50'000, 250'000, 1'000'000, 10'000'000};
    void observe_us(std::uint64_t us) noexcept;

  private:
    friend std::string render_prometheus();
    std::atomic<std::uint64_t> buckets_[kBuckets + 1]{};
    std::atomic<std::uint64_t> sum_us_{0};
    std::atomic<std::uint64_t> count_{0};
};

// `name` is a Prometheus metric name; `labels` is the label body without braces, e.g.
// `reason="ttl_missing"` or empty. The returned reference stays valid forever.
Counter& counter(std::string_view name, std::string_view labels = {});
Histogram& histogram(std::string_view name, std::string_view labels = {});

// Prometheus text format 0.0.4 of every metric.
std::string render_prometheus();

}  // namespace pushsvc::obs
