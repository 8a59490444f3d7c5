// draft-ietf-webpush-vapid-01: "Authorization: WebPush <jwt>" with the key in
// "Crypto-Key: p256ecdsa=" (§2-§5), still sent by web-push, web-push-php, webpush-java and the
// webcrypto senders with aesgcm. Checklist rows RVAPID01-*.

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

struct Legacy {
    P256Key key = P256Key::generate();
    UaSubscription sub;
    std::string jwt() const {
        return make_jwt(key, default_header_json(),
                        claims_json(audience(sub.push_url), now_s() + 3600));
    }
};

Result<Legacy> legacy(Context& ctx) {
    Legacy l;
    auto sub = new_sub(ctx, l.key);
    if (!sub) return sub.error();
    l.sub = *sub;
    return l;
}

// An aesgcm push whose Authorization / Crypto-Key the scenario writes; `dh` is the real one.
PushSpec aesgcm_with(std::function<void(HttpRequest&, const std::string& dh)> edit) {
    PushSpec s;
    s.payload = "legacy";
    s.sign = false;
    s.options.encryption.encoding = ContentEncoding::aesgcm;
    s.mutate = [edit](HttpRequest& r) {
        std::string ck = r.headers.get("Crypto-Key").value_or("");
        std::string dh = ck.substr(0, ck.find(';'));  // "dh=..."
        r.headers.remove("Crypto-Key");
        r.headers.remove("Authorization");
        edit(r, dh);
    };
    return s;
}

Outcome webpush_scheme(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    Checker c;
    for (const char* scheme : {"WebPush", "webpush"}) {
        std::string jwt = l->jwt(), k = l->key.public_base64url();
        c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                              r.headers.add("Authorization", std::string(scheme) + " " + jwt);
                              r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                          })),
                 {201}, std::string("Authorization: ") + scheme + " <jwt>");
    }
    return c.outcome();
}

Outcome no_webpush_challenge(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    auto a = ctx.push(l->sub, aesgcm_with([](HttpRequest&, const std::string&) {}));
    Checker c;
    if (!c.expect(a, {401}, "no credentials")) return c.outcome();
    for (const auto& w : a.response->headers.get_all("www-authenticate")) {
        std::string lower;
        for (char ch : w) lower += char(std::tolower(static_cast<unsigned char>(ch)));
        c.check(lower.find("webpush") == std::string::npos, "401 advertises WebPush: " + w);
    }
    return c.outcome();
}

Outcome token_params(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    auto a = ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                          r.headers.add("Authorization", "WebPush " + jwt + ", foo=1");
                          r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                      }));
    Checker c;
    c.expect(a, {201, 400, 401, 403}, "WebPush <jwt>, foo=1 (tolerated or refused, never 5xx)");
    return c.outcome();
}

Outcome no_p256ecdsa(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt();
    Checker c;
    c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                          r.headers.add("Authorization", "WebPush " + jwt);
                          r.headers.add("Crypto-Key", dh);
                      })),
             {401, 403}, "WebPush <jwt> without p256ecdsa (restricted)");
    return c.outcome();
}

Outcome crypto_key_forms(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    Checker c;
    struct Form {
        const char* label;
        std::function<std::string(const std::string&)> value;
    };
    std::vector<Form> forms = {
        {"dh=A;p256ecdsa=B", [&](const std::string& dh) { return dh + ";p256ecdsa=" + k; }},
        {"dh=A, p256ecdsa=B", [&](const std::string& dh) { return dh + ", p256ecdsa=" + k; }},
        {"p256ecdsa=B;dh=A", [&](const std::string& dh) { return "p256ecdsa=" + k + ";" + dh; }},
        {"quoted values",
         [&](const std::string& dh) {
             return "dh=\"" + dh.substr(3) + "\";p256ecdsa=\"" + k + "\"";
         }},
        {"keyid=p256dh;dh=A;p256ecdsa=B",
         [&](const std::string& dh) { return "keyid=p256dh;" + dh + ";p256ecdsa=" + k; }},
    };
    for (const auto& f : forms) {
        auto value = f.value;
        c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                              r.headers.add("Authorization", "WebPush " + jwt);
                              r.headers.add("Crypto-Key", value(dh));
                          })),
                 {201}, std::string("Crypto-Key ") + f.label);
    }
    return c.outcome();
}

Outcome dh_equals_key(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    PushSpec s;
    s.payload = "same";
    s.options.encryption.encoding = ContentEncoding::aesgcm;
    s.options.encryption.sender_key = l->key;  // dh == p256ecdsa
    Checker c;
    c.expect(ctx.push(l->sub, s), {400}, "dh equal to p256ecdsa");
    return c.outcome();
}

Outcome legacy_subscribe(Context& ctx) {
    P256Key key = P256Key::generate();
    HttpRequest req = make_subscribe_request(ctx.subscribe_url());
    req.headers.add("Crypto-Key", "p256ecdsa=" + key.public_base64url());
    auto a = ctx.send(req);
    Checker c;
    if (!c.expect(a, {201}, "subscribe with Crypto-Key: p256ecdsa")) return c.outcome();
    auto s = parse_subscribe_response(ctx.subscribe_url(), *a.response);
    if (!s) return fail(s.error().message);
    HttpRequest push;
    push.method = "POST";
    push.url = s->push_url;
    push.headers.add("TTL", "60");
    c.expect(ctx.send(push), {401}, "push without credentials (restricted)");
    return c.outcome();
}

Outcome invalid_legacy(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    jwt.back() = jwt.back() == 'A' ? 'B' : 'A';
    Checker c;
    c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                          r.headers.add("Authorization", "WebPush " + jwt);
                          r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                      })),
             {403}, "WebPush with a bad signature");
    return c.outcome();
}

Outcome missing(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    Checker c;
    c.expect(ctx.push(l->sub, aesgcm_with([](HttpRequest&, const std::string&) {})), {401},
             "restricted, no credentials");
    return c.outcome();
}

Outcome dh_only_forwarded(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    std::string sent_dh;
    Checker c;
    c.expect(ctx.push(l->sub, aesgcm_with([&, jwt, k](HttpRequest& r, const std::string& dh) {
                          sent_dh = dh;
                          r.headers.add("Authorization", "WebPush " + jwt);
                          r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                      })),
             {201}, "aesgcm + WebPush");
    CONF_TRY(got, ctx.ua().drain(l->sub, {}));
    if (got->empty()) return fail("the message was not delivered");
    auto ck = got->front().headers.get("crypto-key").value_or("");
    c.check(ck.find("p256ecdsa") == std::string::npos, "forwarded Crypto-Key has p256ecdsa");
    c.check(ck.find(sent_dh.substr(3)) != std::string::npos, "forwarded Crypto-Key lost dh");
    c.check(got->front().plaintext == std::string("legacy"), "UA could not decrypt");
    return c.outcome();
}

Outcome combinations(Context& ctx) {
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    Checker c;
    // vapid + aesgcm (rust web-push, pywebpush)
    c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                          r.headers.add("Authorization", "vapid t=" + jwt + ", k=" + k);
                          r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                      })),
             {201}, "vapid + aesgcm");
    // WebPush + aes128gcm (webpush-go AuthScheme)
    PushSpec go;
    go.payload = "go";
    go.sign = false;
    go.mutate = [=](HttpRequest& r) {
        r.headers.set("Authorization", "WebPush " + jwt);
        r.headers.set("Crypto-Key", "p256ecdsa=" + k);
    };
    c.expect(ctx.push(l->sub, go), {201}, "WebPush + Crypto-Key p256ecdsa + aes128gcm");
    // vapid + redundant Crypto-Key p256ecdsa + aes128gcm (webpush-java)
    PushSpec java;
    java.payload = "java";
    java.sign = false;
    java.mutate = [=](HttpRequest& r) {
        r.headers.set("Authorization", "vapid t=" + jwt + ", k=" + k);
        r.headers.set("Crypto-Key", "p256ecdsa=" + k);
    };
    c.expect(ctx.push(l->sub, java), {201}, "vapid + Crypto-Key p256ecdsa + aes128gcm");
    return c.outcome();
}

Outcome bearer(Context& ctx) {
    if (ctx.strict()) return not_applicable("Bearer alias is a compat-only option");
    CONF_TRY(l, legacy(ctx));
    std::string jwt = l->jwt(), k = l->key.public_base64url();
    Checker c;
    c.expect(ctx.push(l->sub, aesgcm_with([=](HttpRequest& r, const std::string& dh) {
                          r.headers.add("Authorization", "Bearer " + jwt);
                          r.headers.add("Crypto-Key", dh + ";p256ecdsa=" + k);
                      })),
             {201}, "Bearer <jwt> + Crypto-Key p256ecdsa");
    return c.outcome();
}

}  // namespace

void register_vapid01(Registry& r) {
    r.push_back({"RVAPID01-2-a", Level::must, "core", "WebPush <jwt> accepted, any scheme case",
                 webpush_scheme});
    r.push_back({"RVAPID01-3-b", Level::must_not, "core", "no WebPush challenge on a 401",
                 no_webpush_challenge});
    r.push_back(
        {"RVAPID01-3-c", Level::must, "core", "extra parameters never cause a 5xx", token_params});
    r.push_back({"RVAPID01-4-a", Level::impl, "core", "WebPush without p256ecdsa -> 401/403",
                 no_p256ecdsa});
    r.push_back({"RVAPID01-4-b", Level::impl, "core", "Crypto-Key: ';' or ',', any order, quotes",
                 crypto_key_forms});
    r.push_back(
        {"RVAPID01-4-c", Level::should, "core", "dh equal to p256ecdsa -> 400", dh_equals_key});
    r.push_back({"RVAPID01-5.1-a", Level::impl, "core",
                 "subscribe with Crypto-Key: p256ecdsa restricts", legacy_subscribe});
    r.push_back({"RVAPID01-5.2-a", Level::must, "core", "missing credentials -> 401", missing});
    r.push_back(
        {"RVAPID01-5.2-b", Level::may, "core", "invalid credentials -> 403", invalid_legacy});
    r.push_back({"RVAPID01-5.2-c", Level::must_not, "delivery",
                 "forwarded Crypto-Key keeps dh, drops p256ecdsa", dh_only_forwarded});
    r.push_back({"RVAPID01-X-a", Level::impl, "core",
                 "auth form and content coding are independent", combinations});
    r.push_back({"RVAPID01-X-b", Level::impl, "core", "compat: Bearer alias of WebPush", bearer});
}

}  // namespace conformance
