#pragma once
// The service's rate limits (config [rate], docs/limits.md): one token-bucket table per limit,
// keyed by the sender or client the limit counts, on the service clock. A refusal is counted
// in pushsvc_rate_limited_total{limit} here; the caller answers it (429 + Retry-After over
// HTTP, R8030-8.4-b; close 1013 on the WebSocket channel).
//
// Keys: a sender's VAPID key, or a client address key (net/admission.h client_key(): an IPv4
// address or an IPv6 /64). An empty address means an in-process caller (the test double's
// control API, unit tests): not a network client, never limited.
//
// Thread-safe.

#include <string_view>

#include "pushsvc/base/clock.h"
#include "pushsvc/base/rate_limit.h"
#include "pushsvc/config/config.h"
#include "pushsvc/obs/catalog.h"

namespace pushsvc::webpush {

using obs::Limited;

class RateLimits {
  public:
    RateLimits(const config::RateConfig& config, const base::Clock& clock);

    // One request of kind `which` from `client` (an address key; "" is never limited).
    base::Admit take(Limited which, std::string_view client);
    // One push from the sender: its VAPID key when `vapid_key` is not empty (a restricted
    // subscription's key: verified and fixed by the subscription), else its address.
    base::Admit take_push(std::string_view vapid_key, std::string_view client);

    // Buckets held by one limit (tests: the bound on memory).
    std::size_t tracked(Limited which) const { return table(which).size(); }

  private:
    base::TokenBuckets& table(Limited which) const;
    base::Admit counted(Limited which, base::Admit a);

    mutable base::TokenBuckets push_, subscribe_, hello_, new_ua_;
};

}  // namespace pushsvc::webpush
