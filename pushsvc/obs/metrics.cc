#include "pushsvc/obs/metrics.h"

#include <map>
#include <memory>
#include <mutex>

namespace pushsvc::obs {
namespace {

struct Registry {
    std::mutex mu;
    // key: {name, labels}; std::map keeps exposition sorted and node addresses stable.
    std::map<std::pair<std::string, std::string>, std::unique_ptr<Counter>> counters;
    std::map<std::pair<std::string, std::string>, std::unique_ptr<Histogram>> histograms;
};

Registry& registry() {
    static Registry r;
    return r;
}

template <class T, class Map>
T& get_or_create(Map& map, std::string_view name, std::string_view labels) {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    auto& slot = map[{std::string(name), std::string(labels)}];
    if (!slot) slot = std::make_unique<T>();
    return *slot;
}

std::string series(const std::string& name, const std::string& labels,
                   std::string_view extra = {}) {
    std::string out = name;
    if (!labels.empty() || !extra.empty()) {
        out += '{';
        out += labels;
        if (!labels.empty() && !extra.empty()) out += ',';
        out += extra;
        out += '}';
    }
    return out;
}

}  // namespace

void Histogram::observe_us(std::uint64_t us) noexcept {
    int i = 0;
    while (i < kBuckets && us > kBoundsUs[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(us, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
}

Counter& counter(std::string_view name, std::string_view labels) {
    return get_or_create<Counter>(registry().counters, name, labels);
}

Histogram& histogram(std::string_view name, std::string_view labels) {
    return get_or_create<Histogram>(registry().histograms, name, labels);
}

std::string render_prometheus() {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    std::string out;
    std::string last;
    for (const auto& [key, c] : r.counters) {
        if (key.first != last) {
            out += "# TYPE " + key.first + " counter\n";
            last = key.first;
        }
        out += series(key.first, key.second) + ' ' + std::to_string(c->value()) + '\n';
    }
    for (const auto& [key, h] : r.histograms) {
        if (key.first != last) {
            out += "# TYPE " + key.first + " histogram\n";
            last = key.first;
        }
        std::uint64_t cumulative = 0;
        for (int i = 0; i <= Histogram::kBuckets; ++i) {
            cumulative += h->buckets_[i].load(std::memory_order_relaxed);
            std::string le = i < Histogram::kBuckets
                                 ? std::to_string(double(Histogram::kBoundsUs[i]) / 1e6)
                                 : std::string("+Inf");
            out += series(key.first + "_bucket", key.second, "le=\"" + le + "\"") + ' ' +
                   std::to_string(cumulative) + '\n';
        }
        out += series(key.first + "_sum", key.second) + ' ' +
               std::to_string(double(h->sum_us_.load()) / 1e6) + '\n';
        out += series(key.first + "_count", key.second) + ' ' + std::to_string(h->count_.load()) +
               '\n';
    }
    return out;
}

}  // namespace pushsvc::obs
