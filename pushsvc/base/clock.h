#pragma once
// Clock: the single source of "now" for TTL, VAPID exp and Last-Modified, so tests can use a
// fake clock instead of sleeping. Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

namespace pushsvc::base {

// Milliseconds since the Unix epoch.
using UnixMs = std::int64_t;

class Clock {
  public:
    virtual ~Clock() = default;
    virtual UnixMs now_ms() const noexcept = 0;
};

class SystemClock final : public Clock {
  public:
    UnixMs now_ms() const noexcept override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

// System time plus an adjustable offset: what app/ uses, so the test double (pushsvc/testdouble)
// can set or advance the service's "now" (TTL expiry, RFC 8030 §5.2; VAPID exp, RFC 8292 §2)
// while the clock keeps running. The offset stays 0 unless test-double mode moves it.
class AdjustableClock final : public Clock {
  public:
    UnixMs now_ms() const noexcept override { return system_.now_ms() + offset_.load(); }
    std::int64_t offset_ms() const noexcept { return offset_.load(); }
    void set_offset_ms(std::int64_t offset) noexcept {
        offset_.store(offset);
        moved();
    }
    void advance_ms(std::int64_t d) noexcept {
        offset_.fetch_add(d);
        moved();
    }
    void set_ms(UnixMs t) noexcept {
        offset_.store(t - system_.now_ms());
        moved();
    }
    // Called after every move, so work planned by the service clock (expiry) is re-planned
    // instead of waiting on a timer that counts real time. Set once, before other threads
    // use the clock; must not throw.
    void on_move(std::function<void()> f) { on_move_ = std::move(f); }

  private:
    void moved() noexcept {
        if (on_move_) on_move_();
    }
    SystemClock system_;
    std::atomic<std::int64_t> offset_{0};
    std::function<void()> on_move_;
};

class FakeClock final : public Clock {
  public:
    explicit FakeClock(UnixMs start = 1'700'000'000'000) : now_(start) {}
    UnixMs now_ms() const noexcept override { return now_.load(); }
    void set(UnixMs t) noexcept { now_.store(t); }
    void advance_ms(std::int64_t d) noexcept { now_.fetch_add(d); }

  private:
    std::atomic<UnixMs> now_;
};

}  // namespace pushsvc::base
