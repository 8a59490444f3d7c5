#pragma once
// The process-wide budget for memory that peers make the service hold in connection buffers
// (limits.max_buffer_bytes): HTTP/1.1 request heads and bodies being read, HTTP/2 request
// bodies, header blocks and pending response output, WebSocket messages being assembled.
// Each limit of a single connection is small, but a hundred thousand connections each at its
// limit are gigabytes: the budget bounds the sum.
//
// Every connection holds a Charge and tells it, after each read or write, how many bytes it
// holds now; the total is one atomic. Over the budget
//  - new connections are refused right after accept, before TLS (net::Server, like the
//    connection limits; pushsvc_connections_refused_total{reason="memory"});
//  - a connection holding more than its fair share (limit / connections holding anything,
//    at least kMinShedBytes) is shed when it next reports (should_shed()): the largest
//    holders go first, and the many small well-behaved connections are left alone
//    (pushsvc_connections_shed_total).
// Thread-safe; Charge is used on its connection's strand only.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pushsvc::net {

class BufferBudget {
  public:
    // A connection below this never counts as an offender, whatever the fair share.
    static constexpr std::size_t kMinShedBytes = 64 * 1024;

    explicit BufferBudget(std::size_t limit) : limit_(limit) {}

    void set_limit(std::size_t limit) noexcept { limit_.store(limit, std::memory_order_relaxed); }
    std::size_t limit() const noexcept { return limit_.load(std::memory_order_relaxed); }
    std::size_t held() const noexcept { return held_.load(std::memory_order_relaxed); }
    std::size_t holders() const noexcept { return holders_.load(std::memory_order_relaxed); }
    bool over() const noexcept { return held() > limit(); }

    // One connection's part of the total. Moving is not needed: it lives in its session.
    class Charge {
      public:
        explicit Charge(BufferBudget& budget) : budget_(budget) {}
        ~Charge() { set(0); }
        Charge(const Charge&) = delete;
        Charge& operator=(const Charge&) = delete;

        // This connection holds `bytes` now.
        void set(std::size_t bytes) noexcept {
            if (bytes == bytes_) return;
            if (bytes_ == 0) budget_.holders_.fetch_add(1, std::memory_order_relaxed);
            if (bytes == 0) budget_.holders_.fetch_sub(1, std::memory_order_relaxed);
            if (bytes > bytes_)
                budget_.held_.fetch_add(bytes - bytes_, std::memory_order_relaxed);
            else
                budget_.held_.fetch_sub(bytes_ - bytes, std::memory_order_relaxed);
            bytes_ = bytes;
        }
        std::size_t bytes() const noexcept { return bytes_; }

        // Over the budget and holding more than this connection's fair share: close it.
        bool should_shed() const noexcept {
            if (!budget_.over() || bytes_ < kMinShedBytes) return false;
            const std::size_t share = budget_.limit() / std::max<std::size_t>(1, budget_.holders());
            return bytes_ > share;
        }

      private:
        BufferBudget& budget_;
        std::size_t bytes_ = 0;
    };

  private:
    std::atomic<std::size_t> limit_;
    std::atomic<std::size_t> held_{0};
    std::atomic<std::size_t> holders_{0};
};

// The budget of this process; app/ sets its limit from limits.max_buffer_bytes at startup
// (until then, and in unit tests, it is effectively unlimited).
inline BufferBudget& buffer_budget() {
    static BufferBudget budget(SIZE_MAX);
    return budget;
}

}  // namespace pushsvc::net
