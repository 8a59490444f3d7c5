// RFC 8292 (VAPID): the JWT (§2), the "vapid" authentication scheme (§3) and restricted
// subscriptions (§4). Checklist rows R8292-*.

#include "proto-conformance/checks.h"

namespace conformance {
namespace {

// A push whose Authorization (and optional Crypto-Key) the scenario sets itself.
PushSpec auth(std::string authorization, std::string crypto_key = {}) {
    PushSpec s;
    s.sign = false;
    s.mutate = [authorization, crypto_key](HttpRequest& r) {
        r.headers.remove("Authorization");
        if (!authorization.empty()) r.headers.add("Authorization", authorization);
        if (!crypto_key.empty()) r.headers.add("Crypto-Key", crypto_key);
    };
    return s;
}

struct Restricted {
    P256Key key = P256Key::generate();
    UaSubscription sub;
    std::string aud;
    std::string jwt(std::int64_t exp_in = 12 * 3600) const {
        return make_jwt(key, default_header_json(), claims_json(aud, now_s() + exp_in));
    }
    std::string header(std::int64_t exp_in = 12 * 3600) const {
        return vapid_auth(jwt(exp_in), key);
    }
};

Result<Restricted> restricted(Context& ctx) {
    Restricted r;
    auto sub = new_sub(ctx, r.key);
    if (!sub) return sub.error();
    r.sub = *sub;
    r.aud = audience(sub->push_url);
    return r;
}

Outcome bad_k(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    auto pub = r->key.public_bytes();
    Bytes short_key(pub.begin(), pub.end() - 1);
    Bytes no04 = pub;
    no04[0] = 0x03;
    Bytes off = pub;
    off[64] ^= 0x01;
    Checker c;
    for (auto& [label, raw] :
         std::vector<std::pair<std::string, Bytes>>{{"k of 64 octets", short_key},
                                                    {"k not starting 0x04", no04},
                                                    {"k off the curve", off}})
        c.expect(ctx.push(r->sub, auth("vapid t=" + r->jwt() + ", k=" + base64url_encode(raw))),
                 {403}, label);
    return c.outcome();
}

Outcome claims_check(Context& ctx, std::string label,
                     const std::function<std::string(const std::string&)>& claims_for) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    std::string claims = claims_for(r->aud);
    c.expect(
        ctx.push(r->sub, auth(vapid_auth(make_jwt(r->key, default_header_json(), claims), r->key))),
        {403}, label);
    return c.outcome();
}

Outcome exp_limit(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    c.expect(ctx.push(r->sub, auth(r->header(24 * 3600 + 300))), {403}, "exp = now + 24 h 5 min");
    c.expect(ctx.push(r->sub, auth(r->header(24 * 3600 - 60))), {201}, "exp = now + 24 h - 60 s");
    return c.outcome();
}

Outcome scheme_case(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    for (const char* scheme : {"vapid", "Vapid", "VAPID"})
        c.expect(ctx.push(r->sub, auth(std::string(scheme) + " t=" + r->jwt() +
                                       ", k=" + r->key.public_base64url())),
                 {201}, std::string("scheme ") + scheme);
    return c.outcome();
}

Outcome unrestricted_bad_signature(Context& ctx) {
    CONF_TRY(sub, new_sub(ctx));
    P256Key key = P256Key::generate();
    std::string jwt =
        make_jwt(key, default_header_json(), claims_json(audience(sub.push_url), now_s() + 3600));
    jwt.back() = jwt.back() == 'A' ? 'B' : 'A';
    auto a = ctx.push(sub, auth(vapid_auth(jwt, key)));
    Checker c;
    if (ctx.strict())
        c.expect(a, {403}, "unrestricted subscription, bad signature (strict)");
    else
        c.expect(a, {201, 403}, "unrestricted subscription, bad signature (compat)");
    return c.outcome(a.status() == 201 ? "token ignored" : "refused");
}

Outcome algorithms(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    std::string claims = claims_json(r->aud, now_s() + 3600);
    std::string body = base64url_encode(claims);
    Checker c;
    for (const char* alg : {"none", "HS256", "ES384", "RS256"}) {
        std::string h = base64url_encode(std::string(R"({"typ":"JWT","alg":")") + alg + "\"}");
        std::string jwt =
            make_jwt(r->key, std::string(R"({"typ":"JWT","alg":")") + alg + "\"}", claims);
        if (std::string(alg) == "none") jwt = h + "." + body + ".";
        c.expect(ctx.push(r->sub, auth(vapid_auth(jwt, r->key))), {403}, std::string("alg ") + alg);
    }
    // DER-encoded signature instead of R || S.
    std::string input = base64url_encode(default_header_json()) + "." + body;
    auto sig = r->key.sign_es256(to_bytes(input)).value();
    Bytes der = {0x30, 0x44, 0x02, 0x20};
    der.insert(der.end(), sig.begin(), sig.begin() + 32);
    der.insert(der.end(), {0x02, 0x20});
    der.insert(der.end(), sig.begin() + 32, sig.end());
    c.expect(ctx.push(r->sub, auth(vapid_auth(input + "." + base64url_encode(der), r->key))), {403},
             "DER-encoded signature");
    return c.outcome();
}

Outcome sub_claim(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    for (const char* sub : {"", "hello@example.com", "mailto:mailto:x@example.com"})
        c.expect(
            ctx.push(r->sub, auth(vapid_auth(make_jwt(r->key, default_header_json(),
                                                      claims_json(r->aud, now_s() + 3600, sub)),
                                             r->key))),
            {201}, std::string("sub '") + sub + "'");
    return c.outcome();
}

Outcome extra_claim(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    std::string claims = claims_json(r->aud, now_s() + 3600);
    claims.insert(claims.size() - 1, R"(,"foo":1)");
    Checker c;
    c.expect(
        ctx.push(r->sub, auth(vapid_auth(make_jwt(r->key, default_header_json(), claims), r->key))),
        {201}, "extra claim foo");
    return c.outcome();
}

Outcome proxy_auth(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    PushSpec s = auth("");
    std::string h = r->header();
    s.mutate = [h](HttpRequest& req) {
        req.headers.remove("Authorization");
        req.headers.add("Proxy-Authorization", h);
    };
    auto a = ctx.push(r->sub, s);
    Checker c;
    c.expect(a, {401}, "credentials only in Proxy-Authorization");
    c.check(!a.header("proxy-authenticate").has_value(), "answer carries Proxy-Authenticate");
    return c.outcome();
}

Outcome www_authenticate(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    auto a = ctx.push(r->sub, auth(""));
    Checker c;
    if (!c.expect(a, {401}, "no Authorization")) return c.outcome();
    auto w = a.header("www-authenticate");
    c.check(w.has_value(), "401 without WWW-Authenticate");
    if (w) {
        std::string lower;
        for (char ch : *w) lower += char(std::tolower(static_cast<unsigned char>(ch)));
        c.check(lower == "vapid", "WWW-Authenticate is '" + *w + "', expected 'vapid'");
    }
    return c.outcome();
}

Outcome unknown_params(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    c.expect(ctx.push(r->sub, auth(r->header() + ", realm=\"x\", foo=bar")), {201},
             "vapid t, k, realm, foo");
    return c.outcome();
}

Outcome param_syntax(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    std::string t = r->jwt(), k = r->key.public_base64url();
    Checker c;
    c.expect(ctx.push(r->sub, auth("vapid t=" + t + ",k=" + k)), {201}, "t=…,k=… (no space)");
    c.expect(ctx.push(r->sub, auth("vapid t=\"" + t + "\", k=\"" + k + "\"")), {201},
             "quoted values");
    c.expect(ctx.push(r->sub, auth("vapid t=" + t.substr(0, t.rfind('.')) + ", k=" + k)), {403},
             "t with two parts");
    return c.outcome();
}

Outcome padded_k(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    auto a =
        ctx.push(r->sub, auth("vapid t=" + r->jwt() + ", k=" + r->key.public_base64url() + "="));
    Checker c;
    c.expect(a, ctx.strict() ? std::initializer_list<int>{403} : std::initializer_list<int>{201},
             std::string("k with '=' padding (") + (ctx.strict() ? "strict" : "compat") + ")");
    return c.outcome();
}

Outcome same_key(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    PushSpec s;
    s.payload = "same key";
    s.options.encryption.sender_key = r->key;  // keyid == k
    Checker c;
    c.expect(ctx.push(r->sub, s), {400}, "aes128gcm keyid equal to the VAPID k");
    return c.outcome();
}

Outcome options_subscribe(Context& ctx, const std::string& content_type, bool restricted_expected,
                          const std::string& extra = {}) {
    P256Key key = P256Key::generate();
    HttpRequest req;
    req.method = "POST";
    req.url = ctx.subscribe_url();
    req.headers.add("Content-Type", content_type);
    req.body = "{\"vapid\":\"" + key.public_base64url() + "\"" + extra + "}";
    auto a = ctx.send(req);
    Checker c;
    if (!c.expect(a, {201}, "subscribe with " + content_type)) return c.outcome();
    auto s = parse_subscribe_response(ctx.subscribe_url(), *a.response);
    if (!s) return fail(s.error().message);
    HttpRequest push;
    push.method = "POST";
    push.url = s->push_url;
    push.headers.add("TTL", "60");
    c.expect(ctx.send(push), {restricted_expected ? 401 : 201}, "push without Authorization");
    if (restricted_expected) {
        push.headers.add("Authorization",
                         vapid_auth(make_jwt(key, default_header_json(),
                                             claims_json(audience(s->push_url), now_s() + 3600)),
                                    key));
        c.expect(ctx.send(push), {201}, "push signed with the registered key");
    }
    return c.outcome();
}

Outcome invalid_options_key(Context& ctx) {
    HttpRequest req;
    req.method = "POST";
    req.url = ctx.subscribe_url();
    req.headers.add("Content-Type", "application/webpush-options+json");
    req.body = R"({"vapid":"not-a-key"})";
    Checker c;
    c.expect(ctx.send(req), {400}, "vapid member that is not a P-256 key (recommended 400)");
    return c.outcome();
}

Outcome missing_auth(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    // "Bearer" alone: compat treats Bearer as an alias of WebPush (RVAPID01-X-b), so an empty
    // one is invalid credentials (403) there; strict knows no Bearer scheme (401).
    for (const char* h : {"", "key=AAAA", "Bearer"}) {
        auto a = ctx.push(r->sub, auth(h));
        bool lenient = !ctx.strict() && std::string(h) == "Bearer";
        c.expect(a,
                 lenient ? std::initializer_list<int>{401, 403} : std::initializer_list<int>{401},
                 std::string("Authorization '") + h + "'");
        if (a.status() == 401)
            c.check(a.header("www-authenticate").has_value(), "401 without WWW-Authenticate");
    }
    return c.outcome();
}

Outcome only_t(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    c.expect(ctx.push(r->sub, auth("vapid t=" + r->jwt())), {403}, "vapid t=… without k");
    c.expect(ctx.push(r->sub, auth("vapid k=" + r->key.public_base64url())), {403},
             "vapid k=… without t");
    return c.outcome();
}

Outcome flipped_signature(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    std::string jwt = r->jwt();
    std::size_t pos = jwt.rfind('.') + 5;
    jwt[pos] = jwt[pos] == 'A' ? 'B' : 'A';
    Checker c;
    c.expect(ctx.push(r->sub, auth(vapid_auth(jwt, r->key))), {403}, "signature byte flipped");
    return c.outcome();
}

Outcome expiry(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    c.expect(ctx.push(r->sub, auth(r->header(-60))), {403}, "exp 60 s in the past");
    c.expect(ctx.push(r->sub, auth(r->header(25 * 3600))), {403}, "exp = now + 25 h");
    return c.outcome();
}

Outcome wrong_aud(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    auto u = parse_url(r->sub.push_url).value();
    std::string other_port = u.scheme + "://" + (u.host_is_ipv6 ? "[" + u.host + "]" : u.host) +
                             ":" + std::to_string(u.port == 65535 ? 1 : u.port + 1);
    std::string other_scheme = (u.tls() ? "http://" : "https://") + u.authority();
    Checker c;
    for (const auto& aud : {std::string("https://other.example"), other_scheme, other_port})
        c.expect(ctx.push(r->sub, auth(vapid_auth(make_jwt(r->key, default_header_json(),
                                                           claims_json(aud, now_s() + 3600)),
                                                  r->key))),
                 {403}, "aud " + aud);
    return c.outcome();
}

Outcome other_key(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    P256Key other = P256Key::generate();
    Checker c;
    c.expect(ctx.push(r->sub, auth(vapid_auth(make_jwt(other, default_header_json(),
                                                       claims_json(r->aud, now_s() + 3600)),
                                              other))),
             {403}, "valid token from another key pair");
    return c.outcome();
}

Outcome not_forwarded(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    Checker c;
    for (auto enc : {ContentEncoding::aes128gcm, ContentEncoding::aesgcm}) {
        PushSpec s;
        s.payload = "vapid";
        s.options.encryption.encoding = enc;
        c.expect(ctx.push(r->sub, s), {201}, std::string(to_string(enc)) + " signed push");
    }
    CONF_TRY(got, ctx.ua().drain(r->sub, {}));
    c.check(got->size() == 2, "delivered " + std::to_string(got->size()) + " of 2");
    for (const auto& d : *got) {
        c.check(!has_header(d, "authorization"), "the UA received Authorization");
        c.check(d.headers.get("crypto-key").value_or("").find("p256ecdsa") == std::string::npos,
                "the UA received p256ecdsa in Crypto-Key");
    }
    return c.outcome();
}

Outcome token_reuse(Context& ctx) {
    CONF_TRY(r, restricted(ctx));
    std::string h = r->header(3600);
    Checker c;
    c.expect(ctx.push(r->sub, auth(h)), {201}, "token, first use");
    c.expect(ctx.push(r->sub, auth(h)), {201}, "same token again (cache)");
    if (ctx.control() && ctx.control()->can("clock")) {
        let_time_pass(ctx, 3700 * 1000);
        c.expect(ctx.push(r->sub, auth(h)), {403}, "same token after its exp (clock advanced)");
    }
    return c.outcome();
}

}  // namespace

void register_8292(Registry& r) {
    r.push_back({"R8292-2-a", Level::must, "core", "k must be an uncompressed P-256 point", bad_k});
    r.push_back({"R8292-2-b", Level::must, "core", "aud of another origin -> 403", [](Context& c) {
                     return claims_check(c, "aud https://other.example", [](const std::string&) {
                         return claims_json("https://other.example", now_s() + 3600);
                     });
                 }});
    r.push_back({"R8292-2-c", Level::must, "core", "JWT without exp -> 403", [](Context& c) {
                     return claims_check(c, "no exp", [](const std::string& aud) {
                         return R"({"aud":")" + aud + R"(","sub":"mailto:a@example.com"})";
                     });
                 }});
    r.push_back(
        {"R8292-2-d", Level::must_not, "core", "exp more than 24 h ahead is invalid", exp_limit});
    r.push_back({"R8292-2-e", Level::impl, "core", "scheme name case-insensitive", scheme_case});
    r.push_back({"R8292-2-f", Level::may, "core",
                 "unrestricted + bad signature: strict 403, compat 201/403",
                 unrestricted_bad_signature});
    r.push_back(
        {"R8292-2-h", Level::must, "core", "only ES256 with an R||S signature", algorithms});
    r.push_back({"R8292-2.1-a", Level::may, "core", "sub optional and not validated", sub_claim});
    r.push_back({"R8292-2.2-a", Level::may, "core", "unknown claims ignored", extra_claim});
    r.push_back({"R8292-3-a", Level::must_not, "core",
                 "vapid in Proxy-Authorization counts as absent", proxy_auth});
    r.push_back({"R8292-3-b", Level::impl, "core", "every 401 has WWW-Authenticate: vapid",
                 www_authenticate});
    r.push_back(
        {"R8292-3-c", Level::must, "core", "unknown parameters and realm ignored", unknown_params});
    r.push_back({"R8292-3.1-a", Level::impl, "core",
                 "auth-param syntax (OWS, quotes); bad t -> 403", param_syntax});
    r.push_back({"R8292-3.2-a", Level::impl, "core", "padded k: compat 201, strict 403", padded_k});
    r.push_back(
        {"R8292-3.2-b", Level::should, "core", "ECDH key equal to VAPID key -> 400", same_key});
    r.push_back({"R8292-4.1-a", Level::impl, "core",
                 "webpush-options+json restricts the subscription", [](Context& c) {
                     return options_subscribe(c, "application/webpush-options+json", true);
                 }});
    r.push_back({"R8292-4.1-b", Level::must, "core", "other media types are ignored",
                 [](Context& c) { return options_subscribe(c, "application/json", false); }});
    r.push_back(
        {"R8292-4.1-c", Level::must, "core", "unknown option members ignored", [](Context& c) {
             return options_subscribe(c, "application/webpush-options+json", true, ",\"x\":1");
         }});
    r.push_back(
        {"R8292-4.1-d", Level::impl, "core", "invalid vapid member -> 400", invalid_options_key});
    r.push_back({"R8292-4.2-b", Level::must, "core",
                 "restricted, no vapid credentials -> 401 + WWW-Authenticate", missing_auth});
    r.push_back({"R8292-4.2-c", Level::must, "core", "t or k missing -> 403", only_t});
    r.push_back({"R8292-4.2-d", Level::must, "core", "bad signature -> 403", flipped_signature});
    r.push_back({"R8292-4.2-e", Level::must, "core", "expired or > 24 h exp -> 403", expiry});
    r.push_back({"R8292-4.2-f", Level::must, "core", "aud of another origin/scheme/port -> 403",
                 wrong_aud});
    r.push_back({"R8292-4.2-g", Level::must, "core", "k not the registered key -> 403", other_key});
    r.push_back({"R8292-4.2-h", Level::must_not, "delivery",
                 "JWT and key are never forwarded to the UA", not_forwarded});
    r.push_back(
        {"R8292-5-a", Level::info, "core", "a token may be reused until its exp", token_reuse});
    r.push_back(
        {"R8292-6.3-a", Level::info, "core", "media type parameters tolerated", [](Context& c) {
             return options_subscribe(c, "application/webpush-options+json; charset=utf-8", true);
         }});
}

}  // namespace conformance
