#include "pushsvc/testdouble/testdouble.h"

#include "pushsvc/http/error_map.h"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <limits>
#include <optional>
#include <stdexcept>

#include "pushsvc/base/base64url.h"

namespace pushsvc::testdouble {
namespace {

namespace json = boost::json;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The request body as a JSON object ({} when empty or not an object).
json::object body_object(const http::Request& req) {
    if (req.body.empty()) return {};
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) return {};
    return v.as_object();
}

// An integer member within [lo, hi] (by default what an int holds), else `fallback`: a number
// out of range is no answer, and converting it would be undefined (a double) or wrap.
std::int64_t int_member(const json::object& o, std::string_view name, std::int64_t fallback,
                        std::int64_t lo = std::numeric_limits<int>::min(),
                        std::int64_t hi = std::numeric_limits<int>::max()) {
    auto* v = o.if_contains(name);
    if (!v) return fallback;
    std::optional<std::int64_t> n;
    if (v->is_int64()) n = v->as_int64();
    if (v->is_uint64() && v->as_uint64() <= std::uint64_t(hi)) n = std::int64_t(v->as_uint64());
    if (v->is_double() && v->as_double() >= double(lo) && v->as_double() <= double(hi))
        n = std::int64_t(v->as_double());
    if (v->is_string()) {
        try {
            n = std::stoll(std::string(v->as_string()));
        } catch (...) {
        }
    }
    return n && *n >= lo && *n <= hi ? *n : fallback;
}

// How far the test double may move the service clock from real time, either way (~31,700
// years): every sum of times the service makes stays far inside 64 bits.
constexpr std::int64_t kClockLimitMs = 1'000'000'000'000'000;

std::string string_member(const json::object& o, std::string_view name) {
    auto* v = o.if_contains(name);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// Last path segment of a URL or path.
std::string last_segment(std::string_view url) {
    url = path_of(url);
    auto pos = url.rfind('/');
    return std::string(pos == std::string_view::npos ? url : url.substr(pos + 1));
}

http::Fields without(const http::Fields& in, std::string_view name) {
    http::Fields out;
    for (const auto& f : in.all())
        if (f.name != name) out.add(f.name, f.value);
    return out;
}

}  // namespace

http::Response json_response(int status, const json::value& body) {
    http::Response r;
    r.status = status;
    r.headers.add("content-type", "application/json");
    r.headers.add("cache-control", "no-store");
    r.body = json::serialize(body);
    return r;
}

http::Response json_error(int status, std::string_view message) {
    return json_response(status, json::object{{"code", status},
                                              {"errno", 999},
                                              {"error", http::reason_phrase(status)},
                                              {"message", message}});
}

TestDouble::TestDouble(Dependencies deps)
    : deps_(std::move(deps)),
      codec_(deps_.token_keys),
      agents_(deps_.service, deps_.store, deps_.hub, deps_.clock) {
    std::string_view rest = deps_.config.testdouble.break_rules;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string rule(rest.substr(0, comma));
        while (!rule.empty() && rule.front() == ' ') rule.erase(0, 1);
        while (!rule.empty() && rule.back() == ' ') rule.pop_back();
        if (!rule.empty()) {
            bool known = false;
            for (auto r : kBreakRules) known = known || r == rule;
            if (!known) throw std::runtime_error("config: unknown testdouble.break rule " + rule);
            breaks_.insert(rule);
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    spdlog::warn("test-double mode is ON: control API under {}, web-push-testing routes under {}",
                 kControlPrefix, kCompatPrefix);
    for (const auto& b : breaks_) spdlog::warn("test double breaks rule '{}' on purpose", b);
}

TestDouble::~TestDouble() = default;

void TestDouble::fail_next(const std::string& token, Failure failure, int count) {
    std::lock_guard lock(mu_);
    auto& q = failures_[token];
    for (int i = 0; i < count; ++i) q.push_back(failure);
}

std::optional<http::Response> TestDouble::injected(const std::string& token) {
    Failure f;
    {
        std::lock_guard lock(mu_);
        auto it = failures_.find(token);
        if (it == failures_.end() || it->second.empty()) return std::nullopt;
        f = it->second.front();
        it->second.erase(it->second.begin());
        if (it->second.empty()) failures_.erase(it);
    }
    auto r = json_error(f.status, "failure injected by the pushsvc test double");
    int retry = f.retry_after >= 0 ? f.retry_after : (f.status == 429 || f.status == 503 ? 1 : -1);
    if (retry >= 0) r.headers.add("retry-after", std::to_string(retry));
    return r;
}

void TestDouble::handle(http::Request req, http::Responder respond) {
    std::string path(path_of(req.target));
    if (path == kControlPrefix || path.starts_with(std::string(kControlPrefix) + "/"))
        return respond(control(req, std::string_view(path).substr(kControlPrefix.size())));
    if (path.starts_with(std::string(kCompatPrefix) + "/"))
        return respond(compat(req, std::string_view(path).substr(kCompatPrefix.size())));
    bool push = req.method == "POST" && path.starts_with(webpush::kPushPrefix);
    if (push) {
        if (auto r = injected(path.substr(webpush::kPushPrefix.size()))) return respond(*r);
        if (breaks("ttl-required") && !req.headers.get("ttl")) req.headers.add("ttl", "60");
        if (auto t = req.headers.get("topic"); breaks("topic-length") && t && t->size() > 32) {
            req.headers = without(req.headers, "topic");
            req.headers.add("topic", t->substr(0, 32));
        }
        if (breaks("413-at-4096") && req.body.size() >= 4096)
            return respond(json_error(413, "test double: broken 413 threshold"));
    }
    bool strip_location = push && breaks("location");
    bool strip_www = breaks("www-authenticate");
    if (strip_location || strip_www) {
        respond = [respond = std::move(respond), strip_location,
                   strip_www](http::Response r) mutable {
            if (strip_location) r.headers = without(r.headers, "location");
            if (strip_www) r.headers = without(r.headers, "www-authenticate");
            respond(std::move(r));
        };
    }
    deps_.inner(std::move(req), std::move(respond));
}

http::Response TestDouble::control(const http::Request& req, std::string_view path) {
    const std::string& m = req.method;
    if (path.empty() || path == "/") {
        json::array caps{"subscriptions", "expire",    "expire-set", "give-up",
                         "clock",         "fail-next", "reset"};
        json::array broken;
        for (const auto& b : breaks_) broken.push_back(json::value(b));
        return json_response(200, json::object{{"capabilities", std::move(caps)},
                                               {"breaks", std::move(broken)},
                                               {"origin", deps_.service.options().origin}});
    }
    if (path == "/subscriptions" || path.starts_with("/subscriptions/"))
        return subscription_route(req, path.substr(std::string_view("/subscriptions").size()));
    if (path == "/expire" && m == "POST") return expire(req);
    if (path.size() > 18 && path.starts_with("/messages/") && path.ends_with("/give-up") &&
        m == "POST")
        return give_up(path.substr(std::string_view("/messages/").size(),
                                   path.size() - std::string_view("/messages//give-up").size()));
    if (path == "/clock") return clock(req);
    if (path == "/fail-next" && m == "POST") {
        auto o = body_object(req);
        std::string token = last_segment(string_member(o, "endpoint"));
        if (token.empty()) return json_error(400, "fail-next needs {\"endpoint\": url}");
        fail_next(token,
                  Failure{int(int_member(o, "status", 500)), int(int_member(o, "retry_after", -1))},
                  int(int_member(o, "count", 1)));
        return json_response(200, json::object{{"queued", int_member(o, "count", 1)}});
    }
    if (path == "/throw" && m == "POST") {
        // Fault injection for the last failure boundary (app/io_threads.h): an exception that
        // no handler catches. Answered before it is thrown, as far as the race with the
        // stopping io_context allows; the client should not rely on the answer.
        if (!deps_.post_to_network) return json_error(503, "no network executor");
        deps_.post_to_network(
            [] { throw std::runtime_error("test double: injected fault on a network thread"); });
        http::Response r;
        r.status = 202;
        return r;
    }
    if (path == "/reset" && m == "POST") {
        agents_.remove_all();
        {
            std::lock_guard lock(mu_);
            failures_.clear();
        }
        deps_.clock.set_offset_ms(0);
        http::Response r;
        r.status = 204;
        return r;
    }
    return json_error(404, "no such test-double route");
}

http::Response TestDouble::subscription_route(const http::Request& req, std::string_view rest) {
    const std::string& m = req.method;
    if (rest.empty() || rest == "/") {
        if (m == "GET") {
            json::array ids;
            for (const auto& id : agents_.ids()) ids.push_back(json::value(id));
            return json_response(200, json::object{{"subscriptions", std::move(ids)}});
        }
        if (m != "POST") return json_error(405, "GET or POST");
        auto o = body_object(req);
        std::string key = string_member(o, "applicationServerKey");
        auto created = agents_.create(key);
        if (!created) return json_error(400, "cannot create the subscription (bad key?)");
        json::object out = created->browser;  // browser format at the top level
        out["id"] = created->id;
        out["subscription"] = created->browser;
        out["messages"] =
            std::string(kControlPrefix) + "/subscriptions/" + created->id + "/messages";
        return json_response(201, out);
    }
    rest.remove_prefix(1);
    std::string id(rest.substr(0, rest.find('/')));
    std::string_view action =
        rest.find('/') == std::string_view::npos ? "" : rest.substr(rest.find('/'));
    if (!agents_.exists(id)) return json_error(404, "no such test-double subscription");
    http::Response done;
    done.status = 204;
    if (action.empty() && m == "DELETE") return agents_.remove(id), done;
    if (action == "/messages" && m == "GET") {
        json::array list;
        auto recorded = agents_.messages(id);  // keep the optional alive for the loop
        if (recorded)
            for (const auto& msg : *recorded) list.push_back(to_json(msg));
        return json_response(200, json::object{{"messages", std::move(list)}});
    }
    if (action == "/messages" && m == "DELETE") return agents_.clear_messages(id), done;
    if (action == "/expire" && m == "POST") return agents_.expire(id), done;
    if (action == "/fail-next" && m == "POST") {
        auto o = body_object(req);
        fail_next(last_segment(*agents_.endpoint(id)),
                  Failure{int(int_member(o, "status", 500)), int(int_member(o, "retry_after", -1))},
                  int(int_member(o, "count", 1)));
        return done;
    }
    return json_error(404, "no such test-double route");
}

http::Response TestDouble::expire(const http::Request& req) {
    auto o = body_object(req);
    std::string endpoint = string_member(o, "endpoint");
    std::string subscription = string_member(o, "subscription");
    std::string set = string_member(o, "set");
    result<void> r = errc::not_found;
    if (!set.empty()) {
        r = deps_.service.delete_set(last_segment(set));
    } else if (!subscription.empty()) {
        r = deps_.service.delete_subscription(last_segment(subscription));
    } else if (!endpoint.empty()) {
        auto token = codec_.decode(last_segment(endpoint));
        if (token)
            r = deps_.service.delete_subscription(base::base64url_encode(token->subscription_id));
    } else {
        return json_error(400,
                          "expire needs {\"endpoint\": url}, {\"subscription\": url} or "
                          "{\"set\": url}");
    }
    if (!r) return json_error(404, "no such subscription");
    http::Response done;
    done.status = 204;
    return done;
}

http::Response TestDouble::give_up(std::string_view message_id) {
    if (message_id.empty() || message_id.find('/') != std::string_view::npos)
        return json_error(404, "no such test-double route");
    if (auto r = deps_.service.give_up(message_id); !r)
        return json_error(404, "no such message (delivered and acknowledged, expired or unknown)");
    http::Response done;
    done.status = 204;
    return done;
}

http::Response TestDouble::clock(const http::Request& req) {
    if (req.method == "POST") {
        auto o = body_object(req);
        const std::int64_t l = kClockLimitMs;
        if (o.contains("set_ms")) {
            deps_.clock.set_ms(int_member(o, "set_ms", 0, 0, l));
        } else if (o.contains("reset")) {
            deps_.clock.set_offset_ms(0);
        } else {
            const std::int64_t by = int_member(o, "advance_ms", 0, -l, l) +
                                    1000 * int_member(o, "advance_s", 0, -l / 1000, l / 1000);
            const std::int64_t offset = deps_.clock.offset_ms() + by;
            if (offset < -l || offset > l)
                return json_error(400, "the clock may move at most 10^15 ms from real time");
            deps_.clock.advance_ms(by);
        }
    } else if (req.method != "GET") {
        return json_error(405, "GET or POST");
    }
    return json_response(200, json::object{{"now_ms", deps_.clock.now_ms()},
                                           {"offset_ms", deps_.clock.offset_ms()}});
}

}  // namespace pushsvc::testdouble
