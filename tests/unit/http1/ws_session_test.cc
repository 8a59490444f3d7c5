// The WebSocket user-agent session over real loopback TCP (the plain-socket path it runs in
// production): handshake with the push-notification subprotocol, the channel protocol through
// real frames from Beast's client, delivery woken by the hub, hello deadline, replacement of
// an older connection, frame limits, fragmented input, pings both ways, the closing handshake
// and the idle timeout; an exception thrown in a session's channel work ends that connection
// only; a burst of messages in one read; a carried wake-up sent without a store thread.
#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <thread>

#include "pushsvc/base/base64url.h"
#include "pushsvc/http1/ws_session_impl.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/store/memory_store.h"

namespace pushsvc::http1 {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using Client = websocket::stream<tcp::socket>;

constexpr std::string_view kChannel = "d501fd61-5d2f-44d6-8fcb-9c183a0b83ae";

class WsSessionTest : public ::testing::Test {
  protected:
    WsSessionTest()
        : service_(options(), store_, webpush::EndpointCodec({std::string(32, 'k')}), clock_),
          backend_(service_, store_, clock_),
          work_(asio::make_work_guard(ioc_)),
          acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          runner_([this] { ioc_.run(); }) {
        service_.set_notifier(&hub_);
        ws_.backend = &backend_;
        ws_.hub = &hub_;
        ws_.delivery.hello_timeout_ms = 2000;
        ctx_.registry = std::make_shared<net::ConnectionRegistry>();
    }
    ~WsSessionTest() override {
        work_.reset();
        ioc_.stop();
        runner_.join();
    }

    static webpush::ServiceOptions options() {
        webpush::ServiceOptions o;
        o.origin = "https://push.test";
        return o;
    }

    // A connected client whose server end was taken over by a WebSocket session: the server
    // side accepts and reads the upgrade request as the HTTP/1.1 session would, then hands over.
    std::unique_ptr<Client> connect(bool offer_subprotocol = true,
                                    std::string* selected = nullptr) {
        auto options = std::make_shared<const WsOptions>(ws_);
        acceptor_.async_accept(
            asio::make_strand(ioc_), [this, options](beast::error_code ec, tcp::socket socket) {
                ASSERT_FALSE(ec);
                auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
                auto buffer = std::make_shared<beast::flat_buffer>();
                auto req = std::make_shared<BeastRequest>();
                beast::http::async_read(
                    *stream, *buffer, *req,
                    [this, options, stream, buffer, req](beast::error_code ec, std::size_t) {
                        ASSERT_FALSE(ec);
                        EXPECT_TRUE(detail::take_over(options, *req, *stream, *buffer, ctx_));
                    });
            });
        auto client = std::make_unique<Client>(client_ioc_);
        client->next_layer().connect(acceptor_.local_endpoint());
        client->set_option(
            websocket::stream_base::decorator([offer_subprotocol](websocket::request_type& r) {
                if (offer_subprotocol)
                    r.set(beast::http::field::sec_websocket_protocol, "push-notification");
            }));
        websocket::response_type res;
        beast::error_code ec;
        client->handshake(res, "push.test", "/", ec);
        EXPECT_FALSE(ec) << ec.message();
        if (selected) *selected = std::string(res[beast::http::field::sec_websocket_protocol]);
        return client;
    }

    static void send(Client& c, std::string_view text) {
        c.text(true);
        c.write(asio::buffer(text));
    }
    static json::object receive(Client& c) {
        beast::flat_buffer b;
        beast::error_code ec;
        c.read(b, ec);
        EXPECT_FALSE(ec) << ec.message();
        if (ec) return {};
        return json::parse(beast::buffers_to_string(b.data())).as_object();
    }
    // Reads until the server ends the connection; returns its close code, or -1 when the
    // connection was reset (the server closing with unread input, e.g. after an oversized
    // frame, may reset before the close frame is read), or 0 when it did not end.
    static int close_code(Client& c) {
        for (int i = 0; i < 10; ++i) {
            beast::flat_buffer b;
            beast::error_code ec;
            c.read(b, ec);
            if (ec == websocket::error::closed) return c.reason().code;
            if (ec == asio::error::connection_reset || ec == asio::error::eof) return -1;
            if (ec) {
                ADD_FAILURE() << "read ended with " << ec.message();
                return 0;
            }
        }
        return 0;
    }

    // Channel work throwing (inline on the connection's strand, or on the store pool as with
    // store.sync) closes that connection; the io_context keeps running and a connection opened
    // before the failure is still served. Without the boundary the exception leaves
    // io_context::run() / the pool thread and std::terminate ends the test binary.
    void expect_failure_closes_only_that_connection(Client& healthy, Client& doomed);
    // 400 pings in one write are each answered and the connection stays (see the tests).
    void expect_a_burst_answered();

    // A hello and one register on `c`; the push a sender would make to that subscription (an
    // empty token if the register failed).
    webpush::PushRequest subscribe(Client& c) {
        send(c, R"({"messageType":"hello","broadcasts":{},"use_webpush":true})");
        EXPECT_EQ(receive(c).at("status").as_int64(), 200);
        send(c, R"({"channelID":")" + std::string(kChannel) + R"(","messageType":"register"})");
        auto reg = receive(c);
        webpush::PushRequest push;
        push.ttl = "60";
        EXPECT_EQ(reg.at("status").as_int64(), 200);
        if (const auto* endpoint = reg.if_contains("pushEndpoint");
            endpoint && endpoint->is_string()) {
            std::string_view e = endpoint->as_string();
            push.token = std::string(e.substr(e.rfind('/') + 1));
        }
        return push;
    }

    // A hello, a register, and one push to it received: the notification (empty if any step
    // failed) and the stored message in `stored`.
    json::object first_notification(Client& c, store::MessageRecord& stored) {
        webpush::PushRequest push = subscribe(c);
        EXPECT_FALSE(push.token.empty());
        if (push.token.empty()) return {};
        auto first = service_.push(push);  // woken without a carried message: the queue is read
        EXPECT_TRUE(first);
        if (!first) return {};
        stored = first->message;
        auto note = receive(c);
        EXPECT_EQ(note["messageType"], "notification") << json::serialize(note);
        return note;
    }
    // The Firefox ack of `note`.
    static std::string ack_of(const json::object& note) {
        return json::serialize(
            json::object{{"messageType", "ack"},
                         {"updates", json::array{json::object{{"channelID", note.at("channelID")},
                                                              {"version", note.at("version")},
                                                              {"code", 100}}}}});
    }
    // Whether the session counted an ack since the count was `before` (5 s at most: a
    // counter has no event to wait on, so it is looked at every 10 ms).
    static bool ack_counted_since(std::uint64_t before) {
        for (int i = 0; i < 500; ++i) {
            if (obs::catalog().ws_frame(obs::WsFrame::ack).value() > before) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    // Whether `c` has something to read within 5 s.
    static bool readable(Client& c) {
        pollfd p{c.next_layer().native_handle(), POLLIN, 0};
        return ::poll(&p, 1, 5000) == 1;
    }

    // Keeps the store pool's one thread busy from construction until release() (or the end of
    // the scope, so a failed assertion never leaves the pool blocked).
    class BusyStoreThread {
      public:
        explicit BusyStoreThread(asio::thread_pool& pool) {
            std::promise<void> blocked;
            asio::post(pool, [&blocked, done = release_.get_future()] {
                blocked.set_value();
                done.wait();
            });
            blocked.get_future().wait();
        }
        ~BusyStoreThread() { release(); }
        void release() {
            if (!released_) release_.set_value();
            released_ = true;
        }

      private:
        std::promise<void> release_;
        bool released_ = false;
    };

    base::SystemClock clock_;
    store::MemoryStore store_;
    webpush::PushService service_;
    webpush::ServiceChannelBackend backend_;
    delivery::Hub hub_;
    WsOptions ws_;
    net::SessionContext ctx_;
    std::optional<asio::thread_pool> pool_;  // outlives the sessions (their strands are on it)
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    tcp::acceptor acceptor_;
    asio::io_context client_ioc_;  // the clients use blocking calls only
    std::thread runner_;
};

TEST_F(WsSessionTest, SelectsThePushNotificationSubprotocolWhenOffered) {
    std::string selected;
    auto c = connect(true, &selected);
    EXPECT_EQ(selected, "push-notification");
    std::string none = "unset";
    auto plain = connect(false, &none);
    EXPECT_EQ(none, "");
}

TEST_F(WsSessionTest, HelloRegisterPushAckOverRealFrames) {
    auto c = connect();
    webpush::PushRequest push = subscribe(*c);
    ASSERT_FALSE(push.token.empty());
    auto pushed = service_.push(push);  // the hub wakes the session
    ASSERT_TRUE(pushed);
    auto note = receive(*c);
    EXPECT_EQ(note.at("messageType").as_string(), "notification");
    EXPECT_EQ(note.at("channelID").as_string(), kChannel);
    send(*c, json::serialize(json::object{
                 {"messageType", "ack"},
                 {"updates",
                  json::array{json::object{
                      {"channelID", kChannel}, {"version", note.at("version")}, {"code", 100}}}}}));
    send(*c, "{}");  // the pong proves the ack before it was handled
    EXPECT_EQ(receive(*c).size(), 0u);
    EXPECT_TRUE(store_.pending(pushed->message.uaid, clock_.now_ms(), 0, 10)->empty());
}

TEST_F(WsSessionTest, ClosesWhenNoHelloArrivesInTime) {
    ws_.delivery.hello_timeout_ms = 50;
    ctx_.limits.read_timeout_ms = 20000;  // how long the server would wait for a silent peer
    auto c = connect();
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(close_code(*c), 1008);
    // Beast's client answers the close and waits for the server to end the TCP connection:
    // the server ends it on that answer, not when its closing deadline runs out.
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(WsSessionTest, ANewerConnectionForTheSameUaidClosesTheOlderOne) {
    auto first = connect();
    send(*first, R"({"messageType":"hello","use_webpush":true})");
    std::string uaid(receive(*first).at("uaid").as_string());
    auto second = connect();
    send(*second, R"({"messageType":"hello","use_webpush":true,"uaid":")" + uaid + "\"}");
    EXPECT_EQ(receive(*second).at("uaid").as_string(), uaid);
    EXPECT_EQ(close_code(*first), 1000);
    send(*second, "{}");
    EXPECT_EQ(receive(*second).size(), 0u);  // the newer one stays up
}

TEST_F(WsSessionTest, BinaryFramesAndOversizedFramesClose) {
    auto c = connect();
    c->binary(true);
    c->write(asio::buffer(std::string("{}")));
    EXPECT_EQ(close_code(*c), 1003);  // unsupported data, as autopush
    auto big = connect();
    send(*big, std::string(20000, ' ') + "{}");
    int code = close_code(*big);
    EXPECT_TRUE(code == 1009 || code == -1) << code;  // message too big, or reset
}

TEST_F(WsSessionTest, InvalidJsonClosesWithInvalidPayload) {
    auto c = connect();
    send(*c, "hello?");
    EXPECT_EQ(close_code(*c), 1007);
}

TEST_F(WsSessionTest, FragmentedMessagesAndPingsFromTheClient) {
    auto c = connect();
    c->auto_fragment(true);
    c->write_buffer_bytes(8);  // the hello goes out as 8-byte fragments
    send(*c, R"({"messageType":"hello","broadcasts":{},"use_webpush":true})");
    bool pong = false;
    c->control_callback([&](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::pong) pong = true;
    });
    c->ping("are you there");
    EXPECT_EQ(receive(*c).at("status").as_int64(), 200);
    send(*c, "{}");
    EXPECT_EQ(receive(*c).size(), 0u);
    EXPECT_TRUE(pong);  // answered before the replies that follow it
}

TEST_F(WsSessionTest, ClientCloseIsEchoed) {
    auto c = connect();
    send(*c, R"({"messageType":"hello","use_webpush":true})");
    receive(*c);
    beast::error_code ec;
    c->close(websocket::close_reason(websocket::close_code::normal), ec);
    EXPECT_FALSE(ec) << ec.message();  // Beast's close() waits for the server's close frame
    EXPECT_EQ(c->reason().code, 1000);
}

TEST_F(WsSessionTest, SilentConnectionIsPingedThenDropped) {
    ws_.delivery.ws_idle_timeout_ms = 300;
    auto c = connect();
    send(*c, R"({"messageType":"hello","use_webpush":true})");
    receive(*c);
    // The client stays silent: it reads the raw socket below Beast (whose reads answer pings),
    // waiting for each event (bytes or the end of the connection) with poll(), 5 s at most in
    // all. The session's idle timer runs on real time (steady_clock), so 300 ms pass here.
    const int fd = c->next_layer().native_handle();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::string raw;
    bool ended = false;
    while (!ended && raw.size() < 64) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd p{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&p, 1, int(left.count())) != 1) break;
        char buf[64];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            ended = true;  // EOF, or a reset
        } else {
            raw.append(buf, std::size_t(n));
        }
    }
    // First an empty ping (unmasked, FIN), then the server ends the connection.
    EXPECT_EQ(raw.substr(0, 2), std::string("\x89\x00", 2));
    EXPECT_TRUE(ended) << "the idle connection should have been ended; got " << raw.size()
                       << " octets";
}

// A backend whose subscribe throws for one channel id, as a store error or a bug would: the
// fault injection point for the session's failure boundary. With fail_acks, acks fail.
class ThrowingBackend final : public webpush::ChannelBackend {
  public:
    static constexpr std::string_view kPoison = "00000000-0000-4000-8000-00000000dead";
    explicit ThrowingBackend(webpush::ChannelBackend& inner) : inner_(inner) {}
    result<bool> touch_user_agent(std::string_view uaid) override {
        return inner_.touch_user_agent(uaid);
    }
    result<std::string> create_user_agent() override { return inner_.create_user_agent(); }
    result<std::vector<store::SubscriptionRecord>> subscriptions(std::string_view uaid) override {
        return inner_.subscriptions(uaid);
    }
    result<webpush::Subscription> subscribe(std::string_view uaid, std::string_view channel_id,
                                            const std::optional<std::string>& key) override {
        if (channel_id == kPoison) throw std::runtime_error("injected store failure");
        return inner_.subscribe(uaid, channel_id, key);
    }
    result<bool> unsubscribe(std::string_view id) override { return inner_.unsubscribe(id); }
    result<std::vector<store::MessageRecord>> pending(std::string_view uaid,
                                                      std::uint64_t after_seq,
                                                      std::size_t limit) override {
        return inner_.pending(uaid, after_seq, limit);
    }
    result<bool> ack(std::string_view id) override {
        if (fail_acks) return errc::store_failure;
        return inner_.ack(id);
    }
    bool fail_acks = false;  // acks fail as with the database away
    std::string endpoint_url(const store::SubscriptionRecord& sub) override {
        return inner_.endpoint_url(sub);
    }
    void delivered(const store::MessageRecord& m) override { inner_.delivered(m); }
    bool expired(const store::MessageRecord& m) override { return inner_.expired(m); }

  private:
    webpush::ChannelBackend& inner_;
};

void WsSessionTest::expect_failure_closes_only_that_connection(Client& healthy, Client& doomed) {
    send(healthy, R"({"messageType":"hello","use_webpush":true})");
    EXPECT_EQ(receive(healthy).at("status").as_int64(), 200);
    send(doomed, R"({"messageType":"hello","use_webpush":true})");
    EXPECT_EQ(receive(doomed).at("status").as_int64(), 200);
    send(doomed, R"({"channelID":")" + std::string(ThrowingBackend::kPoison) +
                     R"(","messageType":"register"})");
    // Ended without a close frame or a register reply: after a failure the session's state
    // is unknown, so it sends nothing more.
    EXPECT_EQ(close_code(doomed), -1);
    send(healthy, R"({"channelID":")" + std::string(kChannel) + R"(","messageType":"register"})");
    EXPECT_EQ(receive(healthy).at("status").as_int64(), 200);
}

TEST_F(WsSessionTest, ExceptionInChannelWorkClosesOnlyThatConnection) {
    ThrowingBackend throwing(backend_);
    ws_.backend = &throwing;
    auto healthy = connect();
    auto doomed = connect();
    expect_failure_closes_only_that_connection(*healthy, *doomed);
    auto later = connect();  // new connections are still accepted and served
    send(*later, R"({"messageType":"hello","use_webpush":true})");
    EXPECT_EQ(receive(*later).at("status").as_int64(), 200);
    EXPECT_FALSE(ioc_.stopped());
}

TEST_F(WsSessionTest, ExceptionInChannelWorkOnTheStorePoolClosesOnlyThatConnection) {
    ThrowingBackend throwing(backend_);
    ws_.backend = &throwing;
    ws_.channel_executor = pool_.emplace(2).get_executor();
    auto healthy = connect();
    auto doomed = connect();
    expect_failure_closes_only_that_connection(*healthy, *doomed);
}

void WsSessionTest::expect_a_burst_answered() {
    auto c = connect();
    send(*c, R"({"messageType":"hello","use_webpush":true})");
    ASSERT_EQ(receive(*c).at("status").as_int64(), 200);
    // Masked text frames "{}" (mask key 0, so the payload reads as is), all in one write.
    const char frame[] = {'\x81', '\x82', 0, 0, 0, 0, '{', '}'};
    std::string burst;
    for (int i = 0; i < 400; ++i) burst.append(frame, sizeof frame);
    asio::write(c->next_layer(), asio::buffer(burst));
    for (int i = 0; i < 400 && !HasFailure(); ++i) EXPECT_EQ(receive(*c).size(), 0u) << i;
}

// A client that writes without waiting: the messages of one read are answered one at a time,
// with the event loop turning between them, so replies are written as they come. Handled in
// one go, 400 replies would be queued at once, past the write queue's bound
// (max_inflight + 64), and the session would drop the client.
TEST_F(WsSessionTest, ManyMessagesInOneReadAreEachAnswered) { expect_a_burst_answered(); }

TEST_F(WsSessionTest, ManyMessagesInOneReadAreEachAnsweredWithAStoreExecutor) {
    ws_.channel_executor = pool_.emplace(2).get_executor();
    expect_a_burst_answered();
}

// With a store executor (PostgreSQL, store.sync), a wake-up that carries the next message of
// the queue is sent from the network thread: it needs no store call, so it does not wait for a
// store thread (here: the only one, kept busy).
TEST_F(WsSessionTest, AWakeUpCarryingTheNextMessageNeedsNoStoreThread) {
    ws_.channel_executor = pool_.emplace(1).get_executor();
    auto c = connect();
    store::MessageRecord first;
    ASSERT_FALSE(first_notification(*c, first).empty());

    BusyStoreThread busy(*pool_);
    // The next message, stored and handed over as PgStore's append does (prev_seq names the
    // message before it), while the store's only thread is busy.
    store::MessageRecord next = first;
    next.id = "second-message";
    next.prev_seq = first.seq;
    ASSERT_TRUE(store_.enqueue(next));
    EXPECT_EQ(hub_.wake(std::make_shared<const store::MessageRecord>(next), true), 1u);
    // Sent while the pool is still blocked, or not within 5 s.
    const bool sent = readable(*c);
    busy.release();
    ASSERT_TRUE(sent) << "the carried message waited for the store thread";
    auto note = receive(*c);
    const auto* version = note.if_contains("version");
    ASSERT_TRUE(version && version->is_string()) << json::serialize(note);
    EXPECT_EQ(version->as_string(), base::base64url_encode(next.id));
}

// With a store executor, an ack is handled on the network thread while the queue is read to
// its end, and its delete runs on a store thread afterwards: the ack is handled (counted), and
// the next message, carried by its wake-up, goes out, without waiting for that thread (here:
// the only one, kept busy); the acked message is gone once it is free.
TEST_F(WsSessionTest, AnAckDoesNotHoldUpTheNextMessage) {
    ws_.channel_executor = pool_.emplace(1).get_executor();
    auto c = connect();
    store::MessageRecord first;
    auto note = first_notification(*c, first);
    ASSERT_FALSE(note.empty());

    BusyStoreThread busy(*pool_);
    const auto acks = obs::catalog().ws_frame(obs::WsFrame::ack).value();
    send(*c, ack_of(note));
    ASSERT_TRUE(ack_counted_since(acks)) << "the ack waited for the store thread";
    store::MessageRecord next = first;
    next.id = "second-message";
    next.prev_seq = first.seq;
    ASSERT_TRUE(store_.enqueue(next));
    EXPECT_EQ(hub_.wake(std::make_shared<const store::MessageRecord>(next), true), 1u);
    const bool sent = readable(*c);
    const bool first_still_stored = store_.get_message(first.id)->has_value();
    busy.release();
    ASSERT_TRUE(sent) << "the next message waited for the store thread";
    EXPECT_TRUE(first_still_stored);  // deleted by the store thread, not before
    EXPECT_EQ(receive(*c).at("version").as_string(), base::base64url_encode(next.id));
    // The delete runs once the thread is free.
    std::promise<void> drained;
    asio::post(*pool_, [&] { drained.set_value(); });
    ASSERT_EQ(drained.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
    EXPECT_FALSE(store_.get_message(first.id)->has_value());
}

// An ack's delete that fails on the store thread ends the connection with 1011 (the message
// stays stored for the next connection). The session had gone on meanwhile: the ack was
// handled while the store thread was still busy, the close comes after.
TEST_F(WsSessionTest, AnAckWhoseDeleteFailsClosesTheConnection) {
    ThrowingBackend failing(backend_);
    failing.fail_acks = true;
    ws_.backend = &failing;
    ws_.channel_executor = pool_.emplace(1).get_executor();
    auto c = connect();
    store::MessageRecord first;
    auto note = first_notification(*c, first);
    ASSERT_FALSE(note.empty());

    BusyStoreThread busy(*pool_);
    const auto acks = obs::catalog().ws_frame(obs::WsFrame::ack).value();
    send(*c, ack_of(note));
    ASSERT_TRUE(ack_counted_since(acks)) << "the ack waited for the store thread";
    pollfd now{c->next_layer().native_handle(), POLLIN, 0};
    EXPECT_EQ(::poll(&now, 1, 0), 0);  // nothing yet: the delete waits for the thread
    busy.release();
    EXPECT_EQ(close_code(*c), 1011);
    EXPECT_TRUE(store_.get_message(first.id)->has_value());
}

}  // namespace
}  // namespace pushsvc::http1
