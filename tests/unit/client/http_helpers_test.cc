// URL parsing / origin, Link and parameter headers, subscribe answers, push requests.
#include <gtest/gtest.h>

#include "tools/client/header_params.h"
#include "tools/client/link_header.h"
#include "tools/client/push_request.h"
#include "tools/client/push_service.h"
#include "tools/client/url.h"
#include "tools/client/user_agent_keys.h"

namespace webpush_client {
namespace {

TEST(Url, ParsesWhatTheClientsNeed) {
    auto u = parse_url("HTTPS://Push.Example.net:8443/p/abc?x=1").value();
    EXPECT_EQ(u.scheme, "https");
    EXPECT_EQ(u.port, 8443);
    EXPECT_EQ(u.target, "/p/abc?x=1");
    EXPECT_EQ(u.authority(), "Push.Example.net:8443");
    EXPECT_TRUE(u.tls());
    auto v = parse_url("ws://[::1]:8080").value();
    EXPECT_EQ(v.host, "::1");
    EXPECT_EQ(v.target, "/");
    EXPECT_EQ(v.authority(), "[::1]:8080");
    EXPECT_EQ(parse_url("http://h/").value().port, 80);
    EXPECT_FALSE(parse_url("ftp://h/"));
    EXPECT_FALSE(parse_url("/relative"));
}

TEST(Url, ResolvesRelativeReferences) {
    EXPECT_EQ(resolve_url("https://h:1/subscribe", "/s/1").value(), "https://h:1/s/1");
    EXPECT_EQ(resolve_url("https://h:1/a/b", "c").value(), "https://h:1/a/c");
    EXPECT_EQ(resolve_url("https://h/a", "https://o/x").value(), "https://o/x");
}

TEST(HeaderParams, SplitsEntriesAndParameters) {
    auto e = parse_param_entries(R"(keyid="a;b"; dh=X , p256ecdsa = "Y")");
    ASSERT_EQ(e.size(), 2u);
    EXPECT_EQ(*find_param(e[0], "keyid"), "a;b");
    EXPECT_EQ(*find_param(e[0], "DH"), "X");
    EXPECT_EQ(*find_param(e[1], "p256ecdsa"), "Y");
    auto flat = parse_params_flat("t=abc.def,k=KEY");
    EXPECT_EQ(*find_param(flat, "k"), "KEY");
}

TEST(LinkHeader, FindsPushRelationsInCombinedAndSeparateFields) {
    std::vector<std::string> values = {
        R"(</p/1>; rel="urn:ietf:params:push", </set/9>;rel="urn:ietf:params:push:set")",
        R"(<https://h/r/2>; rel="other urn:ietf:params:push:receipt")"};
    EXPECT_EQ(find_links(values, kRelPush), std::vector<std::string>{"/p/1"});
    EXPECT_EQ(find_links(values, kRelPushSet), std::vector<std::string>{"/set/9"});
    EXPECT_EQ(find_links(values, kRelPushReceipt), std::vector<std::string>{"https://h/r/2"});
}

TEST(SubscribeResponse, NeedsLocationAndPushLink) {
    HttpResponse r;
    r.status = 201;
    r.headers.add("Location", "/s/1");
    r.headers.add("Link", R"(</p/1>; rel="urn:ietf:params:push")");
    auto s = parse_subscribe_response("https://h:8443/subscribe", r).value();
    EXPECT_EQ(s.subscription_url, "https://h:8443/s/1");
    EXPECT_EQ(s.push_url, "https://h:8443/p/1");
    EXPECT_FALSE(s.set_url);
    r.headers.remove("Link");
    EXPECT_FALSE(parse_subscribe_response("https://h/subscribe", r));
    HttpResponse bad;
    bad.status = 400;
    bad.body = R"({"errno":1})";
    auto e = parse_subscribe_response("https://h/subscribe", bad);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("400"), std::string::npos);
}

TEST(SubscribeRequest, RestrictedSubscriptionUsesWebpushOptionsJson) {
    P256Key key = P256Key::generate();
    auto req = make_subscribe_request("https://h/subscribe", {key, std::nullopt});
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.headers.get("content-type"), "application/webpush-options+json");
    EXPECT_EQ(req.body, "{\"vapid\":\"" + key.public_base64url() + "\"}");
    EXPECT_TRUE(make_subscribe_request("https://h/subscribe").body.empty());
}

TEST(Subscription, ToJsonAndBackLikeTheBrowser) {
    UserAgentKeys ua = UserAgentKeys::generate();
    Subscription s = ua.subscription("https://push.example.net/p/1");
    std::string json = s.to_json();
    EXPECT_NE(json.find("\"expirationTime\":null"), std::string::npos);
    auto back = Subscription::from_json(json).value();
    EXPECT_EQ(back.endpoint, s.endpoint);
    EXPECT_EQ(back.p256dh, s.p256dh);
    EXPECT_EQ(back.auth, s.auth);
    // Padded keys (some tools pad) are accepted.
    std::string padded = R"({"endpoint":"https://x/","keys":{"p256dh":")" +
                         base64url_encode(s.p256dh) + R"(=","auth":")" + base64url_encode(s.auth) +
                         R"(=="}})";
    EXPECT_TRUE(Subscription::from_json(padded));
}

TEST(Subscription, RejectsBadKeys) {
    EXPECT_FALSE(Subscription::from_json("{}"));
    EXPECT_FALSE(
        Subscription::from_json(R"({"endpoint":"x","keys":{"p256dh":"AAAA","auth":"AAAA"}})"));
    UserAgentKeys ua = UserAgentKeys::generate();
    std::string short_auth = R"({"endpoint":"x","keys":{"p256dh":")" + ua.key().public_base64url() +
                             R"(","auth":"AAAA"}})";
    EXPECT_EQ(Subscription::from_json(short_auth).error().code, Errc::invalid_key);
}

TEST(PushRequest, Aes128gcmWithVapidLooksLikeWebPush) {
    UserAgentKeys ua = UserAgentKeys::generate();
    PushOptions o;
    o.ttl = 60;
    o.urgency = "high";
    o.topic = "t";
    o.vapid = VapidOptions{P256Key::generate(), "mailto:a@example.com"};
    auto req =
        build_push_request(ua.subscription("http://127.0.0.1:8480/push/x"), to_bytes("hello"), o)
            .value();
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.headers.get("TTL"), "60");
    EXPECT_EQ(req.headers.get("Urgency"), "high");
    EXPECT_EQ(req.headers.get("Topic"), "t");
    EXPECT_EQ(req.headers.get("Content-Encoding"), "aes128gcm");
    EXPECT_EQ(req.headers.get("Content-Type"), "application/octet-stream");
    EXPECT_FALSE(req.headers.has("Crypto-Key"));
    EXPECT_EQ(req.body.size(), 86u + 5u + 1u + 16u);
    auto auth = req.headers.get("Authorization").value();
    ASSERT_EQ(auth.rfind("vapid t=", 0), 0u);
    auto params = parse_params_flat(auth.substr(6));
    auto claims = verify_jwt(*find_param(params, "t"), o.vapid->key).value();
    EXPECT_EQ(claims.aud, "http://127.0.0.1:8480");
    EXPECT_EQ(claims.sub, "mailto:a@example.com");
    EXPECT_EQ(ua.decrypt(to_bytes(req.body), {"aes128gcm", "", ""}).value(), to_bytes("hello"));
}

TEST(PushRequest, AesgcmUsesWebPushSchemeAndJoinedCryptoKey) {
    UserAgentKeys ua = UserAgentKeys::generate();
    PushOptions o;
    o.encryption.encoding = ContentEncoding::aesgcm;
    o.vapid = VapidOptions{P256Key::generate(), "mailto:a@example.com"};
    auto req = build_push_request(ua.subscription("https://h/p"), to_bytes("x"), o).value();
    EXPECT_EQ(req.headers.get("Authorization").value().rfind("WebPush ", 0), 0u);
    auto ck = req.headers.get("Crypto-Key").value();
    EXPECT_EQ(ck.rfind("dh=", 0), 0u);
    EXPECT_NE(ck.find(";p256ecdsa=" + o.vapid->key.public_base64url()), std::string::npos);
    auto plain =
        ua.decrypt(to_bytes(req.body), {"aesgcm", req.headers.get("Encryption").value(), ck});
    EXPECT_EQ(to_string(plain.value()), "x");
}

TEST(PushRequest, EmptyPayloadHasNoBodyAndNoEncoding) {
    UserAgentKeys ua = UserAgentKeys::generate();
    auto req = build_push_request(ua.subscription("https://h/p"), {}, {}).value();
    EXPECT_TRUE(req.body.empty());
    EXPECT_FALSE(req.headers.has("Content-Encoding"));
    EXPECT_EQ(req.headers.get("TTL"), "2419200");
}

}  // namespace
}  // namespace webpush_client
