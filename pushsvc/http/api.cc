#include "pushsvc/http/api.h"

#include <boost/json.hpp>

#include <chrono>

#include "pushsvc/http/error_map.h"
#include "pushsvc/obs/metrics.h"

namespace pushsvc::http {
namespace {

using webpush::kMessagePrefix;
using webpush::kPushPrefix;
using webpush::kSubscriptionPrefix;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The single id segment after `prefix`, or "" when the path has another shape.
std::string_view segment_after(std::string_view path, std::string_view prefix) {
    if (path.substr(0, prefix.size()) != prefix) return {};
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) return {};
    return rest;
}

Response method_not_allowed(std::string_view allow) {
    Response r = error_response(errc::method_not_allowed);
    r.headers.add("allow", std::string(allow));
    return r;
}

}  // namespace

Api::Api(webpush::PushService& service, Offload offload)
    : service_(service), offload_(std::move(offload)) {}

Response Api::error(errc e) const { return error_response(e, service_.options().profile); }

void Api::handle(Request req, Responder respond) {
    std::string_view path = path_of(req.target);
    bool writes = false;
    std::function<Response()> work;
    if (path == "/subscribe") {
        if (req.method != "POST") return respond(method_not_allowed("POST"));
        writes = true;
        work = [this, req = std::move(req)] { return subscribe(req); };
    } else if (auto token = segment_after(path, kPushPrefix); !token.empty()) {
        if (req.method != "POST") return respond(method_not_allowed("POST"));
        writes = true;
        work = [this, req = std::move(req), token = std::string(token)]() mutable {
            return push(req, token);
        };
    } else if (!segment_after(path, kMessagePrefix).empty() ||
               !segment_after(path, kSubscriptionPrefix).empty()) {
        if (req.method != "DELETE") return respond(method_not_allowed("DELETE"));
        writes = true;
        work = [this, target = std::string(path)] { return delete_resource(target); };
    } else if (path == "/health") {
        Response r;
        r.headers.add("content-type", "application/json");
        r.body = R"({"status":"ok"})";
        return respond(std::move(r));
    } else if (path == "/metrics") {
        Response r;
        r.headers.add("content-type", "text/plain; version=0.0.4");
        r.body = obs::render_prometheus();
        return respond(std::move(r));
    } else {
        return respond(error(errc::not_found));
    }
    if (writes && offload_) {
        offload_([work = std::move(work), respond = std::move(respond)] { respond(work()); });
    } else {
        respond(work());
    }
}

Response Api::subscribe(const Request& req) {
    webpush::SubscribeRequest sreq;
    sreq.content_type = req.headers.get("content-type");
    sreq.body = req.body;
    sreq.crypto_key = req.headers.get("crypto-key");
    auto sub = service_.subscribe(sreq);
    if (!sub) return error(to_errc(sub.error()));
    obs::counter("pushsvc_subscriptions_total").inc();
    Response r;
    r.status = 201;
    r.headers.add("location", sub->resource_url);
    r.headers.add("link", "<" + sub->endpoint + ">; rel=\"urn:ietf:params:push\"");
    r.headers.add("content-type", "application/json");
    boost::json::object body{{"endpoint", sub->endpoint}, {"location", sub->resource_url}};
    r.body = boost::json::serialize(body);
    return r;
}

Response Api::push(Request& req, std::string_view token) {
    auto started = std::chrono::steady_clock::now();
    webpush::PushRequest preq;
    preq.token = std::string(token);
    preq.ttl = req.headers.get("ttl");
    preq.urgency = req.headers.get("urgency");
    preq.topic = req.headers.get("topic");
    preq.content_encoding = req.headers.get("content-encoding");
    preq.encryption = req.headers.get("encryption");
    preq.crypto_key = req.headers.get("crypto-key");
    preq.authorization = req.headers.get("authorization");
    preq.body = std::move(req.body);
    auto out = service_.push(std::move(preq));
    if (!out) return error(to_errc(out.error()));
    obs::counter("pushsvc_push_accepted_total").inc();
    obs::histogram("pushsvc_push_seconds")
        .observe_us(std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count());
    Response r;
    r.status = 201;  // RFC 8030 §5: accepted, not necessarily delivered
    r.headers.add("location", out->location);
    r.headers.add("ttl", std::to_string(out->ttl_kept));
    return r;
}

Response Api::delete_resource(std::string_view path) {
    result<void> r = errc::not_found;
    if (auto id = segment_after(path, kMessagePrefix); !id.empty())
        r = service_.delete_message(id);
    else if (auto sid = segment_after(path, kSubscriptionPrefix); !sid.empty())
        r = service_.delete_subscription(sid);
    if (!r) return error(to_errc(r.error()));
    Response resp;
    resp.status = 204;  // choice A-1
    return resp;
}

}  // namespace pushsvc::http
