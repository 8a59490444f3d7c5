#include "tools/client/subscription.h"

#include <boost/json.hpp>

namespace webpush_client {
namespace json = boost::json;

Result<Subscription> Subscription::from_json(std::string_view text) {
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return make_error(Errc::invalid_json, "subscription is not a JSON object");
    }
    const json::object& o = v.as_object();
    Subscription s;
    const json::value* endpoint = o.if_contains("endpoint");
    if (!endpoint || !endpoint->is_string()) {
        return make_error(Errc::invalid_json, "subscription has no \"endpoint\" string");
    }
    s.endpoint = std::string(endpoint->as_string());
    const json::value* keys = o.if_contains("keys");
    if (!keys || !keys->is_object()) {
        return make_error(Errc::invalid_json, "subscription has no \"keys\" object");
    }
    const json::value* p256dh = keys->as_object().if_contains("p256dh");
    const json::value* auth = keys->as_object().if_contains("auth");
    if (!p256dh || !p256dh->is_string() || !auth || !auth->is_string()) {
        return make_error(Errc::invalid_json, "subscription keys need \"p256dh\" and \"auth\"");
    }
    auto pk = base64url_decode(p256dh->as_string());
    if (!pk) return make_error(Errc::invalid_key, "keys.p256dh is not base64url");
    auto key = P256Key::from_public_bytes(*pk);
    if (!key) return make_error(Errc::invalid_key, "keys.p256dh: " + key.error().message);
    auto au = base64url_decode(auth->as_string());
    if (!au || au->size() != 16) {
        return make_error(Errc::invalid_key, "keys.auth must be 16 octets of base64url");
    }
    s.p256dh = std::move(*pk);
    s.auth = std::move(*au);
    if (const json::value* exp = o.if_contains("expirationTime"); exp && exp->is_number()) {
        s.expiration_time = exp->to_number<double>();
    }
    return s;
}

std::string Subscription::to_json() const {
    json::object o;
    o["endpoint"] = endpoint;
    if (expiration_time) {
        o["expirationTime"] = *expiration_time;
    } else {
        o["expirationTime"] = nullptr;
    }
    o["keys"] =
        json::object{{"p256dh", base64url_encode(p256dh)}, {"auth", base64url_encode(auth)}};
    return json::serialize(o);
}

}  // namespace webpush_client
