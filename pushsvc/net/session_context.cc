#include "pushsvc/net/session_context.h"

#include <chrono>
#include <ctime>

#include "pushsvc/base/guard.h"
#include "pushsvc/obs/catalog.h"

namespace pushsvc::net {

const std::string& http_date_now() {
    // Formatted once per second per thread: every response carries it, and gmtime_r +
    // strftime cost more than the rest of building a 201.
    thread_local std::time_t cached_second = -1;
    thread_local std::string cached;
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    if (now != cached_second) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        char buf[64];
        const std::size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached.assign(buf, n);
        cached_second = now;
    }
    return cached;
}

void count_connection_failure() noexcept {
    (base::current_exception_is_bad_alloc() ? obs::catalog().connections_failed_oom
                                            : obs::catalog().connections_failed_exception)
        .inc();
}

}  // namespace pushsvc::net
