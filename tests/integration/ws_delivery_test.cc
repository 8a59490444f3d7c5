// Delivery to WebSocket user agents (the protocol stock Firefox speaks) through a running
// pushsvc, with the client library's simulated browser: online delivery over ws:// and
// wss://, store-and-forward across reconnects, Topic replacement, TTL expiry, acks, TTL 0,
// unregister, and kill -9 with queued messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

#include "tests/integration/pushsvc_process.h"
#include "tools/client/http1_client.h"
#include "tools/client/http2_client.h"
#include "tools/client/push_request.h"
#include "tools/client/push_service.h"
#include "tools/client/user_agent.h"

namespace pushsvc::testing {
namespace {

namespace wc = webpush_client;
using std::chrono::milliseconds;

class WsDelivery : public ::testing::Test {
  protected:
    virtual ProcessOptions process_options() const { return ProcessOptions{.tls = true}; }

    void SetUp() override {
        server_ = std::make_unique<PushsvcProcess>(process_options());
        server_->start();
        opts_.tls.ca_file = server_->ca_file().string();
        opts_.timeout = std::chrono::seconds(10);
    }

    std::string ws_url() const { return "ws://" + server_->cleartext() + "/"; }
    std::string wss_url() const { return "wss://" + server_->tls() + "/"; }

    // Sends an encrypted push to a channel the simulated browser holds; returns the status.
    int send(const wc::UaChannel& ch, const std::string& text, wc::PushOptions po = {}) {
        if (!po.ttl) po.ttl = 600;
        auto req = wc::build_push_request(ch.subscription(), wc::to_bytes(text), po);
        EXPECT_TRUE(req);
        // The endpoint names the service's origin (TLS); send over the cleartext listener.
        req->url = server_->on_cleartext(req->url);
        wc::Http1Client client(opts_);
        auto r = client.request(*req);
        EXPECT_TRUE(r) << (r ? "" : r.error().message);
        return r ? r->status : 0;
    }

    std::string receive_text(wc::UserAgent& ua, bool ack = true) {
        auto m = ua.receive(milliseconds(5000), ack);
        if (!m) {
            ADD_FAILURE() << "no notification: " << m.error().message;
            return "";
        }
        EXPECT_FALSE(m->error) << m->error->message;
        return m->plaintext ? wc::to_string(*m->plaintext) : "";
    }

    // True if nothing arrives within `wait`.
    static bool nothing_arrives(wc::UserAgent& ua, milliseconds wait = milliseconds(300)) {
        auto m = ua.receive(wait, false);
        return !m;
    }

    std::unique_ptr<PushsvcProcess> server_;
    wc::ClientOptions opts_;
};

TEST_F(WsDelivery, OnlineUserAgentReceivesBothCodingsOverWsAndWss) {
    for (const auto& url : {ws_url(), wss_url()}) {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(url)) << url;
        auto vapid = wc::P256Key::generate();
        auto ch = ua.subscribe(vapid.public_bytes());
        ASSERT_TRUE(ch) << ch.error().message;
        wc::PushOptions po;
        po.vapid = wc::VapidOptions{.key = vapid, .subject = "mailto:t@example.com"};
        EXPECT_EQ(send(*ch, "hello aes128gcm", po), 201);
        EXPECT_EQ(receive_text(ua), "hello aes128gcm");
        po.encryption.encoding = wc::ContentEncoding::aesgcm;
        EXPECT_EQ(send(*ch, "hello aesgcm", po), 201);
        EXPECT_EQ(receive_text(ua), "hello aesgcm");
    }
}

TEST_F(WsDelivery, AWebSocketAckEarnsTheReceiptTheSenderAskedFor_R8030_6_3_b) {
    wc::UserAgent ua({}, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    auto ch = ua.subscribe();
    ASSERT_TRUE(ch) << ch.error().message;
    wc::PushOptions po;
    po.ttl = 600;
    auto req = wc::build_push_request(ch->subscription(), wc::to_bytes("with receipt"), po);
    ASSERT_TRUE(req);
    const std::string base = "http://" + server_->cleartext();
    req->url = server_->on_cleartext(req->url);
    req->headers.add("Prefer", "respond-async");  // RFC 8030 §5.1
    wc::Http1Client sender(opts_);
    auto sent = sender.request(*req);
    ASSERT_TRUE(sent);
    ASSERT_EQ(sent->status, 202);
    const std::string link = sent->headers.get("link").value_or("");
    const std::string receipts = link.substr(link.find('<') + 1, link.find('>') - 1);
    // The application server waits for receipts over HTTP/2 (RFC 8030 §6.3).
    wc::Http2Client as(opts_);
    ASSERT_TRUE(as.connect(base + "/"));
    ASSERT_TRUE(as.submit(wc::make_monitor_request(server_->on_cleartext(receipts))));
    EXPECT_EQ(receive_text(ua), "with receipt");  // acked over the WebSocket
    auto receipt = as.wait_push(milliseconds(5000));
    ASSERT_TRUE(receipt) << receipt.error().message;
    EXPECT_EQ(receipt->response.status, 204);
}

TEST_F(WsDelivery, QueuedMessagesArriveInOrderAfterReconnectWithTheSameUaid) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        state = ua.state();
    }
    for (int i = 0; i < 5; ++i) EXPECT_EQ(send(state.channels[0], "m" + std::to_string(i)), 201);
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_FALSE(ua.subscriptions_dropped());
    EXPECT_EQ(ua.state().uaid, state.uaid);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(receive_text(ua), "m" + std::to_string(i));
}

TEST_F(WsDelivery, TopicReplacementWhileOfflineDeliversOnlyTheNewest_R8030_5_4_a) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        state = ua.state();
    }
    wc::PushOptions po;
    po.topic = "score";
    EXPECT_EQ(send(state.channels[0], "1-0", po), 201);
    EXPECT_EQ(send(state.channels[0], "2-0", po), 201);
    EXPECT_EQ(send(state.channels[0], "untopical"), 201);
    EXPECT_EQ(send(state.channels[0], "3-0", po), 201);
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_EQ(receive_text(ua), "untopical");
    EXPECT_EQ(receive_text(ua), "3-0");
    EXPECT_TRUE(nothing_arrives(ua));
}

// The same service in test-double mode, whose clock the test moves (POST /_testdouble/clock)
// instead of waiting for real time to pass.
class WsDeliveryClock : public WsDelivery {
  protected:
    ProcessOptions process_options() const override {
        auto o = WsDelivery::process_options();
        o.env["PUSHSVC__TESTDOUBLE__ENABLED"] = "true";
        return o;
    }
    void advance_clock(std::int64_t ms) {
        wc::HttpRequest req;
        req.method = "POST";
        req.url = "http://" + server_->cleartext() + "/_testdouble/clock";
        req.headers.add("Content-Type", "application/json");
        req.body = R"({"advance_ms": )" + std::to_string(ms) + "}";
        wc::Http1Client client(opts_);
        auto r = client.request(req);
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r->status, 200) << r->body;
    }
};

TEST_F(WsDeliveryClock, ExpiredMessagesNeverArrive_R8030_5_2_h) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        state = ua.state();
    }
    wc::PushOptions short_lived;
    short_lived.ttl = 60;
    EXPECT_EQ(send(state.channels[0], "stale", short_lived), 201);
    wc::PushOptions long_lived;
    long_lived.ttl = 3600;
    EXPECT_EQ(send(state.channels[0], "fresh", long_lived), 201);
    advance_clock(60'000);  // the first message's TTL is over on the service's clock
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_EQ(receive_text(ua), "fresh");
    EXPECT_TRUE(nothing_arrives(ua));
}

TEST_F(WsDelivery, AckedMessagesAreNotRedeliveredButUnackedOnesAre_R8030_6_2_c) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        EXPECT_EQ(send(ua.state().channels[0], "acked"), 201);
        EXPECT_EQ(receive_text(ua, true), "acked");
        EXPECT_EQ(send(ua.state().channels[0], "not acked"), 201);
        EXPECT_EQ(receive_text(ua, false), "not acked");
        ua.connection().ping();  // the ack above was processed before the pong
        state = ua.state();
    }
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_EQ(receive_text(ua), "not acked");
    EXPECT_TRUE(nothing_arrives(ua));
}

TEST_F(WsDelivery, TtlZeroReachesOnlyAnOnlineUserAgent_R8030_5_2_i) {
    wc::UaState state;
    wc::PushOptions now;
    now.ttl = 0;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        EXPECT_EQ(send(ua.state().channels[0], "live", now), 201);
        EXPECT_EQ(receive_text(ua), "live");
        state = ua.state();
    }
    EXPECT_EQ(send(state.channels[0], "missed", now), 201);
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_TRUE(nothing_arrives(ua));
}

TEST_F(WsDelivery, UnregisterMakesTheEndpointGone) {
    wc::UserAgent ua({}, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    auto ch = ua.subscribe();
    ASSERT_TRUE(ch);
    ASSERT_TRUE(ua.unsubscribe(ch->channel_id));
    EXPECT_EQ(send(*ch, "too late"), 410);
}

TEST_F(WsDelivery, QueuedMessagesSurviveKill9AndArriveAfterRestart) {
    wc::UaState state;
    {
        wc::UserAgent ua({}, opts_);
        ASSERT_TRUE(ua.connect(ws_url()));
        ASSERT_TRUE(ua.subscribe());
        state = ua.state();
    }
    for (int i = 0; i < 20; ++i) ASSERT_EQ(send(state.channels[0], "q" + std::to_string(i)), 201);
    server_->kill9();
    server_->start();  // same data folder, new ports
    wc::UserAgent ua(state, opts_);
    ASSERT_TRUE(ua.connect(ws_url()));
    EXPECT_EQ(ua.state().uaid, state.uaid);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(receive_text(ua), "q" + std::to_string(i));
}

}  // namespace
}  // namespace pushsvc::testing
