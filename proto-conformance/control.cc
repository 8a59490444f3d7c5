#include "proto-conformance/control.h"

#include "proto-conformance/context.h"

namespace conformance {

Control::Control(Context& ctx, std::string base) : ctx_(ctx), base_(std::move(base)) {
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

Result<boost::json::value> Control::call(const std::string& method, const std::string& path,
                                         const std::string& body) {
    HttpRequest req;
    req.method = method;
    req.url = base_ + path;
    if (!body.empty()) {
        req.headers.add("Content-Type", "application/json");
        req.body = body;
    }
    auto a = ctx_.send(req);
    if (!a.response) return make_error(Errc::io, "control " + path + ": " + a.error);
    if (a.status() / 100 != 2)
        return make_error(Errc::protocol,
                          "control " + path + " answered " + std::to_string(a.status()));
    if (a.response->body.empty()) return boost::json::value();
    boost::system::error_code ec;
    auto v = boost::json::parse(a.response->body, ec);
    if (ec) return make_error(Errc::invalid_json, "control " + path + ": not JSON");
    return v;
}

bool Control::available() {
    if (!capabilities_) {
        capabilities_.emplace();
        auto v = call("GET", "/", "");
        if (v && v->is_object()) {
            if (auto* caps = v->as_object().if_contains("capabilities"); caps && caps->is_array())
                for (const auto& c : caps->as_array())
                    if (c.is_string()) capabilities_->insert(std::string(c.as_string()));
        }
    }
    return !capabilities_->empty();
}

bool Control::can(const std::string& capability) {
    return available() && capabilities_->count(capability) > 0;
}

Result<void> Control::expire(const std::string& push_url, const std::string& subscription_url) {
    boost::json::object o;
    if (!push_url.empty()) o["endpoint"] = push_url;
    if (!subscription_url.empty()) o["subscription"] = subscription_url;
    auto v = call("POST", "/expire", boost::json::serialize(o));
    if (!v) return v.error();
    return {};
}

Result<void> Control::expire_set(const std::string& set_url) {
    auto v = call("POST", "/expire", boost::json::serialize(boost::json::object{{"set", set_url}}));
    if (!v) return v.error();
    return {};
}

Result<void> Control::give_up(const std::string& message_url) {
    std::string path = path_of(message_url);
    std::string id = path.substr(path.rfind('/') + 1);
    if (id.empty()) return make_error(Errc::invalid_argument, "no message id in " + message_url);
    auto v = call("POST", "/messages/" + id + "/give-up", "");
    if (!v) return v.error();
    return {};
}

Result<void> Control::advance_clock(std::int64_t ms) {
    auto v =
        call("POST", "/clock", boost::json::serialize(boost::json::object{{"advance_ms", ms}}));
    if (!v) return v.error();
    clock_moved_ = true;
    return {};
}

Result<void> Control::reset_clock() {
    auto v = call("POST", "/clock", R"({"reset":true})");
    if (!v) return v.error();
    clock_moved_ = false;
    return {};
}

Result<boost::json::object> Control::create_subscription() {
    auto v = call("POST", "/subscriptions", "{}");
    if (!v) return v.error();
    if (!v->is_object()) return make_error(Errc::invalid_json, "control: expected an object");
    return v->as_object();
}

Result<boost::json::array> Control::messages(const std::string& id) {
    auto v = call("GET", "/subscriptions/" + id + "/messages", "");
    if (!v) return v.error();
    if (!v->is_object() || !v->as_object().contains("messages") ||
        !v->as_object().at("messages").is_array())
        return make_error(Errc::invalid_json, "control: expected {\"messages\": [...]}");
    return v->as_object().at("messages").as_array();
}

}  // namespace conformance
