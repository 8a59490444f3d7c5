#include "pushsvc/obs/metrics.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "pushsvc/obs/catalog.h"

#ifndef PUSHSVC_VERSION
#define PUSHSVC_VERSION "dev"
#endif

namespace pushsvc::obs {
namespace {

bool valid_name(std::string_view name, bool colon_ok) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon_ok && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

std::string label_body(const Labels& labels, bool histogram) {
    std::string out;
    for (const auto& [name, value] : labels) {
        if (!valid_name(name, false) || name.starts_with("__"))
            throw std::invalid_argument("metrics: bad label name '" + name + "'");
        if (histogram && name == "le")
            throw std::invalid_argument("metrics: 'le' is reserved for histogram buckets");
        if (!out.empty()) out += ',';
        out += name;
        out += "=\"";
        out += escape_label_value(value);
        out += '"';
    }
    return out;
}

// HELP text escaping (format 0.0.4): backslash and line feed only.
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void append_series(std::string& out, std::string_view name, std::string_view suffix,
                   const std::string& labels, std::string_view extra, std::string_view value) {
    out += name;
    out += suffix;
    if (!labels.empty() || !extra.empty()) {
        out += '{';
        out += labels;
        if (!labels.empty() && !extra.empty()) out += ',';
        out += extra;
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

const char* type_name(int t) {
    static constexpr const char* kNames[] = {"counter", "gauge", "histogram"};
    return kNames[t];
}

}  // namespace

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[32];
    // Whole numbers (counts, bytes) as integers; others in the shortest form that reads back
    // exactly, in %g style: 0.0001 stays fixed, 5e-05 goes scientific, as Prometheus's own
    // clients print them.
    if (std::abs(v) < 9007199254740992.0 && v == std::trunc(v))
        return std::to_string(static_cast<std::int64_t>(v));
    auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general);
    return std::string(buf, res.ptr);
}

std::string escape_label_value(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

void Histogram::observe_us(std::uint64_t us) noexcept {
    int i = 0;
    while (i < kBuckets && us > kBoundsUs[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_us_.fetch_add(us, std::memory_order_relaxed);
}

Gauge& Gauge::operator=(Gauge&& other) noexcept {
    if (this != &other) {
        reset();
        registry_ = std::exchange(other.registry_, nullptr);
        id_ = other.id_;
    }
    return *this;
}

void Gauge::reset() noexcept {
    if (registry_) std::exchange(registry_, nullptr)->unregister(id_);
}

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type) {
    if (!valid_name(name, true))
        throw std::invalid_argument("metrics: bad metric name '" + std::string(name) + "'");
    if (help.empty())
        throw std::invalid_argument("metrics: " + std::string(name) + " needs a help text");
    auto it = families_.find(name);
    if (it == families_.end())
        it =
            families_.emplace(std::string(name), Family{type, std::string(help), {}, {}, {}}).first;
    const Family& f = it->second;
    if (f.type != type || f.help != help)
        throw std::logic_error("metrics: " + std::string(name) +
                               " registered again with another type or help text");
    return it->second;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
    std::string body = label_body(labels, false);
    std::lock_guard lock(mu_);
    auto& slot = family(name, help, Type::counter).counters[body];
    if (!slot) slot = std::make_unique<Counter>();
    return *slot;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels) {
    std::string body = label_body(labels, true);
    std::lock_guard lock(mu_);
    auto& slot = family(name, help, Type::histogram).histograms[body];
    if (!slot) slot = std::make_unique<Histogram>();
    return *slot;
}

Gauge Registry::gauge(std::string_view name, std::string_view help, const Labels& labels,
                      std::function<double()> read) {
    if (!read)
        throw std::invalid_argument("metrics: gauge " + std::string(name) + " without callback");
    return gauges({GaugeSpec{std::string(name), std::string(help), labels}},
                  [read = std::move(read)] { return std::vector<double>{read()}; });
}

Gauge Registry::gauges(std::vector<GaugeSpec> specs, std::function<std::vector<double>()> read) {
    if (!read || specs.empty())
        throw std::invalid_argument("metrics: gauge group without callback or series");
    std::vector<std::string> bodies;
    for (const auto& spec : specs) bodies.push_back(label_body(spec.labels, false));
    std::lock_guard lock(mu_);
    // Check everything before changing anything, so a bad spec leaves no partial group.
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const auto& spec = specs[i];
        bool taken = false;
        if (auto f = families_.find(spec.name); f != families_.end()) {
            if (f->second.type != Type::gauge || f->second.help != spec.help)
                throw std::logic_error("metrics: " + spec.name +
                                       " registered again with another type or help text");
            taken = f->second.gauges.contains(bodies[i]);
        } else if (!valid_name(spec.name, true) || spec.help.empty()) {
            throw std::invalid_argument("metrics: bad gauge name or no help: '" + spec.name + "'");
        }
        for (std::size_t j = 0; j < i && !taken; ++j)
            taken = specs[j].name == spec.name && bodies[j] == bodies[i];
        if (taken)
            throw std::logic_error("metrics: gauge " + spec.name + "{" + bodies[i] +
                                   "} is registered already");
    }
    auto group = std::make_shared<const GaugeGroup>(GaugeGroup{next_gauge_id_++, std::move(read)});
    for (std::size_t i = 0; i < specs.size(); ++i)
        family(specs[i].name, specs[i].help, Type::gauge)
            .gauges.emplace(std::move(bodies[i]), GaugeSeries{group, i});
    return Gauge(this, group->id);
}

void Registry::unregister(std::uint64_t id) noexcept {
    std::lock_guard lock(mu_);
    for (auto f = families_.begin(); f != families_.end();) {
        auto& gauges = f->second.gauges;
        std::erase_if(gauges, [id](const auto& g) { return g.second.group->id == id; });
        // A family without series would print HELP/TYPE with no samples: drop it.
        if (f->second.type == Type::gauge && gauges.empty())
            f = families_.erase(f);
        else
            ++f;
    }
}

const Counter* Registry::find_counter(std::string_view name, const Labels& labels) const {
    std::string body = label_body(labels, false);
    std::lock_guard lock(mu_);
    auto f = families_.find(name);
    if (f == families_.end()) return nullptr;
    auto c = f->second.counters.find(body);
    return c == f->second.counters.end() ? nullptr : c->second.get();
}

std::string Registry::render() const {
    std::lock_guard lock(mu_);
    std::string out;
    // Each gauge group's callback runs once per render, however many families it feeds.
    std::map<const GaugeGroup*, std::vector<double>> evaluated;
    for (const auto& [name, f] : families_) {
        out += "# HELP " + name + ' ' + escape_help(f.help) + '\n';
        out += "# TYPE " + name + ' ' + type_name(int(f.type)) + '\n';
        for (const auto& [labels, c] : f.counters)
            append_series(out, name, "", labels, "", std::to_string(c->value()));
        for (const auto& [labels, g] : f.gauges) {
            auto [it, fresh] = evaluated.try_emplace(g.group.get());
            if (fresh) it->second = g.group->read();
            const auto& values = it->second;
            double v = g.index < values.size() ? values[g.index] : std::nan("");
            append_series(out, name, "", labels, "", format_value(v));
        }
        for (const auto& [labels, h] : f.histograms) {
            // One pass over the buckets gives cumulative counts and _count consistently.
            std::uint64_t cumulative = 0;
            for (int i = 0; i <= Histogram::kBuckets; ++i) {
                cumulative += h->bucket(i);
                std::string le = i < Histogram::kBuckets
                                     ? format_value(double(Histogram::kBoundsUs[i]) / 1e6)
                                     : std::string("+Inf");
                append_series(out, name, "_bucket", labels, "le=\"" + le + "\"",
                              std::to_string(cumulative));
            }
            append_series(out, name, "_sum", labels, "", format_value(double(h->sum_us()) / 1e6));
            append_series(out, name, "_count", labels, "", std::to_string(cumulative));
        }
    }
    return out;
}

namespace {

double unix_now_s() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

// The process registry and the gauges describing the process itself, which live as long as
// it does. Members are destroyed in reverse order: the gauges unregister first.
struct Process {
    Registry registry;
    std::vector<Gauge> gauges;
    double start_unix_s = unix_now_s();
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();

    Process() {
        gauges.push_back(registry.gauge("pushsvc_build_info",
                                        "Always 1; the version label names the pushsvc build.",
                                        {{"version", PUSHSVC_VERSION}}, [] { return 1.0; }));
        gauges.push_back(registry.gauge("pushsvc_process_start_time_seconds",
                                        "Unix time at which the pushsvc process started.", {},
                                        [t = start_unix_s] { return t; }));
        gauges.push_back(registry.gauge(
            "pushsvc_uptime_seconds", "Seconds since the pushsvc process started (monotonic).", {},
            [t = start] {
                return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
            }));
    }
};

Process& process() {
    static Process p;
    return p;
}

}  // namespace

Registry& registry() { return process().registry; }

std::string_view build_version() noexcept { return PUSHSVC_VERSION; }

double uptime_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - process().start)
        .count();
}

std::string render_prometheus() {
    catalog();  // every well-known family appears from the first scrape on, at 0
    return registry().render();
}

}  // namespace pushsvc::obs
