#include "pushsvc/vapid/jwt.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/p256.h"

namespace pushsvc::vapid {
namespace {

namespace json = boost::json;

constexpr std::int64_t kMaxLifetimeS = 24 * 60 * 60;  // RFC 8292 §2: at most 24 h
// Larger `exp` values can never pass the 24-h bound; refusing them early keeps the
// millisecond arithmetic below far from overflow (2^40 s is about the year 36800).
constexpr std::int64_t kMaxExpS = std::int64_t{1} << 40;
constexpr std::int64_t kMaxSkewS = 24 * 60 * 60;

boost::system::error_code invalid() { return make_error_code(errc::vapid_invalid); }

// A JSON object from one base64url part of the token, or nullopt. Boost.JSON rejects invalid
// UTF-8, trailing data and nesting deeper than 32 levels without throwing.
std::optional<json::object> decode_object(std::string_view part) {
    auto text = base::base64url_decode(part);
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(json::string_view(text->data(), text->size()), ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.as_object());
}

// RFC 7519 §2 NumericDate: any JSON number; fractions are rounded down, which can only make
// a token expire earlier.
std::optional<std::int64_t> numeric_date(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = std::floor(v.get_double());
        if (!(d >= -9.0e18 && d <= 9.0e18)) return std::nullopt;
        return static_cast<std::int64_t>(d);
    }
    return std::nullopt;  // strings, booleans, null, objects: not a date (R8292-2-c)
}

std::string to_string(const json::string& s) { return std::string(s.data(), s.size()); }

}  // namespace

result<SignedClaims> verify_signature(const Credentials& creds) {
    const std::string_view t = creds.token;
    if (t.size() > kMaxTokenSize) return invalid();
    const std::size_t dot1 = t.find('.');
    const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : t.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || t.find('.', dot2 + 1) != std::string_view::npos)
        return invalid();
    const std::string_view header_part = t.substr(0, dot1);
    const std::string_view payload_part = t.substr(dot1 + 1, dot2 - dot1 - 1);
    const std::string_view signing_input = t.substr(0, dot2);

    // Header first: refuse anything but ES256 before spending a verification (R8292-2-h).
    auto header = decode_object(header_part);
    if (!header) return invalid();
    const json::value* alg = header->if_contains("alg");
    if (alg == nullptr || !alg->is_string() || alg->get_string() != "ES256") return invalid();
    if (header->contains("crit")) return invalid();  // RFC 7515 §4.1.11

    // Signature: JOSE R || S, exactly 64 octets (RFC 7518 §3.4); DER is refused.
    auto sig = base::base64url_decode(t.substr(dot2 + 1));
    if (!sig || sig->size() != crypto::kEs256SignatureSize) return invalid();
    auto key = crypto::P256PublicKey::from_uncompressed(creds.key);  // R8292-2-a
    if (!key) return invalid();
    if (!key->verify_es256(signing_input, *sig)) return invalid();  // R8292-4.2-d

    // Claims are only looked at once the signature holds.
    auto payload = decode_object(payload_part);
    if (!payload) return invalid();
    SignedClaims out;

    const json::value* exp = payload->if_contains("exp");  // R8292-2-c
    if (exp == nullptr) return invalid();
    auto exp_s = numeric_date(*exp);
    if (!exp_s) return invalid();
    out.exp = *exp_s;

    const json::value* aud = payload->if_contains("aud");  // R8292-2-b
    if (aud == nullptr) return invalid();
    if (aud->is_string()) {
        out.aud.push_back(to_string(aud->get_string()));
    } else if (aud->is_array()) {
        for (const json::value& a : aud->get_array()) {
            if (!a.is_string()) return invalid();
            out.aud.push_back(to_string(a.get_string()));
        }
    } else {
        return invalid();
    }

    // R8292-2.1-a: optional, any string (webpush-webcrypto sends a bare address, webpush-go
    // `mailto:mailto:`), so no format check.
    if (const json::value* sub = payload->if_contains("sub"); sub != nullptr && !sub->is_null()) {
        if (!sub->is_string()) return invalid();
        out.sub = to_string(sub->get_string());
    }
    return out;
}

namespace {

// Step 2: the audience of `claims` that opts accepts; nullptr when the claims are not
// acceptable now.
const std::string* accepted_audience(const SignedClaims& claims, const VerifyOptions& opts) {
    if (claims.exp < 0 || claims.exp > kMaxExpS || opts.now_ms < 0) return nullptr;
    const std::int64_t exp_ms = claims.exp * 1000;
    if (opts.now_ms > exp_ms) return nullptr;  // expired; no leeway (R8292-4.2-e)
    const std::int64_t skew_s = std::clamp<std::int64_t>(opts.skew_s, 0, kMaxSkewS);
    if (exp_ms - opts.now_ms > (kMaxLifetimeS + skew_s) * 1000)
        return nullptr;                          // more than 24 h ahead (R8292-2-d, R8292-4.2-e)
    for (const std::string& aud : claims.aud) {  // R8292-4.2-f: exact string match
        if (std::find(opts.audiences.begin(), opts.audiences.end(), aud) != opts.audiences.end())
            return &aud;
    }
    return nullptr;
}

}  // namespace

result<Claims> check_claims(const SignedClaims& claims, const VerifyOptions& opts) {
    const std::string* aud = accepted_audience(claims, opts);
    if (!aud) return invalid();
    return Claims{*aud, claims.exp, claims.sub};
}

result<void> accept_claims(const SignedClaims& claims, const VerifyOptions& opts) {
    if (!accepted_audience(claims, opts)) return invalid();
    return {};
}

result<Claims> verify_jwt(const Credentials& creds, const VerifyOptions& opts) {
    auto signed_claims = verify_signature(creds);
    if (!signed_claims) return signed_claims.error();
    return check_claims(*signed_claims, opts);
}

}  // namespace pushsvc::vapid
