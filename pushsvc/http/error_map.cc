#include "pushsvc/http/error_map.h"

#include <boost/json.hpp>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::http {

ErrorInfo error_info(errc e, config::Profile profile) noexcept {
    // errno values follow autopush where it has one: 102 bad token,
    // 104 too much data, 106 gone, 109 VAPID, 110 encryption headers, 111 TTL, 113 topic.
    switch (e) {
        case errc::ok:
            return {200, 0, "OK"};
        case errc::bad_request:
            return {400, 0, "Bad request"};
        case errc::ttl_missing:
            return {400, 111, "Missing TTL header"};
        case errc::ttl_invalid:
            return {400, 111, "Invalid TTL header: must be 1*DIGIT"};
        case errc::urgency_invalid:
            return {400, 0, "Invalid Urgency header: one of very-low, low, normal, high"};
        case errc::topic_invalid:
            return {400, 113, "Invalid Topic header: at most 32 base64url characters"};
        case errc::encoding_invalid:
            return {400, 110, "Invalid or missing Content-Encoding: aes128gcm or aesgcm"};
        case errc::encryption_headers:
            return {400, 110, "Missing or invalid Encryption / Crypto-Key header for aesgcm"};
        case errc::body_malformed:
            return {400, 110, "Body does not start with a valid aes128gcm header"};
        case errc::same_key:
            return {400, 110, "The message's ECDH key must differ from the VAPID key"};
        case errc::bad_subscribe_key:
            return {400, 0, "Application server key is not a P-256 public key"};
        case errc::bad_json:
            return {400, 0, "Malformed JSON body"};
        case errc::unknown_set:
            return {400, 0, "Unknown subscription set"};
        case errc::push_unavailable:
            return {400, 0,
                    "Monitoring a subscription needs HTTP/2 with server push enabled "
                    "(RFC 8030 section 6)"};
        case errc::unknown_receipt:
            return {400, 0, "Unknown receipt subscription"};
        case errc::websocket_version:
            return {426, 0, "Unsupported WebSocket version: this service speaks version 13"};
        case errc::websocket_required:
            return {400, 0,
                    "/ is the WebSocket push channel: send an RFC 6455 upgrade over HTTP/1.1 "
                    "(Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key)"};
        case errc::foreign_endpoint:
            return {400, 0,
                    "The subscription's endpoint belongs to another push service; the demo "
                    "pushes only to this service's own endpoints"};
        case errc::framing_invalid:
            return {400, 0,
                    "Invalid message framing: Transfer-Encoding must be exactly \"chunked\" and "
                    "not combined with Content-Length; Content-Length must appear once"};
        case errc::chunk_metadata:
            return {400, 0, "Chunk extensions over 1 KiB and trailer fields are not accepted"};
        case errc::vapid_missing:
            return {401, 109, "VAPID authorization required for this subscription"};
        case errc::vapid_invalid:
            return {403, 109, "Invalid VAPID credentials"};
        case errc::vapid_key_mismatch:
            return {403, 109, "VAPID key differs from the subscription's key"};
        case errc::admin_token_missing:
            return {401, 0, "This route needs Authorization: Bearer <admin.token>"};
        case errc::admin_token_invalid:
            return {403, 0, "Wrong admin token"};
        case errc::admin_forbidden:
            return {403, 0,
                    "This route is served to loopback peers only; set admin.token to allow "
                    "others"};
        case errc::cluster_auth_missing:
            return {401, 0,
                    "This internal route needs Authorization: PushsvcCluster signed with "
                    "cluster.secret"};
        case errc::cluster_auth_invalid:
            return {403, 0,
                    "Bad cluster signature: another cluster.secret, or a timestamp too far from "
                    "this node's clock"};
        case errc::not_found:
            return {404, 0, "Not found"};
        case errc::token_invalid:
            return {404, 102, "Invalid endpoint token"};
        case errc::subscription_gone:
            return {profile == config::Profile::strict ? 404 : 410, 106,
                    "Subscription expired or removed"};
        case errc::method_not_allowed:
            return {405, 0, "Method not allowed"};
        case errc::payload_too_large:
            return {413, 104, "Message body too large"};
        case errc::header_too_large:
            return {431, 0, "Request header fields too large"};
        case errc::too_many_requests:
            return {429, 0, "Too many messages queued for this subscription; retry later"};
        case errc::rate_limited:
            return {429, 0,
                    "Too many requests from this sender or address; retry after Retry-After"};
        case errc::store_failure:
            return {503, 201, "Storage unavailable"};
        case errc::unavailable:
            return {503, 0, "Service unavailable"};
        case errc::internal:
            return {500, 999, "Internal error"};
    }
    return {500, 999, "Internal error"};
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 410:
            return "Gone";
        case 413:
            return "Payload Too Large";
        case 426:
            return "Upgrade Required";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        default:
            return "Error";
    }
}

Response error_response(errc e, config::Profile profile, std::string_view detail,
                        std::uint32_t retry_after_s) {
    ErrorInfo info = error_info(e, profile);
    obs::catalog().error(e).inc();
    boost::json::object body;
    body["code"] = info.status;
    if (info.errno_value)
        body["errno"] = info.errno_value;
    else
        body["errno"] = nullptr;
    body["error"] = reason_phrase(info.status);
    body["message"] = detail.empty() ? info.message : detail;
    body["reason"] = errc_name(e);
    Response r;
    r.status = info.status;
    r.headers.add("content-type", "application/json");
    // Each 401 names its own scheme: VAPID for pushes (R8292-3-b), a bearer token for the
    // operator routes (RFC 6750 §3).
    if (e == errc::admin_token_missing)
        r.headers.add("www-authenticate", "Bearer realm=\"pushsvc-admin\"");
    else if (e == errc::cluster_auth_missing)
        r.headers.add("www-authenticate", "PushsvcCluster");
    else if (info.status == 401)
        r.headers.add("www-authenticate", "vapid");
    if (info.status == 410) r.headers.add("cache-control", "max-age=86400");
    // Retry-After in delta-seconds (RFC 9110 §10.2.3): what the caller knows (a rate limit's
    // refill time), else a fixed hint: 60 s for a full queue (R8030-8.4-b), 120 s for 503.
    if (info.status == 429 || info.status == 503) {
        const std::uint32_t s = retry_after_s ? retry_after_s : info.status == 429 ? 60 : 120;
        r.headers.add("retry-after", std::to_string(s));
    }
    r.body = boost::json::serialize(body);
    return r;
}

}  // namespace pushsvc::http
