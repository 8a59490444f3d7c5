#include "pushsvc/net/admission.h"

#include <sys/resource.h>

#include <algorithm>
#include <limits>

namespace pushsvc::net {

std::pair<std::uint64_t, bool> Admission::key_of(const boost::asio::ip::address& a) {
    if (a.is_v4()) return {a.to_v4().to_uint(), false};
    const auto v6 = a.to_v6();
    if (v6.is_v4_mapped()) {
        return {boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_uint(), false};
    }
    const auto bytes = v6.to_bytes();
    std::uint64_t prefix = 0;
    for (int i = 0; i < 8; ++i) prefix = (prefix << 8) | bytes[i];
    return {prefix, true};
}

std::string client_key(const boost::asio::ip::address& a) {
    const auto [key, v6] = Admission::key_of(a);
    if (!v6) return boost::asio::ip::address_v4(static_cast<std::uint32_t>(key)).to_string();
    boost::asio::ip::address_v6::bytes_type bytes{};
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(key >> (56 - 8 * i));
    return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

Admission::Shard& Admission::shard(std::uint64_t key, bool v6) const {
    // Mix the bits: neighbouring addresses (127.0.0.2, .3) land on different shards.
    const std::size_t i = (key * 0x9E3779B97F4A7C15ull) >> 60;
    return (v6 ? v6_shards_ : v4_shards_)[i % kShards];
}

std::shared_ptr<const Admission::Slot> Admission::admit(const boost::asio::ip::address& peer,
                                                        Refusal& why) {
    why = Refusal::none;
    // Reserve the place first, so concurrent accepts can never overshoot the total.
    if (total_.fetch_add(1, std::memory_order_relaxed) >= max_total_) {
        total_.fetch_sub(1, std::memory_order_relaxed);
        why = Refusal::total;
        return nullptr;
    }
    const auto [key, v6] = key_of(peer);
    Shard& s = shard(key, v6);
    {
        std::lock_guard lock(s.mutex);
        auto& n = s.counts[key];
        if (n >= max_per_ip_) {
            if (n == 0) s.counts.erase(key);
            total_.fetch_sub(1, std::memory_order_relaxed);
            why = Refusal::per_ip;
            return nullptr;
        }
        ++n;
    }
    return std::make_shared<const Slot>(shared_from_this(), key, v6);
}

void Admission::release(std::uint64_t key, bool v6) noexcept {
    Shard& s = shard(key, v6);
    {
        std::lock_guard lock(s.mutex);
        auto it = s.counts.find(key);
        // Erased at zero so the map holds only addresses with open connections.
        if (it != s.counts.end() && --it->second == 0) s.counts.erase(it);
    }
    total_.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t Admission::count_for(const boost::asio::ip::address& peer) const {
    const auto [key, v6] = key_of(peer);
    Shard& s = shard(key, v6);
    std::lock_guard lock(s.mutex);
    auto it = s.counts.find(key);
    return it == s.counts.end() ? 0 : it->second;
}

std::size_t effective_max_connections(std::size_t configured, std::uint64_t nofile_limit) {
    constexpr std::uint64_t kHeadroom = 1024;
    const std::uint64_t headroom = std::min(kHeadroom, nofile_limit / 2);
    const std::uint64_t usable = std::max<std::uint64_t>(1, nofile_limit - headroom);
    return static_cast<std::size_t>(std::min<std::uint64_t>(configured, usable));
}

std::uint64_t open_files_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return rl.rlim_cur;
}

std::uint64_t RateLimitedLog::record(std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    ++pending_;
    if (logged_once_ && now - last_ < interval_) return 0;
    logged_once_ = true;
    last_ = now;
    return std::exchange(pending_, 0);
}

}  // namespace pushsvc::net
