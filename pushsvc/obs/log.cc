#include "pushsvc/obs/log.h"

#include <atomic>
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

}  // namespace pushsvc::obs
