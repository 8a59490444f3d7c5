#include "pushsvc/http1/convert.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace pushsvc::http1 {

namespace bhttp = boost::beast::http;

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Fields the session owns or that only describe this hop.
bool session_owned(std::string_view name) {
    static constexpr std::string_view kOwned[] = {
        "connection", "keep-alive",       "transfer-encoding",
        "upgrade",    "proxy-connection", "content-length",
        "date",       "server",           "te",
        "trailer"};
    return std::find(std::begin(kOwned), std::end(kOwned), name) != std::end(kOwned);
}

}  // namespace

http::Request to_request(BeastRequest&& req, const net::SessionContext& ctx) {
    http::Request out;
    out.method = std::string(req.method_string());
    out.target = std::string(req.target());
    for (const auto& f : req) {
        std::string name = lower(f.name_string());
        if (name == "host" && out.authority.empty()) out.authority = std::string(f.value());
        out.headers.add(std::move(name), std::string(f.value()));
    }
    out.body = std::move(req.body());
    out.protocol = http::Protocol::http1;
    out.secure = ctx.secure;
    out.can_push = false;
    out.peer = ctx.peer;
    return out;
}

BeastResponse to_beast(http::Response&& res, unsigned version, bool keep_alive, bool head) {
    BeastResponse out;
    out.version(version);
    out.result(static_cast<unsigned>(res.status));
    for (auto& f : res.headers.all()) {
        if (session_owned(f.name)) continue;
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
