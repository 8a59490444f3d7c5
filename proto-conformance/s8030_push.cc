// RFC 8030 §5 (requesting delivery), §5.1 (receipts) and §5.2 (TTL).
// Checklist rows R8030-5-*, R8030-5.1-*, R8030-5.2-*.

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

using namespace std::chrono_literals;

PushSpec with_header(std::string name, std::string value) {
    PushSpec s;
    s.mutate = [name, value](HttpRequest& r) { r.headers.set(name, value); };
    return s;
}

PushSpec without_ttl() {
    PushSpec s;
    s.options.ttl.reset();
    return s;
}

Outcome tickle(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub), {201}, "PUSH(P, TTL: 60, Content-Length: 0)");
    return c.outcome();
}

Outcome push_location(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub), b = ctx.push(sub);
    Checker c;
    c.expect(a, {201}, "first push");
    c.expect(b, {201}, "second push");
    if (!c.ok()) return c.outcome();
    auto la = a.header("location"), lb = b.header("location");
    c.check(la && lb, "201 without Location");
    if (la && lb) c.check(*la != *lb, "two messages got the same Location");
    return c.outcome();
}

Outcome accepted_not_delivered(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));  // no user agent is online
    Checker c;
    c.expect(ctx.push(sub), {201}, "push while no user agent monitors");
    return c.outcome();
}

// ---- §5.1 receipts ----------------------------------------------------------------------

Answer receipt_push(Context& ctx, const UaSubscription& sub, const std::string& prefer,
                    const std::string& receipt_link = {}) {
    PushSpec s;
    s.mutate = [prefer, receipt_link](HttpRequest& r) {
        r.headers.add("Prefer", prefer);
        if (!receipt_link.empty())
            r.headers.add("Link", "<" + receipt_link + ">; rel=\"urn:ietf:params:push:receipt\"");
    };
    return ctx.push(sub, s);
}

std::optional<std::string> receipt_link_of(Context& ctx, const Answer& a, const std::string& base) {
    if (!a.response) return std::nullopt;
    auto links = find_links(a.response->headers.get_all("link"), kRelPushReceipt);
    if (links.empty()) return std::nullopt;
    (void)ctx;
    return or_else(resolve_url(base, links[0]), links[0]);
}

Outcome receipts_supported(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = receipt_push(ctx, sub, "respond-async");
    if (a.status() == 201) return fail("Prefer: respond-async silently answered 201");
    Checker c;
    c.expect(a, {202}, "PUSH(Prefer: respond-async)");
    return c.outcome();
}

Outcome receipts_202(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    for (const char* p : {"respond-async", "respond-async, wait=5", "RESPOND-ASYNC"})
        c.expect(receipt_push(ctx, sub, p), {202}, std::string("Prefer: ") + p);
    return c.outcome();
}

Outcome receipts_location(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = receipt_push(ctx, sub, "respond-async");
    Checker c;
    if (!c.expect(a, {202}, "PUSH(Prefer: respond-async)")) return c.outcome();
    c.check(a.header("location").has_value(), "202 without Location");
    return c.outcome();
}

Outcome receipts_link(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = receipt_push(ctx, sub, "respond-async");
    Checker c;
    if (!c.expect(a, {202}, "PUSH(Prefer: respond-async)")) return c.outcome();
    auto r = receipt_link_of(ctx, a, sub.push_url);
    if (!r) return fail("202 without Link rel=\"urn:ietf:params:push:receipt\"");
    Http2Client h2(ctx.options().net);
    if (auto cr = h2.connect(*r); !cr) return fail("HTTP/2 connect: " + cr.error().message);
    auto id = h2.submit(make_monitor_request(*r));
    if (!id) return fail(id.error().message);
    h2.poll(1000ms);
    ctx.note("GET <receipt subscription> HTTP/2", h2.stream_open(*id) ? "(held open)" : "closed");
    if (!h2.stream_open(*id)) {
        auto resp = h2.wait_response(*id, 100ms);
        return fail("RCPT(R) was not held open" +
                    (resp ? ": answered " + std::to_string(resp->status) : std::string()));
    }
    return pass();
}

Outcome receipts_reuse(Context& ctx, bool check_echo) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = receipt_push(ctx, sub, "respond-async");
    Checker c;
    if (!c.expect(a, {202}, "first PUSH(Prefer: respond-async)")) return c.outcome();
    auto r = receipt_link_of(ctx, a, sub.push_url);
    if (!r) return fail("202 without a receipt Link");
    auto b = receipt_push(ctx, sub, "respond-async", *r);
    if (!c.expect(b, {202}, "second push naming the receipt subscription")) return c.outcome();
    if (check_echo) {
        auto r2 = receipt_link_of(ctx, b, sub.push_url);
        c.check(r2 && *r2 == *r, "the answer names another receipt subscription");
    }
    return c.outcome();
}

Outcome receipts_without_link(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = receipt_push(ctx, sub, "respond-async");
    Checker c;
    if (!c.expect(a, {202}, "PUSH(Prefer: respond-async) without a receipt Link"))
        return c.outcome();
    c.check(receipt_link_of(ctx, a, sub.push_url).has_value(), "202 without a new receipt Link");
    return c.outcome();
}

Outcome receipts_invalid(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(receipt_push(ctx, sub, "respond-async",
                          ctx.origin() + "/receipt/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
             {400}, "push naming an unknown receipt subscription");
    return c.outcome();
}

Outcome push_receipt_header(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, with_header("Push-Receipt", ctx.origin() + "/receipt/x"));
    Checker c;
    c.expect(a, {201, 400}, "draft-02 Push-Receipt header alone (not a receipt request)");
    return c.outcome();
}

// ---- §5.2 TTL ---------------------------------------------------------------------------

Outcome ttl_missing(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, without_ttl()), {400}, "push without TTL");
    return c.outcome();
}

Outcome ttl_grammar(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    for (const char* bad : {"-1", "abc", "1.5", "0x10", ""})
        c.expect(ctx.push(sub, with_header("TTL", bad)), {400}, std::string("TTL: '") + bad + "'");
    c.expect(ctx.push(sub, with_header("TTL", "0")), {201}, "TTL: 0");
    return c.outcome();
}

Outcome ttl_31_bits(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, with_header("TTL", "2147483647")), {201}, "TTL: 2147483647");
    return c.outcome();
}

std::optional<long long> response_ttl(const Answer& a) {
    auto t = a.header("ttl");
    if (!t) return std::nullopt;
    try {
        return std::stoll(*t);
    } catch (...) {
        return -1;
    }
}

Outcome ttl_overflow(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, with_header("TTL", "99999999999999999999"));
    Checker c;
    if (!c.expect(a, {201}, "TTL: 99999999999999999999 (treated as 2^31, not rejected)"))
        return c.outcome();
    auto t = response_ttl(a);
    c.check(!t || (*t >= 0 && *t <= 2147483648LL),
            "response TTL " + a.header("ttl").value_or("") + " exceeds 2^31");
    return c.outcome();
}

Outcome ttl_capped(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, with_header("TTL", "2147483647"));
    Checker c;
    if (!c.expect(a, {201}, "TTL: 2147483647")) return c.outcome();
    auto t = response_ttl(a);
    if (!t) return not_applicable("no TTL response header: the service keeps what was asked");
    if (*t == 2147483647) return not_applicable("the service keeps TTL 2147483647");
    c.check(*t >= 0 && *t < 2147483647, "response TTL not a smaller non-negative value");
    return c.outcome("kept for TTL " + std::to_string(*t));
}

Outcome ttl_never_larger(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    for (long long asked : {0LL, 1LL, 60LL, 2147483647LL}) {
        auto a = ctx.push(sub, with_header("TTL", std::to_string(asked)));
        if (!c.expect(a, {201}, "TTL: " + std::to_string(asked))) continue;
        auto t = response_ttl(a);
        c.check(!t || (*t >= 0 && *t <= asked), "asked TTL " + std::to_string(asked) +
                                                    ", response TTL " +
                                                    a.header("ttl").value_or(""));
    }
    return c.outcome();
}

Outcome ttl_expiry(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    if (!c.expect(ctx.push(sub, with_header("TTL", "1")), {201}, "PUSH(TTL: 1), no UA"))
        return c.outcome();
    let_time_pass(ctx, 2200);
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->empty(),
            std::to_string(got->size()) + " message(s) delivered after the TTL ran out");
    return c.outcome();
}

Outcome ttl_zero(Context& ctx) {
    CONF_TRY(online, new_sub(ctx));
    if (auto r = ctx.ua().go_online(online); !r) return fail("UA online: " + r.error().message);
    PushSpec spec = with_header("TTL", "0");
    spec.payload = "ttl zero";
    Checker c;
    c.expect(ctx.push(online, spec), {201}, "TTL 0 push, UA online");
    auto d = ctx.ua().next(online, 3000ms);
    c.check(d.has_value() && d->plaintext == std::string("ttl zero"),
            "(a) the online UA did not receive the TTL-0 message");
    ctx.ua().go_offline(online);
    CONF_TRY(offline, new_sub(ctx));
    c.expect(ctx.push(offline, spec), {201}, "TTL 0 push, no UA");
    CONF_TRY(got, ctx.ua().drain(offline, {}));
    c.check(got->empty(), "(b) a TTL-0 message sent while offline was delivered later");
    return c.outcome();
}

Outcome ttl_zero_ack(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, with_header("TTL", "0"));
    Checker c;
    if (!c.expect(a, {201}, "TTL 0 push")) return c.outcome();
    auto loc = a.header("location");
    if (!loc) return not_applicable("no Location to delete");
    HttpRequest del = make_ack_request(or_else(resolve_url(sub.push_url, *loc), *loc));
    c.expect(ctx.send(del), {204, 404, 200}, "DELETE on a purged TTL-0 message");
    return c.outcome();
}

}  // namespace

void register_8030_push(Registry& r) {
    r.push_back({"R8030-5-a", Level::impl, "core", "body-less push (TTL 60) -> 201", tickle});
    r.push_back({"R8030-5-b", Level::must, "core", "201 with a Location unique per message",
                 push_location});
    r.push_back(
        {"R8030-5-c", Level::info, "core", "201 even when no UA monitors", accepted_not_delivered});
    r.push_back({"R8030-5.1-a", Level::must, "receipts",
                 "Prefer: respond-async honoured, not silently 201", receipts_supported});
    r.push_back({"R8030-5.1-b", Level::must, "receipts",
                 "receipt request -> 202 (also with wait=5, any case)", receipts_202});
    r.push_back(
        {"R8030-5.1-c", Level::must, "receipts", "the 202 carries Location", receipts_location});
    r.push_back({"R8030-5.1-d", Level::must, "receipts",
                 "the 202 links a receipt subscription that can be monitored", receipts_link});
    r.push_back({"R8030-5.1-e", Level::should, "receipts",
                 "a push naming the receipt subscription -> 202",
                 [](Context& c) { return receipts_reuse(c, false); }});
    r.push_back({"R8030-5.1-f", Level::should, "receipts",
                 "the named receipt subscription is echoed",
                 [](Context& c) { return receipts_reuse(c, true); }});
    r.push_back({"R8030-5.1-g", Level::may, "receipts",
                 "receipt request without a Link -> 202 with a new one", receipts_without_link});
    r.push_back({"R8030-5.1-h", Level::must, "receipts", "an invalid receipt subscription -> 400",
                 receipts_invalid});
    r.push_back({"R8030-5.1-j", Level::info, "core",
                 "draft Push-Receipt header does not turn on receipts", push_receipt_header});
    r.push_back({"R8030-5.2-b", Level::must, "core", "push without TTL -> 400", ttl_missing});
    r.push_back(
        {"R8030-5.2-c", Level::impl, "core", "TTL grammar 1*DIGIT; TTL 0 -> 201", ttl_grammar});
    r.push_back({"R8030-5.2-d", Level::should, "core", "TTL 2147483647 -> 201", ttl_31_bits});
    r.push_back({"R8030-5.2-e", Level::must, "core",
                 "an unrepresentable TTL is treated as 2^31, not rejected", ttl_overflow});
    r.push_back(
        {"R8030-5.2-f", Level::may, "core", "a capped TTL is announced in TTL", ttl_capped});
    r.push_back({"R8030-5.2-g", Level::must, "core", "response TTL never exceeds the request",
                 ttl_never_larger});
    r.push_back({"R8030-5.2-h", Level::must_not, "delivery", "no delivery once the TTL ran out",
                 ttl_expiry});
    r.push_back({"R8030-5.2-i", Level::info, "delivery",
                 "TTL 0: delivered to an online UA, dropped otherwise", ttl_zero});
    r.push_back({"R8030-5.2-j", Level::info, "core",
                 "ack of a purged TTL-0 message is 204/404, never 5xx", ttl_zero_ack});
}

}  // namespace conformance
