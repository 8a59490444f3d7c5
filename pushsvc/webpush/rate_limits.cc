#include "pushsvc/webpush/rate_limits.h"

#include <array>
#include <cstring>
#include <string>

namespace pushsvc::webpush {
namespace {

base::BucketOptions options(std::uint32_t per_min, std::uint32_t burst, std::uint32_t max_keys) {
    return {.per_min = per_min, .burst = burst, .max_keys = max_keys};
}

}  // namespace

RateLimits::RateLimits(const config::RateConfig& c, const base::Clock& clock)
    : push_(options(c.push_per_min, c.push_burst, c.max_tracked), clock),
      subscribe_(options(c.subscribe_per_min, c.subscribe_burst, c.max_tracked), clock),
      hello_(options(c.hello_per_min, c.hello_burst, c.max_tracked), clock),
      new_ua_(options(c.new_ua_per_min, c.new_ua_burst, c.max_tracked), clock) {}

base::TokenBuckets& RateLimits::table(Limited which) const {
    switch (which) {
        case Limited::push:
            return push_;
        case Limited::subscribe:
            return subscribe_;
        case Limited::hello:
            return hello_;
        case Limited::new_user_agent:
        case Limited::count_:
            break;
    }
    return new_ua_;
}

base::Admit RateLimits::counted(Limited which, base::Admit a) {
    if (!a) obs::catalog().rate_limited(which).inc();
    return a;
}

base::Admit RateLimits::take(Limited which, std::string_view client) {
    if (client.empty()) return {};
    return counted(which, table(which).take(client));
}

base::Admit RateLimits::take_push(std::string_view vapid_key, std::string_view client) {
    if (push_.unlimited()) return {};
    std::string_view id = vapid_key.empty() ? client : vapid_key;
    if (id.empty()) return {};
    // One table for both kinds of sender; the first octet keeps a key and an address apart.
    // Built on the stack (a P-256 key is 65 octets): the push path allocates only when a
    // sender is new to the table.
    std::array<char, 128> buf;
    std::string heap;
    std::string_view key;
    const char kind = vapid_key.empty() ? 'a' : 'k';
    if (id.size() < buf.size()) {
        buf[0] = kind;
        std::memcpy(buf.data() + 1, id.data(), id.size());
        key = std::string_view(buf.data(), id.size() + 1);
    } else {
        heap = std::string(1, kind).append(id);
        key = heap;
    }
    return counted(Limited::push, push_.take(key));
}

}  // namespace pushsvc::webpush
