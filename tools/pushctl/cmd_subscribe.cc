// pushctl subscribe: RFC 8030 §4 subscribe (optionally restricted, RFC 8292 §4.1). Prints the
// subscription resource (Location) and the push resource (Link rel="urn:ietf:params:push").
// With --state it also makes user-agent keys (RFC 8291 §3) and stores them with the
// subscription so `pushctl ua --http2` / `pushctl decrypt` can use them.

#include <iostream>

#include "tools/client/base64url.h"
#include "tools/client/ua_state.h"
#include "tools/pushctl/common.h"

namespace pushctl {
using namespace webpush_client;

namespace {

struct SubscribeOpts {
    std::string url;
    std::string vapid_key;
    std::string app_server_key;
    std::string set;
    std::string state;
    NetOptions net;
};

void run_subscribe(const SubscribeOpts& o) {
    SubscribeOptions options;
    if (!o.vapid_key.empty()) options.application_server_key = load_private_key(o.vapid_key);
    if (!o.app_server_key.empty()) {
        options.application_server_key =
            check(P256Key::from_public_base64url(o.app_server_key), "--app-server-key");
    }
    if (!o.set.empty()) options.set_url = o.set;
    HttpRequest req = make_subscribe_request(o.url, options);
    HttpResponse res = check(send_request(req, o.net.version(), o.net.client_options()));
    auto parsed = parse_subscribe_response(o.url, res);
    if (!parsed) throw CommandError(parsed.error().message, res.status == 201 ? 1 : 2);
    std::cout << "Status: " << res.status << "\n";
    std::cout << "Location: " << parsed->subscription_url << "\n";
    std::cout << "Push: " << parsed->push_url << "\n";
    if (parsed->set_url) std::cout << "Set: " << *parsed->set_url << "\n";
    if (!o.state.empty()) {
        UaState state;
        auto loaded = UaState::load(o.state);
        if (loaded) state = std::move(*loaded);
        UaChannel channel{"", parsed->push_url, parsed->subscription_url,
                          options.application_server_key
                              ? options.application_server_key->public_base64url()
                              : std::string(),
                          UserAgentKeys::generate()};
        std::cout << "Subscription: " << channel.subscription().to_json() << "\n";
        state.channels.push_back(std::move(channel));
        check(state.save(o.state));
    }
}

}  // namespace

void setup_subscribe(CLI::App& parent) {
    auto o = std::make_shared<SubscribeOpts>();
    auto* app = parent.add_subcommand(
        "subscribe", "RFC 8030 POST /subscribe; print Location and the push resource");
    app->add_option("--url,-u", o->url, "Subscribe URL, e.g. https://host:8443/subscribe")
        ->required();
    auto* vk = app->add_option("--vapid-key", o->vapid_key,
                               "Restrict to this application server key (PEM / base64url private)");
    app->add_option("--app-server-key", o->app_server_key,
                    "Restrict to this application server public key (base64url)")
        ->excludes(vk);
    app->add_option("--set", o->set, "Subscription set URL to join (RFC 8030 4.1)");
    app->add_option("--state", o->state,
                    "Generate UA keys and append the subscription to this state file; also "
                    "prints the PushSubscription JSON");
    o->net.add_to(*app);
    app->callback([o] { run_subscribe(*o); });
}

}  // namespace pushctl
