// RFC 8030 subscription sets: monitoring a set (§6.1) and removing sets and their members
// (§7.3.1). Checklist rows R8030-6.1-b..e and R8030-7.3.1-a..d. Each scenario makes a fresh
// set of two members with RFC 8030 §4 subscribe requests (the second names the set of the
// first, §4.1) so that messages of earlier scenarios never show up. Registered from
// s8030_receive.cc and s8030_operations.cc to keep the report in checklist order.

#include "proto-conformance/s8030_sets.h"

#include <set>

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

using namespace std::chrono_literals;

struct SetOfTwo {
    std::string set;  // absolute URL of the set
    UaSubscription s1, s2;
};

UaSubscription as_ua(const SubscribeResult& s) {
    UaSubscription u;
    u.push_url = s.push_url;
    u.subscription_url = s.subscription_url;
    u.keys = std::make_shared<UserAgentKeys>(UserAgentKeys::generate());
    return u;
}

// Two members of one new set; an Outcome when that cannot be had (n/a: no sets offered).
std::optional<Outcome> make_set(Context& ctx, SetOfTwo& out) {
    auto first = ctx.subscribe();
    if (!first) return fail("subscribe: " + first.error().message);
    if (!first->set_url)
        return not_applicable("the service offers no subscription sets (RFC 8030 §4.1 MAY)");
    out.set = *first->set_url;
    SubscribeOptions so;
    so.set_url = out.set;
    auto second = ctx.subscribe(so);
    if (!second) return fail("subscribe naming the set: " + second.error().message);
    if (second->set_url != out.set)
        return fail("the second member was put in another set: " +
                    shorten(second->set_url.value_or("(none)"), 60));
    out.s1 = as_ua(*first);
    out.s2 = as_ua(*second);
    return std::nullopt;
}

Answer push_to(Context& ctx, const UaSubscription& sub, std::string text,
               std::optional<std::string> urgency = {}) {
    PushSpec s;
    s.payload = std::move(text);
    s.options.urgency = std::move(urgency);
    return ctx.push(sub, s);
}

struct Drained {
    int status = 0;
    std::vector<PushPromise> pushes;
};

// DRAIN(url) over a fresh HTTP/2 connection: `Prefer: wait=0`, every push, the final status.
Result<Drained> drain(Context& ctx, const std::string& url,
                      std::optional<std::string> urgency = {}) {
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(url); !r) return r.error();
    auto req = make_monitor_request(url, true);
    if (urgency) req.headers.add("Urgency", *urgency);
    auto id = h2.submit(req);
    if (!id) return id.error();
    auto res = h2.wait_response(*id, 5000ms);
    if (!res) return res.error();
    Drained out{res->status, {}};
    while (out.pushes.size() < h2.promises_received()) {
        auto p = h2.wait_push(2000ms);
        if (!p) break;
        out.pushes.push_back(std::move(*p));
    }
    std::string got =
        render_response(*res) + "\n" + std::to_string(out.pushes.size()) + " push(es)";
    for (const auto& p : out.pushes)
        got += "\n- " + shorten(p.path(), 24) + " link " +
               shorten(p.response.headers.get("link").value_or("(none)"), 60);
    ctx.note(render_request(req, HttpVersion::http2), got);
    return out;
}

// The push resources the pushed responses link to (RFC 8030 §6.1), resolved.
std::multiset<std::string> sources(const std::string& base, const std::vector<PushPromise>& ps) {
    std::multiset<std::string> out;
    for (const auto& p : ps) {
        auto links = find_links(p.response.headers.get_all("link"), kRelPush);
        out.insert(links.empty() ? std::string("(none)")
                                 : or_else(resolve_url(base, links[0]), links[0]));
    }
    return out;
}

bool can_expire_sets(Context& ctx) { return ctx.control() && ctx.control()->can("expire-set"); }

}  // namespace

Outcome set_pushes_live(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(s.set); !r) return fail("HTTP/2 connect: " + r.error().message);
    auto id = h2.submit(make_monitor_request(s.set));
    if (!id) return fail(id.error().message);
    h2.poll(200ms);
    Checker c;
    c.expect(push_to(ctx, s.s1, "one"), {201}, "PUSH(P1)");
    c.expect(push_to(ctx, s.s2, "two"), {201}, "PUSH(P2)");
    std::vector<PushPromise> got;
    while (got.size() < 2) {
        auto p = h2.wait_push(3000ms);
        if (!p) break;
        got.push_back(std::move(*p));
    }
    ctx.note("(held-open MON(SET))", std::to_string(got.size()) + " push(es)");
    c.check(got.size() == 2,
            "MON(SET) received " + std::to_string(got.size()) + " of 2 pushes within 3 s");
    c.check(h2.stream_open(*id), "MON(SET) got a final response instead of staying open");
    return c.outcome();
}

Outcome set_push_links(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    Checker c;
    c.expect(push_to(ctx, s.s1, "one"), {201}, "PUSH(P1)");
    c.expect(push_to(ctx, s.s2, "two"), {201}, "PUSH(P2)");
    CONF_TRY(d, drain(ctx, s.set));
    auto got = sources(s.set, d->pushes);
    c.check(got == std::multiset<std::string>{s.s1.push_url, s.s2.push_url},
            "pushed Links do not name each member's push resource once (got " +
                std::to_string(got.size()) + " push(es))");
    return c.outcome();
}

Outcome set_urgency(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    Checker c;
    c.expect(push_to(ctx, s.s1, "high", "high"), {201}, "PUSH(P1, Urgency: high)");
    c.expect(push_to(ctx, s.s2, "low", "low"), {201}, "PUSH(P2, Urgency: low)");
    CONF_TRY(high, drain(ctx, s.set, "high"));
    c.check(sources(s.set, high->pushes) == std::multiset<std::string>{s.s1.push_url},
            "DRAIN(SET, Urgency: high) pushed " + std::to_string(high->pushes.size()) +
                " message(s); expected only the high one (from P1)");
    return c.outcome();
}

Outcome set_wait_zero(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    Checker c;
    CONF_TRY(empty, drain(ctx, s.set));
    c.check(empty->status == 204 && empty->pushes.empty(),
            "DRAIN(SET) of an empty set answered " + std::to_string(empty->status) + " with " +
                std::to_string(empty->pushes.size()) + " push(es); expected 204 and none");
    c.expect(push_to(ctx, s.s1, "one"), {201}, "PUSH(P1)");
    c.expect(push_to(ctx, s.s2, "two"), {201}, "PUSH(P2)");
    CONF_TRY(full, drain(ctx, s.set));
    c.check(full->pushes.size() == 2,
            "DRAIN(SET) pushed " + std::to_string(full->pushes.size()) + " of 2 stored messages");
    c.check(full->status / 100 == 2, "DRAIN(SET) ended with " + std::to_string(full->status));
    return c.outcome();
}

Outcome set_expire_members(Context& ctx) {
    if (!can_expire_sets(ctx)) return skipped("needs control interface: expire a set");
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    if (auto r = ctx.control()->expire_set(s.set); !r)
        return fail("control expire set: " + r.error().message);
    Checker c;
    c.expect(ctx.push(s.s1), gone_statuses(ctx), "PUSH(P1) after the set expired");
    c.expect(ctx.push(s.s2), gone_statuses(ctx), "PUSH(P2) after the set expired");
    return c.outcome();
}

Outcome set_expire_open_monitor(Context& ctx) {
    if (!can_expire_sets(ctx)) return skipped("needs control interface: expire a set");
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(s.set); !r) return fail(r.error().message);
    auto id = h2.submit(make_monitor_request(s.set));
    if (!id) return fail(id.error().message);
    h2.poll(200ms);
    if (!h2.stream_open(*id)) return fail("MON(SET) was not held open");
    if (auto r = ctx.control()->expire_set(s.set); !r)
        return fail("control expire set: " + r.error().message);
    auto resp = h2.wait_response(*id, 3000ms);
    if (!resp) return fail("the open MON(SET) got no answer after the set expired");
    ctx.note("(held-open MON(SET) after expiry)", render_response(*resp));
    return resp->status == 404 ? pass() : fail("answered " + std::to_string(resp->status));
}

Outcome set_delete(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    HttpRequest del;
    del.method = "DELETE";
    del.url = s.set;
    Checker c;
    c.expect(ctx.send(del), {204, 200}, "DELETE SET");
    c.expect(ctx.push(s.s1), gone_statuses(ctx), "PUSH(P1) after DELETE SET");
    c.expect(ctx.push(s.s2), gone_statuses(ctx), "PUSH(P2) after DELETE SET");
    return c.outcome();
}

Outcome set_member_removed(Context& ctx) {
    SetOfTwo s;
    if (auto o = make_set(ctx, s)) return *o;
    HttpRequest del;
    del.method = "DELETE";
    del.url = s.s1.subscription_url;
    Checker c;
    c.expect(ctx.send(del), {204, 200}, "DELETE S1");
    c.expect(ctx.push(s.s1), gone_statuses(ctx), "PUSH(P1) after DELETE S1");
    c.expect(push_to(ctx, s.s2, "still here"), {201}, "PUSH(P2)");
    CONF_TRY(d, drain(ctx, s.set));
    c.check(sources(s.set, d->pushes) == std::multiset<std::string>{s.s2.push_url},
            "DRAIN(SET) after DELETE S1 pushed " + std::to_string(d->pushes.size()) +
                " message(s); expected only P2's");
    return c.outcome();
}

}  // namespace conformance
