#pragma once
// Helpers shared by the scenario files: status expectations that collect every mismatch, JWT
// crafting for the negative VAPID rows (RFC 8292 §2, §3), exact-size bodies (RFC 8030 §7.2,
// RFC 8188 §2) and the "gone" status expected per profile (RFC 8030 §7.3).

#include <optional>
#include <string>
#include <vector>

#include "proto-conformance/context.h"
#include "tools/client/http2_client.h"
#include "tools/client/link_header.h"
#include "tools/client/url.h"

namespace conformance {

// The value of a successful Result, usable both as the value and through -> / *.
template <class T>
struct Unwrapped : T {
    T* operator->() { return this; }
    const T* operator->() const { return this; }
    T& operator*() { return *this; }
    const T& operator*() const { return *this; }
};

// Unwraps a Result or makes the scenario fail with the error.
#define CONF_TRY(var, expr)                                                   \
    auto var##_result = (expr);                                               \
    if (!var##_result)                                                        \
        return ::conformance::fail(std::string("could not ") + #expr + ": " + \
                                   var##_result.error().message);             \
    ::conformance::Unwrapped<std::decay_t<decltype(*var##_result)>> var { std::move(*var##_result) }

// Collects expectations; the scenario passes when every one held.
class Checker {
  public:
    // True when `a` answered one of `ok`.
    bool expect(const Answer& a, std::initializer_list<int> ok, const std::string& label);
    void check(bool condition, const std::string& failure);
    bool ok() const { return failures_.empty(); }
    Outcome outcome(std::string pass_note = {}) const;

  private:
    std::vector<std::string> failures_;
};

std::string status_text(const Answer& a);

// The value of a string result, or `fallback`.
inline std::string or_else(const Result<std::string>& r, std::string fallback) {
    return r ? *r : fallback;
}

// Statuses allowed for a push to a removed/expired subscription: 404 (RFC 8030 §7.3) in
// strict, 404 or 410 in compat (deployed services answer 410).
std::initializer_list<int> gone_statuses(const Context& ctx);

std::int64_t now_s();
// A compact JWS with the given header and claims JSON, signed ES256 with `key`
// (signature R || S, RFC 7518 §3.4).
std::string make_jwt(const P256Key& key, const std::string& header_json,
                     const std::string& claims_json);
std::string default_header_json();
std::string claims_json(const std::string& aud, std::int64_t exp,
                        const std::string& sub = "mailto:conformance@example.com");
// "aud" of an endpoint: its origin, keeping a non-default port (RFC 8292 §2).
std::string audience(const std::string& push_url);
// Authorization: vapid t=<jwt>, k=<key>.
std::string vapid_auth(const std::string& jwt, const P256Key& key);

// A push spec whose aes128gcm body has exactly `size` octets (rs 4096, RFC 8188 §2 padding).
PushSpec sized_push(std::size_t size, const std::string& payload = "x");

// A subscription from the UA driver, restricted when `key` is set.
Result<UaSubscription> new_sub(Context& ctx, const std::optional<P256Key>& key = {});

// TTL expiry: advances the target's clock when the control interface can, else sleeps.
void let_time_pass(Context& ctx, std::int64_t ms);

bool has_header(const Delivered& d, std::string_view name);

}  // namespace conformance
