// pushctl ua: act as a browser. Over WebSocket (ws:// or wss://, the protocol Firefox speaks)
// or over RFC 8030 HTTP/2 (--http2 with an https:// or http:// subscribe URL): subscribe,
// print the PushSubscription JSON a sender needs, then print every message decrypted and
// acknowledge it (WebSocket ack, or DELETE of the push message resource, RFC 8030 §6.2).
// --state keeps uaid + keys so a later run resumes the same subscription.
// Exit status: 0 done (count reached, or --timeout without --count), 3 --count not reached
// before --timeout, 1 errors.

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "tools/client/base64url.h"
#include "tools/client/http2_client.h"
#include "tools/client/url.h"
#include "tools/client/user_agent.h"
#include "tools/pushctl/common.h"

namespace pushctl {
using namespace webpush_client;
using Clock = std::chrono::steady_clock;

namespace {

struct UaOpts {
    std::string url;
    std::string vapid_key;
    std::string app_server_key;
    std::string state;
    std::string subscription_out;
    bool new_subscription = false;
    bool json = false;
    long count = 0;
    double run_for = 0;  // --timeout: total seconds to run
    NetOptions net;
};

std::optional<Bytes> server_key(const UaOpts& o) {
    if (!o.vapid_key.empty()) return load_private_key(o.vapid_key).public_bytes();
    if (!o.app_server_key.empty()) {
        return check(P256Key::from_public_base64url(o.app_server_key), "--app-server-key")
            .public_bytes();
    }
    return std::nullopt;
}

void announce(const UaOpts& o, const Subscription& sub) {
    std::string text = sub.to_json();
    std::cout << text << std::endl;
    if (!o.subscription_out.empty()) {
        std::ofstream out(o.subscription_out + ".tmp", std::ios::trunc);
        out << text << "\n";
        out.close();
        if (!out ||
            std::rename((o.subscription_out + ".tmp").c_str(), o.subscription_out.c_str())) {
            throw CommandError("cannot write " + o.subscription_out);
        }
    }
}

void print_message(const UaOpts& o, const std::string& channel, const std::string& version,
                   const std::optional<Bytes>& plain, const std::optional<Error>& error) {
    if (o.json) {
        boost::json::object j{{"channelID", channel}, {"version", version}};
        if (plain) {
            j["text"] = to_string(*plain);
            j["data"] = base64url_encode(*plain);
        }
        if (error) j["error"] = error->message;
        std::cout << boost::json::serialize(j) << std::endl;
        return;
    }
    if (error) {
        std::cerr << "pushctl: message " << version << " not delivered: " << error->message
                  << std::endl;
        return;
    }
    std::cout.write(reinterpret_cast<const char*>(plain->data()),
                    static_cast<std::streamsize>(plain->size()));
    std::cout << std::endl;
}

// Runs until count messages or the deadline; returns the exit status.
template <class Receive>
int receive_loop(const UaOpts& o, Receive&& receive) {
    const bool bounded = o.run_for > 0;
    const auto deadline =
        bounded ? Clock::now() + std::chrono::milliseconds(static_cast<long long>(o.run_for * 1000))
                : Clock::time_point::max();
    long received = 0;
    while (o.count == 0 || received < o.count) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (bounded && left.count() <= 0) break;
        auto wait = bounded ? left : std::chrono::milliseconds(3600 * 1000);
        if (receive(wait)) ++received;
    }
    if (o.count > 0 && received < o.count) {
        char secs[32];
        std::snprintf(secs, sizeof secs, "%g", o.run_for);
        throw CommandError(std::string("timed out after ") + secs + " s with " +
                               std::to_string(received) + " of " + std::to_string(o.count) +
                               " messages",
                           3);
    }
    return 0;
}

void run_websocket(const UaOpts& o) {
    UaState state;
    if (!o.state.empty()) {
        if (auto loaded = UaState::load(o.state)) state = std::move(*loaded);
    }
    UserAgent ua(std::move(state), o.net.client_options());
    check(ua.connect(o.url), "connect");
    if (ua.subscriptions_dropped()) {
        std::cerr << "pushctl: server answered with a new uaid; old subscriptions dropped"
                  << std::endl;
    }
    auto save = [&] {
        if (!o.state.empty()) check(ua.state().save(o.state));
    };
    if (ua.state().channels.empty() || o.new_subscription) {
        UaChannel channel = check(ua.subscribe(server_key(o)), "subscribe");
        save();
        announce(o, channel.subscription());
    } else {
        save();
        announce(o, ua.state().channels.back().subscription());
    }
    receive_loop(o, [&](std::chrono::milliseconds wait) {
        auto m = ua.receive(wait);
        if (!m) {
            if (m.error().code == Errc::timeout) return false;
            throw CommandError(m.error().message);
        }
        print_message(o, m->notification.channel_id, m->notification.version, m->plaintext,
                      m->error);
        return !m->error.has_value();
    });
    ua.close();
}

void run_http2(const UaOpts& o) {
    UaState state;
    if (!o.state.empty()) {
        if (auto loaded = UaState::load(o.state)) state = std::move(*loaded);
    }
    Http2Client client(o.net.client_options());
    check(client.connect(o.url), "connect");
    const UaChannel* channel = nullptr;
    for (const auto& c : state.channels) {
        if (!c.subscription_url.empty() && !o.new_subscription) channel = &c;
    }
    if (!channel) {
        SubscribeOptions so;
        if (auto key = server_key(o))
            so.application_server_key = check(P256Key::from_public_bytes(*key));
        HttpResponse res = check(client.request(make_subscribe_request(o.url, so)), "subscribe");
        SubscribeResult sub = check(parse_subscribe_response(o.url, res));
        state.channels.push_back(UaChannel{
            "", sub.push_url, sub.subscription_url,
            so.application_server_key ? so.application_server_key->public_base64url() : "",
            UserAgentKeys::generate()});
        channel = &state.channels.back();
    }
    if (!o.state.empty()) check(state.save(o.state));
    announce(o, channel->subscription());
    auto monitor = check(client.submit(make_monitor_request(channel->subscription_url)), "monitor");
    receive_loop(o, [&](std::chrono::milliseconds wait) {
        auto push = client.wait_push(wait);
        if (!push) {
            if (push.error().code == Errc::timeout) return false;
            throw CommandError(push.error().message);
        }
        const Headers& h = push->response.headers;
        std::optional<Bytes> plain;
        std::optional<Error> error;
        if (push->response.body.empty()) {
            plain = Bytes{};
        } else {
            auto r = channel->keys.decrypt(
                to_bytes(push->response.body),
                {h.get("content-encoding").value_or(""), h.get("encryption").value_or(""),
                 h.get("crypto-key").value_or("")});
            if (r) {
                plain = std::move(*r);
            } else {
                error = r.error();
            }
        }
        auto message_url = resolve_url(o.url, push->path());
        print_message(o, channel->endpoint, message_url ? *message_url : push->path(), plain,
                      error);
        if (message_url) {
            auto ack = client.request(make_ack_request(*message_url));
            if (!ack) throw CommandError("ack: " + ack.error().message);
        }
        return !error.has_value();
    });
    (void)monitor;
    client.close();
}

}  // namespace

void setup_ua(CLI::App& parent) {
    auto o = std::make_shared<UaOpts>();
    auto* app = parent.add_subcommand(
        "ua", "Act as a browser: subscribe, print the subscription, print and ack every message");
    app->add_option("--url,-u", o->url,
                    "Push service: ws:// or wss:// URL (WebSocket protocol), or with --http2 the "
                    "RFC 8030 subscribe URL")
        ->required();
    auto* vk = app->add_option("--vapid-key", o->vapid_key,
                               "Subscribe restricted to this application server key (PEM or "
                               "base64url private key)");
    app->add_option("--app-server-key", o->app_server_key,
                    "Subscribe restricted to this application server public key (base64url)")
        ->excludes(vk);
    app->add_option("--state", o->state,
                    "Keep uaid, subscriptions and keys in this file; reuse them when it exists");
    app->add_flag("--new", o->new_subscription, "Subscribe again even if the state has one");
    app->add_option("--subscription-out", o->subscription_out,
                    "Also write the PushSubscription JSON to this file");
    app->add_option("--count,-n", o->count, "Exit after this many messages");
    app->add_option("--timeout", o->run_for,
                    "Exit after this many seconds (status 3 if --count was not reached)");
    app->add_flag("--json", o->json, "Print each message as a JSON object");
    app->add_flag("--http2", o->net.http2, "Use RFC 8030 over HTTP/2 instead of WebSocket");
    app->add_flag("--insecure,-k", o->net.insecure, "Do not verify the server's TLS certificate");
    app->add_option("--cacert", o->net.cacert, "PEM file with the CA of the server certificate")
        ->check(CLI::ExistingFile);
    app->add_option("--step-timeout", o->net.timeout,
                    "Seconds to wait for each network step (connect, replies)")
        ->capture_default_str();
    app->callback([o] {
        if (o->net.http2) {
            run_http2(*o);
        } else {
            run_websocket(*o);
        }
    });
}

}  // namespace pushctl
