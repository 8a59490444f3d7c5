// Dead clients are released: an HTTP/2 connection holding a monitoring GET (RFC 8030 §6) is
// checked with PING after limits.h2_ping_interval_ms of silence, and closed when nothing
// answers within limits.h2_ping_timeout_ms. The client is an nghttp2 client session on a
// loopback socket driven by the test; intervals are short here. Also the outcome of server
// pushes as the connection reports it (http::PushDone): what decides when a pushed receipt
// may be deleted (R8030-6.3-b). Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "pushsvc/net/listener.h"
#include "tests/unit/net/h2_raw.h"
#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

using Clock = std::chrono::steady_clock;

config::Config ping_config() {
    auto cfg = TestServer::default_config();
    cfg.limits.h2_ping_interval_ms = 100;
    cfg.limits.h2_ping_timeout_ms = 200;
    return cfg;
}

// An nghttp2 client (push enabled) on a blocking loopback socket read with poll().
class H2Client {
  public:
    explicit H2Client(unsigned short port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
            ::close(fd_);
            fd_ = -1;
        }
        // Small frames go out at once (no Nagle wait for the delayed ACK).
        const int one = 1;
        if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_frame_recv_callback(
            cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) -> int {
                auto& self = *static_cast<H2Client*>(u);
                if (f->hd.type == NGHTTP2_PING && !(f->hd.flags & NGHTTP2_FLAG_ACK)) ++self.pings;
                if (f->hd.type == NGHTTP2_PUSH_PROMISE) ++self.promises;
                if (f->hd.type == NGHTTP2_GOAWAY) self.goaway_code = f->goaway.error_code;
                if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_RESPONSE)
                    ++self.responses;
                if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_PUSH_RESPONSE)
                    ++self.pushed_responses;
                if (f->hd.type == NGHTTP2_HEADERS && f->hd.stream_id == self.stream_id &&
                    f->headers.cat == NGHTTP2_HCAT_RESPONSE)
                    self.got_response = true;
                return 0;
            });
        nghttp2_session_client_new(&session_, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 1}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 1);
    }
    ~H2Client() {
        nghttp2_session_del(session_);
        if (fd_ >= 0) ::close(fd_);
    }
    H2Client(const H2Client&) = delete;
    H2Client& operator=(const H2Client&) = delete;

    void get(const std::string& path) {
        stream_id = testing::submit_h2_get(session_, path);
        flush();
    }

    // Sends whatever the session has queued (PING ACKs included).
    void flush() { ASSERT_TRUE(testing::send_h2_queued(session_, fd_)); }

    // Live client: reads and answers for `duration`. False if the server closed meanwhile.
    bool converse(std::chrono::milliseconds duration) {
        const auto end = Clock::now() + duration;
        while (Clock::now() < end) {
            if (!read_once(end)) return false;
            flush();
        }
        return true;
    }

    // Dead client: reads (and discards, answering nothing) until the server closes or
    // `timeout` passes. True when it closed.
    bool wait_closed(std::chrono::milliseconds timeout) {
        const auto end = Clock::now() + timeout;
        while (Clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
            if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
            char buf[4096];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) return true;
            silent_bytes.append(buf, static_cast<std::size_t>(n));
        }
        return false;
    }

    // Bytes written as they are, after what the session has queued.
    void send_raw(const std::string& bytes) {
        flush();
        ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(bytes.size()));
    }

    // SETTINGS_ENABLE_PUSH from now on (sent with the next flush()).
    void set_push(bool enabled) {
        nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, enabled ? 1u : 0u}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 1);
        flush();
    }
    void close() {
        ::close(fd_);
        fd_ = -1;
    }

    int pings = 0;
    int promises = 0;
    int pushed_responses = 0;
    int responses = 0;
    std::int64_t goaway_code = -1;  // -1: no GOAWAY seen
    bool got_response = false;
    std::int32_t stream_id = 0;
    std::string silent_bytes;  // what arrived while playing dead

  private:
    // One poll + read (fed to nghttp2) until `end`. False on EOF or error.
    bool read_once(Clock::time_point end) {
        pollfd p{fd_, POLLIN, 0};
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
        if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) return true;
        std::uint8_t buf[4096];
        const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) return false;
        return nghttp2_session_mem_recv(session_, buf, static_cast<std::size_t>(n)) == n;
    }

    int fd_ = -1;
    nghttp2_session* session_ = nullptr;
};

// Frame types in a server byte stream that starts at a frame boundary (after our preface,
// the server sends no preface of its own besides SETTINGS frames).
bool has_frame_type(const std::string& wire, std::uint8_t type) {
    for (std::size_t i = 0; i + 9 <= wire.size();) {
        const std::size_t len = (std::size_t(std::uint8_t(wire[i])) << 16) |
                                (std::size_t(std::uint8_t(wire[i + 1])) << 8) |
                                std::uint8_t(wire[i + 2]);
        if (std::uint8_t(wire[i + 3]) == type) return true;
        i += 9 + len;
    }
    return false;
}

// The parked monitoring GET, marked as monitoring (the application asked to hear when it
// ends, as http::start_monitor does); `gone` is fulfilled when the connection releases it.
struct Monitoring {
    http::Responder respond;
    std::shared_ptr<http::Pusher> pusher;
    std::shared_ptr<std::promise<void>> gone = std::make_shared<std::promise<void>>();
};
Monitoring park(TestServer& ts) {
    auto d = ts.handler().take_deferred();
    EXPECT_TRUE(d);
    Monitoring m;
    if (!d || !d->first.pusher) {
        ADD_FAILURE() << "no pusher: the client did not enable push";
        return m;
    }
    m.respond = std::move(d->second);
    m.pusher = d->first.pusher;
    d->first.pusher->on_gone([g = m.gone] { g->set_value(); });
    return m;
}

TEST(H2Ping, ADeadClientHoldingAMonitoringGetIsClosedWithinTheTimeout) {
    TestServer ts(ping_config());
    H2Client c(ts.port());
    const auto started = Clock::now();  // the server hears nothing after the request
    c.get("/defer/monitor");
    auto m = park(ts);
    // The client answers nothing from here on; the server's PING goes unanswered.
    ASSERT_TRUE(c.wait_closed(std::chrono::milliseconds(3000)))
        << "still open; PING seen: " << has_frame_type(c.silent_bytes, NGHTTP2_PING)
        << ", bytes: " << c.silent_bytes.size();
    const auto took = Clock::now() - started;
    EXPECT_GE(took, std::chrono::milliseconds(300));  // interval + timeout, not earlier
    EXPECT_LT(took, std::chrono::milliseconds(2000));
    EXPECT_TRUE(has_frame_type(c.silent_bytes, NGHTTP2_PING)) << "closed without a PING";
    // The monitoring stream was released (its session detaches from the hub).
    EXPECT_EQ(m.gone->get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
}

TEST(H2Ping, ALiveClientThatAnswersPingsStaysConnected) {
    TestServer ts(ping_config());
    H2Client c(ts.port());
    c.get("/defer/monitor");
    auto m = park(ts);
    // Several timeouts' worth of silence apart from PINGs, each answered by nghttp2's ACK.
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(1200))) << "closed a live client";
    EXPECT_GE(c.pings, 3);
    EXPECT_EQ(m.gone->get_future().wait_for(std::chrono::milliseconds(0)),
              std::future_status::timeout);
    // The monitoring stream still works: its final response arrives.
    http::Response done;
    m.respond(std::move(done));
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(300)));
    EXPECT_TRUE(c.got_response);
}

TEST(H2Ping, AConnectionWithoutMonitoringGetsIsNotPinged) {
    TestServer ts(ping_config());
    H2Client c(ts.port());
    c.get("/defer/plain");  // parked, but nobody monitors it
    auto d = ts.handler().take_deferred();
    ASSERT_TRUE(d);
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(500)));
    EXPECT_EQ(c.pings, 0);
    d->second(http::Response{});
}

// A raw WINDOW_UPDATE frame (RFC 9113 §6.9) for `stream`, increment 1.
std::string window_update(std::uint32_t stream) {
    std::string f("\x00\x00\x04\x08\x00", 5);
    for (int shift : {24, 16, 8, 0}) f.push_back(static_cast<char>((stream >> shift) & 0x7f));
    f.append("\x00\x00\x00\x01", 4);
    return f;
}

TEST(H2Flood, AWindowUpdateFloodEndsInGoawayEnhanceYourCalm) {
    TestServer ts(TestServer::default_config());
    H2Client c(ts.port());
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(50)));  // prefaces exchanged
    // Well past the per-second budget in one write; the attack run sent millions.
    std::string flood;
    for (int i = 0; i < 5000; ++i) flood += window_update(0);
    c.send_raw(flood);
    EXPECT_FALSE(c.converse(std::chrono::milliseconds(3000))) << "still open after the flood";
    EXPECT_EQ(c.goaway_code, NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST(H2Flood, AClientReturningCreditForEveryDataFrameIsNeverCutOff) {
    TestServer ts(TestServer::default_config());
    H2Client c(ts.port());
    // Rounds of 50 concurrent requests, each response's DATA answered with a connection- and
    // a stream-level WINDOW_UPDATE: 1,600 updates, several times the per-second budget of
    // control frames in the time this takes.
    const auto started = Clock::now();
    for (int round = 0; round < 16; ++round) {
        std::vector<std::int32_t> ids;
        for (int i = 0; i < 50; ++i) {
            c.get("/r");
            ids.push_back(c.stream_id);
        }
        const int want = c.responses + 50;
        const auto end = Clock::now() + std::chrono::seconds(5);
        while (c.responses < want && Clock::now() < end)
            ASSERT_TRUE(c.converse(std::chrono::milliseconds(1))) << "closed in round " << round;
        ASSERT_EQ(c.responses, want) << round;
        std::string updates;
        for (auto id : ids)
            updates += window_update(0) + window_update(static_cast<std::uint32_t>(id));
        c.send_raw(updates);
    }
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(100))) << "closed after the last round";
    EXPECT_EQ(c.goaway_code, -1);
    // Otherwise the updates spread over many budget windows and the test proves nothing.
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(3));
}

// Pushes a receipt-like 204 on the monitoring stream; the future gets its outcome.
std::future<bool> push_receipt(Monitoring& m) {
    auto outcome = std::make_shared<std::promise<bool>>();
    http::Response r;
    r.status = 204;
    m.pusher->push("/m/receipt", std::move(r), [outcome](bool sent) { outcome->set_value(sent); });
    return outcome->get_future();
}

TEST(H2Push, APushIsReportedSentOnceItWentOutToTheClient_R8030_6_3_b) {
    TestServer ts(TestServer::default_config());
    H2Client c(ts.port());
    c.get("/defer/receipts");
    auto m = park(ts);
    auto sent = push_receipt(m);
    // Reported only once written; the client then holds the promise and the response.
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(300)));
    ASSERT_EQ(sent.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    EXPECT_TRUE(sent.get());
    EXPECT_EQ(c.promises, 1);
    EXPECT_EQ(c.pushed_responses, 1);
    m.respond(http::Response{});
}

TEST(H2Push, APushTheClientNoLongerAcceptsIsReportedFailed_R8030_6_3_b) {
    TestServer ts(TestServer::default_config());
    H2Client c(ts.port());
    c.get("/defer/receipts");
    auto m = park(ts);
    c.set_push(false);  // SETTINGS_ENABLE_PUSH = 0 after the GET
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(200)));  // the server has applied it
    auto sent = push_receipt(m);
    ASSERT_EQ(sent.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    EXPECT_FALSE(sent.get());
    ASSERT_TRUE(c.converse(std::chrono::milliseconds(100)));
    EXPECT_EQ(c.promises, 0);
    m.respond(http::Response{});
}

TEST(H2Push, APushAfterTheConnectionClosedIsReportedFailed_R8030_6_3_b) {
    TestServer ts(TestServer::default_config());
    auto c = std::make_unique<H2Client>(ts.port());
    c->get("/defer/receipts");
    auto m = park(ts);
    c->close();
    ASSERT_EQ(m.gone->get_future().wait_for(std::chrono::seconds(2)), std::future_status::ready);
    auto sent = push_receipt(m);
    ASSERT_EQ(sent.wait_for(std::chrono::seconds(2)), std::future_status::ready);
    EXPECT_FALSE(sent.get());
}

TEST(TcpKeepalive, AcceptedSocketsProbeADeadPeerWithinMinutes) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
    boost::asio::ip::tcp::socket client(ioc), server(ioc);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    net::enable_keepalive(server);
    const int fd = server.native_handle();
    int on = 0, idle = 0, intvl = 0, cnt = 0;
    socklen_t len = sizeof(int);
    ASSERT_EQ(getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len), 0);
    EXPECT_EQ(on, 1);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &len), 0);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &len), 0);
    ASSERT_EQ(getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &len), 0);
    EXPECT_EQ(idle, net::kKeepaliveIdle);
    // A dead peer is found well inside the ~5 minutes a NAT keeps an idle mapping.
    EXPECT_LE(idle + intvl * cnt, 300);
}

}  // namespace
}  // namespace pushsvc::test
