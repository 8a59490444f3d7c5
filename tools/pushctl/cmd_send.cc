// pushctl send: encrypt a payload for a subscription (RFC 8291 aes128gcm or legacy aesgcm),
// sign VAPID (RFC 8292), POST it to the endpoint (RFC 8030 §5) and print the answer.
// Exit status: 0 for 2xx, 2 for any other HTTP status, 1 for local or network errors.

#include <iostream>

#include "tools/client/push_request.h"
#include "tools/pushctl/common.h"

namespace pushctl {
using namespace webpush_client;

namespace {

struct SendOpts {
    std::string subscription;
    std::optional<std::string> payload;
    long long ttl = 2419200;
    bool no_ttl = false;
    std::string urgency;
    std::string topic;
    std::string encoding = "aes128gcm";
    std::string vapid_key;
    std::string subject;
    std::string vapid_scheme;
    std::string aud;
    bool aud_no_port = false;
    long long exp = 0;
    unsigned rs = kDefaultRecordSize;
    std::size_t padding = 0;
    std::vector<std::string> headers;
    NetOptions net;
};

void run_send(const SendOpts& o) {
    Subscription sub = check(Subscription::from_json(json_or_file(o.subscription)), "subscription");
    PushOptions options;
    if (o.no_ttl) {
        options.ttl.reset();
    } else {
        options.ttl = o.ttl;
    }
    if (!o.urgency.empty()) options.urgency = o.urgency;
    if (!o.topic.empty()) options.topic = o.topic;
    options.encryption.encoding = check(parse_content_encoding(o.encoding), "--encoding");
    options.encryption.rs = o.rs;
    options.encryption.padding = o.padding;
    if (!o.vapid_key.empty()) {
        VapidOptions v{load_private_key(o.vapid_key), o.subject};
        if (!o.aud.empty()) v.audience = o.aud;
        v.audience_keeps_port = !o.aud_no_port;
        if (o.exp != 0) v.exp = o.exp;
        if (o.vapid_scheme == "vapid") v.scheme = VapidScheme::vapid;
        if (o.vapid_scheme == "webpush") v.scheme = VapidScheme::webpush;
        options.vapid = std::move(v);
    } else if (!o.subject.empty()) {
        throw CommandError("--subject needs --vapid-key");
    }
    for (const auto& h : o.headers) {
        std::size_t colon = h.find(':');
        if (colon == std::string::npos || colon == 0) {
            throw CommandError("--header must look like 'Name: value'");
        }
        std::size_t v = h.find_first_not_of(' ', colon + 1);
        options.extra_headers.add(h.substr(0, colon),
                                  v == std::string::npos ? std::string() : h.substr(v));
    }
    Bytes payload = o.payload ? to_bytes(value_or_file(*o.payload)) : Bytes{};
    HttpRequest req = check(build_push_request(sub, payload, options));
    HttpResponse res = check(send_request(req, o.net.version(), o.net.client_options()));

    std::cout << "Status: " << res.status << "\n";
    for (const char* name : {"Location", "TTL", "Link", "Retry-After", "WWW-Authenticate"}) {
        for (const auto& value : res.headers.get_all(name)) {
            std::cout << name << ": " << value << "\n";
        }
    }
    if (!res.body.empty()) std::cout << "Body: " << res.body << "\n";
    if (res.status < 200 || res.status >= 300) {
        throw CommandError("push rejected with HTTP " + std::to_string(res.status), 2);
    }
}

}  // namespace

void setup_send(CLI::App& parent) {
    auto o = std::make_shared<SendOpts>();
    auto* app = parent.add_subcommand(
        "send", "Encrypt, sign and POST a push message; print status, Location and any error");
    app->add_option("--subscription,-s", o->subscription,
                    "PushSubscription JSON ({endpoint, keys: {p256dh, auth}}) or a file with it "
                    "('-' = stdin)")
        ->required();
    app->add_option("--payload,-p", o->payload,
                    "Message text, or @file / @- for raw bytes; none = payload-less push");
    app->add_option("--ttl", o->ttl, "TTL header in seconds (RFC 8030 5.2)")->capture_default_str();
    app->add_flag("--no-ttl", o->no_ttl, "Send no TTL header");
    app->add_option("--urgency", o->urgency, "Urgency header: very-low, low, normal, high");
    app->add_option("--topic", o->topic, "Topic header (RFC 8030 5.4)");
    app->add_option("--encoding", o->encoding, "Content coding")
        ->check(CLI::IsMember({"aes128gcm", "aesgcm"}))
        ->capture_default_str();
    app->add_option("--vapid-key", o->vapid_key,
                    "Application server private key: PEM file or base64url scalar");
    app->add_option("--subject", o->subject, "VAPID sub claim (mailto: or https: URL)");
    app->add_option("--vapid-scheme", o->vapid_scheme,
                    "Authorization form: vapid (RFC 8292) or webpush (draft-01 + Crypto-Key); "
                    "default depends on --encoding")
        ->check(CLI::IsMember({"vapid", "webpush"}));
    app->add_option("--aud", o->aud, "Override the JWT aud claim");
    app->add_flag("--aud-no-port", o->aud_no_port,
                  "Drop the port from aud (like webpush-java and web-push-php)");
    app->add_option("--exp", o->exp, "JWT exp (seconds since epoch; default now + 12 h)");
    app->add_option("--rs", o->rs, "Record size")->capture_default_str();
    app->add_option("--padding", o->padding, "Octets of padding to add")->capture_default_str();
    app->add_option("--header,-H", o->headers, "Extra request header 'Name: value' (repeatable)");
    o->net.add_to(*app);
    app->callback([o] { run_send(*o); });
}

}  // namespace pushctl
