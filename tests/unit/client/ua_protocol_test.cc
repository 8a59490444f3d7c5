// WebSocket push protocol frames (Firefox's push protocol): what we send is what Firefox
// sends, and every server frame form Firefox accepts parses.
#include "tools/client/ua_protocol.h"

#include <gtest/gtest.h>

#include <regex>

namespace webpush_client {
namespace {

TEST(UaProtocolFrames, HelloIsExactlyFirefoxs) {
    EXPECT_EQ(make_hello(), R"({"messageType":"hello","broadcasts":{},"use_webpush":true})");
    EXPECT_EQ(make_hello("30ffe4e0c7a34715829c238fa4ee5c75"),
              R"({"messageType":"hello","broadcasts":{},"use_webpush":true,)"
              R"("uaid":"30ffe4e0c7a34715829c238fa4ee5c75"})");
    EXPECT_EQ(make_hello(std::string()), make_hello());
}

TEST(UaProtocolFrames, RegisterPadsTheKeyLikeFirefox) {
    Bytes key(65, 0xab);
    key[0] = 4;
    std::string frame = make_register("d501fd61-5d2f-44d6-8fcb-9c183a0b83ae", key);
    EXPECT_EQ(frame, R"({"channelID":"d501fd61-5d2f-44d6-8fcb-9c183a0b83ae",)"
                     R"("messageType":"register","key":")" +
                         base64url_encode(key) + R"(="})");
    EXPECT_EQ(make_register("c", key, false).find("=\""), std::string::npos);
    EXPECT_EQ(make_register("c"), R"({"channelID":"c","messageType":"register"})");
}

TEST(UaProtocolFrames, UnregisterAckNackPing) {
    EXPECT_EQ(make_unregister("c1"), R"({"channelID":"c1","messageType":"unregister","code":200})");
    EXPECT_EQ(make_ack({{"c1", "v1", 100}, {"c2", "v2", 101}}),
              R"({"messageType":"ack","updates":[{"channelID":"c1","version":"v1","code":100},)"
              R"({"channelID":"c2","version":"v2","code":101}]})");
    EXPECT_EQ(make_nack("v9", 301), R"({"messageType":"nack","version":"v9","code":301})");
    EXPECT_EQ(make_ping(), "{}");
    EXPECT_EQ(make_broadcast_subscribe({{"remote-settings/monitor_changes", "\"0\""}}),
              R"({"messageType":"broadcast_subscribe","broadcasts":)"
              R"({"remote-settings/monitor_changes":"\"0\""}})");
}

TEST(UaProtocolFrames, ChannelIdsAreLowerCaseV4Uuids) {
    std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::string a = make_channel_id();
    EXPECT_TRUE(std::regex_match(a, uuid)) << a;
    EXPECT_NE(a, make_channel_id());
}

TEST(UaProtocolParse, HelloReply) {
    auto m = parse_server_message(
        R"({"messageType":"hello","status":200,"uaid":"abc","use_webpush":true,"broadcasts":{"x":"1"}})");
    ASSERT_TRUE(m);
    auto* h = std::get_if<HelloReply>(&*m);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(h->uaid, "abc");
    EXPECT_EQ(h->status, 200);
    EXPECT_TRUE(h->use_webpush);
    EXPECT_EQ(h->broadcasts.at("x"), "1");
    EXPECT_TRUE(validate_hello(*h));
}

TEST(UaProtocolParse, HelloValidationFollowsFirefox) {
    EXPECT_FALSE(validate_hello(HelloReply{"", 200, true, {}}));
    EXPECT_FALSE(validate_hello(HelloReply{std::string(129, 'a'), 200, true, {}}));
    EXPECT_TRUE(validate_hello(HelloReply{std::string(128, 'a'), 0, true, {}}));
    EXPECT_FALSE(validate_hello(HelloReply{"abc", 200, false, {}}));
    auto m = parse_server_message(R"({"messageType":"hello","uaid":42,"use_webpush":true})");
    EXPECT_FALSE(validate_hello(std::get<HelloReply>(*m)));
}

TEST(UaProtocolParse, RegisterAndUnregisterReplies) {
    auto r = parse_server_message(
        R"({"messageType":"register","channelID":"c1","status":200,"pushEndpoint":"http://x/push/c1"})");
    auto& reg = std::get<RegisterReply>(r.value());
    EXPECT_EQ(reg.channel_id, "c1");
    EXPECT_EQ(reg.status, 200);
    EXPECT_EQ(reg.push_endpoint, "http://x/push/c1");
    auto u = parse_server_message(R"({"messageType":"unregister","channelID":"c1","status":200})");
    EXPECT_EQ(std::get<UnregisterReply>(u.value()).status, 200);
}

TEST(UaProtocolParse, NotificationWithAesgcmHeaders) {
    auto m = parse_server_message(
        R"({"messageType":"notification","channelID":"c","version":"v2-e0902565","data":"aGk",)"
        R"("headers":{"encoding":"aesgcm","encryption":"salt=vBoJ1vaII7aTfF3BTd4rmg",)"
        R"("crypto_key":"dh=BC1z"}})");
    auto& n = std::get<Notification>(m.value());
    EXPECT_EQ(n.channel_id, "c");
    EXPECT_EQ(n.version, "v2-e0902565");
    EXPECT_EQ(to_string(n.body().value()), "hi");
    EXPECT_TRUE(n.has_headers);
    EXPECT_EQ(n.encoding_headers().content_encoding, "aesgcm");
    EXPECT_EQ(n.encoding_headers().encryption, "salt=vBoJ1vaII7aTfF3BTd4rmg");
    EXPECT_EQ(n.encoding_headers().crypto_key, "dh=BC1z");
}

TEST(UaProtocolParse, NotificationWithoutDataIsATickleAndPaddedDataDecodes) {
    auto tickle =
        parse_server_message(R"({"messageType":"notification","channelID":"c","version":"v"})");
    auto& t = std::get<Notification>(tickle.value());
    EXPECT_FALSE(t.data.has_value());
    EXPECT_FALSE(t.has_headers);
    EXPECT_TRUE(t.body().value().empty());
    auto padded = parse_server_message(
        R"({"messageType":"notification","channelID":"c","version":7,"data":"aGk=","headers":{}})");
    auto& p = std::get<Notification>(padded.value());
    EXPECT_EQ(p.version, "7");
    EXPECT_EQ(to_string(p.body().value()), "hi");
}

TEST(UaProtocolParse, PongForms) {
    for (const char* text : {"{}", R"({"messageType":"ping"})", R"({"status":200})"}) {
        auto m = parse_server_message(text);
        ASSERT_TRUE(m) << text;
        EXPECT_TRUE(std::holds_alternative<Pong>(*m)) << text;
    }
}

TEST(UaProtocolParse, MessageTypeIsCaseInsensitiveAndUnknownTypesAreKept) {
    auto m =
        parse_server_message(R"({"messageType":"Notification","channelID":"c","version":"v"})");
    EXPECT_TRUE(std::holds_alternative<Notification>(m.value()));
    auto b = parse_server_message(R"({"messageType":"broadcast","broadcasts":{"a":"b"}})");
    EXPECT_EQ(std::get<Broadcast>(b.value()).broadcasts.at("a"), "b");
    auto u = parse_server_message(R"({"messageType":"surprise"})");
    EXPECT_EQ(std::get<UnknownMessage>(u.value()).message_type, "surprise");
}

TEST(UaProtocolParse, NonObjectFramesAreErrors) {
    for (const char* text : {"", "[]", "not json", "\"hello\"", "{\"messageType\":"}) {
        auto m = parse_server_message(text);
        ASSERT_FALSE(m) << text;
        EXPECT_EQ(m.error().code, Errc::invalid_json);
    }
}

}  // namespace
}  // namespace webpush_client
