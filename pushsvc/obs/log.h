#pragma once
// Logging: spdlog with a process-wide logger. Lines about a connection carry its prefix
// ("c42", "c42/s3" for an HTTP/2 stream). Never log payloads, JWTs or key material; ids and
// sizes only.
//
// Two formats (log.format): "text", spdlog's usual "[time] [level] message", and "json", one
// JSON object per line for log collectors: {"time", "level", "conn" (when the line is about a
// connection), "msg"}. Access lines (log.access) are a second logger on their own stdout sink
// (spdlog serialises every console sink on one mutex, so lines never interleave): one per
// request, {"event": "access", "conn", "method", "path", "status", "latency_ms", "protocol",
// "tls"} in JSON.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pushsvc::obs {

// Sets the level ("trace".."off"); unknown names leave it unchanged and return false.
bool set_log_level(std::string_view level);

// Monotonic connection number for log prefixes.
std::uint64_t next_connection_id() noexcept;

enum class LogFormat { text, json };

// Switches the process-wide logger to `format` and turns access lines on or off. Call once
// at startup, before the network threads run.
void configure_logging(LogFormat format, bool access);

// One finished request, as the access line reports it.
struct AccessRecord {
    std::uint64_t connection = 0;  // 0: unknown
    std::string_view method;
    std::string_view target;  // the raw request target; redacted before it is written
    int status = 0;
    double latency_ms = 0;      // from the request handed to the service to its response
    std::string_view protocol;  // "HTTP/1.1", "HTTP/2"
    bool tls = false;
};

// The formatter log.format = "json" installs (exposed for its tests).
std::unique_ptr<spdlog::formatter> json_formatter();

// True when configure_logging() turned access lines on.
bool access_log_enabled() noexcept;
// Writes the access line for `record` (nothing when access lines are off).
void log_access(const AccessRecord& record);

// The request target with its secrets taken out, for logs: the query is dropped, the first
// segment that is not a short lower-case word (a route name: push, sub, m, messages, ...) is
// replaced by "*", so capability URLs (endpoint tokens, subscription
// and message ids) never reach a log: "/push/gAAAA..." -> "/push/*",
// "/_testdouble/subscriptions/Xy9.../messages" -> "/_testdouble/subscriptions/*/messages".
std::string redact_target(std::string_view target);

// `text` as a JSON string literal (quotes included); invalid UTF-8 becomes U+FFFD.
std::string json_quote(std::string_view text);

}  // namespace pushsvc::obs
