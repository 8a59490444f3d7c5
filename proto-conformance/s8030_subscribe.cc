// RFC 8030 §3 (connecting: TLS, Alt-Svc), §4 (subscribing) and §4.1 (subscription sets).
// Checklist rows R8030-3-*, R8030-4-*, R8030-4.1-*.

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

#include "proto-conformance/checks.h"
#include "tools/client/link_header.h"
#include "tools/client/url.h"

namespace conformance {
namespace {

namespace asio = boost::asio;

struct TlsProbe {
    bool connected = false;
    std::string alpn;
    std::string error;
};

// One TLS handshake limited to [min_version, max_version], offering `alpn` (wire format).
TlsProbe tls_probe(const Url& url, int min_version, int max_version, const std::string& alpn,
                   std::chrono::milliseconds timeout) {
    TlsProbe out;
    asio::io_context ioc;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    SSL_CTX* native = ctx.native_handle();
    SSL_CTX_set_security_level(native, 0);  // let the client offer old versions on purpose
    SSL_CTX_set_min_proto_version(native, min_version);
    SSL_CTX_set_max_proto_version(native, max_version);
    SSL_CTX_set_cipher_list(native, "ALL:@SECLEVEL=0");
    ctx.set_verify_mode(asio::ssl::verify_none);
    asio::ssl::stream<asio::ip::tcp::socket> stream(ioc, ctx);
    SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str());
    SSL_set_alpn_protos(stream.native_handle(), reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
    asio::ip::tcp::resolver resolver(ioc);
    boost::system::error_code result = asio::error::timed_out;
    resolver.async_resolve(
        url.host, std::to_string(url.port), [&](boost::system::error_code ec, auto endpoints) {
            if (ec) return void(result = ec);
            asio::async_connect(
                stream.lowest_layer(), endpoints, [&](boost::system::error_code ec2, const auto&) {
                    if (ec2) return void(result = ec2);
                    stream.async_handshake(asio::ssl::stream_base::client,
                                           [&](boost::system::error_code ec3) { result = ec3; });
                });
        });
    ioc.run_for(timeout);
    if (!result) {
        out.connected = true;
        const unsigned char* p = nullptr;
        unsigned n = 0;
        SSL_get0_alpn_selected(stream.native_handle(), &p, &n);
        if (p) out.alpn.assign(reinterpret_cast<const char*>(p), n);
    } else {
        out.error = result.message();
    }
    return out;
}

Outcome tls_profile(Context& ctx) {
    if (!ctx.target_tls())
        return skipped(
            "target is cleartext (http:); RFC 8030 §3 needs https (a plaintext "
            "listener is a test-only deviation)");
    auto url = parse_url(ctx.origin()).value();
    Checker c;
    const std::string both = std::string("\x02h2\x08http/1.1", 12);
    const std::string h1 = std::string("\x08http/1.1", 9);
    auto t12 = tls_probe(url, TLS1_2_VERSION, TLS1_2_VERSION, both, ctx.options().net.timeout);
    auto t13 = tls_probe(url, TLS1_3_VERSION, TLS1_3_VERSION, both, ctx.options().net.timeout);
    auto t10 = tls_probe(url, TLS1_VERSION, TLS1_VERSION, h1, ctx.options().net.timeout);
    auto t11 = tls_probe(url, TLS1_1_VERSION, TLS1_1_VERSION, h1, ctx.options().net.timeout);
    auto only_h1 = tls_probe(url, TLS1_2_VERSION, TLS1_3_VERSION, h1, ctx.options().net.timeout);
    c.check(t12.connected || t13.connected,
            "no TLS 1.2 or 1.3 handshake (" + t12.error + " / " + t13.error + ")");
    c.check(!t10.connected, "TLS 1.0 handshake succeeded");
    c.check(!t11.connected, "TLS 1.1 handshake succeeded");
    c.check((t13.connected ? t13.alpn : t12.alpn) == "h2",
            "ALPN offering h2,http/1.1 selected '" + (t13.connected ? t13.alpn : t12.alpn) + "'");
    c.check(only_h1.alpn == "http/1.1", "ALPN offering http/1.1 selected '" + only_h1.alpn + "'");
    ctx.note("TLS probes: 1.2, 1.3 (ALPN h2,http/1.1), 1.0, 1.1, ALPN http/1.1 only",
             std::string("1.2 ") + (t12.connected ? "ok" : "refused") + ", 1.3 " +
                 (t13.connected ? "ok alpn=" + t13.alpn : "refused") + ", 1.0 " +
                 (t10.connected ? "ok" : "refused") + ", 1.1 " +
                 (t11.connected ? "ok" : "refused") + ", h1-only alpn=" + only_h1.alpn);
    return c.outcome("TLS 1.2/1.3 only; ALPN h2 and http/1.1");
}

Outcome alt_svc(Context& ctx) {
    auto a = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    auto alt = a.header("alt-svc");
    if (!alt) return not_applicable("no Alt-Svc advertised");
    if (alt->find(":1001") == std::string::npos)
        return fail("Alt-Svc does not name port 1001: " + *alt);
    return pass();
}

Outcome subscribe_201(Context& ctx) {
    Checker c;
    c.expect(ctx.send(make_subscribe_request(ctx.subscribe_url())), {201}, "POST /subscribe");
    return c.outcome();
}

Outcome subscribe_location(Context& ctx) {
    auto a = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    auto b = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    Checker c;
    c.expect(a, {201}, "first subscribe");
    c.expect(b, {201}, "second subscribe");
    if (!c.ok()) return c.outcome();
    auto la = a.header("location"), lb = b.header("location");
    c.check(la && lb, "201 without Location");
    if (la && lb) {
        c.check(*la != *lb, "two subscriptions got the same Location");
        auto abs = resolve_url(ctx.subscribe_url(), *la);
        c.check(abs && abs->starts_with("https://"),
                "Location does not resolve to an https URI: " + *la);
    }
    return c.outcome();
}

Outcome subscribe_link(Context& ctx) {
    auto a = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    Checker c;
    if (!c.expect(a, {201}, "subscribe")) return c.outcome();
    auto links = find_links(a.response->headers.get_all("link"), kRelPush);
    c.check(links.size() == 1, "expected exactly one Link rel=\"urn:ietf:params:push\", got " +
                                   std::to_string(links.size()));
    if (links.size() != 1) return c.outcome();
    auto push = resolve_url(ctx.subscribe_url(), links[0]);
    if (!push) return fail("push Link does not resolve: " + links[0]);
    HttpRequest req;
    req.method = "POST";
    req.url = *push;
    req.headers.add("TTL", "60");
    c.expect(ctx.send(req), {201}, "PUSH(P) to the linked push resource");
    return c.outcome();
}

// RFC 8030 §4.1: the set link of a fresh subscription, if the service offers sets.
std::optional<std::string> set_of(Context& ctx) {
    auto a = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    if (a.status() != 201) return std::nullopt;
    auto sets = find_links(a.response->headers.get_all("link"), kRelPushSet);
    if (sets.empty()) return std::nullopt;
    return or_else(resolve_url(ctx.subscribe_url(), sets[0]), sets[0]);
}

Outcome set_monitor(Context& ctx) {
    auto set = set_of(ctx);
    if (!set) return not_applicable("the service returns no subscription set (optional)");
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(*set); !r) return fail("HTTP/2 connect: " + r.error().message);
    auto id = h2.submit(make_monitor_request(*set, true));
    if (!id) return fail(id.error().message);
    auto r = h2.wait_response(*id, std::chrono::milliseconds(5000));
    if (!r) return fail("MON(SET) with Prefer: wait=0: " + r.error().message);
    ctx.note("GET <set> (Prefer: wait=0) HTTP/2", render_response(*r));
    if (r->status != 204 && r->status != 200)
        return fail("MON(SET) answered " + std::to_string(r->status));
    return pass();
}

Outcome set_named(Context& ctx, bool check_echo) {
    auto set = set_of(ctx);
    if (!set) return not_applicable("the service returns no subscription set (optional)");
    Checker c;
    for (const std::string& form : {*set, path_of(*set)}) {
        SubscribeOptions so;
        so.set_url = form;
        auto a = ctx.send(make_subscribe_request(ctx.subscribe_url(), so));
        if (!c.expect(a, {201}, "subscribe naming the set as <" + shorten(form, 30) + ">"))
            continue;
        if (check_echo) {
            auto sets = find_links(a.response->headers.get_all("link"), kRelPushSet);
            auto got = sets.empty() ? std::string()
                                    : or_else(resolve_url(ctx.subscribe_url(), sets[0]), "");
            c.check(got == *set, "answer names another set: " + shorten(got, 60));
        }
    }
    return c.outcome();
}

Outcome set_invalid(Context& ctx) {
    Checker c;
    for (const std::string& bad : {ctx.origin() + "/set/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                   std::string("not a uri at all")}) {
        HttpRequest req = make_subscribe_request(ctx.subscribe_url());
        req.headers.add("Link", "<" + bad + ">; rel=\"urn:ietf:params:push:set\"");
        c.expect(ctx.send(req), {400}, "subscribe naming an unknown set <" + bad + ">");
    }
    return c.outcome();
}

Outcome set_omitted(Context& ctx) {
    Checker c;
    c.expect(ctx.send(make_subscribe_request(ctx.subscribe_url())), {201, 429},
             "subscribe without a set");
    return c.outcome();
}

}  // namespace

void register_8030_subscribe(Registry& r) {
    r.push_back({"R8030-3-a", Level::must, "core", "HTTPS with TLS >= 1.2 only; ALPN h2 + http/1.1",
                 tls_profile});
    r.push_back({"R8030-3-b", Level::may, "core", "Alt-Svc, if sent, names port 1001", alt_svc});
    r.push_back(
        {"R8030-4-a", Level::impl, "core", "POST to the subscribe resource -> 201", subscribe_201});
    r.push_back({"R8030-4-b", Level::must, "core", "201 carries a unique https Location",
                 subscribe_location});
    r.push_back({"R8030-4-c", Level::must, "core", "201 carries one Link rel=urn:ietf:params:push",
                 subscribe_link});
    r.push_back(
        {"R8030-4.1-a", Level::may, "sets", "a returned set can be monitored", set_monitor});
    r.push_back({"R8030-4.1-b", Level::should, "sets",
                 "subscribe naming a set (absolute and relative) -> 201",
                 [](Context& c) { return set_named(c, false); }});
    r.push_back({"R8030-4.1-c", Level::may, "core", "subscribe without a set -> 201", set_omitted});
    r.push_back({"R8030-4.1-d", Level::should, "sets", "the named set is returned again",
                 [](Context& c) { return set_named(c, true); }});
    r.push_back(
        {"R8030-4.1-e", Level::must, "sets", "an invalid set in the request -> 400", set_invalid});
}

}  // namespace conformance
