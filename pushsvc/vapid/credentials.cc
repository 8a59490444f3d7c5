#include "pushsvc/vapid/credentials.h"

#include <algorithm>

#include "pushsvc/base/base64url.h"
#include "pushsvc/base/text.h"
#include "pushsvc/crypto/hash.h"
#include "pushsvc/crypto/p256.h"

namespace pushsvc::vapid {
namespace {

constexpr bool is_ws(char c) noexcept { return c == ' ' || c == '\t'; }

boost::system::error_code missing() { return make_error_code(errc::vapid_missing); }
boost::system::error_code invalid() { return make_error_code(errc::vapid_invalid); }

// A compact JWS (RFC 7515 §7.1): three non-empty base64url parts separated by '.'.
// R8292-3.1-a: a token with two parts is invalid.
bool is_compact_jws(std::string_view t) noexcept {
    if (t.empty() || t.size() > kMaxTokenSize) return false;
    if (std::count(t.begin(), t.end(), '.') != 2) return false;
    const std::size_t a = t.find('.');
    const std::size_t b = t.find('.', a + 1);
    const std::string_view parts[] = {t.substr(0, a), t.substr(a + 1, b - a - 1), t.substr(b + 1)};
    for (std::string_view p : parts)
        if (p.empty() || !base::is_base64url_alphabet(p)) return false;
    return true;
}

// R8292-3.2 / RVAPID01-4-a: base64url, unpadded, of the 65-octet uncompressed point. The
// lenient decoder also takes '=' padding and the standard alphabet (R8292-3.2-a compat).
std::optional<std::string> decode_key(std::string_view text, const ParseOptions& opts) {
    if (text.empty() || text.size() > kMaxTokenSize) return std::nullopt;
    auto raw =
        opts.allow_padded_key ? base::base64_decode_lenient(text) : base::base64url_decode(text);
    if (!raw || raw->size() != crypto::kP256PublicSize || (*raw)[0] != '\x04') return std::nullopt;
    return raw;
}

// Every value of parameter `name` (already lower-case).
std::vector<const base::Param*> all_params(const std::vector<base::Param>& params,
                                           std::string_view name) {
    std::vector<const base::Param*> out;
    for (const auto& p : params)
        if (p.name == name) out.push_back(&p);
    return out;
}

// RFC 8292 §3: `vapid t=<jwt>, k=<key>` as an RFC 7235 auth-param list.
result<Credentials> parse_vapid_params(std::string_view rest, const ParseOptions& opts) {
    auto params = base::parse_params(rest);
    if (!params) return invalid();
    const auto t = all_params(*params, "t");
    const auto k = all_params(*params, "k");
    // R8292-4.2-c: both must be present; two of either is ambiguous, so invalid too.
    if (t.size() != 1 || k.size() != 1) return invalid();
    if (!is_compact_jws(t[0]->value)) return invalid();
    auto key = decode_key(k[0]->value, opts);
    if (!key) return invalid();
    return Credentials{Scheme::vapid, t[0]->value, std::move(*key)};
}

// draft-01 §2: `WebPush <jwt>` (token68), key from Crypto-Key p256ecdsa (§4).
result<Credentials> parse_webpush(std::string_view rest, std::optional<std::string_view> crypto_key,
                                  const ParseOptions& opts) {
    std::size_t end = 0;
    while (end < rest.size() && !is_ws(rest[end]) && rest[end] != ',') ++end;
    const std::string_view token = rest.substr(0, end);
    // Anything after the token68 must be a comma-separated parameter list, ignored
    // (RVAPID01-3-c).
    const std::string_view tail = base::trim(rest.substr(end));
    if (!tail.empty() && tail.front() != ',') return invalid();
    if (!is_compact_jws(token)) return invalid();

    if (!crypto_key || crypto_key->size() > kMaxHeaderSize) return invalid();
    auto params = base::parse_params(*crypto_key);
    if (!params) return invalid();
    const auto keys = all_params(*params, "p256ecdsa");
    if (keys.empty()) return invalid();
    // RVAPID01-5.1-a speaks of exactly one key; repeats are tolerated only when identical.
    for (const auto* p : keys)
        if (p->value != keys.front()->value) return invalid();
    auto key = decode_key(keys.front()->value, opts);
    if (!key) return invalid();
    return Credentials{Scheme::webpush, std::string(token), std::move(*key)};
}

}  // namespace

result<Credentials> parse_credentials(std::optional<std::string_view> authorization,
                                      std::optional<std::string_view> crypto_key,
                                      const ParseOptions& opts) {
    if (!authorization) return missing();
    const std::string_view value = base::trim(*authorization);
    if (value.empty()) return missing();

    // credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]  (RFC 7235 §2.1)
    std::size_t scheme_end = 0;
    while (scheme_end < value.size() && !is_ws(value[scheme_end])) ++scheme_end;
    const std::string_view scheme = value.substr(0, scheme_end);
    const std::string_view rest = base::trim(value.substr(scheme_end));

    const bool is_vapid = base::iequals(scheme, "vapid");
    const bool is_webpush =
        base::iequals(scheme, "webpush") || (opts.allow_bearer && base::iequals(scheme, "bearer"));
    if (!is_vapid && !is_webpush) return missing();  // R8292-4.2-b: `key=...`, unknown schemes
    if (value.size() > kMaxHeaderSize) return invalid();

    if (is_vapid) return parse_vapid_params(rest, opts);
    return parse_webpush(rest, crypto_key, opts);
}

bool same_key(std::string_view a, std::string_view b) noexcept {
    return crypto::constant_time_equal(a, b);
}

std::string_view scheme_name(Scheme s) noexcept { return s == Scheme::vapid ? "vapid" : "webpush"; }

}  // namespace pushsvc::vapid
