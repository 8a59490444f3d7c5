#include "pushsvc/cluster/wire.h"

#include <gtest/gtest.h>

namespace pushsvc::cluster {
namespace {

constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";
constexpr std::int64_t kNow = 1'700'000'000'000;

TEST(ClusterWire, EveryKindOfEventRoundTripsByteExact) {
    auto m = std::make_shared<store::MessageRecord>();
    m->id = std::string("m\0\xff", 3);
    m->uaid = std::string("u\0\x01", 3);
    m->subscription_id = "s1";
    m->expires_ms = kNow + 1000;
    m->body = std::string("\x00\x01\x02 body", 8);
    Notification n{.to = "http://b:1", .from = "node-a", .events = {}};
    n.events.push_back({Event::Kind::wake, std::string("u\0\x01", 3), "", nullptr});
    n.events.push_back({Event::Kind::direct, m->uaid, "", m});
    n.events.push_back({Event::Kind::acked, "ua2", std::string("id\0", 3), nullptr});
    n.events.push_back({Event::Kind::removed, "ua3", "", nullptr});  // the whole user agent
    auto stored = std::make_shared<store::MessageRecord>(*m);
    stored->seq = 41;
    stored->prev_seq = 40;  // not in the record codec: a field of its own
    n.events.push_back({Event::Kind::wake, m->uaid, "", stored});
    auto back = decode(encode(n));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->to, "http://b:1");
    EXPECT_EQ(back->from, "node-a");
    ASSERT_EQ(back->events.size(), 5u);
    EXPECT_FALSE(back->events[0].message);  // a wake without its message
    ASSERT_TRUE(back->events[4].message);
    EXPECT_EQ(back->events[4].kind, Event::Kind::wake);
    EXPECT_EQ(back->events[4].message->seq, 41u);
    EXPECT_EQ(back->events[4].message->prev_seq, 40u);
    EXPECT_EQ(back->events[4].message->body, m->body);
    // Its prev is required with the message, and is a seq.
    const std::string text = encode(n);
    const auto at = text.find(",\"prev\":40");
    ASSERT_NE(at, std::string::npos) << text;
    EXPECT_FALSE(decode(std::string(text).erase(at, 10)).has_value());
    EXPECT_FALSE(decode(std::string(text).replace(at, 10, ",\"prev\":-4")).has_value());
    EXPECT_EQ(back->events[0].kind, Event::Kind::wake);
    EXPECT_EQ(back->events[0].uaid, std::string("u\0\x01", 3));
    EXPECT_EQ(back->events[1].kind, Event::Kind::direct);
    ASSERT_TRUE(back->events[1].message);
    EXPECT_EQ(back->events[1].message->id, m->id);
    EXPECT_EQ(back->events[1].message->body, m->body);
    EXPECT_EQ(back->events[1].message->expires_ms, m->expires_ms);
    EXPECT_EQ(back->events[2].kind, Event::Kind::acked);
    EXPECT_EQ(back->events[2].id, std::string("id\0", 3));
    EXPECT_EQ(back->events[3].kind, Event::Kind::removed);
    EXPECT_EQ(back->events[3].id, "");
}

TEST(ClusterWire, MalformedNotificationsAreRefused) {
    for (const char* body :
         {"", "[]", "{}", "{\"events\": 5}", "{\"events\": [1]}",
          "{\"events\": [{\"kind\": \"wake\"}]}",                      // no uaid
          "{\"events\": [{\"kind\": \"poke\", \"uaid\": \"dWE\"}]}",   // unknown kind
          "{\"events\": [{\"kind\": \"wake\", \"uaid\": \"d+E\"}]}",   // not base64url
          "{\"events\": [{\"kind\": \"acked\", \"uaid\": \"dWE\"}]}",  // no id
          "{\"events\": [{\"kind\": \"direct\", \"uaid\": \"dWE\", \"message\": \"AAAA\"}]}",
          // a wake's message must decode, and come with its prev
          "{\"events\": [{\"kind\": \"wake\", \"uaid\": \"dWE\", \"message\": \"AAAA\", "
          "\"prev\": 1}]}"})
        EXPECT_FALSE(decode(body).has_value()) << body;
    EXPECT_TRUE(decode("{\"events\": []}").has_value());
}

TEST(ClusterWire, AbsentIndexesMustNameEvents) {
    EXPECT_EQ(decode_absent(encode_absent({0, 2}), 3), (std::vector<std::size_t>{0, 2}));
    EXPECT_FALSE(decode_absent(encode_absent({3}), 3).has_value());
    EXPECT_FALSE(decode_absent("{\"absent\": [-1]}", 3).has_value());
    EXPECT_FALSE(decode_absent("{}", 3).has_value());
    EXPECT_FALSE(decode_absent("not json", 3).has_value());
}

TEST(ClusterWire, SignatureCoversTimeMethodPathAndBody) {
    const std::string body = "{\"events\": []}";
    const std::string auth = sign(kSecret, kNow, "POST", kNotifyPath, body);
    EXPECT_EQ(auth.rfind("PushsvcCluster t=", 0), 0u);
    EXPECT_EQ(auth.find(kSecret), std::string::npos);  // the secret never travels
    EXPECT_EQ(verify(kSecret, auth, kNow, "POST", kNotifyPath, body), AuthResult::ok);
    // Clocks a few minutes apart are fine, further is refused (a captured request expires).
    EXPECT_EQ(verify(kSecret, auth, kNow + kReplayWindowMs, "POST", kNotifyPath, body),
              AuthResult::ok);
    EXPECT_EQ(verify(kSecret, auth, kNow + kReplayWindowMs + 1, "POST", kNotifyPath, body),
              AuthResult::invalid);
    EXPECT_EQ(verify(kSecret, auth, kNow - kReplayWindowMs - 1, "POST", kNotifyPath, body),
              AuthResult::invalid);
    // Anything altered, or another secret.
    EXPECT_EQ(verify(kSecret, auth, kNow, "POST", kNotifyPath, body + " "), AuthResult::invalid);
    EXPECT_EQ(verify(kSecret, auth, kNow, "PUT", kNotifyPath, body), AuthResult::invalid);
    EXPECT_EQ(verify(kSecret, auth, kNow, "POST", "/_cluster/v1/other", body), AuthResult::invalid);
    EXPECT_EQ(verify("another secret of enough length!!", auth, kNow, "POST", kNotifyPath, body),
              AuthResult::invalid);
    std::string tampered = auth;
    tampered[tampered.find("t=") + 2] = tampered[tampered.find("t=") + 2] == '1' ? '2' : '1';
    EXPECT_EQ(verify(kSecret, tampered, kNow, "POST", kNotifyPath, body), AuthResult::invalid);
    // No header or another scheme: missing; the scheme is case-insensitive.
    EXPECT_EQ(verify(kSecret, std::nullopt, kNow, "POST", kNotifyPath, body), AuthResult::missing);
    EXPECT_EQ(verify(kSecret, std::string("Bearer ") + std::string(kSecret), kNow, "POST",
                     kNotifyPath, body),
              AuthResult::missing);
    std::string lower = auth;
    lower.replace(0, 14, "pushsvccluster");
    EXPECT_EQ(verify(kSecret, lower, kNow, "POST", kNotifyPath, body), AuthResult::ok);
    for (const char* garbage : {"PushsvcCluster ", "PushsvcCluster t=, mac=", "PushsvcCluster x",
                                "PushsvcCluster t=1, mac=***"})
        EXPECT_EQ(verify(kSecret, std::string(garbage), kNow, "POST", kNotifyPath, body),
                  AuthResult::invalid)
            << garbage;
}

}  // namespace
}  // namespace pushsvc::cluster
