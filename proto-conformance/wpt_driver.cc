// The user agent of npm web-push-testing 1.2.2, for --subscribe-via
// web-push-testing: that test double has no RFC 8030 §4 subscribe and no delivery to a user
// agent. A subscription comes from its `POST /subscribe` ({"userVisibleOnly": "true",
// "applicationServerKey"}: it generates the UA keys itself and answers the browser-format
// subscription plus a clientHash); what "arrived" is read back with `POST /get-notifications`,
// which returns the decrypted strings only (never the delivered bytes or headers, so
// Delivered::raw is false). Not thread-safe.

#include <boost/json.hpp>

#include <map>
#include <thread>

#include "proto-conformance/context.h"
#include "tools/client/base64url.h"
#include "tools/client/subscription.h"

namespace conformance {
namespace {

namespace json = boost::json;

class WebPushTestingDriver final : public UaDriver {
  public:
    explicit WebPushTestingDriver(Context& ctx) : ctx_(ctx) {}
    std::string_view name() const override { return "web-push-testing"; }

    Result<UaSubscription> subscribe(const std::optional<P256Key>& key) override {
        json::object body{{"userVisibleOnly", "true"}};
        if (key) body["applicationServerKey"] = base64url_encode(key->public_bytes());
        auto v = call("/subscribe", json::serialize(body));
        if (!v) return v.error();
        const auto* data = v->is_object() ? v->as_object().if_contains("data") : nullptr;
        if (!data || !data->is_object() || !data->as_object().contains("clientHash"))
            return make_error(Errc::protocol, "web-push-testing subscribe: no data.clientHash");
        const auto& d = data->as_object();
        auto browser = Subscription::from_json(json::serialize(d));
        if (!browser) return browser.error();
        UaSubscription sub;
        sub.handle = ++last_;
        sub.push_url = browser->endpoint;
        sub.restricted_to = key;
        sub.browser = *browser;
        hashes_[sub.handle] = {std::string(d.at("clientHash").as_string()), 0};
        return sub;
    }

    Result<std::vector<Delivered>> drain(const UaSubscription& sub,
                                         const DrainOptions& options) override {
        if (options.urgency)
            return make_error(Errc::invalid_argument, "web-push-testing has no urgency threshold");
        if (!options.ack) {
            ctx_.mark_missing(
                "web-push-testing has no delivery acknowledgement (RFC 8030 §6.2) to withhold");
            return make_error(Errc::invalid_argument, "web-push-testing: no acknowledgements");
        }
        auto& [hash, seen] = hashes_.at(sub.handle);
        auto v = call("/get-notifications", json::serialize(json::object{{"clientHash", hash}}));
        if (!v) return v.error();
        const json::value* list = nullptr;
        if (v->is_object())
            if (const auto* data = v->as_object().if_contains("data"); data && data->is_object())
                list = data->as_object().if_contains("messages");
        if (!list || !list->is_array())
            return make_error(Errc::protocol, "get-notifications: no data.messages array");
        std::vector<Delivered> out;
        const auto& messages = list->as_array();
        for (std::size_t i = seen; i < messages.size(); ++i) {
            Delivered d;
            d.id = "web-push-testing#" + std::to_string(i);
            d.raw = false;
            if (messages[i].is_string()) d.plaintext = std::string(messages[i].as_string());
            out.push_back(std::move(d));
        }
        seen = messages.size();  // it never forgets a message: "acknowledged" = seen here
        return out;
    }

    Result<void> go_online(const UaSubscription&) override { return {}; }

    Result<Delivered> next(const UaSubscription& sub, std::chrono::milliseconds timeout) override {
        auto until = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto got = drain(sub, {});
            if (!got) return got.error();
            if (!got->empty()) return got->front();
            if (std::chrono::steady_clock::now() >= until)
                return make_error(Errc::timeout, "nothing arrived at web-push-testing");
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    void go_offline(const UaSubscription&) override {}

  private:
    Result<json::value> call(const std::string& path, const std::string& body) {
        HttpRequest req;
        req.method = "POST";
        req.url = ctx_.origin() + path;
        req.headers.add("Content-Type", "application/json");
        req.body = body;
        auto a = ctx_.send(req);
        if (!a.response) return make_error(Errc::io, "web-push-testing " + path + ": " + a.error);
        if (a.status() != 200)
            return make_error(Errc::protocol, "web-push-testing " + path + " answered " +
                                                  std::to_string(a.status()));
        boost::system::error_code ec;
        auto v = json::parse(a.response->body, ec);
        if (ec) return make_error(Errc::invalid_json, "web-push-testing " + path + ": not JSON");
        return v;
    }

    Context& ctx_;
    int last_ = 0;
    std::map<int, std::pair<std::string, std::size_t>> hashes_;  // handle -> clientHash, seen
};

}  // namespace

std::unique_ptr<UaDriver> make_web_push_testing_driver(Context& ctx) {
    return std::make_unique<WebPushTestingDriver>(ctx);
}

}  // namespace conformance
