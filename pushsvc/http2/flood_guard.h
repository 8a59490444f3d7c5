#pragma once
// FloodGuard: counts one kind of peer event in fixed time windows and says when a peer sends
// more than `limit` per window. Used for HTTP/2 control-frame floods (PING, SETTINGS,
// PRIORITY, empty DATA, unearned WINDOW_UPDATE; RFC 9113 §10.5, CVE-2019-9512/9515/9518),
// modelled on Envoy's protocol_constraints.h. Not thread-safe: owned by one connection, used
// on its strand.

#include <chrono>
#include <cstdint>

namespace pushsvc::http2 {

class FloodGuard {
  public:
    using Clock = std::chrono::steady_clock;

    FloodGuard(std::uint32_t limit, Clock::duration window) : limit_(limit), window_(window) {}

    // Records one event at `now`; false once the current window holds more than `limit`.
    bool allow(Clock::time_point now) noexcept {
        if (now - window_start_ >= window_) {
            window_start_ = now;
            count_ = 0;
        }
        return ++count_ <= limit_;
    }

  private:
    std::uint32_t limit_;
    Clock::duration window_;
    Clock::time_point window_start_{};
    std::uint32_t count_ = 0;
};

}  // namespace pushsvc::http2
