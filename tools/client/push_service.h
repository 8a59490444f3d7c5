#pragma once
// RFC 8030 user-agent and application-server requests that are not encryption:
// subscribe (§4, optionally restricted with RFC 8292 §4.1 application/webpush-options+json),
// parsing the subscribe answer (Location + Link rel="urn:ietf:params:push"), monitoring a
// subscription over HTTP/2 (§6), acknowledging with DELETE (§6.2), plus a one-shot "send this
// request over HTTP/1.1 or HTTP/2" helper used by pushctl. Stateless helpers.

#include <optional>
#include <string>

#include "tools/client/client_options.h"
#include "tools/client/http_message.h"
#include "tools/client/p256_key.h"

namespace webpush_client {

enum class HttpVersion { http1, http2 };

// One request on a fresh connection.
Result<HttpResponse> send_request(const HttpRequest& request, HttpVersion version,
                                  const ClientOptions& options = {});

struct SubscribeOptions {
    std::optional<P256Key> application_server_key;  // restricted subscription (RFC 8292 §4.1)
    std::optional<std::string> set_url;  // request Link rel="urn:ietf:params:push:set" (§4.1)
};

HttpRequest make_subscribe_request(const std::string& subscribe_url,
                                   const SubscribeOptions& options = {});

struct SubscribeResult {
    int status = 0;
    std::string subscription_url;  // Location, resolved against the request URL
    std::string push_url;          // Link rel="urn:ietf:params:push", resolved
    std::optional<std::string> set_url;
};

// Needs 201 with Location and a push Link (RFC 8030 §4); otherwise an error whose message
// carries the status and body.
Result<SubscribeResult> parse_subscribe_response(const std::string& request_url,
                                                 const HttpResponse& response);

// RFC 8030 §6: the monitoring GET. wait_zero adds "Prefer: wait=0" (§6, deliver what is
// stored then complete).
HttpRequest make_monitor_request(const std::string& subscription_url, bool wait_zero = false);
// RFC 8030 §6.2: acknowledge a message by deleting its push message resource.
HttpRequest make_ack_request(const std::string& message_url);

}  // namespace webpush_client
