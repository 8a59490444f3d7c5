#pragma once
// Who may read the operator routes (GET /metrics today; any later status page calls the same
// check): the one access rule, so every such route answers alike.
//
//  - a request that names the right token, `Authorization: Bearer <admin.token>`, is served;
//  - without it, a loopback peer (127.0.0.0/8, ::1, v4-mapped loopback) is served when
//    admin.loopback_without_token (default): whoever can connect from the host itself can
//    read the configuration file and the token with it, so the token would protect nothing;
//  - on the dedicated admin listener (admin.listen) with no token configured, every peer is
//    served: the operator chose its address as the access control;
//  - otherwise: no Authorization and a token configured -> 401 admin_token_missing (with
//    WWW-Authenticate: Bearer); a wrong token -> 403 admin_token_invalid; no token configured
//    -> 403 admin_forbidden. Each is a JSON error counted in pushsvc_errors_total{reason}.
// The token is compared through SHA-256 digests in constant time, so neither the position of
// the first wrong character nor the token's length shows in the answer's timing.

#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/config/config.h"
#include "pushsvc/http/message.h"

namespace pushsvc::http {

struct AdminAccess {
    std::string token;                   // admin.token; "" = none configured
    bool loopback_without_token = true;  // admin.loopback_without_token
    bool admin_listener = false;         // the request arrived on admin.listen

    static AdminAccess from(const config::AdminConfig& c, bool admin_listener) {
        return {c.token, c.loopback_without_token, admin_listener};
    }
};

// nullopt when `req` may read an operator route, else the error response to send.
std::optional<Response> check_admin(const Request& req, const AdminAccess& access,
                                    config::Profile profile = config::Profile::compat);

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z; false for anything else or unparsable.
bool is_loopback_address(std::string_view address);

}  // namespace pushsvc::http
