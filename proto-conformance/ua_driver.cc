#include "proto-conformance/ua_driver.h"

#include <boost/json.hpp>

#include <map>

#include "proto-conformance/context.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_encryption.h"
#include "tools/client/ua_connection.h"
#include "tools/client/url.h"

namespace conformance {
namespace {

using namespace std::chrono_literals;

// The UA's key pair + auth secret, kept for decryption (RFC 8291 §3.1, §3.2).
std::shared_ptr<UserAgentKeys> new_keys() {
    return std::make_shared<UserAgentKeys>(UserAgentKeys::generate());
}

std::string render_delivered(const std::vector<Delivered>& list) {
    std::string out = std::to_string(list.size()) + " message(s)";
    for (const auto& d : list) {
        out += "\n- " + shorten(d.id, 24) + " status " + std::to_string(d.status) + ", " +
               std::to_string(d.body.size()) + " octets";
        for (const auto& [n, v] : d.headers) out += "; " + n + ": " + shorten(v, 24);
        if (d.plaintext) out += "; plaintext \"" + shorten(*d.plaintext, 40) + "\"";
        if (!d.decrypt_error.empty()) out += "; undecryptable: " + d.decrypt_error;
    }
    return out;
}

// ---- WebSocket push protocol (Firefox's PushServiceWebSocket.sys.mjs) --------------------

class WebSocketDriver final : public UaDriver {
  public:
    explicit WebSocketDriver(Context& ctx) : ctx_(ctx) {
        auto u = parse_url(ctx.origin()).value();
        url_ = (u.tls() ? "wss://" : "ws://") + u.authority() + "/";
    }
    std::string_view name() const override { return "websocket"; }

    Result<UaSubscription> subscribe(const std::optional<P256Key>& key) override {
        Entry e;
        e.conn = std::make_unique<UaConnection>(ctx_.options().net);
        if (auto r = e.conn->connect(url_); !r) return fail_note("connect " + url_, r.error());
        auto hello = e.conn->hello();
        if (!hello) return fail_note("hello", hello.error());
        e.uaid = hello->uaid;
        e.sub.channel_id = make_channel_id();
        std::optional<Bytes> raw_key;
        if (key) raw_key = key->public_bytes();
        auto reg = e.conn->register_channel(e.sub.channel_id, raw_key);
        if (!reg) return fail_note("register", reg.error());
        ctx_.note("WebSocket register (" + std::string(key ? "restricted" : "unrestricted") + ")",
                  "status " + std::to_string(reg->status) + "\npushEndpoint " +
                      shorten(reg->push_endpoint, 60));
        if (reg->status != 200)
            return make_error(Errc::protocol,
                              "register answered status " + std::to_string(reg->status));
        e.sub.push_url = reg->push_endpoint;
        e.sub.restricted_to = key;
        e.sub.keys = new_keys();
        e.sub.handle = ++last_;
        e.conn->close();
        e.conn.reset();
        auto sub = e.sub;
        entries_.emplace(sub.handle, std::move(e));
        return sub;
    }

    Result<std::vector<Delivered>> drain(const UaSubscription& sub,
                                         const DrainOptions& options) override {
        if (options.urgency)
            return make_error(Errc::invalid_argument,
                              "the WebSocket protocol has no urgency threshold");
        auto& e = entries_.at(sub.handle);
        if (auto r = online(e); !r) return r.error();
        std::vector<Delivered> out;
        auto wait = 1500ms;  // stored messages follow the hello at once
        for (;;) {
            auto d = read(e, wait, options.ack);
            if (!d) break;
            out.push_back(std::move(*d));
            wait = 500ms;
        }
        e.conn->close();
        e.conn.reset();
        ctx_.note("WebSocket hello (uaid resumed), read until quiet", render_delivered(out));
        return out;
    }

    Result<void> go_online(const UaSubscription& sub) override {
        return online(entries_.at(sub.handle));
    }

    Result<Delivered> next(const UaSubscription& sub, std::chrono::milliseconds timeout) override {
        auto& e = entries_.at(sub.handle);
        if (!e.conn) return make_error(Errc::closed, "user agent is offline");
        auto d = read(e, timeout, true);
        if (!d) {
            ctx_.note("WebSocket: wait for a notification", "none within timeout");
            return make_error(Errc::timeout, "no notification within the timeout");
        }
        ctx_.note("WebSocket: wait for a notification", render_delivered({*d}));
        return std::move(*d);
    }

    void go_offline(const UaSubscription& sub) override {
        auto& e = entries_.at(sub.handle);
        if (e.conn) e.conn->close();
        e.conn.reset();
    }

  private:
    struct Entry {
        UaSubscription sub;
        std::string uaid;
        std::unique_ptr<UaConnection> conn;
    };

    Error fail_note(const std::string& what, const Error& e) {
        ctx_.note("WebSocket " + what, "error: " + e.message);
        return e;
    }

    Result<void> online(Entry& e) {
        if (e.conn) return {};
        e.conn = std::make_unique<UaConnection>(ctx_.options().net);
        if (auto r = e.conn->connect(url_); !r) return fail_note("connect", r.error());
        auto hello = e.conn->hello(e.uaid);
        if (!hello) return fail_note("hello", hello.error());
        if (hello->uaid != e.uaid)
            return make_error(Errc::protocol, "the service forgot the uaid (new uaid in hello)");
        return {};
    }

    // The next notification for this entry's channel, or nullopt after `timeout`.
    std::optional<Delivered> read(Entry& e, std::chrono::milliseconds timeout, bool ack) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left <= 0ms) return std::nullopt;
            auto text = e.conn->read_text(left);
            if (!text) return std::nullopt;
            boost::system::error_code ec;
            auto v = boost::json::parse(*text, ec);
            if (ec || !v.is_object()) continue;
            const auto& o = v.as_object();
            auto* type = o.if_contains("messageType");
            if (!type || !type->is_string() || type->as_string() != "notification") continue;
            Delivered d;
            auto str = [&](const boost::json::object& obj, const char* k) {
                auto* p = obj.if_contains(k);
                return p && p->is_string() ? std::string(p->as_string()) : std::string();
            };
            d.id = str(o, "version");
            std::string channel = str(o, "channelID");
            if (auto* data = o.if_contains("data"); data && data->is_string()) {
                auto raw = base64url_decode(data->as_string());
                if (raw) d.body = webpush_client::to_string(*raw);
            }
            if (auto* h = o.if_contains("headers"); h && h->is_object()) {
                for (const auto& [k, val] : h->as_object())
                    if (val.is_string())
                        d.headers.add(std::string(k), std::string(val.as_string()));
            }
            // Map the protocol's header names onto HTTP ones for the scenarios.
            if (auto enc = d.headers.get("encoding")) d.headers.add("content-encoding", *enc);
            if (auto ck = d.headers.get("crypto_key")) d.headers.add("crypto-key", *ck);
            decrypt_into(e.sub, d);
            if (ack) (void)e.conn->ack(channel, d.id, d.decrypt_error.empty() ? 100 : 101);
            if (channel != e.sub.channel_id) continue;
            return d;
        }
    }

    Context& ctx_;
    std::string url_;
    int last_ = 0;
    std::map<int, Entry> entries_;
};

// ---- RFC 8030 §6 monitoring over HTTP/2 ----------------------------------------------------

class Rfc8030Driver final : public UaDriver {
  public:
    explicit Rfc8030Driver(Context& ctx) : ctx_(ctx) {}
    std::string_view name() const override { return "rfc8030"; }

    Result<UaSubscription> subscribe(const std::optional<P256Key>& key) override {
        SubscribeOptions so;
        so.application_server_key = key;
        auto s = ctx_.subscribe(so);
        if (!s) return s.error();
        UaSubscription sub;
        sub.handle = ++last_;
        sub.push_url = s->push_url;
        sub.subscription_url = s->subscription_url;
        sub.restricted_to = key;
        sub.keys = new_keys();
        entries_[sub.handle].sub = sub;
        return sub;
    }

    Result<std::vector<Delivered>> drain(const UaSubscription& sub,
                                         const DrainOptions& options) override {
        Http2Client h2(ctx_.options().net);
        if (auto r = h2.connect(sub.subscription_url); !r) return r.error();
        HttpRequest req = make_monitor_request(sub.subscription_url, true);
        if (options.urgency) req.headers.add("Urgency", *options.urgency);
        auto id = h2.submit(req);
        if (!id) return id.error();
        auto resp = h2.wait_response(*id, 5000ms);
        if (!resp) {
            ctx_.note(render_request(req, HttpVersion::http2), "error: " + resp.error().message);
            return resp.error();
        }
        h2.poll(100ms);
        std::vector<Delivered> out;
        while (h2.pending_pushes() > 0) {
            auto p = h2.wait_push(0ms);
            if (!p) break;
            out.push_back(from_push(sub, *p));
        }
        ctx_.note(render_request(req, HttpVersion::http2),
                  render_response(*resp) + "\npushed: " + render_delivered(out));
        if (resp->status != 200 && resp->status != 204)
            return make_error(Errc::protocol, "monitoring GET with Prefer: wait=0 answered " +
                                                  std::to_string(resp->status));
        if (options.ack) {
            for (const auto& d : out) {
                auto url = resolve_url(sub.subscription_url, d.id);
                if (url) (void)h2.request(make_ack_request(*url));
            }
        }
        h2.close();
        return out;
    }

    Result<void> go_online(const UaSubscription& sub) override {
        auto& e = entries_[sub.handle];
        if (e.h2) return {};
        e.h2 = std::make_unique<Http2Client>(ctx_.options().net);
        if (auto r = e.h2->connect(sub.subscription_url); !r) return r.error();
        HttpRequest req = make_monitor_request(sub.subscription_url, false);
        auto id = e.h2->submit(req);
        if (!id) return id.error();
        e.h2->poll(200ms);
        if (!e.h2->stream_open(*id)) {
            auto resp = e.h2->wait_response(*id, 100ms);
            std::string got = resp ? render_response(*resp) : resp.error().message;
            ctx_.note(render_request(req, HttpVersion::http2), got);
            e.h2.reset();
            return make_error(Errc::protocol, "monitoring GET was not held open: " + got);
        }
        ctx_.note(render_request(req, HttpVersion::http2), "(held open)");
        return {};
    }

    Result<Delivered> next(const UaSubscription& sub, std::chrono::milliseconds timeout) override {
        auto& e = entries_[sub.handle];
        if (!e.h2) return make_error(Errc::closed, "user agent is offline");
        auto p = e.h2->wait_push(timeout);
        if (!p) {
            ctx_.note("(wait for a server push on the monitoring stream)", p.error().message);
            return p.error();
        }
        auto d = from_push(sub, *p);
        ctx_.note("(wait for a server push on the monitoring stream)", render_delivered({d}));
        if (auto url = resolve_url(sub.subscription_url, d.id))
            (void)e.h2->request(make_ack_request(*url));
        return d;
    }

    void go_offline(const UaSubscription& sub) override {
        auto& e = entries_[sub.handle];
        if (e.h2) e.h2->close();
        e.h2.reset();
    }

  private:
    struct Entry {
        UaSubscription sub;
        std::unique_ptr<Http2Client> h2;
    };

    Delivered from_push(const UaSubscription& sub, const PushPromise& p) {
        Delivered d;
        d.id = p.path();
        d.headers = p.response.headers;
        d.body = p.response.body;
        d.status = p.response.status;
        decrypt_into(sub, d);
        return d;
    }

    Context& ctx_;
    int last_ = 0;
    std::map<int, Entry> entries_;
};

}  // namespace

void decrypt_into(const UaSubscription& sub, Delivered& d) {
    if (d.body.empty()) {
        d.plaintext = std::string();
        return;
    }
    EncodingHeaders h;
    h.content_encoding = d.headers.get("content-encoding").value_or("");
    h.encryption = d.headers.get("encryption").value_or("");
    h.crypto_key = d.headers.get("crypto-key").value_or("");
    if (!sub.keys) {
        d.decrypt_error = "the user agent's private key is held by the target";
        return;
    }
    auto plain = sub.keys->decrypt(to_bytes(d.body), h);
    if (plain)
        d.plaintext = webpush_client::to_string(*plain);
    else
        d.decrypt_error = plain.error().message;
}

std::unique_ptr<UaDriver> make_websocket_driver(Context& ctx) {
    return std::make_unique<WebSocketDriver>(ctx);
}
std::unique_ptr<UaDriver> make_rfc8030_driver(Context& ctx) {
    return std::make_unique<Rfc8030Driver>(ctx);
}

}  // namespace conformance
