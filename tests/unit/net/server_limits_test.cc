// Abuse limits of the transport (issue 14): connection limits per client address and in
// total, enforced right after accept with a counter and rate-limited logs; absolute deadlines
// for the TLS handshake, the protocol preface and the first request, however slowly a peer
// drips bytes (responses stalled on flow control: server_write_stall_test.cc).
// Clients use several loopback source addresses (127.0.0.x) to stand for different hosts.
// Timeouts are short here; every wait is bounded.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "pushsvc/net/admission.h"
#include "pushsvc/net/preface.h"
#include "pushsvc/obs/catalog.h"
#include "tests/unit/net/h2_raw.h"
#include "tests/unit/net/limits_support.h"
#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

using namespace limits;

// Collects the log lines written while it is installed on the default logger.
class LogCapture : public spdlog::sinks::base_sink<std::mutex> {
  public:
    static std::shared_ptr<LogCapture> install() {
        auto sink = std::make_shared<LogCapture>();
        spdlog::default_logger()->sinks().push_back(sink);
        return sink;
    }
    void uninstall() {
        auto& sinks = spdlog::default_logger()->sinks();
        sinks.erase(std::remove(sinks.begin(), sinks.end(), shared_from_this_sink()), sinks.end());
    }
    std::vector<std::string> lines_with(const std::string& needle) {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) out.push_back(l);
        return out;
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        lines_.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}

  private:
    std::shared_ptr<spdlog::sinks::sink> shared_from_this_sink() {
        for (auto& s : spdlog::default_logger()->sinks())
            if (s.get() == this) return s;
        return nullptr;
    }
    std::vector<std::string> lines_;
};

TEST(ConnectionLimits, PerAddressLimitRefusesTheNextConnectionFromThatAddressOnly) {
    auto cfg = limits_config();
    cfg.limits.max_connections_per_ip = 3;
    TestServer ts(cfg);
    auto& refused = obs::catalog().connections_refused_per_ip;
    const auto before = refused.value();

    std::vector<Fd> held;
    for (int i = 0; i < 3; ++i) {
        held.emplace_back(connect_from("127.0.0.2", ts.port()));
        ASSERT_GE(held.back().fd, 0);
    }
    ASSERT_TRUE(served(held[0].fd));  // all three were accepted before the fourth
    Fd fourth(connect_from("127.0.0.2", ts.port()));
    ASSERT_GE(fourth.fd, 0);  // the kernel accepts; the server closes it at once
    EXPECT_TRUE(closed_within(fourth.fd, milliseconds(1000)));
    EXPECT_EQ(refused.value() - before, 1u);

    Fd other(connect_from("127.0.0.3", ts.port()));
    ASSERT_GE(other.fd, 0);
    EXPECT_TRUE(served(other.fd));    // another address is not affected
    EXPECT_TRUE(served(held[2].fd));  // nor the connections that were admitted

    // Closing one frees its place for that address again.
    ::close(std::exchange(held[1].fd, -1));
    EXPECT_TRUE(eventually_served_from("127.0.0.2", ts.port()));
}

TEST(ConnectionLimits, TotalLimitRefusesEveryAddressOnceReached) {
    auto cfg = limits_config();
    cfg.limits.max_connections = 3;
    TestServer ts(cfg);
    auto& refused = obs::catalog().connections_refused_total;
    const auto before = refused.value();

    std::vector<Fd> held;
    for (const char* src : {"127.0.0.2", "127.0.0.3", "127.0.0.4"}) {
        held.emplace_back(connect_from(src, ts.port()));
        ASSERT_GE(held.back().fd, 0);
    }
    ASSERT_TRUE(served(held[2].fd));
    Fd extra(connect_from("127.0.0.5", ts.port()));
    ASSERT_GE(extra.fd, 0);
    EXPECT_TRUE(closed_within(extra.fd, milliseconds(1000)));
    EXPECT_EQ(refused.value() - before, 1u);
    EXPECT_TRUE(served(held[0].fd));

    ::close(std::exchange(held[0].fd, -1));
    EXPECT_TRUE(eventually_served_from("127.0.0.5", ts.port()));
}

// A client hammering the port past its limit costs a counter increment per attempt, not a
// log line: one line per reason per 10 s.
TEST(ConnectionLimits, RefusalsAreCountedButLoggedAtMostOncePerInterval) {
    auto cfg = limits_config();
    cfg.limits.max_connections_per_ip = 1;
    auto log = LogCapture::install();
    {
        TestServer ts(cfg);
        const auto before = obs::catalog().connections_refused_per_ip.value();
        Fd held(connect_from("127.0.0.6", ts.port()));
        ASSERT_TRUE(served(held.fd));
        constexpr int kAttempts = 200;
        int closed = 0;
        int failed_connects = 0;
        for (int i = 0; i < kAttempts; ++i) {
            // The client's own connect failed now and then on a loaded box (once after 45
            // refusals); that is not the refusal under test, so a failed connect is tried
            // again, a few times. Such a connect may still have reached the server, which then
            // refused and counted it: the count below allows for each.
            int fd = -1;
            for (int attempt = 0; attempt < 5 && fd < 0; ++attempt) {
                fd = connect_from("127.0.0.6", ts.port());
                failed_connects += fd < 0;
            }
            Fd c(fd);
            if (c.fd < 0 || !closed_within(c.fd, milliseconds(1000))) break;  // not refused
            ++closed;
        }
        EXPECT_EQ(closed, kAttempts);
        const auto counted = obs::catalog().connections_refused_per_ip.value() - before;
        EXPECT_GE(counted, static_cast<std::uint64_t>(kAttempts));
        EXPECT_LE(counted, static_cast<std::uint64_t>(kAttempts + failed_connects));
    }
    const auto lines = log->lines_with("refused");
    log->uninstall();
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("refused 1 connection"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("127.0.0.6"), std::string::npos) << lines[0];
}

TEST(ConnectionLimits, RateLimitedLogReportsHowManyWereSuppressed) {
    net::RateLimitedLog log(std::chrono::seconds(10));
    const auto t0 = Clock::now();
    EXPECT_EQ(log.record(t0), 1u);  // the first event is reported at once
    for (int i = 1; i <= 5; ++i) EXPECT_EQ(log.record(t0 + std::chrono::seconds(i)), 0u);
    EXPECT_EQ(log.record(t0 + std::chrono::seconds(10)), 6u);  // 5 suppressed + this one
    EXPECT_EQ(log.record(t0 + std::chrono::seconds(11)), 0u);
}

TEST(ConnectionLimits, EffectiveMaximumLeavesDescriptorsForTheStore) {
    EXPECT_EQ(net::effective_max_connections(100'000, 20'000), 18'976u);
    EXPECT_EQ(net::effective_max_connections(500, 20'000), 500u);
    EXPECT_EQ(net::effective_max_connections(100'000, 1024), 512u);  // small limit: half
    EXPECT_GE(net::effective_max_connections(100'000, 1), 1u);
}

TEST(ConnectionLimits, Ipv6ClientsAreCountedPerSlash64AndMappedIpv4AsIpv4) {
    auto admission = std::make_shared<net::Admission>(100, 2);
    using boost::asio::ip::make_address;
    net::Admission::Refusal why{};
    auto a = admission->admit(make_address("2001:db8:1:2::1"), why);
    auto b = admission->admit(make_address("2001:db8:1:2:ffff::9"), why);
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(admission->admit(make_address("2001:db8:1:2::77"), why));
    EXPECT_EQ(why, net::Admission::Refusal::per_ip);
    EXPECT_TRUE(admission->admit(make_address("2001:db8:1:3::1"), why));  // another /64
    auto c = admission->admit(make_address("::ffff:10.0.0.1"), why);
    auto d = admission->admit(make_address("10.0.0.1"), why);
    ASSERT_TRUE(c && d);
    EXPECT_EQ(admission->count_for(make_address("10.0.0.1")), 2u);
    a.reset();
    EXPECT_TRUE(admission->admit(make_address("2001:db8:1:2::77"), why));
    EXPECT_EQ(admission->total(), 3u);  // b, c and d: the other slots died at once
}

// Waits up to 2 s for a counter the server bumps on its own threads.
bool counter_reaches(const obs::Counter& c, std::uint64_t value) {
    const auto end = Clock::now() + std::chrono::seconds(2);
    for (int i = 0; i < 2000 && c.value() < value && Clock::now() < end; ++i) {
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 1);
    }
    return c.value() >= value;
}

// Descriptors this process has open.
int open_descriptors() {
    int n = 0;
    if (auto* d = ::opendir("/proc/self/fd")) {
        while (::readdir(d)) ++n;
        ::closedir(d);
        n -= 3;  // ".", ".." and the directory's own descriptor
    }
    return n;
}

// Out of descriptors, the accept loop used to retry every 50 ms with a log line each time
// (~1.7M lines a day). Now it pauses (100 ms, doubling) and logs once per 10 s; and it
// accepts the waiting connections once descriptors are free again.
TEST(ConnectionLimits, AcceptOutOfDescriptorsPausesWithoutLogFloodAndRecovers) {
    auto log = LogCapture::install();
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    {
        TestServer ts(limits_config());
        const auto errors_before = obs::catalog().accept_errors.value();
        // Client sockets are created before the limit drops, so only the server runs out.
        constexpr int kClients = 6;
        std::vector<Fd> clients;
        for (int i = 0; i < kClients; ++i) clients.emplace_back(::socket(AF_INET, SOCK_STREAM, 0));
        rlimit low = saved;
        low.rlim_cur = static_cast<rlim_t>(open_descriptors() + 2);  // room for 2 accepts
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_port = htons(ts.port());
        dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (auto& c : clients)  // completes in the kernel backlog, accepted or not
            EXPECT_EQ(::connect(c.fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0);
        const bool hit = counter_reaches(obs::catalog().accept_errors, errors_before + 1);
        // Over the next second the old loop would have failed (and logged) ~20 times.
        pollfd none{-1, 0, 0};
        ::poll(&none, 0, 1000);
        const auto errors = obs::catalog().accept_errors.value() - errors_before;
        ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
        EXPECT_TRUE(hit);
        EXPECT_GE(errors, 1u);
        EXPECT_LE(errors, 6u);  // pauses of 100, 200, 400, 800 ms
        // With descriptors back, every waiting client is accepted and served.
        for (auto& c : clients) EXPECT_TRUE(served(c.fd));
    }
    ::setrlimit(RLIMIT_NOFILE, &saved);
    const auto lines = log->lines_with("accept on");
    log->uninstall();
    EXPECT_EQ(lines.size(), 1u);
    for (const auto& l : lines) EXPECT_NE(l.find("pausing"), std::string::npos) << l;
}

// -- Deadlines --------------------------------------------------------------------------

config::Config deadline_config() {
    auto cfg = TestServer::default_config();
    cfg.limits.first_request_timeout_ms = 300;
    cfg.limits.handshake_timeout_ms = 300;
    cfg.limits.read_timeout_ms = 5000;  // the old bounds: far longer than the new ones
    cfg.limits.idle_timeout_ms = 5000;
    return cfg;
}

// Sends `data` one byte every 100 ms until the server closes the connection or the bytes run
// out; returns how long the connection lasted (or nullopt if it outlived the drip + 3 s).
std::optional<milliseconds> drip_until_closed(int fd, const std::string& data) {
    const auto start = Clock::now();
    for (char c : data) {
        if (::send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;
        // The wait between bytes doubles as the close detection.
        if (closed_within(fd, milliseconds(100)))
            return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    }
    if (closed_within(fd, milliseconds(3000)))
        return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    return std::nullopt;
}

TEST(Deadlines, DripFedH2cPrefaceIsClosedAtTheFirstRequestDeadline) {
    TestServer ts(deadline_config());
    const auto before = obs::catalog().first_request_timeouts.value();
    Fd c(connect_from("127.0.0.7", ts.port()));
    ASSERT_GE(c.fd, 0);
    // 23 of the 24 preface bytes, one per 100 ms: 2.3 s if nothing stops it.
    const auto lasted = drip_until_closed(c.fd, std::string(net::kHttp2Preface.substr(0, 23)));
    ASSERT_TRUE(lasted.has_value());
    EXPECT_LT(lasted->count(), 1000);
    EXPECT_GE(lasted->count(), 250);
    // Counted by the server after it closed the socket: waited for, bounded.
    EXPECT_TRUE(counter_reaches(obs::catalog().first_request_timeouts, before + 1));
}

TEST(Deadlines, DripFedHttp1RequestHeadIsClosedAtTheFirstRequestDeadline) {
    TestServer ts(deadline_config());
    Fd c(connect_from("127.0.0.7", ts.port()));
    ASSERT_GE(c.fd, 0);
    const auto lasted =
        drip_until_closed(c.fd, "GET / HTTP/1.1\r\nhost: t\r\nx-a: 1\r\nx-b: 2\r\n\r\n");
    ASSERT_TRUE(lasted.has_value());
    EXPECT_LT(lasted->count(), 1000);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Deadlines, H2cPeerSendingOnlySettingsAndPingsIsClosedAtTheFirstRequestDeadline) {
    TestServer ts(deadline_config());
    Fd c(connect_from("127.0.0.7", ts.port()));
    ASSERT_GE(c.fd, 0);
    std::string hello(net::kHttp2Preface);
    hello += std::string("\0\0\0\x04\0\0\0\0\0", 9);  // empty SETTINGS
    ASSERT_EQ(::send(c.fd, hello.data(), hello.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(hello.size()));
    // A PING every 100 ms keeps the connection busy but opens no stream.
    std::string ping(
        "\0\0\x08\x06\0\0\0\0\0"
        "12345678",
        17);
    const auto start = Clock::now();
    bool closed = false;
    for (int i = 0; i < 30 && !closed; ++i) {
        ::send(c.fd, ping.data(), ping.size(), MSG_NOSIGNAL);
        closed = closed_within(c.fd, milliseconds(100));
    }
    ASSERT_TRUE(closed);
    EXPECT_LT(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count(), 1000);
}

int connect_tls_port(const TestServer& ts, const char* source) {
    return connect_from(source, const_cast<TestServer&>(ts).tls_port());
}

TEST(Deadlines, TlsHandshakeThatNeverFinishesIsClosedAtTheHandshakeDeadline) {
    TestServer ts(deadline_config(), true);
    const auto before = obs::catalog().tls_handshake_failures.value();
    Fd silent(connect_tls_port(ts, "127.0.0.8"));
    ASSERT_GE(silent.fd, 0);
    const auto start = Clock::now();
    ASSERT_TRUE(closed_within(silent.fd, milliseconds(3000)));
    const auto lasted = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    EXPECT_LT(lasted, 1000);
    EXPECT_GE(lasted, 250);

    // A partial ClientHello dripped a byte at a time does not extend it either.
    Fd drip(connect_tls_port(ts, "127.0.0.8"));
    ASSERT_GE(drip.fd, 0);
    const std::string record_start("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    const auto dripped = drip_until_closed(drip.fd, record_start + std::string(40, 'r'));
    ASSERT_TRUE(dripped.has_value());
    EXPECT_LT(dripped->count(), 1000);
    EXPECT_GE(dripped->count(), 250);
    EXPECT_TRUE(counter_reaches(obs::catalog().tls_handshake_failures, before + 2));
}

TEST(Deadlines, TlsClientThatSendsNoRequestIsClosedAtTheFirstRequestDeadline) {
    TestServer ts(deadline_config(), true);
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    Fd fd(connect_tls_port(ts, "127.0.0.8"));
    ASSERT_GE(fd.fd, 0);
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd.fd);
    const std::string alpn("\x08http/1.1", 9);
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(alpn.data()),
                        static_cast<unsigned>(alpn.size()));
    timeval tv{3, 0};
    setsockopt(fd.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ASSERT_EQ(SSL_connect(ssl), 1);
    const auto start = Clock::now();
    char buf[256];
    // Returns on close_notify/EOF (or the 3 s socket timeout): nothing else is sent to us.
    for (int i = 0; i < 10 && SSL_read(ssl, buf, sizeof buf) > 0; ++i) {
    }
    const auto lasted = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    EXPECT_LT(lasted, 1500);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
}

}  // namespace
}  // namespace pushsvc::test
