#pragma once
// Admission: the connection limits applied right after accept, before any TLS or protocol
// work (issue 14). Without them one client address could take every descriptor of the
// process and lock everybody else out. Two limits:
//  - total open client connections (limits.max_connections, capped by the open-files limit:
//    effective_max_connections());
//  - open connections per client: one IPv4 address, or one IPv6 /64 (a single host usually
//    owns a whole /64, so counting per /128 would be no limit at all).
// A connection holds an Admission::Slot for its whole life; the slot travels in its
// SessionContext into whichever protocol session it becomes and is released when the last
// copy dies, so every protocol is counted the same way without knowing about it.
//
// Thread-safe: the total is an atomic, the per-address counts live in shards under their own
// mutexes, so accepts on several threads (two listeners) rarely contend.

#include <boost/asio/ip/address.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace pushsvc::net {

class Admission : public std::enable_shared_from_this<Admission> {
  public:
    enum class Refusal { none, total, per_ip };

    // Released when destroyed: the connection's place is free again.
    class Slot {
      public:
        Slot(std::shared_ptr<Admission> owner, std::uint64_t key, bool v6)
            : owner_(std::move(owner)), key_(key), v6_(v6) {}
        ~Slot() { owner_->release(key_, v6_); }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

      private:
        std::shared_ptr<Admission> owner_;
        std::uint64_t key_;
        bool v6_;
    };

    Admission(std::size_t max_total, std::size_t max_per_ip)
        : max_total_(max_total), max_per_ip_(max_per_ip) {}

    // A slot for a connection from `peer`, or nullptr with `why` set when a limit is reached.
    std::shared_ptr<const Slot> admit(const boost::asio::ip::address& peer, Refusal& why);

    std::size_t total() const noexcept { return total_.load(std::memory_order_relaxed); }

    // The client an address counts as: IPv4 (and IPv4-mapped IPv6) -> the address; IPv6 ->
    // its /64 prefix. v6 keys live in their own maps' key space through `v6` (so 10.0.0.1
    // never shares a count with a /64).
    static std::pair<std::uint64_t, bool> key_of(const boost::asio::ip::address& a);
    std::size_t count_for(const boost::asio::ip::address& peer) const;

  private:
    struct Shard {
        mutable std::mutex mutex;
        std::unordered_map<std::uint64_t, std::size_t> counts;
    };
    static constexpr std::size_t kShards = 16;

    Shard& shard(std::uint64_t key, bool v6) const;
    void release(std::uint64_t key, bool v6) noexcept;

    const std::size_t max_total_;
    const std::size_t max_per_ip_;
    std::atomic<std::size_t> total_{0};
    mutable std::array<Shard, kShards> v4_shards_;
    mutable std::array<Shard, kShards> v6_shards_;
};

// key_of() as text, the client key of the per-address rate limits ([rate], carried in
// SessionContext::client and http::Request::client): "203.0.113.7", or "2001:db8:1:2::/64".
// One client for the connection limit is one client for the rate limits.
std::string client_key(const boost::asio::ip::address& a);

// limits.max_connections capped so the process keeps descriptors for the store (RocksDB
// opens up to 512 files), logs and listeners: min(configured, RLIMIT_NOFILE - headroom),
// where headroom is 1024 or, under a small limit, half of it.
std::size_t effective_max_connections(std::size_t configured, std::uint64_t nofile_limit);
// The soft RLIMIT_NOFILE of this process (unlimited -> UINT64_MAX).
std::uint64_t open_files_limit();

// At most one log line per `interval` for a repeated event, saying how many happened since
// the last line: a flood of refused connections or accept errors costs a counter increment,
// not a log line each. Thread-safe.
class RateLimitedLog {
  public:
    explicit RateLimitedLog(std::chrono::steady_clock::duration interval) : interval_(interval) {}
    // Records one event. Returns the number of events to report (this one included) when a
    // line is due now, else 0.
    std::uint64_t record(
        std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  private:
    std::chrono::steady_clock::duration interval_;
    std::mutex mutex_;
    bool logged_once_ = false;
    std::chrono::steady_clock::time_point last_{};
    std::uint64_t pending_ = 0;
};

}  // namespace pushsvc::net
