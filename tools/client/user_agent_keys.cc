#include "tools/client/user_agent_keys.h"

#include <boost/json.hpp>

#include "tools/client/crypto.h"

namespace webpush_client {

UserAgentKeys UserAgentKeys::generate() {
    return UserAgentKeys(P256Key::generate(), random_bytes(16));
}

Result<UserAgentKeys> UserAgentKeys::from_private(const Bytes& private_scalar, const Bytes& auth) {
    if (auth.size() != 16) return make_error(Errc::invalid_key, "auth secret must be 16 octets");
    auto key = P256Key::from_private_bytes(private_scalar);
    if (!key) return key.error();
    return UserAgentKeys(*key, auth);
}

Result<UserAgentKeys> UserAgentKeys::from_base64url(std::string_view private_scalar,
                                                    std::string_view auth) {
    auto d = base64url_decode(private_scalar);
    if (!d) return make_error(Errc::invalid_key, "private key is not base64url");
    auto a = base64url_decode(auth);
    if (!a) return make_error(Errc::invalid_key, "auth secret is not base64url");
    return from_private(*d, *a);
}

Subscription UserAgentKeys::subscription(std::string endpoint) const {
    Subscription s;
    s.endpoint = std::move(endpoint);
    s.p256dh = key_.public_bytes();
    s.auth = auth_;
    return s;
}

void UserAgentKeys::to_json(boost::json::object& out) const {
    out["private_key"] = base64url_encode(key_.private_bytes());
    out["p256dh"] = key_.public_base64url();
    out["auth"] = base64url_encode(auth_);
}

Result<UserAgentKeys> UserAgentKeys::from_json(const boost::json::object& in) {
    const boost::json::value* d = in.if_contains("private_key");
    const boost::json::value* a = in.if_contains("auth");
    if (!d || !d->is_string() || !a || !a->is_string()) {
        return make_error(Errc::invalid_json, "keys need \"private_key\" and \"auth\"");
    }
    return from_base64url(d->as_string(), a->as_string());
}

}  // namespace webpush_client
