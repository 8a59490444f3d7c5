#include "tools/client/push_service.h"

#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/link_header.h"
#include "tools/client/url.h"

namespace webpush_client {

Result<HttpResponse> send_request(const HttpRequest& request, HttpVersion version,
                                  const ClientOptions& options) {
    if (version == HttpVersion::http1) {
        Http1Client client(options);
        return client.request(request);
    }
    Http2Client client(options);
    auto connected = client.connect(request.url);
    if (!connected) return connected.error();
    auto response = client.request(request);
    client.close();
    return response;
}

HttpRequest make_subscribe_request(const std::string& subscribe_url,
                                   const SubscribeOptions& options) {
    HttpRequest req;
    req.method = "POST";
    req.url = subscribe_url;
    if (options.application_server_key) {
        req.headers.add("Content-Type", "application/webpush-options+json");
        req.body = "{\"vapid\":\"" + options.application_server_key->public_base64url() + "\"}";
    }
    if (options.set_url) {
        req.headers.add("Link", "<" + *options.set_url + ">; rel=\"" + kRelPushSet + "\"");
    }
    return req;
}

Result<SubscribeResult> parse_subscribe_response(const std::string& request_url,
                                                 const HttpResponse& response) {
    SubscribeResult out;
    out.status = response.status;
    if (response.status != 201) {
        std::string msg = "subscribe failed: HTTP " + std::to_string(response.status);
        if (!response.body.empty()) msg += ": " + response.body.substr(0, 500);
        return make_error(Errc::protocol, msg);
    }
    auto location = response.headers.get("Location");
    if (!location) return make_error(Errc::protocol, "subscribe answer has no Location");
    auto sub = resolve_url(request_url, *location);
    if (!sub) return sub.error();
    out.subscription_url = *sub;
    auto links = response.headers.get_all("Link");
    auto push = find_links(links, kRelPush);
    if (push.empty()) {
        return make_error(Errc::protocol,
                          "subscribe answer has no Link rel=\"urn:ietf:params:push\"");
    }
    auto push_url = resolve_url(request_url, push.front());
    if (!push_url) return push_url.error();
    out.push_url = *push_url;
    auto set = find_links(links, kRelPushSet);
    if (!set.empty()) {
        auto set_url = resolve_url(request_url, set.front());
        if (set_url) out.set_url = *set_url;
    }
    return out;
}

HttpRequest make_monitor_request(const std::string& subscription_url, bool wait_zero) {
    HttpRequest req;
    req.method = "GET";
    req.url = subscription_url;
    if (wait_zero) req.headers.add("Prefer", "wait=0");
    return req;
}

HttpRequest make_ack_request(const std::string& message_url) {
    HttpRequest req;
    req.method = "DELETE";
    req.url = message_url;
    return req;
}

}  // namespace webpush_client
