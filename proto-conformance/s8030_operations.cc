// RFC 8030 §7 (operational considerations: storage, 413, expiry), §8 (security: https,
// unlinkable capability URLs, rate limits) and §9 (header fields). Checklist rows R8030-7.*,
// R8030-8*, R8030-9-a.

#include <map>

#include "proto-conformance/checks.h"
#include "proto-conformance/s8030_sets.h"

namespace conformance {
namespace {

using namespace std::chrono_literals;

Outcome redirect(Context& ctx) {
    auto a = ctx.send(make_subscribe_request(ctx.subscribe_url()));
    if (a.status() != 307) return not_applicable("the service does not redirect subscribe (MAY)");
    auto loc = a.header("location");
    if (!loc) return fail("307 without Location");
    Checker c;
    c.expect(ctx.send(make_subscribe_request(resolve_url(ctx.subscribe_url(), *loc).value())),
             {201}, "subscribe at the redirect target");
    return c.outcome();
}

Outcome last_modified(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    if (auto r = ctx.monitor().go_online(sub); !r) return fail(r.error().message);
    auto before = std::chrono::system_clock::now();
    PushSpec s;
    s.payload = "lm";
    ctx.push(sub, s);
    auto d = ctx.monitor().next(sub, 3000ms);
    ctx.monitor().go_offline(sub);
    if (!d) return fail("no server push arrived");
    auto lm = d->headers.get("last-modified");
    if (!lm) return fail("pushed response without Last-Modified");
    std::tm tm{};
    if (!strptime(lm->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return fail("Last-Modified is not an HTTP-date: " + *lm);
    auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto diff = std::chrono::duration_cast<std::chrono::seconds>(t - before).count();
    if (diff < -2 || diff > 2)
        return fail("Last-Modified " + *lm + " is " + std::to_string(diff) + " s from the POST");
    return pass();
}

Outcome expired_only(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    PushSpec s;
    s.options.ttl = 1;
    Checker c;
    if (!c.expect(ctx.push(sub, s), {201}, "PUSH(TTL: 1)")) return c.outcome();
    let_time_pass(ctx, 2200);
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->empty(), "an expired message was delivered");
    return c.outcome();
}

Outcome store_and_forward(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    PushSpec s;
    s.options.ttl = 600;
    s.payload = "stored";
    Checker c;
    if (!c.expect(ctx.push(sub, s), {201}, "PUSH(TTL: 600), no UA")) return c.outcome();
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->size() == 1 && (*got)[0].plaintext == std::string("stored"),
            "the stored message was not delivered when the UA came back");
    return c.outcome();
}

Outcome too_large_may(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, sized_push(4097)), {201, 413}, "4097-octet body");
    c.expect(ctx.push(sub, sized_push(8192)), {201, 413}, "8192-octet body");
    return c.outcome();
}

Outcome never_413_at_4096(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, sized_push(4096)), {201}, "4096-octet body, HTTP/1.1");
    PushSpec h2 = sized_push(4096);
    h2.version = HttpVersion::http2;
    h2.mutate = [](HttpRequest& r) { r.headers.remove("Content-Length"); };
    c.expect(ctx.push(sub, h2), {201}, "4096-octet body, HTTP/2 without content-length");
    c.expect(ctx.push(sub, sized_push(4000)), {201}, "4000-octet body");
    return c.outcome("HTTP/1.1 chunked bodies are not sent by this suite's client");
}

bool can_expire(Context& ctx) { return ctx.control() && ctx.control()->can("expire"); }

Outcome expire_works(Context& ctx) {
    if (!can_expire(ctx)) return skipped("needs control interface: expire a subscription");
    CONF_TRY(sub, new_sub(ctx));
    if (auto r = ctx.control()->expire(sub.push_url, sub.subscription_url); !r)
        return fail("control expire: " + r.error().message);
    return pass();
}

Outcome expire_open_monitor(Context& ctx) {
    if (!can_expire(ctx)) return skipped("needs control interface: expire a subscription");
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    Http2Client h2(ctx.options().net);
    if (auto r = h2.connect(sub.subscription_url); !r) return fail(r.error().message);
    auto id = h2.submit(make_monitor_request(sub.subscription_url));
    if (!id) return fail(id.error().message);
    h2.poll(200ms);
    if (!h2.stream_open(*id)) return fail("MON(S) was not held open");
    if (auto r = ctx.control()->expire(sub.push_url, sub.subscription_url); !r)
        return fail("control expire: " + r.error().message);
    auto resp = h2.wait_response(*id, 3000ms);
    if (!resp) return fail("the open monitoring GET got no answer after expiry");
    return resp->status == 404 ? pass() : fail("answered " + std::to_string(resp->status));
}

Outcome push_after_expiry(Context& ctx) {
    if (!can_expire(ctx)) return skipped("needs control interface: expire a subscription");
    CONF_TRY(sub, new_sub(ctx));
    if (auto r = ctx.control()->expire(sub.push_url, sub.subscription_url); !r)
        return fail("control expire: " + r.error().message);
    Checker c;
    c.expect(ctx.push(sub), gone_statuses(ctx), "PUSH(P) after expiry");
    return c.outcome();
}

Outcome delete_subscription(Context& ctx) {
    CONF_TRY(s, ctx.subscribe());
    Checker c;
    HttpRequest del;
    del.method = "DELETE";
    del.url = s->subscription_url;
    c.expect(ctx.send(del), {204, 200}, "DELETE S");
    HttpRequest push;
    push.method = "POST";
    push.url = s->push_url;
    push.headers.add("TTL", "60");
    c.expect(ctx.send(push), gone_statuses(ctx), "PUSH(P) after DELETE S");
    return c.outcome();
}

// ---- §8 ---------------------------------------------------------------------------------

Outcome https_uris(Context& ctx) {
    if (!ctx.target_tls()) return skipped("target is cleartext (http:)");
    CONF_TRY(s, ctx.subscribe());
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub);
    Checker c;
    c.check(s->subscription_url.starts_with("https://"), "Location is not https");
    c.check(s->push_url.starts_with("https://"), "push Link is not https");
    c.check(sub.push_url.starts_with("https://"), "UA endpoint is not https");
    if (auto loc = a.header("location"))
        c.check(or_else(resolve_url(sub.push_url, *loc), "").starts_with("https://"),
                "message Location is not https");
    return c.outcome();
}

// The variable part of each id: strips the longest prefix and suffix shared by all.
std::vector<std::string> variable_parts(std::vector<std::string> ids) {
    if (ids.size() < 2) return ids;
    std::size_t pre = ids[0].size(), suf = ids[0].size();
    for (const auto& id : ids) {
        std::size_t p = 0;
        while (p < pre && p < id.size() && id[p] == ids[0][p]) ++p;
        pre = p;
        std::size_t s = 0;
        while (s < suf && s < id.size() && id[id.size() - 1 - s] == ids[0][ids[0].size() - 1 - s])
            ++s;
        suf = s;
    }
    for (auto& id : ids) id = id.size() > pre + suf ? id.substr(pre, id.size() - pre - suf) : "";
    return ids;
}

// True when two ids share a substring of `n` characters.
bool share(const std::string& a, const std::string& b, std::size_t n) {
    if (a.size() < n || b.size() < n) return false;
    for (std::size_t i = 0; i + n <= a.size(); ++i)
        if (b.find(a.substr(i, n)) != std::string::npos) return true;
    return false;
}

std::string last_segment(const std::string& url) {
    auto p = path_of(url);
    return p.substr(p.rfind('/') + 1);
}

Outcome unlinkable(Context& ctx, bool messages) {
    std::vector<std::string> ids;
    for (int i = 0; i < 20; ++i) {
        if (messages) {
            CONF_TRY(sub, new_sub(ctx));
            auto a = ctx.push(sub);
            auto loc = a.header("location");
            if (!loc) return fail("push answered " + status_text(a) + " without Location");
            ids.push_back(last_segment(or_else(resolve_url(sub.push_url, *loc), *loc)));
        } else {
            CONF_TRY(s, ctx.subscribe());
            ids.push_back(last_segment(s->push_url));
            ids.push_back(last_segment(s->subscription_url));
        }
    }
    auto parts = variable_parts(ids);
    Checker c;
    for (std::size_t i = 0; i < parts.size(); ++i)
        for (std::size_t j = i + 1; j < parts.size(); ++j)
            if (share(parts[i], parts[j], 10))
                c.check(false, "ids " + std::to_string(i) + " and " + std::to_string(j) +
                                   " share a 10-character substring");
    return c.outcome(std::to_string(ids.size()) + " ids, no shared substrings");
}

Outcome no_user_info(Context& ctx) {
    CONF_TRY(s, ctx.subscribe());
    Checker c;
    for (const auto& url : {s->push_url, s->subscription_url}) {
        auto path = path_of(url);
        c.check(path.find("127.0.0.1") == std::string::npos, "path contains the client IP");
        bool digits = !last_segment(url).empty();
        for (char ch : last_segment(url))
            digits = digits && std::isdigit(static_cast<unsigned char>(ch));
        c.check(!digits, "id segment is a number (sequential ids?): " + last_segment(url));
    }
    return c.outcome();
}

Outcome fresh_ids(Context& ctx) {
    CONF_TRY(a, ctx.subscribe());
    CONF_TRY(b, ctx.subscribe());
    Checker c;
    c.check(a->push_url != b->push_url, "two subscriptions share a push URI");
    c.check(a->subscription_url != b->subscription_url, "two subscriptions share a resource");
    return c.outcome();
}

Outcome capability_entropy(Context& ctx) {
    CONF_TRY(s, ctx.subscribe());
    Checker c;
    for (const auto& url : {s->push_url, s->subscription_url}) {
        auto seg = last_segment(url);
        c.check(seg.size() >= 20, "id segment of " + std::to_string(seg.size()) +
                                      " characters (< 20 base64url = 120 bits)");
    }
    return c.outcome();
}

Outcome rate_limit(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    for (int i = 0; i < 60; ++i) {
        auto a = ctx.push(sub);
        if (a.status() == 429) {
            auto ra = a.header("retry-after");
            if (!ra) return fail("429 without Retry-After");
            return pass("429 after " + std::to_string(i) + " pushes, Retry-After " + *ra);
        }
    }
    ctx.take_transcript();
    return not_applicable("no 429 within 60 pushes (the limit, if any, is higher)");
}

Outcome header_case(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    for (const char* name : {"ttl", "TTL", "Ttl"}) {
        PushSpec s;
        s.options.ttl.reset();
        s.mutate = [name](HttpRequest& r) { r.headers.add(name, "60"); };
        c.expect(ctx.push(sub, s), {201}, std::string(name) + ": 60");
    }
    return c.outcome();
}

}  // namespace

void register_8030_operations(Registry& r) {
    r.push_back({"R8030-7.1-a", Level::may, "core", "a subscribe redirect (307) can be followed",
                 redirect});
    r.push_back({"R8030-7.2-a", Level::should, "monitor",
                 "Last-Modified = when the sender asked (±2 s)", last_modified});
    r.push_back({"R8030-7.2-b", Level::impl, "delivery", "only expired messages = nothing was sent",
                 expired_only});
    r.push_back({"R8030-7.2-c", Level::impl, "delivery",
                 "messages stored while away are delivered later", store_and_forward});
    r.push_back({"R8030-7.2-d", Level::may, "core", "oversized bodies -> 413 or 201, never 5xx",
                 too_large_may});
    r.push_back({"R8030-7.2-e", Level::must_not, "core", "never 413 for <= 4096 octets",
                 never_413_at_4096});
    r.push_back({"R8030-7.2-f", Level::must, "receipts",
                 "an accepted message expired early gets a 410 receipt",
                 [](Context& c) { return give_up_receipt(c, false, true); }});
    r.push_back(
        {"R8030-7.3-a", Level::may, "control", "a subscription can be expired", expire_works});
    r.push_back({"R8030-7.3-b", Level::must, "monitor",
                 "an open monitoring GET on an expired subscription -> 404", expire_open_monitor});
    r.push_back({"R8030-7.3-d", Level::must, "control",
                 "push to an expired subscription -> 404 (compat: 410)", push_after_expiry});
    r.push_back({"R8030-7.3-e", Level::impl, "core",
                 "DELETE S -> 204; later pushes -> 404 (compat: 410)", delete_subscription});
    r.push_back({"R8030-7.3.1-a", Level::may, "sets", "expiring a set expires its members",
                 set_expire_members});
    r.push_back({"R8030-7.3.1-b", Level::must, "sets", "an open GET on an expired set -> 404",
                 set_expire_open_monitor});
    r.push_back(
        {"R8030-7.3.1-c", Level::must, "sets", "DELETE on a set removes its members", set_delete});
    r.push_back({"R8030-7.3.1-d", Level::must, "sets", "a removed member leaves its set",
                 set_member_removed});
    r.push_back({"R8030-8-a", Level::must, "core", "every Location and Link is https", https_uris});
    r.push_back({"R8030-8.2-a", Level::must_not, "core",
                 "push URIs of different subscriptions cannot be correlated",
                 [](Context& c) { return unlinkable(c, false); }});
    r.push_back({"R8030-8.2-b", Level::must_not, "core",
                 "message URIs of different subscriptions cannot be linked",
                 [](Context& c) { return unlinkable(c, true); }});
    r.push_back({"R8030-8.2-c", Level::must_not, "core",
                 "no user or device information in push URIs", no_user_info});
    r.push_back({"R8030-8.2-e", Level::must, "core", "every subscribe yields fresh identifiers",
                 fresh_ids});
    r.push_back({"R8030-8.3-b", Level::info, "core",
                 "capability URLs carry >= 120 bits (>= 20 base64url characters)",
                 capability_entropy});
    r.push_back(
        {"R8030-8.4-b", Level::may, "core", "429 over the limit carries Retry-After", rate_limit});
    r.push_back({"R8030-9-a", Level::impl, "core", "ttl, TTL, Ttl all accepted", header_case});
}

}  // namespace conformance
