#include "tools/client/vapid.h"

#include <boost/json.hpp>
#include <chrono>

#include "tools/client/url.h"

namespace webpush_client {
namespace json = boost::json;
namespace {

constexpr std::string_view kJwtHeader = R"({"typ":"JWT","alg":"ES256"})";

}  // namespace

Result<std::string> sign_jwt(const P256Key& key, const VapidClaims& claims) {
    std::string body = "{\"aud\":" + json::serialize(json::value(claims.aud)) +
                       ",\"exp\":" + std::to_string(claims.exp);
    if (!claims.sub.empty()) body += ",\"sub\":" + json::serialize(json::value(claims.sub));
    body += "}";
    std::string input = base64url_encode(kJwtHeader) + "." + base64url_encode(body);
    auto sig = key.sign_es256(to_bytes(input));
    if (!sig) return sig.error();
    return input + "." + base64url_encode(*sig);
}

Result<VapidClaims> verify_jwt(std::string_view jwt, const P256Key& public_key) {
    std::size_t d1 = jwt.find('.');
    std::size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
    if (d2 == std::string_view::npos || jwt.find('.', d2 + 1) != std::string_view::npos) {
        return make_error(Errc::bad_signature, "JWT must have three segments");
    }
    auto header = base64url_decode(jwt.substr(0, d1));
    auto claims = base64url_decode(jwt.substr(d1 + 1, d2 - d1 - 1));
    auto sig = base64url_decode(jwt.substr(d2 + 1));
    if (!header || !claims || !sig) {
        return make_error(Errc::bad_signature, "JWT segment is not base64url");
    }
    boost::system::error_code ec;
    json::value h = json::parse(to_string(*header), ec);
    if (ec || !h.is_object() || !h.as_object().if_contains("alg") ||
        h.as_object().at("alg") != "ES256") {
        return make_error(Errc::bad_signature, "JWT header is not ES256");
    }
    if (!public_key.verify_es256(to_bytes(jwt.substr(0, d2)), *sig)) {
        return make_error(Errc::bad_signature, "JWT signature does not verify");
    }
    json::value c = json::parse(to_string(*claims), ec);
    if (ec || !c.is_object()) return make_error(Errc::bad_signature, "JWT claims not an object");
    VapidClaims out;
    const json::object& o = c.as_object();
    if (auto* aud = o.if_contains("aud"); aud && aud->is_string()) {
        out.aud = std::string(aud->as_string());
    }
    if (auto* exp = o.if_contains("exp"); exp && exp->is_number()) {
        out.exp = exp->to_number<std::int64_t>();
    }
    if (auto* sub = o.if_contains("sub"); sub && sub->is_string()) {
        out.sub = std::string(sub->as_string());
    }
    return out;
}

Result<VapidHeaders> make_vapid_headers(const P256Key& key, const VapidClaims& claims,
                                        VapidScheme scheme) {
    auto jwt = sign_jwt(key, claims);
    if (!jwt) return jwt.error();
    VapidHeaders out;
    if (scheme == VapidScheme::vapid) {
        out.authorization = "vapid t=" + *jwt + ", k=" + key.public_base64url();
    } else {
        out.authorization = "WebPush " + *jwt;
        out.crypto_key = "p256ecdsa=" + key.public_base64url();
    }
    return out;
}

Result<std::string> vapid_audience(std::string_view endpoint, bool keep_port) {
    auto url = parse_url(endpoint);
    if (!url) return url.error();
    return url->origin(keep_port);
}

std::int64_t default_vapid_expiry() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count() + 12 * 3600;
}

}  // namespace webpush_client
