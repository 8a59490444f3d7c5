// The RocksStore record encoding: round trips byte-exact and rejects malformed input.

#include "pushsvc/store/record_codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace pushsvc::store::codec {
namespace {

MessageRecord full_message() {
    MessageRecord m;
    m.id = std::string("\x00\x01\xff", 3);
    m.uaid = "ua";
    m.subscription_id = "sub";
    m.seq = std::numeric_limits<std::uint64_t>::max();
    m.received_ms = -5;
    m.expires_ms = std::numeric_limits<std::int64_t>::max();
    m.ttl_s = std::numeric_limits<std::uint32_t>::max();
    m.urgency = 255;
    m.topic = "t";
    m.content_encoding = "aesgcm";
    m.encryption = "salt=x";
    m.crypto_key = "dh=y";
    m.receipt_id = "r";
    m.receipt_status = 410;
    m.delivered = true;
    m.body = std::string(300, '\0') + "tail";
    return m;
}

TEST(RecordCodec, MessageRoundTripsEveryFieldAtTheirLimits) {
    const MessageRecord m = full_message();
    MessageRecord out;
    ASSERT_TRUE(decode(encode(m), out));
    EXPECT_EQ(out.id, m.id);
    EXPECT_EQ(out.uaid, m.uaid);
    EXPECT_EQ(out.subscription_id, m.subscription_id);
    EXPECT_EQ(out.seq, m.seq);
    EXPECT_EQ(out.received_ms, m.received_ms);
    EXPECT_EQ(out.expires_ms, m.expires_ms);
    EXPECT_EQ(out.ttl_s, m.ttl_s);
    EXPECT_EQ(out.urgency, m.urgency);
    EXPECT_EQ(out.topic, m.topic);
    EXPECT_EQ(out.content_encoding, m.content_encoding);
    EXPECT_EQ(out.encryption, m.encryption);
    EXPECT_EQ(out.crypto_key, m.crypto_key);
    EXPECT_EQ(out.receipt_id, m.receipt_id);
    EXPECT_EQ(out.receipt_status, 410);
    EXPECT_TRUE(out.delivered);
    EXPECT_EQ(out.body, m.body);
}

TEST(RecordCodec, Version1MessagesWrittenBeforeTheDeliveredFlagStillDecode) {
    // A version-1 message record is the version-2 encoding without its last field.
    const MessageRecord m = full_message();
    std::string v1 = encode(m);
    ASSERT_EQ(v1.back(), '\x01');  // delivered = true, the final varint
    v1.pop_back();
    v1[0] = static_cast<char>(1);
    MessageRecord out;
    ASSERT_TRUE(decode(v1, out));
    EXPECT_EQ(out.body, m.body);
    EXPECT_FALSE(out.delivered);
    // ...but a version-2 record missing the flag is truncated.
    v1[0] = static_cast<char>(kMessageVersion);
    EXPECT_FALSE(decode(v1, out));
}

TEST(RecordCodec, SubscriptionAndUserAgentRoundTrip) {
    SubscriptionRecord s{
        .id = "s", .uaid = "u", .channel_id = "c", .app_server_key = "k", .created_ms = 42};
    SubscriptionRecord s2;
    ASSERT_TRUE(decode(encode(s), s2));
    EXPECT_EQ(s2.id, "s");
    EXPECT_EQ(s2.app_server_key, "k");
    EXPECT_EQ(s2.created_ms, 42);
    UserAgentRecord u{.uaid = "u", .created_ms = 1, .last_seen_ms = 2, .kind = AgentKind::receipts};
    UserAgentRecord u2;
    ASSERT_TRUE(decode(encode(u), u2));
    EXPECT_EQ(u2.uaid, "u");
    EXPECT_EQ(u2.last_seen_ms, 2);
    EXPECT_EQ(u2.kind, AgentKind::receipts);
}

TEST(RecordCodec, RejectsEveryTruncationAndTrailingBytes) {
    const std::string bytes = encode(full_message());
    MessageRecord out;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), out)) << "length " << n;
    }
    EXPECT_FALSE(decode(bytes + "x", out));
}

TEST(RecordCodec, RejectsUnknownVersion) {
    std::string bytes = encode(UserAgentRecord{.uaid = "u"});
    bytes[0] = static_cast<char>(kUserAgentVersion + 1);
    UserAgentRecord out;
    EXPECT_FALSE(decode(bytes, out));
    bytes[0] = 0;
    EXPECT_FALSE(decode(bytes, out));
}

TEST(RecordCodec, LengthPrefixedFieldsArePrefixFree) {
    std::string a;
    append_lp(a, "ab");
    std::string b;
    append_lp(b, "abc");
    EXPECT_NE(b.substr(0, a.size()), a);
    std::string_view in = b;
    std::string_view field;
    ASSERT_TRUE(read_lp(in, field));
    EXPECT_EQ(field, "abc");
    EXPECT_TRUE(in.empty());
}

// Records written by version 1 (a subscription with a set_id, a user agent without a kind)
// still decode after the upgrade.
TEST(RecordCodec, VersionOneUserAgentAndSubscriptionDecode) {
    std::string ua(1, '\x01');
    append_lp(ua, "u");
    append_be64(ua, 1);
    append_be64(ua, 2);
    UserAgentRecord u;
    ASSERT_TRUE(decode(ua, u));
    EXPECT_EQ(u.last_seen_ms, 2);
    EXPECT_EQ(u.kind, AgentKind::user_agent);
    std::string sub(1, '\x01');
    for (const char* f : {"s", "u", "c", "k", "set"}) append_lp(sub, f);
    append_be64(sub, 42);
    SubscriptionRecord s;
    ASSERT_TRUE(decode(sub, s));
    EXPECT_EQ(s.app_server_key, "k");
    EXPECT_EQ(s.created_ms, 42);
    sub[0] = static_cast<char>(kSubscriptionVersion);  // version 2 has no set_id: too long
    EXPECT_FALSE(decode(sub, s));
}

}  // namespace
}  // namespace pushsvc::store::codec
