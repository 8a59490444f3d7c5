#pragma once
// Every way a request can fail, as one error enum with a boost::system category.
// The mapping to HTTP status, errno and JSON body lives in one place: http/error_map.{h,cc}.

#include <boost/system/error_code.hpp>
#include <string_view>
#include <type_traits>

namespace pushsvc {

enum class errc {
    ok = 0,
    // 400: request syntax (RFC 8030 §5.2, §5.3, §5.4; RFC 8291; draft aesgcm)
    bad_request,
    ttl_missing,         // R8030-5.2-b
    ttl_invalid,         // R8030-5.2-c
    urgency_invalid,     // R8030-5.3-g/h
    topic_invalid,       // R8030-5.4-b
    encoding_invalid,    // unknown / repeated Content-Encoding, body without coding rules
    encryption_headers,  // aesgcm Encryption/Crypto-Key missing or malformed
    body_malformed,      // aes128gcm header inconsistent
    same_key,            // R8292-3.2-b: ECDH key equals VAPID key
    bad_subscribe_key,   // R8292-4.1-d: vapid member not a P-256 key
    bad_json,
    unknown_set,         // R8030-4.1-e
    unknown_receipt,     // R8030-5.1-h
    push_unavailable,    // monitoring GET without HTTP/2 server push (choice A-5)
    websocket_required,  // `/` is the push channel: a valid RFC 6455 upgrade or nothing
    foreign_endpoint,    // the try-it page was given another push service's endpoint
    framing_invalid,     // HTTP/1.1 Transfer-Encoding / Content-Length (RFC 9112 §6.1, §6.3)
    chunk_metadata,      // HTTP/1.1 chunk extensions over the limit, or trailer fields
    // 401 / 403: VAPID (RFC 8292 §4.2, draft-01 §5.2)
    vapid_missing,       // 401 + WWW-Authenticate: vapid
    vapid_invalid,       // 403
    vapid_key_mismatch,  // 403
    // 401 / 403: operator routes (/metrics; http/admin_access.h)
    admin_token_missing,  // 401 + WWW-Authenticate: Bearer
    admin_token_invalid,  // 403: wrong admin.token
    admin_forbidden,      // 403: no admin.token configured and the peer is not loopback
    // 401 / 403: the internal listener of a cluster (cluster.listen, cluster/internal_api.h)
    cluster_auth_missing,  // 401 + WWW-Authenticate: PushsvcCluster
    cluster_auth_invalid,  // 403: wrong cluster.secret, or a timestamp outside the window
    // 404 / 410
    not_found,           // unknown route or resource
    token_invalid,       // endpoint token fails authentication: 404
    subscription_gone,   // removed/expired subscription: 410 compat, 404 strict
    method_not_allowed,  // 405
    // 413 / 414 / 431 / 429
    payload_too_large,
    header_too_large,
    too_many_requests,  // the per-UA queue cap (push.max_queued_per_ua)
    rate_limited,       // a per-sender / per-address rate limit (RFC 8030 §8.4, [rate])
    websocket_version,  // 426: a WebSocket version other than 13 (RFC 6455 §4.2.2)
    // 5xx
    store_failure,
    unavailable,
    internal,
};

const boost::system::error_category& pushsvc_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), pushsvc_category()};
}

// The errc behind an error_code; codes from other categories count as errc::internal.
inline errc to_errc(const boost::system::error_code& ec) noexcept {
    if (!ec) return errc::ok;
    return ec.category() == pushsvc_category() ? static_cast<errc>(ec.value()) : errc::internal;
}

// Short stable machine name of the error, used in logs and metric labels.
std::string_view errc_name(errc e) noexcept;

}  // namespace pushsvc

namespace boost::system {
template <>
struct is_error_code_enum<pushsvc::errc> : std::true_type {};
}  // namespace boost::system
