#include "pushsvc/http1/convert.h"

#include <string_view>

#include "pushsvc/base/text.h"

namespace pushsvc::http1 {

namespace bhttp = boost::beast::http;

http::Request to_request(BeastRequest&& req) {
    http::Request out;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    for (const auto& f : req) {
        std::string name = base::to_lower(f.name_string());
        if (name == "host" && out.authority.empty()) out.authority = std::string(f.value());
        out.headers.add(std::move(name), std::string(f.value()));
    }
    out.body = std::move(req.body());
    return out;  // can_push stays false and pusher empty: HTTP/1.1 has no server push
}

BeastResponse to_beast(http::Response&& res, unsigned version, bool keep_alive, bool head) {
    BeastResponse out;
    out.version(version);
    out.result(static_cast<unsigned>(res.status));
    for (auto& f : res.headers.all()) {
        if (http::transport_owned(base::to_lower(f.name))) continue;
        out.insert(f.name, f.value);
    }
    out.set(bhttp::field::date, net::http_date_now());
    out.set(bhttp::field::server, net::kServerName);
    const bool no_body = res.status < 200 || res.status == 204 || res.status == 304;
    if (!no_body) {
        out.content_length(res.body.size());
        if (!head) out.body() = std::move(res.body);
    }
    out.keep_alive(keep_alive);
    return out;
}

}  // namespace pushsvc::http1
