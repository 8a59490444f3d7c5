// Message encryption as seen by a push service: RFC 8291 (Web Push encryption), RFC 8188
// (aes128gcm) and draft-ietf-webpush-encryption-04 (aesgcm). The keywords bind senders and
// user agents; the rows check what the service must accept, relay byte-exact, or may refuse,
// and what its test double (control interface) decrypts. Checklist rows R8291-*, R8188-*,
// RENC04-*.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

PushSpec text(std::string payload, ContentEncoding enc = ContentEncoding::aes128gcm) {
    PushSpec s;
    s.payload = std::move(payload);
    s.options.encryption.encoding = enc;
    return s;
}

PushSpec edited(PushSpec s, std::function<void(HttpRequest&)> edit) {
    s.mutate = std::move(edit);
    return s;
}

Outcome no_extra_headers(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    auto a = ctx.push(sub, edited(text("plain"), [](HttpRequest& r) {
                          r.headers.remove("Encryption");
                          r.headers.remove("Crypto-Key");
                      }));
    c.expect(a, {201}, "aes128gcm without Encryption / Crypto-Key");
    return c.outcome();
}

// Rows that need a subscription whose user agent lives in the service (control interface).
Outcome in_service_keys(Context& ctx, bool check_auth) {
    if (!ctx.control() || !ctx.control()->can("subscriptions"))
        return skipped("needs control interface: subscriptions with an in-service user agent");
    CONF_TRY(a, ctx.control()->create_subscription());
    CONF_TRY(b, ctx.control()->create_subscription());
    auto keys = [](const boost::json::object& o, const char* k) {
        try {
            return std::string(o.at("subscription").at("keys").at(k).as_string());
        } catch (...) {
            return std::string();
        }
    };
    auto p1 = base64url_decode(keys(*a, "p256dh")), p2 = base64url_decode(keys(*b, "p256dh"));
    auto a1 = base64url_decode(keys(*a, "auth")), a2 = base64url_decode(keys(*b, "auth"));
    Checker c;
    if (!check_auth) {
        c.check(p1 && p1->size() == 65 && (*p1)[0] == 0x04, "p256dh is not a 65-octet point");
        c.check(p1 && p2 && *p1 != *p2, "two subscriptions share p256dh");
        c.check(p1 && P256Key::from_public_bytes(*p1).has_value(), "p256dh not on the curve");
    } else {
        c.check(a1 && a1->size() == 16, "auth is not 16 octets");
        c.check(a1 && a2 && *a1 != *a2, "two subscriptions share auth");
    }
    return c.outcome();
}

Outcome keys_channel(Context& ctx) {
    if (!ctx.control() || !ctx.control()->can("subscriptions"))
        return skipped("needs control interface: subscriptions with an in-service user agent");
    auto u = parse_url(ctx.options().control);
    bool loopback = u && (u->host == "127.0.0.1" || u->host == "localhost" || u->host == "::1");
    if (u && (u->tls() || loopback)) return pass(u->tls() ? "served over TLS" : "loopback only");
    return fail("subscription keys are served over cleartext to a non-loopback address");
}

// The in-service user agent decrypts what a real sender encrypted (both codings, TTL 0 too).
Outcome double_decrypts(Context& ctx, ContentEncoding enc, bool bad_delimiter) {
    if (!ctx.control() || !ctx.control()->can("subscriptions"))
        return skipped("needs control interface: subscriptions with an in-service user agent");
    CONF_TRY(o, ctx.control()->create_subscription());
    auto json = boost::json::serialize(o->at("subscription"));
    CONF_TRY(s, Subscription::from_json(json));
    std::string id(o->at("id").as_string());
    PushOptions opt;
    opt.ttl = 0;
    opt.encryption.encoding = enc;
    CONF_TRY(req,
             build_push_request(*s, to_bytes("When I grow up, I want to be a watermelon"), opt));
    if (bad_delimiter) {
        // Re-encrypt by hand is not possible without the keys; flip the last octet of the tag
        // instead so the record cannot be authenticated (RFC 8188 §2: reject, never deliver).
        req->body.back() = char(req->body.back() ^ 0x01);
    }
    Checker c;
    c.expect(ctx.send(*req), {201}, std::string(to_string(enc)) + " push, TTL 0");
    CONF_TRY(msgs, ctx.control()->messages(id));
    if (msgs->empty()) return fail("the in-service user agent recorded nothing");
    const auto& m = msgs->back().as_object();
    auto* plain = m.if_contains("plaintext");
    if (bad_delimiter) {
        c.check(!plain || plain->is_null(), "an unauthenticated body was reported as a message");
    } else {
        c.check(plain && plain->is_string() &&
                    plain->as_string() == "When I grow up, I want to be a watermelon",
                "recorded plaintext differs from what was sent");
    }
    return c.outcome();
}

Outcome body_policy(Context& ctx, const std::string& label, PushSpec spec) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, std::move(spec));
    Checker c;
    c.expect(a, {201, 400, 415}, label + " (400 with strict content checks, else 201; never 5xx)");
    return c.outcome(a.status() == 201 ? "accepted (lenient)" : "refused");
}

Outcome forwarded_coding(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    auto req = ctx.build_push(sub, text("relay"));
    if (!req) return fail(req.error().message);
    c.expect(ctx.send(*req), {201}, "aes128gcm push");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    if (got->empty()) return fail("the message was not delivered");
    if (!got->front().raw)
        return skipped("the user agent adapter sees only decrypted text, not bytes or headers");
    c.check(got->front().headers.get("content-encoding") == std::string("aes128gcm"),
            "delivered without content-encoding aes128gcm");
    c.check(got->front().body == req->body, "body not byte-exact");
    c.check(got->front().plaintext == std::string("relay"), "UA could not decrypt");
    return c.outcome();
}

Outcome empty_ttl0(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    if (auto r = ctx.ua().go_online(sub); !r) return fail("UA online: " + r.error().message);
    PushSpec s;
    s.options.ttl = 0;
    Checker c;
    c.expect(ctx.push(sub, s), {201}, "TTL 0, Content-Length 0, no Content-Encoding");
    auto d = ctx.ua().next(sub, 3000ms);
    ctx.ua().go_offline(sub);
    c.check(d.has_value() && d->body.empty(), "the online UA got no 0-length push");
    return c.outcome();
}

Outcome upper_case_coding(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, edited(text("case"),
                                  [](HttpRequest& r) {
                                      r.headers.set("Content-Encoding", "AES128GCM");
                                  })),
             {201}, "Content-Encoding: AES128GCM");
    return c.outcome();
}

// Sends a request head announcing `announced` octets, writes `sent` and closes (RFC 8188 §4.2).
std::string truncated_push(Context& ctx, const HttpRequest& req, std::size_t sent) {
    auto u = parse_url(req.url).value();
    asio::io_context ioc;
    asio::ssl::context tls(asio::ssl::context::tls_client);
    tls.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<asio::ip::tcp::socket> stream(ioc, tls);
    std::string head = "POST " + u.target + " HTTP/1.1\r\nHost: " + u.authority() + "\r\n";
    for (const auto& [n, v] : req.headers)
        if (n != "Content-Length") head += n + ": " + v + "\r\n";
    head += "Content-Length: " + std::to_string(req.body.size()) + "\r\n\r\n";
    std::string data = head + req.body.substr(0, sent);
    boost::system::error_code ec;
    asio::ip::tcp::resolver resolver(ioc);
    auto eps = resolver.resolve(u.host, std::to_string(u.port), ec);
    if (ec) return ec.message();
    asio::connect(stream.lowest_layer(), eps, ec);
    if (ec) return ec.message();
    if (u.tls()) {
        SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
        stream.handshake(asio::ssl::stream_base::client, ec);
        if (ec) return ec.message();
        asio::write(stream, asio::buffer(data), ec);
        stream.lowest_layer().close();
    } else {
        asio::write(stream.next_layer(), asio::buffer(data), ec);
        stream.next_layer().close();
    }
    ctx.note("POST (Content-Length " + std::to_string(req.body.size()) + ", " +
                 std::to_string(sent) + " octets written, then closed)",
             "(connection closed by the client)");
    return "";
}

Outcome truncated(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto req = ctx.build_push(sub, sized_push(200, "cut"));
    if (!req) return fail(req.error().message);
    if (auto e = truncated_push(ctx, *req, 100); !e.empty()) return fail("raw request: " + e);
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    return got->empty() ? pass() : fail("a truncated body was stored and delivered");
}

Outcome aesgcm_relayed(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto req = ctx.build_push(sub, text("legacy", ContentEncoding::aesgcm));
    if (!req) return fail(req.error().message);
    Checker c;
    c.expect(ctx.send(*req), {201}, "aesgcm push");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    if (got->empty()) return fail("the message was not delivered");
    const auto& d = got->front();
    if (!d.raw)
        return skipped("the user agent adapter sees only decrypted text, not bytes or headers");
    auto salt = req->headers.get("Encryption").value_or("");
    auto dh = req->headers.get("Crypto-Key").value_or("");
    dh = dh.substr(0, dh.find(';'));
    c.check(d.headers.get("content-encoding") == std::string("aesgcm"), "coding not aesgcm");
    c.check(d.headers.get("encryption").value_or("").find(salt.substr(5)) != std::string::npos,
            "Encryption salt not relayed");
    c.check(d.headers.get("crypto-key").value_or("").find(dh.substr(3)) != std::string::npos,
            "Crypto-Key dh not relayed");
    c.check(d.plaintext == std::string("legacy"), "UA could not decrypt");
    return c.outcome();
}

Outcome aesgcm_missing_headers(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, edited(text("x", ContentEncoding::aesgcm),
                                  [](HttpRequest& r) { r.headers.remove("Encryption"); })),
             {400}, "aesgcm without Encryption");
    c.expect(ctx.push(sub, edited(text("x", ContentEncoding::aesgcm),
                                  [](HttpRequest& r) { r.headers.set("Encryption", "rs=4096"); })),
             {400}, "aesgcm Encryption without salt");
    return c.outcome();
}

Outcome aesgcm_twice(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, edited(text("x", ContentEncoding::aesgcm),
                                  [](HttpRequest& r) {
                                      r.headers.set("Content-Encoding", "aesgcm, aesgcm");
                                  })),
             {400, 415}, "Content-Encoding: aesgcm, aesgcm");
    return c.outcome();
}

Outcome aesgcm_rs(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, edited(text("x", ContentEncoding::aesgcm),
                                  [](HttpRequest& r) {
                                      r.headers.set(
                                          "Encryption",
                                          r.headers.get("Encryption").value() + ";rs=4096");
                                  })),
             {201}, "Encryption: salt=…;rs=4096");
    return c.outcome();
}

}  // namespace

void register_encryption(Registry& r) {
    r.push_back({"R8291-2-a", Level::impl, "core",
                 "aes128gcm needs no Encryption/Crypto-Key headers", no_extra_headers});
    r.push_back({"R8291-2.1-a", Level::must, "control",
                 "in-service subscription keys only over TLS or loopback", keys_channel});
    r.push_back({"R8291-3.1-a", Level::impl, "control",
                 "in-service UA: one P-256 key pair per subscription",
                 [](Context& c) { return in_service_keys(c, false); }});
    r.push_back({"R8291-3.2-a", Level::must, "control",
                 "in-service UA: 16 random auth octets per subscription",
                 [](Context& c) { return in_service_keys(c, true); }});
    r.push_back({"R8291-3.3-a", Level::impl, "control",
                 "in-service UA decrypts aes128gcm (TTL 0 included)",
                 [](Context& c) { return double_decrypts(c, ContentEncoding::aes128gcm, false); }});
    r.push_back({"R8291-4-e", Level::must_not, "core",
                 "other or repeated codings refused (400/415) or accepted, never 5xx",
                 [](Context& c) {
                     return body_policy(c, "Content-Encoding: aes128gcm, gzip",
                                        edited(text("x"), [](HttpRequest& r) {
                                            r.headers.set("Content-Encoding", "aes128gcm, gzip");
                                        }));
                 }});
    r.push_back({"R8291-4-f", Level::must, "control",
                 "in-service UA reports an undecryptable body, not a message",
                 [](Context& c) { return double_decrypts(c, ContentEncoding::aes128gcm, true); }});
    r.push_back({"R8291-7-a", Level::must, "delivery", "Content-Encoding relayed; body byte-exact",
                 forwarded_coding});
    r.push_back({"R8291-X-a", Level::impl, "core",
                 "unencrypted non-empty body: 400 (strict content) or 201", [](Context& c) {
                     PushSpec s;
                     s.mutate = [](HttpRequest& r) { r.body = "plain text"; };
                     return body_policy(c, "10-octet body without Content-Encoding", s);
                 }});
    r.push_back({"R8291-X-b", Level::impl, "delivery",
                 "body-less TTL-0 push accepted and delivered as 0 octets", empty_ttl0});
    r.push_back({"R8291-X-c", Level::impl, "core", "aes128gcm + Crypto-Key: p256ecdsa accepted",
                 [](Context& c) {
                     auto k = c.vapid_key().public_base64url();
                     auto sub = new_sub(c);
                     if (!sub) return fail(sub.error().message);
                     Checker ch;
                     ch.expect(c.push(*sub, edited(text("java"),
                                                   [k](HttpRequest& r) {
                                                       r.headers.set("Crypto-Key",
                                                                     "p256ecdsa=" + k);
                                                   })),
                               {201}, "aes128gcm + Crypto-Key: p256ecdsa");
                     return ch.outcome();
                 }});
    r.push_back(
        {"R8188-2-a", Level::impl, "core", "coding names are case-insensitive", upper_case_coding});
    r.push_back({"R8188-2.1-a", Level::impl, "core",
                 "a body shorter than the aes128gcm header: 400 or 201, never 5xx", [](Context& c) {
                     return body_policy(
                         c, "10-octet aes128gcm body",
                         edited(text("x"), [](HttpRequest& r) { r.body = r.body.substr(0, 10); }));
                 }});
    r.push_back({"R8188-2.1-d", Level::should, "core", "binary keyid accepted", no_extra_headers});
    r.push_back({"R8188-4.2-a", Level::must_not, "delivery",
                 "a truncated request body is never stored or delivered", truncated});
    r.push_back({"RENC04-2-a", Level::impl, "delivery", "aesgcm: salt and dh relayed to the UA",
                 aesgcm_relayed});
    r.push_back({"RENC04-3.1-a", Level::impl, "core", "aesgcm without salt -> 400",
                 aesgcm_missing_headers});
    r.push_back({"RENC04-3.4-a", Level::impl, "control",
                 "in-service UA decrypts aesgcm (TTL 0 included)",
                 [](Context& c) { return double_decrypts(c, ContentEncoding::aesgcm, false); }});
    r.push_back({"RENC04-4-c", Level::must_not, "core", "aesgcm, aesgcm -> 400", aesgcm_twice});
    r.push_back(
        {"RENC04-4-f", Level::may, "core", "extra Encryption params (rs) tolerated", aesgcm_rs});
    r.push_back({"RENC04-X-a", Level::impl, "core", "a 10-octet aesgcm body: 400 or 201, never 5xx",
                 [](Context& c) {
                     return body_policy(
                         c, "10-octet aesgcm body",
                         edited(text("x", ContentEncoding::aesgcm),
                                [](HttpRequest& r) { r.body = r.body.substr(0, 10); }));
                 }});
}

}  // namespace conformance
