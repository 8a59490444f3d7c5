// The WebSocket push protocol state machine (Firefox's push protocol), driven with the
// frames Firefox sends, over a MemoryStore.
#include "pushsvc/webpush/ua_channel.h"

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/store/memory_store.h"
#include "tests/support/forwarding_store.h"

namespace pushsvc::webpush {
namespace {

namespace json = boost::json;
using namespace channel;

constexpr std::string_view kChannelA = "d501fd61-5d2f-44d6-8fcb-9c183a0b83ae";
constexpr std::string_view kChannelB = "347e5a77-0f34-4ec9-a876-02b6bfdae660";

// Counts the store calls a channel can make.
class CountingStore final : public pushsvc::testing::ForwardingStore {
  public:
    using ForwardingStore::ForwardingStore;
    int calls = 0;

    result<std::vector<store::MessageRecord>> pending(std::string_view id, base::UnixMs now,
                                                      std::uint64_t after, std::size_t n) override {
        ++calls;
        return ForwardingStore::pending(id, now, after, n);
    }
    result<std::vector<store::SubscriptionRecord>> subscriptions_of(std::string_view id) override {
        ++calls;
        return ForwardingStore::subscriptions_of(id);
    }
    result<void> mark_delivered(std::string_view id) override {
        ++calls;
        return ForwardingStore::mark_delivered(id);
    }
    result<std::optional<store::MessageRecord>> get_message(std::string_view id) override {
        ++calls;
        return ForwardingStore::get_message(id);
    }
    result<std::optional<store::MessageRecord>> delete_message(std::string_view id) override {
        ++calls;
        if (fail_deletes) return errc::store_failure;
        return ForwardingStore::delete_message(id);
    }
    bool fail_deletes = false;
    result<bool> touch_user_agent(std::string_view id, base::UnixMs t) override {
        ++calls;
        return ForwardingStore::touch_user_agent(id, t);
    }
};

class UaChannelTest : public ::testing::Test {
  protected:
    UaChannelTest()
        : service_(options(), store_, EndpointCodec({std::string(32, 'k')}), clock_),
          backend_(service_, store_, clock_) {}

    static ServiceOptions options() {
        ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }

    // The JSON of every Send action, in order.
    static std::vector<json::object> sent(const std::vector<Action>& actions) {
        std::vector<json::object> out;
        for (const auto& a : actions)
            if (const auto* s = std::get_if<Send>(&a))
                out.push_back(json::parse(s->text).as_object());
        return out;
    }
    // The ids of the Forget among `actions` (at most one per event).
    static std::vector<std::string> forgotten(const std::vector<Action>& actions) {
        for (const auto& a : actions)
            if (const auto* f = std::get_if<Forget>(&a)) return f->message_ids;
        return {};
    }
    static const Close* close_of(const std::vector<Action>& actions) {
        for (const auto& a : actions)
            if (const auto* c = std::get_if<Close>(&a)) return c;
        return nullptr;
    }

    std::string hello(UaChannel& ch, std::string uaid_wire = "") {
        std::string frame = R"({"messageType":"hello","broadcasts":{},"use_webpush":true)";
        if (!uaid_wire.empty()) frame += R"(,"uaid":")" + uaid_wire + "\"";
        frame += "}";
        auto replies = sent(ch.on_text(frame));
        EXPECT_FALSE(replies.empty());
        return replies.empty() ? "" : std::string(replies[0].at("uaid").as_string());
    }

    std::string register_channel(UaChannel& ch, std::string_view id, std::string key = "") {
        std::string frame = R"({"channelID":")" + std::string(id) + R"(","messageType":"register")";
        if (!key.empty()) frame += R"(,"key":")" + key + "\"";
        frame += "}";
        auto replies = sent(ch.on_text(frame));
        EXPECT_EQ(replies.size(), 1u);
        EXPECT_EQ(replies[0].at("status").as_int64(), 200) << json::serialize(replies[0]);
        return std::string(replies[0].at("pushEndpoint").as_string());
    }

    // Pushes through the service like a sender would.
    PushOutcome push(const std::string& endpoint, std::string body, std::string ttl = "60",
                     std::optional<std::string> topic = {}) {
        PushRequest req;
        req.token = endpoint.substr(endpoint.rfind('/') + 1);
        req.ttl = ttl;
        req.topic = topic;
        if (!body.empty()) {
            req.content_encoding = "aes128gcm";
            std::string header(16, 's');
            header += std::string("\0\0\x10\0", 4);
            header += "\x41\x04" + std::string(64, 'k');
            body = header + body;
        }
        req.body = std::move(body);
        auto out = service_.push(std::move(req));
        EXPECT_TRUE(out);
        return *out;
    }

    std::string ack_frame(const json::object& notification, int code = 100) {
        return json::serialize(json::object{
            {"messageType", "ack"},
            {"updates", json::array{json::object{{"channelID", notification.at("channelID")},
                                                 {"version", notification.at("version")},
                                                 {"code", code}}}}});
    }

    base::FakeClock clock_;
    store::MemoryStore memory_{&clock_};
    CountingStore store_{memory_};
    PushService service_;
    ServiceChannelBackend backend_;
};

TEST_F(UaChannelTest, HelloWithoutUaidGetsAFreshOneAndUseWebpush) {
    UaChannel ch(backend_);
    auto actions = ch.on_text(R"({"messageType":"hello","broadcasts":{},"use_webpush":true})");
    auto replies = sent(actions);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].at("messageType").as_string(), "hello");
    EXPECT_EQ(replies[0].at("status").as_int64(), 200);
    EXPECT_TRUE(replies[0].at("use_webpush").as_bool());
    EXPECT_EQ(replies[0].at("uaid").as_string().size(), 32u);
    EXPECT_TRUE(ch.identified());
    ASSERT_TRUE(std::holds_alternative<Identified>(actions[1]));
    EXPECT_EQ(std::get<Identified>(actions[1]).uaid, ch.uaid());
}

TEST_F(UaChannelTest, KnownUaidIsKeptAndUnknownOneIsReplaced) {
    UaChannel first(backend_);
    std::string uaid = hello(first);
    UaChannel again(backend_);
    EXPECT_EQ(hello(again, uaid), uaid);
    UaChannel stranger(backend_);
    EXPECT_NE(hello(stranger, "30ffe4e0c7a34715829c238fa4ee5c75"),
              "30ffe4e0c7a34715829c238fa4ee5c75");
    UaChannel garbage(backend_);
    EXPECT_EQ(hello(garbage, "not-hex").size(), 32u);
}

TEST_F(UaChannelTest, AnythingBeforeHelloClosesTheConnection) {
    UaChannel ch(backend_);
    auto actions = ch.on_text(R"({"messageType":"register","channelID":"x"})");
    ASSERT_TRUE(close_of(actions));
    EXPECT_EQ(close_of(actions)->code, 1008);
    EXPECT_TRUE(ch.on_text(R"({"messageType":"hello"})").empty());  // closed: ignored
}

TEST_F(UaChannelTest, PingsAreAnsweredWithEmptyObject) {
    UaChannel ch(backend_);
    for (std::string ping : {"{}", R"({"messageType":"ping"})"}) {
        auto replies = ch.on_text(ping);
        ASSERT_EQ(replies.size(), 1u);
        EXPECT_EQ(std::get<Send>(replies[0]).text, "{}");
    }
}

TEST_F(UaChannelTest, InvalidJsonCloses) {
    UaChannel ch(backend_);
    hello(ch);
    for (std::string bad : {"not json", "[1,2]", "\"str\""}) {
        UaChannel c(backend_);
        ASSERT_TRUE(close_of(c.on_text(bad))) << bad;
        EXPECT_EQ(close_of(c.on_text(bad)), nullptr);  // already closed
    }
}

TEST_F(UaChannelTest, RegisterReturnsAnEndpointRestrictedByThePaddedKey) {
    UaChannel ch(backend_);
    hello(ch);
    auto key = crypto::P256PrivateKey::generate();
    std::string padded = base::base64url_encode(key.public_raw()) + "=";
    std::string endpoint = register_channel(ch, kChannelA, padded);
    EXPECT_EQ(endpoint.rfind("https://push.test/push/", 0), 0u);
    auto subs = *store_.subscriptions_of(ch.uaid());
    ASSERT_EQ(subs.size(), 1u);
    EXPECT_EQ(subs[0].channel_id, kChannelA);
    EXPECT_EQ(subs[0].app_server_key, key.public_raw());
}

TEST_F(UaChannelTest, RegisterRejectsInvalidAndDuplicateChannelsAndBadKeys) {
    UaChannel ch(backend_);
    hello(ch);
    register_channel(ch, kChannelA);
    auto status = [&](std::string frame) {
        auto r = sent(ch.on_text(frame));
        return r.empty() ? 0 : int(r[0].at("status").as_int64());
    };
    EXPECT_EQ(status(R"({"messageType":"register","channelID":"not-a-uuid"})"), 400);
    EXPECT_EQ(status(R"({"messageType":"register","channelID":")" + std::string(kChannelA) + "\"}"),
              409);
    EXPECT_EQ(status(R"({"messageType":"register","channelID":")" + std::string(kChannelB) +
                     R"(","key":"AAAA"})"),
              400);
    EXPECT_EQ(status(R"({"messageType":"register","channelID":")" + std::string(kChannelB) +
                     R"(","key":5})"),
              400);
}

TEST_F(UaChannelTest, NotificationCarriesBodyAndEncodingButNeverTtlUrgencyOrTopic) {
    UaChannel ch(backend_);
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    auto pushed = push(endpoint, "hello", "60", "tp");
    auto replies = sent(ch.on_stored());
    ASSERT_EQ(replies.size(), 1u);
    const auto& n = replies[0];
    EXPECT_EQ(n.at("messageType").as_string(), "notification");
    EXPECT_EQ(n.at("channelID").as_string(), kChannelA);
    EXPECT_EQ(n.at("version").as_string(), base::base64url_encode(pushed.message.id));
    EXPECT_EQ(*base::base64url_decode(n.at("data").as_string()), pushed.message.body);
    EXPECT_EQ(n.at("headers").as_object().at("encoding").as_string(), "aes128gcm");
    EXPECT_FALSE(n.contains("ttl"));
    EXPECT_FALSE(n.contains("topic"));
    EXPECT_FALSE(n.contains("urgency"));
}

TEST_F(UaChannelTest, AesgcmNotificationForwardsSaltAndOnlyDh_RVAPID01_5_2_c) {
    UaChannel ch(backend_);
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    PushRequest req;
    req.token = endpoint.substr(endpoint.rfind('/') + 1);
    req.ttl = "60";
    req.content_encoding = "aesgcm";
    std::string salt = base::base64url_encode(std::string(16, 'S'));
    std::string dh = base::base64url_encode("\x04" + std::string(64, 'D'));
    req.encryption = "salt=\"" + salt + "\"";
    req.crypto_key = "dh=" + dh + ";p256ecdsa=BBBB";
    req.body = "ciphertext";
    ASSERT_TRUE(service_.push(req));
    auto n = sent(ch.on_stored()).at(0);
    auto headers = n.at("headers").as_object();
    EXPECT_EQ(headers.at("encoding").as_string(), "aesgcm");
    EXPECT_EQ(headers.at("encryption").as_string(), "salt=" + salt);
    EXPECT_EQ(headers.at("crypto_key").as_string(), "dh=" + dh);
}

TEST_F(UaChannelTest, AckDeletesExactlyTheAckedMessageAndNothingIsRedelivered) {
    UaChannel ch(backend_);
    std::string uaid = hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    push(endpoint, "one");
    push(endpoint, "two");
    auto notes = sent(ch.on_stored());
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_TRUE(sent(ch.on_text(ack_frame(notes[0]))).empty());
    EXPECT_EQ(store_.pending(ch.uaid(), clock_.now_ms(), 0, 10)->size(), 1u);
    // Reconnect: only the un-acked message comes again.
    UaChannel again(backend_);
    std::string frame = R"({"messageType":"hello","use_webpush":true,"uaid":")" + uaid + "\"}";
    auto replies = sent(again.on_text(frame));
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[1].at("version"), notes[1].at("version"));
    again.on_text(ack_frame(replies[1]));
    EXPECT_TRUE(store_.pending(ch.uaid(), clock_.now_ms(), 0, 10)->empty());
}

// An ack's deletes, done now or named in a Forget for after the event: when the store fails
// them, the channel ends with 1011 and the message, still stored, comes again on the next
// connection.
TEST_F(UaChannelTest, AnAckWhoseDeleteFailsEndsTheConnectionAndTheMessageComesAgain) {
    for (auto deletes : {UaChannel::AckDeletes::now, UaChannel::AckDeletes::later}) {
        UaChannel ch(backend_);
        std::string uaid = hello(ch);
        std::string endpoint = register_channel(ch, kChannelA);
        push(endpoint, "one");
        auto notes = sent(ch.on_stored());
        ASSERT_EQ(notes.size(), 1u);
        store_.fail_deletes = true;
        auto actions = ch.on_text(ack_frame(notes[0]), deletes);
        std::optional<Close> close;
        if (deletes == UaChannel::AckDeletes::now) {
            if (const auto* c = close_of(actions)) close = *c;
        } else {
            // Named, not deleted; the delete fails when the session does it.
            EXPECT_EQ(forgotten(actions), std::vector<std::string>{*base::base64url_decode(
                                              notes[0].at("version").as_string())});
            close = UaChannel::forget(backend_, std::get<Forget>(actions.at(0)));
        }
        store_.fail_deletes = false;
        ASSERT_TRUE(close.has_value());
        EXPECT_EQ(close->code, 1011);
        UaChannel again(backend_);
        auto replies = sent(
            again.on_text(R"({"messageType":"hello","use_webpush":true,"uaid":")" + uaid + "\"}"));
        ASSERT_EQ(replies.size(), 2u);
        EXPECT_EQ(replies[1].at("version"), notes[0].at("version"));
        again.on_text(ack_frame(replies[1]));  // deleted now, for the next round
        EXPECT_TRUE(store_.pending(again.uaid(), clock_.now_ms(), 0, 10)->empty());
    }
}

// What handles_text_without_store() promises: `true` means on_text(frame, later) makes no
// store call, so the session runs it on its network thread. An ack qualifies while the queue
// is known to be read to its end (its deletes go out as a Forget); a register, an unregister,
// a hello before the channel is identified, and an ack whose refill reads the queue do not.
TEST_F(UaChannelTest, AnAckIsHandledWithoutTheStoreWhileTheQueueIsReadToItsEnd) {
    using enum UaChannel::AckDeletes;
    UaChannel ch(backend_, ChannelOptions{.max_inflight = 2});
    EXPECT_FALSE(ch.handles_text_without_store(R"({"messageType":"hello"})"));
    hello(ch);
    EXPECT_FALSE(ch.handles_text_without_store(R"({"messageType":"register","channelID":"x"})"));
    EXPECT_FALSE(ch.handles_text_without_store(R"({"messageType":"unregister"})"));
    EXPECT_FALSE(ch.handles_text_without_store("{}"));  // acks only
    EXPECT_FALSE(ch.handles_text_without_store("not json"));
    std::string endpoint = register_channel(ch, kChannelA);
    push(endpoint, "m0");
    auto first = sent(ch.on_stored());
    ASSERT_EQ(first.size(), 1u);  // the queue, read to its end
    int calls = store_.calls;
    const std::string ack = ack_frame(first[0]);
    ASSERT_TRUE(ch.handles_text_without_store(ack));
    auto actions = ch.on_text(ack, later);
    EXPECT_EQ(store_.calls, calls);
    ASSERT_EQ(forgotten(actions).size(), 1u);
    EXPECT_EQ(store_.pending(ch.uaid(), clock_.now_ms(), 0, 10)->size(), 1u);  // not yet
    EXPECT_FALSE(UaChannel::forget(backend_, std::get<Forget>(actions.at(0))).has_value());
    EXPECT_TRUE(store_.pending(ch.uaid(), clock_.now_ms(), 0, 10)->empty());

    // Three more, one past the window: the queue is not read to its end, so an ack refills.
    push(endpoint, "m1");
    push(endpoint, "m2");
    push(endpoint, "m3");
    auto more = sent(ch.on_stored());
    ASSERT_EQ(more.size(), 2u);
    EXPECT_FALSE(ch.handles_text_without_store(ack_frame(more[0])));
    calls = store_.calls;
    auto refill = sent(ch.on_text(ack_frame(more[0])));
    EXPECT_GT(store_.calls, calls);
    EXPECT_EQ(refill.size(), 1u);
}

TEST_F(UaChannelTest, QueuedMessagesArriveInOrderAfterReconnectAndExpiredOnesNever) {
    std::string uaid, endpoint;
    {
        UaChannel ch(backend_);
        uaid = hello(ch);
        endpoint = register_channel(ch, kChannelA);
    }
    push(endpoint, "short", "1");
    for (int i = 0; i < 5; ++i) push(endpoint, "m" + std::to_string(i));
    clock_.advance_ms(1500);
    UaChannel ch(backend_);
    std::string frame = R"({"messageType":"hello","use_webpush":true,"uaid":")" + uaid + "\"}";
    auto replies = sent(ch.on_text(frame));
    ASSERT_EQ(replies.size(), 6u);
    for (int i = 0; i < 5; ++i)
        EXPECT_TRUE(base::base64url_decode(replies[i + 1].at("data").as_string())
                        ->ends_with("m" + std::to_string(i)));
}

TEST_F(UaChannelTest, AtMostMaxInflightUnackedNotificationsAndAcksMakeRoom) {
    UaChannel ch(backend_, ChannelOptions{.max_inflight = 4});
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    for (int i = 0; i < 7; ++i) push(endpoint, "m" + std::to_string(i));
    auto first = sent(ch.on_stored());
    EXPECT_EQ(first.size(), 4u);
    EXPECT_TRUE(sent(ch.on_stored()).empty());
    EXPECT_EQ(ch.inflight(), 4u);
    // Stored messages refill the window once half of it is free: one queue read per batch.
    EXPECT_TRUE(sent(ch.on_text(ack_frame(first[0]))).empty());
    auto more = sent(ch.on_text(ack_frame(first[1])));
    ASSERT_EQ(more.size(), 2u);
    EXPECT_TRUE(base::base64url_decode(more[0].at("data").as_string())->ends_with("m4"));
    EXPECT_TRUE(base::base64url_decode(more[1].at("data").as_string())->ends_with("m5"));
    EXPECT_EQ(ch.inflight(), 4u);
}

TEST_F(UaChannelTest, AQueueReadToItsEndIsReadAgainOnlyWhenWoken) {
    UaChannel ch(backend_);
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    push(endpoint, "m0");
    auto first = sent(ch.on_stored());
    ASSERT_EQ(first.size(), 1u);
    // m1 is stored, but its wake (which the hub posts after every store) has not come yet:
    // the ack does not read the queue again, known to be at its end.
    push(endpoint, "m1");
    EXPECT_TRUE(sent(ch.on_text(ack_frame(first[0]))).empty());
    auto next = sent(ch.on_stored());
    ASSERT_EQ(next.size(), 1u);
    EXPECT_TRUE(base::base64url_decode(next[0].at("data").as_string())->ends_with("m1"));
}

TEST_F(UaChannelTest, TtlZeroMessageIsDeliveredDirectlyOnlyWhenOnline) {
    UaChannel ch(backend_);
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    auto pushed = push(endpoint, "now", "0");
    EXPECT_EQ(pushed.ttl_kept, 0u);
    EXPECT_FALSE(store_.get_message(pushed.message.id)->has_value());  // never stored
    auto replies = sent(ch.on_direct(pushed.message));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_TRUE(sent(ch.on_text(ack_frame(replies[0]))).empty());
    EXPECT_EQ(ch.inflight(), 0u);
}

// What handles_without_store() promises (a WebSocket session then runs the event on its
// network thread, however slow the store is): `true` means on_stored()/on_direct() make no
// store call. The store is needed to read the queue (a message out of order), to learn a
// channel subscribed elsewhere, and to record the delivery of a message asking for a receipt.
TEST_F(UaChannelTest, AWakeUpCarryingTheNextMessageIsHandledWithoutTheStore) {
    UaChannel ch(backend_);
    EXPECT_TRUE(ch.handles_without_store(store::MessageRecord{}, false));  // before the hello
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    auto m0 = push(endpoint, "m0").message;
    ASSERT_EQ(sent(ch.on_stored()).size(), 1u);  // the queue, read to its end
    // The next message, carried by its wake-up (prev_seq names m0, as PgStore sets it).
    auto m1 = push(endpoint, "m1").message;
    m1.prev_seq = m0.seq;
    int calls = store_.calls;
    ASSERT_TRUE(ch.handles_without_store(m1, false));
    EXPECT_EQ(sent(ch.on_stored(&m1)).size(), 1u);
    EXPECT_TRUE(ch.handles_without_store(m1, false));  // seen now: nothing to do
    EXPECT_TRUE(sent(ch.on_stored(&m1)).empty());
    EXPECT_EQ(store_.calls, calls);

    auto m2 = push(endpoint, "m2").message;
    m2.prev_seq = m1.seq;
    auto with_receipt = m2;
    with_receipt.receipt_id = "receipts";
    EXPECT_FALSE(ch.handles_without_store(with_receipt, false));  // mark_delivered
    auto elsewhere = m2;
    elsewhere.subscription_id = "subscribed-by-another-connection";
    EXPECT_FALSE(ch.handles_without_store(elsewhere, false));  // admit() reloads channels
    auto out_of_order = m2;
    out_of_order.prev_seq = m2.seq;
    EXPECT_FALSE(ch.handles_without_store(out_of_order, false));  // the queue is read
    calls = store_.calls;
    sent(ch.on_stored(&out_of_order));
    EXPECT_GT(store_.calls, calls);

    // TTL 0: sent directly, no store call, unless its delivery is to be recorded.
    auto now = push(endpoint, "now", "0").message;
    calls = store_.calls;
    ASSERT_TRUE(ch.handles_without_store(now, true));
    EXPECT_EQ(sent(ch.on_direct(now)).size(), 1u);
    EXPECT_EQ(store_.calls, calls);
    now.receipt_id = "receipts";
    EXPECT_FALSE(ch.handles_without_store(now, true));
}

TEST_F(UaChannelTest, UnregisterRemovesTheSubscriptionSoPushesAreGone) {
    UaChannel ch(backend_);
    hello(ch);
    std::string endpoint = register_channel(ch, kChannelA);
    auto replies = sent(ch.on_text(R"({"channelID":")" + std::string(kChannelA) +
                                   R"(","messageType":"unregister","code":200})"));
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_EQ(replies[0].at("status").as_int64(), 200);
    PushRequest req;
    req.token = endpoint.substr(endpoint.rfind('/') + 1);
    req.ttl = "60";
    EXPECT_EQ(to_errc(service_.push(req).error()), errc::subscription_gone);
}

TEST_F(UaChannelTest, NackBroadcastSubscribeAndUnknownTypesAreAcceptedSilently) {
    UaChannel ch(backend_);
    hello(ch);
    EXPECT_TRUE(ch.on_text(R"({"messageType":"nack","version":"x","code":301})").empty());
    EXPECT_TRUE(
        ch.on_text(R"({"messageType":"broadcast_subscribe","broadcasts":{"a":"1"}})").empty());
    EXPECT_TRUE(ch.on_text(R"({"messageType":"whatever"})").empty());
    EXPECT_TRUE(ch.identified());
    EXPECT_TRUE(close_of(ch.on_text(R"({"messageType":"hello"})")));
}

// --- Hello floods per address (rate.hello_*, rate.new_ua_*) ---

class UaChannelRateLimitTest : public ::testing::Test {
  protected:
    UaChannelRateLimitTest()
        : service_(options(), store_, EndpointCodec({std::string(32, 'k')}), clock_),
          backend_(service_, store_, clock_) {}

    static ServiceOptions options() {
        ServiceOptions o;
        o.origin = "https://push.test";
        o.rate.hello_per_min = 60;
        o.rate.hello_burst = 4;
        o.rate.new_ua_per_min = 6;  // one every 10 s
        o.rate.new_ua_burst = 2;
        return o;
    }

    // A new connection's hello from `client`: the reply's uaid, or the close it got.
    std::variant<std::string, Close> connect(const std::string& client, std::string uaid = "") {
        UaChannel ch(backend_, ChannelOptions{.client = client});
        std::string frame = R"({"messageType":"hello","use_webpush":true)";
        if (!uaid.empty()) frame += R"(,"uaid":")" + uaid + "\"";
        frame += "}";
        for (const auto& a : ch.on_text(frame)) {
            if (const auto* c = std::get_if<Close>(&a)) return *c;
            if (const auto* s = std::get_if<Send>(&a))
                return std::string(json::parse(s->text).at("uaid").as_string());
        }
        ADD_FAILURE() << "no reply to a hello";
        return std::string();
    }

    static std::uint64_t counted(obs::Limited l) { return obs::catalog().rate_limited(l).value(); }

    base::FakeClock clock_;
    store::MemoryStore store_{&clock_};
    PushService service_;
    ServiceChannelBackend backend_;
};

TEST_F(UaChannelRateLimitTest, NewUserAgentsPerAddressAreLimitedSoReconnectingCannotLiftTheCap) {
    auto a = connect("192.0.2.1");
    auto b = connect("192.0.2.1");
    ASSERT_TRUE(std::holds_alternative<std::string>(a) && std::holds_alternative<std::string>(b));
    const auto before = counted(obs::Limited::new_user_agent);
    auto refused = connect("192.0.2.1");  // a third fresh hello: no new user agent
    ASSERT_TRUE(std::holds_alternative<Close>(refused));
    EXPECT_EQ(std::get<Close>(refused).code, 1013);  // try again later: Firefox backs off
    EXPECT_EQ(counted(obs::Limited::new_user_agent), before + 1);
    EXPECT_EQ(store_.stats()->user_agents, 2u);
    // A known user agent still gets in (its hello creates nothing) ...
    auto back = connect("192.0.2.1", std::get<std::string>(a));
    ASSERT_TRUE(std::holds_alternative<std::string>(back));
    EXPECT_EQ(std::get<std::string>(back), std::get<std::string>(a));
    // ... another address is another client, and the clock refills the bucket.
    EXPECT_TRUE(std::holds_alternative<std::string>(connect("192.0.2.2")));
    clock_.advance_ms(10'000);
    EXPECT_TRUE(std::holds_alternative<std::string>(connect("192.0.2.1")));
}

TEST_F(UaChannelRateLimitTest, AHelloFloodFromOneAddressIsClosedAndCountedBeforeAnyStoreWork) {
    auto first = connect("192.0.2.9");
    ASSERT_TRUE(std::holds_alternative<std::string>(first));
    const auto uaid = std::get<std::string>(first);
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(std::holds_alternative<std::string>(connect("192.0.2.9", uaid))) << i;
    const auto before = counted(obs::Limited::hello);
    for (int i = 0; i < 20; ++i) {
        auto r = connect("192.0.2.9", uaid);
        ASSERT_TRUE(std::holds_alternative<Close>(r)) << i;
        EXPECT_EQ(std::get<Close>(r).code, 1013);
    }
    EXPECT_EQ(counted(obs::Limited::hello), before + 20);
    EXPECT_EQ(store_.stats()->user_agents, 1u);
    clock_.advance_ms(1'000);  // 60 a minute: one more hello a second
    EXPECT_TRUE(std::holds_alternative<std::string>(connect("192.0.2.9", uaid)));
    // A channel without a client key (in-process) is never limited.
    EXPECT_TRUE(std::holds_alternative<std::string>(connect("", uaid)));
}

}  // namespace
}  // namespace pushsvc::webpush
