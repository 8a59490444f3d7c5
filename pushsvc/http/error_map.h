#pragma once
// The single map from errc to HTTP status, autopush-compatible errno and JSON error body
// `{"code":..,"errno":..,"error":..,"message":..}` (autopush's error body). Every error
// response of the service, transports included, is built here, and each one increments the
// `pushsvc_errors_total{reason=...}` counter.

#include <cstdint>
#include <string_view>

#include "pushsvc/base/errc.h"
#include "pushsvc/config/config.h"
#include "pushsvc/http/message.h"

namespace pushsvc::http {

struct ErrorInfo {
    int status;
    int errno_value;  // autopush errno; 0 = none (JSON null)
    std::string_view message;
};

// The reason phrase of an error status (RFC 9110 §15), for the JSON body's "error".
std::string_view reason_phrase(int status);

// Status/errno/message for an error under a profile (subscription_gone is 410 in compat, 404
// in strict; RFC 8030 §7.3).
ErrorInfo error_info(errc e, config::Profile profile) noexcept;

// The full response: status, JSON body, and WWW-Authenticate: vapid on every 401 (R8292-3-b)
// except the operator routes' (Bearer, http/admin_access.h).
// `detail` replaces the default message when not empty. Never contains request data beyond
// what the caller puts in `detail`. Every 429 and 503 carries Retry-After: `retry_after_s`
// when not 0 (a rate limit knows when its bucket refills), else 60 (429) / 120 (503). This is
// the one place 429 + Retry-After is built (R8030-8.4-b).
Response error_response(errc e, config::Profile profile = config::Profile::compat,
                        std::string_view detail = {}, std::uint32_t retry_after_s = 0);

}  // namespace pushsvc::http
