#include "pushsvc/obs/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

namespace pushsvc::obs {

bool set_log_level(std::string_view level) {
    auto lvl = spdlog::level::from_str(std::string(level));
    if (lvl == spdlog::level::off && level != "off") return false;
    spdlog::set_level(lvl);
    return true;
}

std::uint64_t next_connection_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

namespace {

std::atomic<bool> g_access{false};
std::atomic<bool> g_json{false};
// Set once by configure_logging() before any thread logs, never replaced afterwards.
std::shared_ptr<spdlog::logger> g_access_logger;

// Length of the UTF-8 sequence starting at s[i], or 0 when it is not valid UTF-8.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k)
        if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return 0;
    if (n == 2 && c < 0xC2) return 0;  // overlong
    return n;
}

void append_quoted(std::string& out, std::string_view text) {
    out += '"';
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += char(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else if (c >= 0x80) {
            const auto n = utf8_length(text, i);
            if (n == 0) {
                out += "\\ufffd";
                ++i;
                continue;
            }
            out.append(text.substr(i, n));
            i += n;
            continue;
        } else {
            out += char(c);
        }
        ++i;
    }
    out += '"';
}

// "2026-12-02T09:26:01.123Z"
void append_time(std::string& out, std::chrono::system_clock::time_point t) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];  // room for any int the compiler can imagine in each field
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms.count() % 1000));
    out += buf;
}

// {"time", "level", "conn"?, "msg"}: "conn" is taken from the "c42 " / "c42/s3 " prefix the
// connection code puts on its lines, so existing log calls need no change.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        std::string_view text(msg.payload.data(), msg.payload.size());
        std::string line = "{\"time\":\"";
        append_time(line, msg.time);
        line += "\",\"level\":\"";
        line += std::string_view(spdlog::level::to_string_view(msg.level).data(),
                                 spdlog::level::to_string_view(msg.level).size());
        line += '"';
        if (text.size() > 1 && text[0] == 'c' && text[1] >= '0' && text[1] <= '9') {
            std::size_t end = 1;
            while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
            std::size_t tag_end = end;
            while (tag_end < text.size() && text[tag_end] != ' ') ++tag_end;
            if (tag_end < text.size() && end > 1 && end < 20) {
                line += ",\"conn\":";
                line.append(text.substr(1, end - 1));
                if (tag_end > end && text[end] == '/') {  // "c42/s3": the HTTP/2 stream
                    line += ",\"stream\":";
                    append_quoted(line, text.substr(end + 1, tag_end - end - 1));
                }
                text.remove_prefix(tag_end + 1);
            }
        }
        line += ",\"msg\":";
        append_quoted(line, text);
        line += "}\n";
        dest.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<JsonFormatter>();
    }
};

bool route_word(std::string_view seg) {
    if (seg.empty() || seg.size() > 20) return false;
    for (char c : seg)
        if (!((c >= 'a' && c <= 'z') || c == '-' || c == '_' || c == '.')) return false;
    return true;
}

}  // namespace

std::unique_ptr<spdlog::formatter> json_formatter() { return std::make_unique<JsonFormatter>(); }

std::string json_quote(std::string_view text) {
    std::string out;
    append_quoted(out, text);
    return out;
}

std::string redact_target(std::string_view target) {
    const auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string out;
    while (!path.empty()) {
        if (path[0] != '/') {  // not origin-form (e.g. "*" or absolute-form): hide it all
            return out.empty() ? std::string("*") : out + "/*";
        }
        path.remove_prefix(1);
        const auto slash = path.find('/');
        const auto seg = path.substr(0, slash);
        out += '/';
        // An empty segment ("/" or a trailing slash) has nothing to hide.
        out += seg.empty() || route_word(seg) ? std::string(seg) : std::string("*");
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    if (out.empty()) out = "/";
    if (q != std::string_view::npos) out += "?*";
    return out;
}

void configure_logging(LogFormat format, bool access) {
    g_json = format == LogFormat::json;
    if (format == LogFormat::json) spdlog::set_formatter(std::make_unique<JsonFormatter>());
    // The access logger exists either way (created once), so log_access never races with its
    // creation; `access` only says whether lines are written.
    if (!g_access_logger) {
        auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
        g_access_logger = std::make_shared<spdlog::logger>("access", std::move(sink));
        // Its own level: log.access decides, whatever log.level says.
        g_access_logger->set_level(spdlog::level::info);
        g_access_logger->flush_on(spdlog::level::info);
    }
    if (format == LogFormat::json)
        g_access_logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
            "%v", spdlog::pattern_time_type::local, "\n"));
    else
        g_access_logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    g_access = access;
}

bool access_log_enabled() noexcept { return g_access.load(std::memory_order_relaxed); }

void log_access(const AccessRecord& r) {
    if (!access_log_enabled() || !g_access_logger) return;
    const std::string path = redact_target(r.target);
    char latency[32];
    std::snprintf(latency, sizeof latency, "%.3f", r.latency_ms);
    if (g_json) {
        std::string line = "{\"time\":\"";
        append_time(line, std::chrono::system_clock::now());
        line += "\",\"level\":\"info\",\"event\":\"access\"";
        if (r.connection) line += ",\"conn\":" + std::to_string(r.connection);
        line += ",\"method\":";
        append_quoted(line, r.method);
        line += ",\"path\":";
        append_quoted(line, path);
        line += ",\"status\":" + std::to_string(r.status);
        line += ",\"latency_ms\":";
        line += latency;
        line += ",\"protocol\":";
        append_quoted(line, r.protocol);
        line += r.tls ? ",\"tls\":true}" : ",\"tls\":false}";
        g_access_logger->info("{}", line);
    } else {
        g_access_logger->info("c{} access {} {} {} {}ms {}{}", r.connection, r.method, path,
                              r.status, latency, r.protocol, r.tls ? " tls" : "");
    }
}

}  // namespace pushsvc::obs
