#include "proto-conformance/context.h"

#include "tools/client/subscription.h"
#include "tools/client/url.h"

namespace conformance {

std::string shorten(std::string_view text, std::size_t keep) {
    if (text.size() <= keep + 3) return std::string(text);
    return std::string(text.substr(0, keep)) + "…";
}

std::string path_of(std::string_view url) {
    auto u = parse_url(url);
    return u ? u->target : std::string();
}

namespace {

// Shortens every long path segment of a URL (capability URLs, RFC 8030 §8.3).
std::string short_url(std::string_view url) {
    auto u = parse_url(url);
    if (!u) return shorten(url, 60);
    std::string out = u->scheme + "://" + u->authority();
    std::string_view path = u->target;
    std::size_t pos = 0;
    while (pos < path.size()) {
        std::size_t next = path.find('/', pos + 1);
        std::string_view seg =
            path.substr(pos, next == std::string_view::npos ? path.size() - pos : next - pos);
        out += shorten(seg, 16);
        if (next == std::string_view::npos) break;
        pos = next;
    }
    return out;
}

std::string short_value(std::string_view name, std::string_view value) {
    std::string lower;
    for (char c : name) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "authorization" || lower == "crypto-key" || lower == "encryption" ||
        lower == "proxy-authorization")
        return shorten(value, 40);
    if (lower == "location" || lower == "link") return shorten(value, 90);
    return shorten(value, 120);
}

std::string body_summary(const std::string& body, bool text) {
    if (body.empty()) return "";
    if (text && body.size() <= 300) return "\n" + body;
    return "\n(" + std::to_string(body.size()) + " octets)";
}

}  // namespace

std::string render_request(const HttpRequest& request, HttpVersion version) {
    std::string out = request.method + " " + short_url(request.url) +
                      (version == HttpVersion::http2 ? " HTTP/2" : " HTTP/1.1");
    for (const auto& [name, value] : request.headers)
        out += "\n" + name + ": " + short_value(name, value);
    out += body_summary(request.body, false);
    return out;
}

std::string render_response(const HttpResponse& response) {
    std::string out = std::to_string(response.status);
    bool json = false;
    for (const auto& [name, value] : response.headers) {
        if (name == "date" || name == "Date") continue;
        out += "\n" + name + ": " + short_value(name, value);
        if (value.find("json") != std::string::npos) json = true;
    }
    out += body_summary(response.body, json);
    return out;
}

Context::Context(Options options) : options_(std::move(options)), vapid_key_(P256Key::generate()) {
    std::string target = options_.target;
    while (!target.empty() && target.back() == '/') target.pop_back();
    auto u = parse_url(target);
    if (!u) throw std::runtime_error("--target: not a URL: " + options_.target);
    origin_ = u->origin();
    if (target.size() >= 10 && target.ends_with("/subscribe"))
        subscribe_url_ = target;
    else
        subscribe_url_ = target + "/subscribe";
    if (options_.subscribe_via == SubscribeVia::web_push_testing)
        ua_ = make_web_push_testing_driver(*this);
    else if (options_.ua == UaKind::websocket)
        ua_ = make_websocket_driver(*this);
    else
        ua_ = make_rfc8030_driver(*this);
    if (!options_.control.empty()) control_ = std::make_unique<Control>(*this, options_.control);
}

Context::~Context() = default;

namespace {
constexpr char kNoRfc8030[] =
    "needs RFC 8030 subscribe (§4) / HTTP/2 monitoring (§6): the target is driven through "
    "web-push-testing's subscribe API (--subscribe-via web-push-testing)";
}

UaDriver& Context::monitor() {
    if (options_.subscribe_via == SubscribeVia::web_push_testing) mark_missing(kNoRfc8030);
    if (options_.ua == UaKind::rfc8030 && options_.subscribe_via == SubscribeVia::standard)
        return *ua_;
    if (!monitor_) monitor_ = make_rfc8030_driver(*this);
    return *monitor_;
}

bool Context::target_tls() const { return origin_.starts_with("https:"); }

Answer Context::send(const HttpRequest& request, HttpVersion version) {
    Answer a;
    auto r = send_request(request, version, options_.net);
    if (r) {
        a.response = std::move(*r);
        note(render_request(request, version), render_response(*a.response));
    } else {
        a.error = r.error().message;
        note(render_request(request, version), "transport error: " + a.error);
    }
    return a;
}

Answer Context::subscribe_raw(const HttpRequest& request) { return send(request); }

Result<SubscribeResult> Context::subscribe(const SubscribeOptions& options) {
    if (options_.subscribe_via == SubscribeVia::web_push_testing) mark_missing(kNoRfc8030);
    auto a = send(make_subscribe_request(subscribe_url_, options));
    if (!a.response) return make_error(Errc::io, "subscribe: " + a.error);
    return parse_subscribe_response(subscribe_url_, *a.response);
}

Result<UaSubscription> Context::subscription(const std::optional<P256Key>& key) {
    return ua_->subscribe(key);
}

VapidOptions Context::vapid_for(const P256Key& key) const {
    return VapidOptions{key, "mailto:conformance@example.com", {}, {}, true, {}};
}

Result<HttpRequest> Context::build_push(const UaSubscription& sub, const PushSpec& spec) {
    PushOptions opt = spec.options;
    if (sub.restricted_to && spec.sign && !opt.vapid) opt.vapid = vapid_for(*sub.restricted_to);
    auto req = build_push_request(sub.keys ? sub.keys->subscription(sub.push_url) : *sub.browser,
                                  to_bytes(spec.payload), opt);
    if (!req) return req.error();
    if (spec.mutate) spec.mutate(*req);
    return req;
}

Answer Context::push(const UaSubscription& sub, PushSpec spec) {
    auto req = build_push(sub, spec);
    if (!req) {
        Answer a;
        a.error = "building the request: " + req.error().message;
        note("(push not built)", a.error);
        return a;
    }
    return send(*req, spec.version);
}

std::vector<Exchange> Context::take_transcript() {
    std::vector<Exchange> out;
    out.swap(transcript_);
    return out;
}

void Context::note(std::string sent, std::string received) {
    transcript_.push_back({std::move(sent), std::move(received)});
}

}  // namespace conformance
