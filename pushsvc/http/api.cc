#include "pushsvc/http/api.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <chrono>

#include "pushsvc/base/guard.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/webpush/push_headers.h"

namespace pushsvc::http {
namespace {

using namespace webpush;  // the resource prefixes and link relations

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The single id segment after `prefix`, or "" when the path has another shape.
std::string_view segment_after(std::string_view path, std::string_view prefix) {
    if (path.substr(0, prefix.size()) != prefix) return {};
    std::string_view rest = path.substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) return {};
    return rest;
}

// Resources that are deleted (and for three of them, monitored) by their URL.
struct Resource {
    std::string_view prefix;
    std::optional<MonitorKind> monitor;
};
constexpr Resource kResources[] = {{kMessagePrefix, std::nullopt},
                                   {kSubscriptionPrefix, MonitorKind::subscription},
                                   {kSetPrefix, MonitorKind::set},
                                   {kReceiptPrefix, MonitorKind::receipts}};

const Resource* resource_of(std::string_view path) {
    for (const auto& r : kResources)
        if (!segment_after(path, r.prefix).empty()) return &r;
    return nullptr;
}

Response method_not_allowed(std::string_view allow) {
    Response r = error_response(errc::method_not_allowed);
    r.headers.add("allow", std::string(allow));
    return r;
}

std::string link(const std::string& url, std::string_view rel) {
    return "<" + url + ">; rel=\"" + std::string(rel) + "\"";
}

}  // namespace

Api::Api(webpush::PushService& service, Offload offload, std::optional<MonitorContext> monitoring)
    : service_(service), offload_(std::move(offload)), monitoring_(std::move(monitoring)) {}

Response Api::error(errc e, std::uint32_t retry_after_s) const {
    return error_response(e, service_.options().profile, {}, retry_after_s);
}

void Api::handle(Request req, Responder respond) {
    std::string_view path = path_of(req.target);
    std::function<Response()> work;  // writes the store
    std::string_view route;          // for the log; never the path (it holds capabilities)
    if (path == "/subscribe") {
        if (req.method != "POST") return respond(method_not_allowed("POST"));
        // Per address, before any store work is queued: each subscribe writes a user agent
        // that lives for push.ua_idle_days.
        if (auto admit = service_.rate_limits().take(webpush::Limited::subscribe, req.client);
            !admit)
            return respond(error(errc::rate_limited, admit.retry_after_s));
        work = [this, req = std::move(req)] { return subscribe(req); };
        route = "subscribe";
    } else if (auto token = segment_after(path, kPushPrefix); !token.empty()) {
        if (req.method != "POST") return respond(method_not_allowed("POST"));
        // Stored with the other pushes of its group in one write when the store can (group
        // commit): answered when the group ends, after the write.
        if (req.group && service_.batches_pushes()) return join_push_group(req, token, respond);
        work = [this, req = std::move(req), token = std::string(token)]() mutable {
            return push(req, token);
        };
        route = "push";
    } else if (const Resource* res = resource_of(path)) {
        if (req.method == "GET" && res->monitor) return monitor(req, path, respond);
        if (req.method != "DELETE")
            return respond(method_not_allowed(res->monitor ? "GET, DELETE" : "DELETE"));
        work = [this, target = std::string(path)] { return delete_resource(target); };
        route = "delete";
    } else if (path == "/") {
        // A valid WebSocket upgrade never gets here (the HTTP/1.1 session hands it over).
        auto version = req.headers.get("sec-websocket-version");
        if (version && *version != "13") {
            Response r = error(errc::websocket_version);  // RFC 6455 §4.2.2: say which
            r.headers.add("sec-websocket-version", "13");
            return respond(std::move(r));
        }
        return respond(error(errc::websocket_required));
    } else if (path == "/health") {
        return respond(health());
    } else if (path == "/metrics" && metrics_public_) {
        return respond(metrics(req, public_admin_));
    } else {
        return respond(error(errc::not_found));
    }
    // The boundary of store work, inline or on the store pool: an exception escaping it (a
    // store error, a bug) answers this request 500 and leaves the thread, the connection and
    // every other request alone.
    auto run = [this, work = std::move(work), respond = std::move(respond), route] {
        Response r;
        try {
            r = work();
        } catch (...) {
            spdlog::error("{} request failed, answered 500: {}", route,
                          base::current_exception_text());
            r = error(errc::internal);
        }
        respond(std::move(r));
    };
    if (offload_) {
        offload_(std::move(run));
    } else {
        run();
    }
}

void Api::set_admin(const config::AdminConfig& admin) {
    public_admin_ = AdminAccess::from(admin, false);
    listener_admin_ = AdminAccess::from(admin, true);
    metrics_public_ = admin.listen.empty();
}

void Api::handle_admin(Request req, Responder respond) {
    std::string_view path = path_of(req.target);
    if (path == "/health") return respond(health());
    if (path == "/metrics") return respond(metrics(req, listener_admin_));
    respond(error(errc::not_found));
}

Response Api::health() {
    Response r;
    r.headers.add("content-type", "application/json");
    r.body = R"({"status":"ok"})";
    return r;
}

Response Api::metrics(const Request& req, const AdminAccess& access) const {
    if (auto denied = check_admin(req, access, service_.options().profile)) return *denied;
    Response r;
    r.headers.add("content-type", "text/plain; version=0.0.4");
    r.body = obs::render_prometheus();
    return r;
}

Response Api::subscribe(const Request& req) {
    webpush::SubscribeRequest sreq;
    sreq.content_type = req.headers.get("content-type");
    sreq.body = req.body;
    sreq.crypto_key = req.headers.get("crypto-key");
    sreq.link = req.headers.get("link");
    auto sub = service_.subscribe(sreq);
    if (!sub) return error(to_errc(sub.error()));
    obs::catalog().subscriptions.inc();
    Response r;
    r.status = 201;
    r.headers.add("location", sub->resource_url);
    r.headers.add("link", link(sub->endpoint, kRelPush));
    if (!sub->set_url.empty()) r.headers.add("link", link(sub->set_url, kRelSet));
    r.headers.add("content-type", "application/json");
    boost::json::object body{{"endpoint", sub->endpoint}, {"location", sub->resource_url}};
    if (!sub->set_url.empty()) body["set"] = sub->set_url;
    r.body = boost::json::serialize(body);
    return r;
}

webpush::PushRequest Api::push_request(Request& req, std::string_view token) {
    webpush::PushRequest preq;
    preq.token = std::string(token);
    preq.ttl = req.headers.take("ttl");
    preq.urgency = req.headers.take("urgency");
    preq.topic = req.headers.take("topic");
    preq.content_encoding = req.headers.take("content-encoding");
    preq.encryption = req.headers.take("encryption");
    preq.crypto_key = req.headers.take("crypto-key");
    preq.authorization = req.headers.take("authorization");
    preq.prefer = req.headers.take("prefer");
    preq.link = req.headers.take("link");
    preq.body = std::move(req.body);
    preq.client = req.client;
    return preq;
}

Response Api::push_response(const result<webpush::PushOutcome>& out, std::uint32_t retry_after_s,
                            std::chrono::steady_clock::time_point started) const {
    if (!out) return error(to_errc(out.error()), retry_after_s);
    obs::catalog().push_accepted.inc();
    obs::catalog().push_seconds.observe_us(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::steady_clock::now() - started)
                                               .count());
    Response r;
    // RFC 8030 §5: accepted, not necessarily delivered; 202 when a receipt will follow (§5.1).
    r.status = out->receipt_url.empty() ? 201 : 202;
    r.headers.add("location", out->location);
    r.headers.add("ttl", std::to_string(out->ttl_kept));
    if (!out->receipt_url.empty()) r.headers.add("link", link(out->receipt_url, kRelReceipt));
    return r;
}

Response Api::push(Request& req, std::string_view token) {
    auto started = std::chrono::steady_clock::now();
    std::uint32_t retry_after_s = 0;
    auto out = service_.push(push_request(req, token), &retry_after_s);
    return push_response(out, retry_after_s, started);
}

// Collects the pushes of one RequestGroup; when the group ends, stores them with one
// PushService::push_batch (inline, or as one job on the store pool) and answers each.
class Api::PushGroup final : public GroupWork {
  public:
    explicit PushGroup(Api& api) : api_(api) {}

    void add(webpush::PushRequest req, Responder respond) {
        reqs_.push_back(std::move(req));
        responders_.push_back(std::move(respond));
        started_.push_back(std::chrono::steady_clock::now());
    }

    void run() override {
        auto job = [&api = api_, reqs = std::move(reqs_), responders = std::move(responders_),
                    started = std::move(started_)]() mutable {
            std::vector<std::uint32_t> retry_after(reqs.size(), 0);
            std::vector<Response> answers;
            answers.reserve(reqs.size());
            // The boundary handle() keeps for store work: an exception answers the group 500.
            try {
                auto outs = api.service_.push_batch(reqs, retry_after);
                for (std::size_t i = 0; i < outs.size(); ++i)
                    answers.push_back(api.push_response(outs[i], retry_after[i], started[i]));
            } catch (...) {
                spdlog::error("push group failed, answered 500: {}",
                              base::current_exception_text());
                answers.clear();
            }
            for (std::size_t i = 0; i < responders.size(); ++i)
                responders[i](i < answers.size() ? std::move(answers[i])
                                                 : api.error(errc::internal));
        };
        if (api_.offload_) {
            api_.offload_(std::move(job));
        } else {
            job();
        }
    }

  private:
    Api& api_;
    std::vector<webpush::PushRequest> reqs_;
    std::vector<Responder> responders_;
    std::vector<std::chrono::steady_clock::time_point> started_;
};

void Api::join_push_group(Request& req, std::string_view token, Responder& respond) {
    auto& group =
        req.group->work<PushGroup>(this, [this] { return std::make_unique<PushGroup>(*this); });
    group.add(push_request(req, token), std::move(respond));
}

Response Api::delete_resource(std::string_view path) {
    result<void> r = errc::not_found;
    if (auto id = segment_after(path, kMessagePrefix); !id.empty())
        r = service_.delete_message(id);
    else if (auto sub = segment_after(path, kSubscriptionPrefix); !sub.empty())
        r = service_.delete_subscription(sub);
    else if (auto set = segment_after(path, kSetPrefix); !set.empty())
        r = service_.delete_set(set);
    else if (auto rcpt = segment_after(path, kReceiptPrefix); !rcpt.empty())
        r = service_.delete_receipt_subscription(rcpt);
    if (!r) return error(to_errc(r.error()));
    Response resp;
    resp.status = 204;  // choice A-1
    return resp;
}

void Api::monitor(Request& req, std::string_view path, Responder& respond) {
    if (!monitoring_) return respond(error(errc::unavailable));
    // Server push is the only delivery of RFC 8030 §6: HTTP/1.1, or HTTP/2 with
    // SETTINGS_ENABLE_PUSH=0, gets a clear 400 (choice A-5).
    if (!req.pusher) return respond(error(errc::push_unavailable));
    // Finding the scope reads (and may write "seen" to) the store: with an offload (store.sync,
    // PostgreSQL) that runs on the store pool, like every other store call.
    auto start = [this, path = std::string(path), urgency = req.headers.get("urgency"),
                  prefer = req.headers.get("prefer"), pusher = std::move(req.pusher),
                  respond = std::move(respond)]() mutable {
        const Resource* res = resource_of(path);
        result<webpush::MonitorScope> scope = errc::internal;
        try {
            scope = service_.monitor_scope(*res->monitor, segment_after(path, res->prefix));
        } catch (...) {  // the boundary handle() keeps for other routes: 500, nothing else
            spdlog::error("monitor request failed, answered 500: {}",
                          base::current_exception_text());
        }
        if (!scope) return respond(error(to_errc(scope.error())));
        // The lowest urgency the UA wants now (R8030-5.3-d); without one, everything (-f).
        auto threshold = urgency ? webpush::parse_urgency(urgency)
                                 : result<webpush::Urgency>(webpush::Urgency::very_low);
        if (!threshold) return respond(error(to_errc(threshold.error())));
        auto wait = webpush::parse_prefer(prefer).wait;
        start_monitor(*monitoring_, std::move(*scope), *threshold, wait && *wait == 0,
                      std::move(pusher), std::move(respond));
    };
    if (offload_) return offload_(std::move(start));
    start();
}

}  // namespace pushsvc::http
