// RFC 8030 §6 (receiving messages by monitoring a subscription over HTTP/2), §6.1 (sets),
// §6.2 (acknowledgement) and §6.3 (receipts). Checklist rows R8030-6-*, R8030-6.1-*,
// R8030-6.2-*, R8030-6.3-*.

#include "proto-conformance/checks.h"
#include "proto-conformance/s8030_sets.h"

namespace conformance {
namespace {

using namespace std::chrono_literals;

PushSpec payload(std::string text) {
    PushSpec s;
    s.payload = std::move(text);
    return s;
}

// A monitored RFC 8030 subscription and one message pushed to it while monitored.
struct Live {
    UaSubscription sub;
    Answer pushed;
    std::optional<Delivered> got;
};

Result<Live> live_push(Context& ctx, const std::string& text) {
    auto sub = ctx.monitor().subscribe({});
    if (!sub) return sub.error();
    if (auto r = ctx.monitor().go_online(*sub); !r) return r.error();
    Live l{*sub, ctx.push(*sub, payload(text)), std::nullopt};
    auto d = ctx.monitor().next(*sub, 3000ms);
    if (d) l.got = *d;
    ctx.monitor().go_offline(*sub);
    return l;
}

Outcome pushed_on_monitor(Context& ctx) {
    CONF_TRY(l, live_push(ctx, "live"));
    Checker c;
    c.expect(l->pushed, {201}, "PUSH while MON(S) is open");
    c.check(l->got.has_value(), "no PUSH_PROMISE on the monitoring stream within 3 s");
    return c.outcome();
}

Outcome promise_path(Context& ctx) {
    CONF_TRY(l, live_push(ctx, "path"));
    if (!l->got) return fail("no server push arrived");
    Checker c;
    auto loc = l->pushed.header("location");
    c.check(loc && path_of(or_else(resolve_url(l->sub.push_url, *loc), "")) == l->got->id,
            "pushed :path " + l->got->id + " differs from the sender's Location " +
                loc.value_or("(none)"));
    return c.outcome();
}

Outcome pushed_link(Context& ctx) {
    CONF_TRY(l, live_push(ctx, "link"));
    if (!l->got) return fail("no server push arrived");
    auto links = find_links(l->got->headers.get_all("link"), kRelPush);
    if (links.empty()) return fail("pushed response without Link rel=\"urn:ietf:params:push\"");
    auto abs = or_else(resolve_url(l->sub.push_url, links[0]), links[0]);
    if (abs != l->sub.push_url) return fail("pushed Link names " + shorten(abs, 60));
    return pass();
}

Outcome byte_exact(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    std::vector<std::size_t> sizes = {0, 103, 4096};
    std::vector<std::string> sent;
    for (auto n : sizes) {
        PushSpec s = n == 0 ? PushSpec{} : sized_push(n, n == 103 ? "" : "x");
        if (n == 103) s.options.encryption.padding = 0;
        auto req = ctx.build_push(sub, s);
        if (!req) return fail(req.error().message);
        c.expect(ctx.send(*req), {201}, std::to_string(n) + "-octet body");
        sent.push_back(req->body);
    }
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    for (const auto& d : *got)
        if (!d.raw) return skipped("the user agent adapter sees only decrypted text, not bytes");
    c.check(got->size() == sizes.size(), "delivered " + std::to_string(got->size()) + " of 3");
    for (std::size_t i = 0; i < got->size() && i < sent.size(); ++i)
        c.check((*got)[i].body == sent[i], "message " + std::to_string(i) + " (" +
                                               std::to_string(sent[i].size()) +
                                               " octets) not delivered byte-exact");
    return c.outcome();
}

Outcome wait_zero(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    Checker c;
    for (const char* t : {"one", "two", "three"})
        c.expect(ctx.push(sub, payload(t)), {201}, std::string("store ") + t);
    CONF_TRY(got, ctx.monitor().drain(sub, {}));
    c.check(got->size() == 3, "DRAIN(S) pushed " + std::to_string(got->size()) + " of 3");
    return c.outcome();
}

Outcome empty_204(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(sub.subscription_url); !r) return fail(r.error().message);
    auto req = make_monitor_request(sub.subscription_url, true);
    auto resp = h2.request(req);
    if (!resp) return fail("DRAIN(S): " + resp.error().message);
    ctx.note(render_request(req, HttpVersion::http2), render_response(*resp));
    if (resp->status != 204)
        return fail("DRAIN(S) on an empty subscription answered " + std::to_string(resp->status));
    return pass();
}

Outcome pushed_headers(Context& ctx) {
    CONF_TRY(l, live_push(ctx, "headers"));
    if (!l->got) return fail("no server push arrived");
    Checker c;
    for (const char* h : {"date", "last-modified", "cache-control", "content-length"})
        c.check(has_header(*l->got, h), std::string("pushed response without ") + h);
    return c.outcome();
}

// ---- §6.2 acknowledgement ---------------------------------------------------------------

Outcome ack_delete(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, payload("ack me"));
    Checker c;
    if (!c.expect(a, {201}, "push")) return c.outcome();
    auto loc = a.header("location");
    if (!loc) return fail("201 without Location");
    auto m = or_else(resolve_url(sub.push_url, *loc), *loc);
    c.expect(ctx.send(make_ack_request(m)), {204, 200}, "DELETE M");
    c.expect(ctx.send(make_ack_request(m)), {404}, "second DELETE M (choice A-1)");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->empty(), "a deleted message was still delivered");
    return c.outcome();
}

Outcome redelivered(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    if (!c.expect(ctx.push(sub, payload("again")), {201}, "push")) return c.outcome();
    DrainOptions no_ack;
    no_ack.ack = false;
    CONF_TRY(first, ctx.ua().drain(sub, no_ack));
    CONF_TRY(second, ctx.ua().drain(sub, {}));
    c.check(first->size() == 1, "first connection got " + std::to_string(first->size()));
    c.check(second->size() == 1, "an unacknowledged message was not redelivered");
    if (first->size() == 1 && second->size() == 1)
        c.check((*first)[0].id == (*second)[0].id, "redelivered under another id");
    return c.outcome();
}

Outcome sender_cancel(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, payload("cancel"));
    Checker c;
    if (!c.expect(a, {201}, "push")) return c.outcome();
    auto loc = a.header("location");
    if (!loc) return fail("201 without Location");
    c.expect(ctx.send(make_ack_request(or_else(resolve_url(sub.push_url, *loc), *loc))), {204, 200},
             "sender DELETE Location before the UA connects");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->empty(), "a cancelled message was delivered");
    return c.outcome();
}

// ---- §6.2 / §6.3 receipts ---------------------------------------------------------------

Outcome receipt_delivered(Context& ctx, bool check_shape) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    PushSpec s = payload("receipt");
    s.mutate = [](HttpRequest& r) { r.headers.add("Prefer", "respond-async"); };
    auto a = ctx.push(sub, s);
    Checker c;
    if (!c.expect(a, {202}, "PUSH(Prefer: respond-async)")) return c.outcome();
    auto links = find_links(a.response->headers.get_all("link"), kRelPushReceipt);
    auto loc = a.header("location");
    if (links.empty() || !loc) return fail("202 without receipt Link or Location");
    auto r = or_else(resolve_url(sub.push_url, links[0]), links[0]);
    Http2Client as(ctx.options().net);
    if (auto cr = as.connect(r); !cr) return fail(cr.error().message);
    auto id = as.submit(make_monitor_request(r));
    if (!id) return fail(id.error().message);
    as.poll(200ms);
    CONF_TRY(got, ctx.monitor().drain(sub, {}));  // acks with DELETE
    auto receipt = as.wait_push(3000ms);
    if (!receipt) return fail("no receipt pushed on RCPT(R) after the UA's ack");
    ctx.note("(receipt on RCPT(R))",
             ":path " + receipt->path() + " status " + std::to_string(receipt->response.status));
    c.check(receipt->path() == path_of(or_else(resolve_url(sub.push_url, *loc), "")),
            "receipt :path differs from the message resource");
    c.check(receipt->response.status == 204,
            "receipt status " + std::to_string(receipt->response.status));
    if (check_shape) c.check(receipt->response.body.empty(), "receipt carries a body");
    return c.outcome();
}

Outcome receipt_held_open(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    PushSpec s;
    s.mutate = [](HttpRequest& r) { r.headers.add("Prefer", "respond-async"); };
    auto a = ctx.push(sub, s);
    if (a.status() != 202) return fail("PUSH(Prefer: respond-async) answered " + status_text(a));
    auto links = find_links(a.response->headers.get_all("link"), kRelPushReceipt);
    if (links.empty()) return fail("202 without a receipt Link");
    Http2Client as(ctx.options().net);
    auto r = or_else(resolve_url(sub.push_url, links[0]), links[0]);
    if (auto cr = as.connect(r); !cr) return fail(cr.error().message);
    auto id = as.submit(make_monitor_request(r));
    if (!id) return fail(id.error().message);
    as.poll(1000ms);
    return as.stream_open(*id) ? pass() : fail("RCPT(R) got a final response");
}

}  // namespace

// The service gives up a message that asked for a receipt before its TTL (control interface
// "give-up"): RCPT(R) must get a 410 for it (RFC 8030 §6.2, §6.3, §7.2) and the message is no
// longer delivered. `delivered_first`: the UA received it once without acknowledging
// (an unresponsive UA, R8030-6.2-d / 6.3-c); otherwise it is still undelivered (R8030-7.2-f).
Outcome give_up_receipt(Context& ctx, bool delivered_first, bool check_shape) {
    if (!ctx.control() || !ctx.control()->can("give-up"))
        return skipped("needs control interface: give up a delivery / expire a message early");
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    PushSpec s = payload("given up");
    s.mutate = [](HttpRequest& r) { r.headers.add("Prefer", "respond-async"); };
    auto a = ctx.push(sub, s);
    Checker c;
    if (!c.expect(a, {202}, "PUSH(Prefer: respond-async)")) return c.outcome();
    auto links = find_links(a.response->headers.get_all("link"), kRelPushReceipt);
    auto loc = a.header("location");
    if (links.empty() || !loc) return fail("202 without receipt Link or Location");
    auto message = or_else(resolve_url(sub.push_url, *loc), *loc);
    auto r = or_else(resolve_url(sub.push_url, links[0]), links[0]);
    Http2Client as(ctx.options().net);
    if (auto cr = as.connect(r); !cr) return fail(cr.error().message);
    auto id = as.submit(make_monitor_request(r));
    if (!id) return fail(id.error().message);
    as.poll(200ms);
    if (delivered_first) {
        DrainOptions no_ack;
        no_ack.ack = false;
        CONF_TRY(first, ctx.monitor().drain(sub, no_ack));
        c.check(first->size() == 1,
                "the UA got " + std::to_string(first->size()) + " message(s) before the give-up");
    }
    if (auto g = ctx.control()->give_up(message); !g)
        return fail("control give-up: " + g.error().message);
    auto receipt = as.wait_push(3000ms);
    if (!receipt) return fail("no receipt pushed on RCPT(R) after the service gave up");
    ctx.note("(receipt on RCPT(R))", ":path " + receipt->path() + " status " +
                                         std::to_string(receipt->response.status) + ", " +
                                         std::to_string(receipt->response.body.size()) + " octets");
    c.check(receipt->response.status == 410,
            "receipt status " + std::to_string(receipt->response.status) + ", expected 410");
    c.check(receipt->path() == path_of(message), "receipt :path differs from the message resource");
    if (check_shape) c.check(receipt->response.body.empty(), "the 410 receipt carries a body");
    CONF_TRY(later, ctx.monitor().drain(sub, {}));
    c.check(later->empty(), "a given-up message was still delivered");
    return c.outcome();
}

namespace {

Outcome receipt_on_expiry(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    PushSpec s;
    s.mutate = [](HttpRequest& r) {
        r.headers.set("TTL", "1");
        r.headers.add("Prefer", "respond-async");
    };
    auto a = ctx.push(sub, s);
    if (a.status() != 202)
        return fail("PUSH(TTL 1, Prefer: respond-async) answered " + status_text(a));
    auto links = find_links(a.response->headers.get_all("link"), kRelPushReceipt);
    if (links.empty()) return fail("202 without a receipt Link");
    Http2Client as(ctx.options().net);
    auto r = or_else(resolve_url(sub.push_url, links[0]), links[0]);
    if (auto cr = as.connect(r); !cr) return fail(cr.error().message);
    auto id = as.submit(make_monitor_request(r));
    if (!id) return fail(id.error().message);
    let_time_pass(ctx, 2200);
    auto receipt = as.wait_push(5000ms);
    if (!receipt) return fail("no 410 receipt after the message expired (recommended, A-4)");
    return receipt->response.status == 410
               ? pass()
               : fail("receipt status " + std::to_string(receipt->response.status));
}

}  // namespace

void register_8030_receive(Registry& r) {
    r.push_back({"R8030-6-a", Level::impl, "monitor",
                 "messages arrive as server pushes on the monitoring GET", pushed_on_monitor});
    r.push_back({"R8030-6-b", Level::impl, "monitor", "PUSH_PROMISE :path is the sender's Location",
                 promise_path});
    r.push_back({"R8030-6-c", Level::should, "monitor", "pushed response links the push resource",
                 pushed_link});
    r.push_back({"R8030-6-d", Level::impl, "delivery",
                 "delivered body is byte-exact (0, 103, 4096 octets)", byte_exact});
    r.push_back({"R8030-6-e", Level::must, "monitor",
                 "Prefer: wait=0 pushes every stored message then completes", wait_zero});
    r.push_back(
        {"R8030-6-f", Level::impl, "monitor", "DRAIN of an empty subscription -> 204", empty_204});
    r.push_back({"R8030-6-g", Level::info, "monitor",
                 "pushed responses carry date, last-modified, cache-control, content-length",
                 pushed_headers});
    r.push_back({"R8030-6.1-b", Level::impl, "sets", "set monitoring pushes members' messages",
                 set_pushes_live});
    r.push_back({"R8030-6.1-c", Level::must, "sets",
                 "set pushes identify the member's push resource", set_push_links});
    r.push_back(
        {"R8030-6.1-d", Level::must_not, "sets", "urgency threshold on set GET", set_urgency});
    r.push_back({"R8030-6.1-e", Level::must, "sets", "Prefer: wait=0 on a set", set_wait_zero});
    r.push_back({"R8030-6.2-a", Level::must, "delivery",
                 "DELETE M acknowledges: 204, then 404; M is not delivered", ack_delete});
    r.push_back({"R8030-6.2-b", Level::must, "receipts",
                 "ack of a receipt-requested message pushes 204 on the receipt subscription",
                 [](Context& c) { return receipt_delivered(c, false); }});
    r.push_back({"R8030-6.2-c", Level::should, "delivery",
                 "an unacknowledged message is redelivered", redelivered});
    r.push_back({"R8030-6.2-d", Level::must, "receipts",
                 "giving up before expiry reports 410 on the receipt subscription",
                 [](Context& c) { return give_up_receipt(c, true, false); }});
    r.push_back({"R8030-6.2-e", Level::impl, "delivery",
                 "the sender may cancel with DELETE before delivery", sender_cancel});
    r.push_back({"R8030-6.3-a", Level::impl, "receipts", "the receipt GET is held open",
                 receipt_held_open});
    r.push_back({"R8030-6.3-b", Level::impl, "receipts",
                 "a receipt is a pushed 204 with no body for the message URI",
                 [](Context& c) { return receipt_delivered(c, true); }});
    r.push_back({"R8030-6.3-c", Level::must, "receipts",
                 "stopping retries early pushes a 410 receipt",
                 [](Context& c) { return give_up_receipt(c, true, true); }});
    r.push_back({"R8030-6.3-d", Level::impl, "receipts",
                 "natural expiry without ack pushes 410 (recommended)", receipt_on_expiry});
}

}  // namespace conformance
