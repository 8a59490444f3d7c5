#pragma once
// Logging: spdlog with a process-wide logger. Lines about a connection carry its prefix
// ("c42", "c42/s3" for an HTTP/2 stream). Never log payloads, JWTs or key material; ids and
// sizes only.

#include <spdlog/spdlog.h>

#include <string_view>

namespace pushsvc::obs {

// Sets the level ("trace".."off"); unknown names leave it unchanged and return false.
bool set_log_level(std::string_view level);

// Monotonic connection number for log prefixes.
std::uint64_t next_connection_id() noexcept;

}  // namespace pushsvc::obs
