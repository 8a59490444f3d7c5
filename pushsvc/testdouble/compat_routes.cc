// Routes of npm web-push-testing 1.2.2 (marc1706/web-push-testing src/server.js), served under
// /web-push-testing/ so RFC 8030's own POST /subscribe keeps its meaning:
//
//   POST /web-push-testing/status                         200
//   POST /web-push-testing/subscribe                      200 {"data":{endpoint,keys,clientHash}}
//   POST /web-push-testing/get-notifications              200 {"data":{"messages":[...]}}
//   POST /web-push-testing/expire-subscription/<hash>     200
//
// Differences, all in the direction of the RFCs: the endpoint is a real push resource
// (/push/<token>) that answers 201 with Location, 410/404 once expired, 401/403 for VAPID;
// userVisibleOnly may also be a JSON boolean.

#include <boost/json.hpp>

#include "pushsvc/testdouble/testdouble.h"

namespace pushsvc::testdouble {
namespace {

namespace json = boost::json;

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// JSON or application/x-www-form-urlencoded body (express.json / express.urlencoded).
std::optional<json::object> parse_body(const http::Request& req) {
    if (req.body.empty()) return json::object{};
    auto type = req.headers.get("content-type").value_or("");
    if (type.find("x-www-form-urlencoded") != std::string::npos) {
        json::object o;
        std::string_view rest = req.body;
        while (!rest.empty()) {
            auto amp = rest.find('&');
            auto pair = rest.substr(0, amp);
            auto eq = pair.find('=');
            if (eq != std::string_view::npos)
                o[url_decode(pair.substr(0, eq))] = url_decode(pair.substr(eq + 1));
            if (amp == std::string_view::npos) break;
            rest.remove_prefix(amp + 1);
        }
        return o;
    }
    boost::system::error_code ec;
    auto v = json::parse(req.body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return v.as_object();
}

http::Response wpt_error(std::string_view message) {
    return json_response(400, json::object{{"error", json::object{{"message", message}}}});
}

}  // namespace

http::Response TestDouble::compat(const http::Request& req, std::string_view path) {
    if (req.method != "POST") return wpt_error("web-push-testing routes are POST only");
    if (path == "/status") {
        http::Response r;
        r.status = 200;
        return r;
    }
    auto body = parse_body(req);
    if (!body) return wpt_error("request body is not JSON");
    if (path == "/subscribe") {
        std::string key;
        for (const auto& [k, v] : *body) {
            if (k == "userVisibleOnly") {
                bool ok = v.is_bool() ||
                          (v.is_string() && (v.as_string() == "true" || v.as_string() == "false"));
                if (!ok) return wpt_error("userVisibleOnly must be true or false");
            } else if (k == "applicationServerKey") {
                if (!v.is_string()) return wpt_error("applicationServerKey must be a string");
                key = std::string(v.as_string());
            } else {
                return wpt_error("unknown PushSubscriptionOptions member " + std::string(k));
            }
        }
        auto created = agents_.create(key);
        if (!created) return wpt_error("applicationServerKey is not a P-256 public key");
        return json_response(
            200, json::object{{"data", json::object{{"endpoint", created->browser.at("endpoint")},
                                                    {"keys", created->browser.at("keys")},
                                                    {"clientHash", created->id}}}});
    }
    if (path == "/get-notifications") {
        std::string hash;
        if (auto* h = body->if_contains("clientHash"); h && h->is_string())
            hash = std::string(h->as_string());
        auto list = agents_.messages(hash);
        if (!list) return wpt_error("Subscription not found");
        json::array messages;
        for (const auto& m : *list)
            if (m.plaintext) messages.push_back(json::value(*m.plaintext));
        return json_response(200, json::object{{"data", json::object{{"messages", messages}}}});
    }
    constexpr std::string_view expire = "/expire-subscription/";
    if (path.starts_with(expire)) {
        if (!agents_.expire(std::string(path.substr(expire.size()))))
            return wpt_error("Subscription not found");
        http::Response r;
        r.status = 200;
        return r;
    }
    return wpt_error("no such web-push-testing route");
}

}  // namespace pushsvc::testdouble
