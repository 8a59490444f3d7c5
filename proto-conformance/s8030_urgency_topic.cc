// RFC 8030 §5.3 (Urgency) and §5.4 (replacing messages with Topic).
// Checklist rows R8030-5.3-*, R8030-5.4-*.

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

PushSpec urgent(std::optional<std::string> urgency, std::string payload = {}) {
    PushSpec s;
    s.options.urgency = std::move(urgency);
    s.payload = std::move(payload);
    return s;
}

PushSpec topic(std::string t, std::string payload = {}) {
    PushSpec s;
    s.payload = std::move(payload);
    s.mutate = [t](HttpRequest& r) { r.headers.set("Topic", t); };
    return s;
}

std::string payloads(const std::vector<Delivered>& list) {
    std::string out;
    for (const auto& d : list) out += (out.empty() ? "" : ",") + d.plaintext.value_or("?");
    return "[" + out + "]";
}

Outcome urgency_high(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, urgent("high")), {201}, "Urgency: high");
    return c.outcome();
}

// The delivered message must not carry a header the sender set for the service only.
Outcome not_forwarded(Context& ctx, const std::string& header, PushSpec spec) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    if (!c.expect(ctx.push(sub, spec), {201}, "push with " + header)) return c.outcome();
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    if (got->empty()) return fail("the message was not delivered");
    c.check(!has_header(got->front(), header), "the UA received a " + header + " header");
    return c.outcome();
}

// Stores very-low, low, normal, high (payload = urgency) and drains with a threshold.
Outcome filtered(Context& ctx, std::optional<std::string> threshold, std::string expected) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    Checker c;
    for (const char* u : {"very-low", "low", "normal", "high"})
        c.expect(ctx.push(sub, urgent(std::string(u), u)), {201}, std::string("Urgency: ") + u);
    if (!c.ok()) return c.outcome();
    DrainOptions o;
    o.urgency = threshold;
    CONF_TRY(got, ctx.monitor().drain(sub, o));
    c.check(payloads(*got) == expected, "DRAIN(S" + (threshold ? ", Urgency: " + *threshold : "") +
                                            ") delivered " + payloads(*got) + ", expected " +
                                            expected);
    return c.outcome();
}

Outcome absent_is_normal(Context& ctx) {
    Checker c;
    CONF_TRY(a, ctx.monitor().subscribe({}));
    c.expect(ctx.push(a, urgent(std::nullopt, "m")), {201}, "push without Urgency");
    DrainOptions high;
    high.urgency = "high";
    CONF_TRY(withheld, ctx.monitor().drain(a, high));
    c.check(withheld->empty(), "a message without Urgency reached MON(S, Urgency: high)");
    DrainOptions normal;
    normal.urgency = "normal";
    CONF_TRY(got, ctx.monitor().drain(a, normal));
    c.check(got->size() == 1, "a message without Urgency did not reach MON(S, Urgency: normal)");
    return c.outcome();
}

Outcome monitor_with_urgency(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    DrainOptions o;
    o.urgency = "low";
    CONF_TRY(got, ctx.monitor().drain(sub, o));
    return pass();
}

Outcome withholds(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    Checker c;
    c.expect(ctx.push(sub, urgent("low", "low")), {201}, "Urgency: low");
    DrainOptions high;
    high.urgency = "high";
    CONF_TRY(none, ctx.monitor().drain(sub, high));
    c.check(none->empty(), "a low message reached MON(S, Urgency: high)");
    CONF_TRY(later, ctx.monitor().drain(sub, {}));
    c.check(payloads(*later) == "[low]",
            "the withheld message was not delivered later: got " + payloads(*later));
    return c.outcome();
}

Outcome all_urgencies(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    for (const char* u : {"very-low", "low", "normal", "high"})
        c.expect(ctx.push(sub, urgent(std::string(u), u)), {201}, std::string("Urgency: ") + u);
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(got->size() == 4, "expected 4 messages, got " + payloads(*got));
    return c.outcome();
}

Outcome urgency_values(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, urgent("HIGH")), {201}, "Urgency: HIGH");
    c.expect(ctx.push(sub, urgent("urgent")), {400}, "Urgency: urgent (choice A-2)");
    return c.outcome();
}

Outcome urgency_multiple(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, urgent("low, high")), {400}, "Urgency: low, high");
    PushSpec two;
    two.mutate = [](HttpRequest& r) {
        r.headers.add("Urgency", "low");
        r.headers.add("Urgency", "high");
    };
    c.expect(ctx.push(sub, two), {400}, "two Urgency fields");
    return c.outcome();
}

// ---- §5.4 Topic --------------------------------------------------------------------------

Outcome topic_replaces(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    CONF_TRY(other, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, topic("t", "A")), {201}, "PUSH(Topic: t, A)");
    c.expect(ctx.push(other, topic("t", "X")), {201}, "same topic on another subscription");
    c.expect(ctx.push(sub, topic("t", "B")), {201}, "PUSH(Topic: t, B)");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(payloads(*got) == "[B]", "delivered " + payloads(*got) + ", expected [B]");
    CONF_TRY(got2, ctx.ua().drain(other, {}));
    c.check(payloads(*got2) == "[X]",
            "the other subscription got " + payloads(*got2) + ", expected [X]");
    return c.outcome();
}

Outcome topic_syntax(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    c.expect(ctx.push(sub, topic(std::string(32, 'a'))), {201}, "32-character topic");
    for (const std::string& bad :
         {std::string(33, 'a'), std::string("a.b"), std::string("a b"), std::string("a+b"),
          std::string("a/b"), std::string("a%20b"), std::string("")})
        c.expect(ctx.push(sub, topic(bad)), {400}, "Topic: '" + bad + "'");
    if (ctx.strict())
        c.expect(ctx.push(sub, topic("a=b")), {400}, "Topic: 'a=b' (strict, choice A-3)");
    return c.outcome();
}

Outcome topic_new_resource(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    auto a = ctx.push(sub, topic("t")), b = ctx.push(sub, topic("t"));
    Checker c;
    c.expect(a, {201}, "A");
    c.expect(b, {201}, "B replacing A");
    if (!c.ok()) return c.outcome();
    auto la = a.header("location"), lb = b.header("location");
    if (!la || !lb) return fail("201 without Location");
    c.check(*la != *lb, "the replacement kept the old Location");
    c.expect(ctx.send(make_ack_request(or_else(resolve_url(sub.push_url, *la), *la))), {404},
             "DELETE Location(A) after replacement");
    return c.outcome();
}

Outcome topic_replaces_urgency(Context& ctx) {
    CONF_TRY(sub, ctx.monitor().subscribe({}));
    PushSpec a = topic("t", "A"), b = topic("t", "B");
    a.options.urgency = "high";
    a.options.ttl = 600;
    b.options.urgency = "very-low";
    Checker c;
    c.expect(ctx.push(sub, a), {201}, "A (Topic t, Urgency high, TTL 600)");
    c.expect(ctx.push(sub, b), {201}, "B (Topic t, Urgency very-low)");
    DrainOptions high;
    high.urgency = "high";
    CONF_TRY(got, ctx.monitor().drain(sub, high));
    c.check(got->empty(), "DRAIN(S, Urgency: high) delivered " + payloads(*got));
    return c.outcome();
}

Outcome topic_fresh(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    Checker c;
    auto a = ctx.push(sub, topic("new", "fresh"));
    c.expect(a, {201}, "PUSH(Topic: new)");
    c.check(a.header("location").has_value(), "201 without Location");
    CONF_TRY(got, ctx.ua().drain(sub, {}));
    c.check(payloads(*got) == "[fresh]", "delivered " + payloads(*got));
    return c.outcome();
}

}  // namespace

void register_8030_urgency_topic(Registry& r) {
    r.push_back({"R8030-5.3-a", Level::may, "core", "Urgency: high -> 201", urgency_high});
    r.push_back({"R8030-5.3-b", Level::must_not, "delivery", "Urgency is not passed to the UA",
                 [](Context& c) { return not_forwarded(c, "urgency", urgent("high", "u")); }});
    r.push_back({"R8030-5.3-c", Level::impl, "urgency-filter", "absent Urgency means normal",
                 absent_is_normal});
    r.push_back({"R8030-5.3-d", Level::may, "monitor", "MON(S, Urgency: low) accepted",
                 monitor_with_urgency});
    r.push_back({"R8030-5.3-e", Level::must_not, "urgency-filter",
                 "nothing below the UA's threshold is delivered",
                 [](Context& c) { return filtered(c, "low", "[low,normal,high]"); }});
    r.push_back({"R8030-5.3-f", Level::impl, "delivery",
                 "a UA without a threshold receives every urgency", all_urgencies});
    r.push_back({"R8030-5.3-g", Level::impl, "core",
                 "Urgency values case-insensitive; unknown -> 400", urgency_values});
    r.push_back({"R8030-5.3-h", Level::must, "core", "more than one Urgency value -> 400",
                 urgency_multiple});
    r.push_back({"R8030-5.3-i", Level::impl, "urgency-filter",
                 "filtering withholds, it does not discard", withholds});
    r.push_back({"R8030-5.4-a", Level::impl, "delivery",
                 "same Topic on the same subscription replaces", topic_replaces});
    r.push_back({"R8030-5.4-b", Level::must, "core", "Topic: <= 32 base64url characters, else 400",
                 topic_syntax});
    r.push_back({"R8030-5.4-c", Level::impl, "core",
                 "replacement is a new resource; the old one is gone", topic_new_resource});
    r.push_back({"R8030-5.4-e", Level::impl, "urgency-filter",
                 "replacement also replaces TTL and Urgency", topic_replaces_urgency});
    r.push_back({"R8030-5.4-f", Level::impl, "delivery",
                 "a Topic with no match is stored and delivered", topic_fresh});
    r.push_back({"R8030-5.4-g", Level::info, "core", "accepted replacement -> 201 + Location",
                 topic_new_resource});
    r.push_back({"R8030-5.4-h", Level::must_not, "delivery", "Topic is not passed to the UA",
                 [](Context& c) { return not_forwarded(c, "topic", topic("tt", "t")); }});
}

}  // namespace conformance
