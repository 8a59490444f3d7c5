// net::TlsStream against an independent TLS peer (asio::ssl::stream, a client on its own
// io_context thread): handshake, data both ways in every size class, readiness-style reads,
// the ends of a connection, and an owner that goes away with output still in flight. The
// stream carries every TLS connection (R8030-3-a, R8030-8-a: protocol versions and ALPN are
// tested end to end in server_tls_test.cc).
// Every wait is bounded.

#include "pushsvc/net/tls_stream.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "pushsvc/net/tls_context.h"
#include "tests/unit/net/test_support.h"

namespace pushsvc::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string random_text(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = char('a' + rng() % 26);
    return s;
}

// A server-side TlsStream (run by `ioc` on this thread) connected to a blocking asio TLS
// client (used from a helper thread via run_client()).
class TlsPair : public ::testing::Test {
  protected:
    void SetUp() override {
        auto ctx = make_server_tls_context(cert_.cert, cert_.key);
        ASSERT_TRUE(ctx) << ctx.error().message();
        server_ctx_ = *ctx;
        tcp::acceptor acceptor(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
        client_ctx_.set_verify_mode(asio::ssl::verify_none);
        client_ = std::make_unique<asio::ssl::stream<tcp::socket>>(client_ioc_, client_ctx_);
        auto connected = std::async(std::launch::async, [&] {
            client_->next_layer().connect(acceptor.local_endpoint());
            client_->handshake(asio::ssl::stream_base::client);
        });
        tcp::socket accepted(asio::make_strand(ioc_));
        acceptor.accept(accepted);
        server_ = std::make_unique<TlsStream>(beast::tcp_stream(std::move(accepted)), *server_ctx_);
        beast::error_code hs_ec = asio::error::would_block;
        server_->async_handshake(asio::ssl::stream_base::server,
                                 [&](beast::error_code ec) { hs_ec = ec; });
        run_until([&] { return hs_ec != asio::error::would_block; });
        ASSERT_FALSE(hs_ec) << hs_ec.message();
        ASSERT_EQ(connected.wait_for(5s), std::future_status::ready);
        connected.get();
    }

    // Runs the server's io_context until `done` or 10 s pass.
    template <class Pred>
    void run_until(Pred done) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            ioc_.restart();
            ioc_.run_for(10ms);
        }
        ASSERT_TRUE(done()) << "timed out";
    }

    // Reads exactly `n` octets with async_read_some in `chunk`-sized pieces.
    std::string server_read(std::size_t n, std::size_t chunk) {
        std::string got;
        std::string buf(chunk, '\0');
        bool failed = false;
        std::function<void()> next = [&] {
            server_->async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t k) {
                if (ec) {
                    failed = true;
                    return;
                }
                got.append(buf.data(), k);
                if (got.size() < n) next();
            });
        };
        next();
        run_until([&] { return failed || got.size() >= n; });
        return got;
    }

    test::TempCert cert_;
    asio::io_context ioc_;
    std::shared_ptr<asio::ssl::context> server_ctx_;
    asio::io_context client_ioc_;
    asio::ssl::context client_ctx_{asio::ssl::context::tls_client};
    std::unique_ptr<asio::ssl::stream<tcp::socket>> client_;
    std::unique_ptr<TlsStream> server_;
};

TEST_F(TlsPair, CarriesDataBothWaysInEverySizeClass) {
    for (std::size_t size : {std::size_t(1), std::size_t(1000), std::size_t(16384),
                             std::size_t(16385), std::size_t(200000)}) {
        const std::string up = random_text(size, unsigned(size));
        auto sent =
            std::async(std::launch::async, [&] { asio::write(*client_, asio::buffer(up)); });
        EXPECT_EQ(server_read(size, size % 2 ? 7 : 4096), up) << size;
        ASSERT_EQ(sent.wait_for(5s), std::future_status::ready);

        const std::string down = random_text(size, unsigned(size) + 1);
        std::string got(size, '\0');
        auto received =
            std::async(std::launch::async, [&] { asio::read(*client_, asio::buffer(got)); });
        bool written = false;
        asio::async_write(*server_, asio::buffer(down), [&](beast::error_code ec, std::size_t n) {
            EXPECT_FALSE(ec) << ec.message();
            EXPECT_EQ(n, size);
            written = true;
        });
        run_until([&] { return written; });
        ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
        EXPECT_EQ(got, down) << size;
    }
}

// Several records arriving in one socket read must all be handed out without waiting for
// more socket input: the reader reads one chunk per readiness wake-up, as the WebSocket
// session does, so after the first wake-up the socket is empty and every later wake-up must
// come from the records already received (TlsStream's readable()). A stream that waited on
// the socket instead would stall here with data already received (run_until's 10 s bound).
TEST_F(TlsPair, ReadinessReadsDrainRecordsThatArrivedTogether) {
    constexpr std::size_t kParts = 5, kPart = 300, kChunk = 100;
    // TLS 1.3 record (RFC 8446 §5.2): 5-octet header, the text, its content type octet and a
    // 16-octet AEAD tag; OpenSSL adds no padding unless asked to.
    ASSERT_EQ(SSL_version(client_->native_handle()), TLS1_3_VERSION);
    constexpr std::size_t kRecord = 5 + kPart + 1 + 16;
    std::string expected;
    for (std::size_t i = 0; i < kParts; ++i) {
        const std::string part = random_text(kPart, unsigned(i));
        asio::write(*client_, asio::buffer(part));  // one record each
        expected += part;
    }
    // Wait until all five records are in the server's socket: a blocking peek for all their
    // octets (MSG_WAITALL), bounded by SO_RCVTIMEO. asio keeps the descriptor non-blocking
    // for its own operations, so blocking mode is switched on for the peek only.
    const int fd = server_->next_layer().socket().native_handle();
    const int flags = ::fcntl(fd, F_GETFL);
    ASSERT_GE(flags, 0);
    ASSERT_EQ(::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), 0);
    timeval limit{5, 0};
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit), 0);
    std::string peeked(kParts * kRecord, '\0');
    const ssize_t in_socket = ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_WAITALL);
    ASSERT_EQ(::fcntl(fd, F_SETFL, flags), 0);
    ASSERT_EQ(in_socket, ssize_t(peeked.size())) << "the five records did not arrive within 5 s";

    beast::error_code ec;
    server_->next_layer().socket().non_blocking(true, ec);
    std::string got;
    int wakeups = 0, empty_wakeups = 0;
    std::function<void()> wait = [&] {
        server_->async_wait_readable([&](beast::error_code wait_ec) {
            ASSERT_FALSE(wait_ec);
            ++wakeups;
            std::array<char, kChunk> buf;
            beast::error_code read_ec;
            const std::size_t n = server_->read_some(asio::buffer(buf), read_ec);
            if (read_ec == asio::error::would_block) {
                ++empty_wakeups;
            } else {
                ASSERT_FALSE(read_ec) << read_ec.message();
                got.append(buf.data(), n);
            }
            if (got.size() < expected.size()) wait();
        });
    };
    wait();
    run_until([&] { return got.size() >= expected.size(); });
    EXPECT_EQ(got, expected);
    // Exactly one chunk per wake-up: no wake-up without data, none missing.
    EXPECT_EQ(wakeups, int(kParts * kPart / kChunk));
    EXPECT_EQ(empty_wakeups, 0);
}

TEST_F(TlsPair, PeerCloseNotifyEndsReadsWithEofAndOursCompletesTheClosingHandshake) {
    // The client's shutdown() sends close_notify and then waits for ours.
    auto closing = std::async(std::launch::async, [&] {
        beast::error_code ec;
        client_->shutdown(ec);
        return ec;
    });
    beast::error_code got;
    std::array<char, 64> buf;
    server_->async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t) {
        got = ec ? ec : asio::error::fault;
    });
    run_until([&] { return bool(got); });
    EXPECT_EQ(got, asio::error::eof);
    bool done = false;
    server_->async_shutdown([&](beast::error_code) { done = true; });
    run_until([&] { return done; });
    ASSERT_EQ(closing.wait_for(5s), std::future_status::ready);
    EXPECT_FALSE(closing.get());
}

TEST_F(TlsPair, PeerDisconnectWithoutCloseNotifyEndsReadsWithAnError) {
    client_->next_layer().shutdown(tcp::socket::shutdown_send);  // a FIN, no close_notify
    beast::error_code got;
    std::array<char, 64> buf;
    server_->async_read_some(asio::buffer(buf), [&](beast::error_code ec, std::size_t) {
        got = ec ? ec : asio::error::fault;
    });
    run_until([&] { return bool(got); });
    EXPECT_EQ(got, asio::ssl::error::stream_truncated);  // as asio::ssl::stream reports it
}

// Several buffers go out gathered (one record where they fit, kMaxGather); a sequence longer
// than that continues in later writes of the caller's loop.
TEST_F(TlsPair, GatheredBuffersArriveWholeAndInOrder) {
    const std::string a = random_text(10, 1), b = random_text(7000, 2), c = random_text(20000, 3);
    const std::string all = a + b + c;
    std::string got(all.size(), '\0');
    auto received =
        std::async(std::launch::async, [&] { asio::read(*client_, asio::buffer(got)); });
    std::array<asio::const_buffer, 3> parts{asio::buffer(a), asio::buffer(b), asio::buffer(c)};
    bool written = false;
    asio::async_write(*server_, parts, [&](beast::error_code ec, std::size_t n) {
        EXPECT_FALSE(ec) << ec.message();
        EXPECT_EQ(n, all.size());
        written = true;
    });
    run_until([&] { return written; });
    ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(got, all);
}

TEST_F(TlsPair, ShutdownSendsCloseNotify) {
    bool done = false;
    server_->async_shutdown([&](beast::error_code ec) {
        EXPECT_FALSE(ec) << ec.message();
        done = true;
    });
    run_until([&] { return done; });
    std::array<char, 16> buf;
    beast::error_code ec;
    client_->read_some(asio::buffer(buf), ec);
    EXPECT_EQ(ec, asio::error::eof);  // asio reports a received close_notify as eof
}

// A large write waiting for a peer that does not read must not make a concurrent read fail
// (reads fail only when OpenSSL's own output piles up: kMaxUnsent).
TEST_F(TlsPair, ReadsGoOnWhileALargeWriteWaitsForThePeer) {
    server_->next_layer().socket().set_option(asio::socket_base::send_buffer_size(4096));
    client_->next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    const std::string big = random_text(tls_detail::kMaxWrite, 9);
    bool written = false;
    server_->async_write_some(asio::buffer(big),
                              [&](beast::error_code, std::size_t) { written = true; });
    ioc_.poll();
    ASSERT_FALSE(written);  // the peer reads nothing yet
    asio::write(*client_, asio::buffer(std::string("ping")));
    EXPECT_EQ(server_read(4, 64), "ping");
    // Now the peer reads: the write completes.
    std::string got(big.size(), '\0');
    auto received =
        std::async(std::launch::async, [&] { asio::read(*client_, asio::buffer(got)); });
    run_until([&] { return written; });
    ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(got, big);
}

// The stream object may go away while an operation of its own is in flight (OpenSSL's
// output is being sent): the operation keeps the state alive until it completes (run under
// AddressSanitizer in tools/test.sh).
TEST_F(TlsPair, StreamGoingAwayMidWriteIsSafe) {
    const std::string big = random_text(64 * 1024, 7);
    // Small socket buffers on both sides, so the write surely waits for the peer.
    server_->next_layer().socket().set_option(asio::socket_base::send_buffer_size(4096));
    client_->next_layer().set_option(asio::socket_base::receive_buffer_size(4096));
    beast::error_code got;
    bool called = false;
    server_->async_write_some(asio::buffer(big), [&](beast::error_code ec, std::size_t) {
        got = ec;
        called = true;
    });
    ioc_.poll();  // records are on their way; the peer reads nothing
    server_->next_layer().socket().close();
    server_.reset();
    run_until([&] { return called; });
    EXPECT_TRUE(got);  // the send was cut off
}

// A peer that keeps asking for KeyUpdates and never reads makes OpenSSL queue a KeyUpdate of
// ours for each: the readiness-style read (the wss:// WebSocket path) fails once that output
// passes kMaxUnsent, as async_read_some does, instead of buffering it without bound.
TEST_F(TlsPair, ReadinessReadsFailWhenOpenSslOutputPilesUpUnread) {
    beast::error_code ec;
    server_->next_layer().socket().non_blocking(true, ec);
    // A small send buffer here; the client's receive buffer keeps its size (shrinking it on
    // an established connection makes loopback TCP drop segments and stall).
    server_->next_layer().socket().set_option(asio::socket_base::send_buffer_size(4096));
    // ~27 octets of answer per request: this many are several times kMaxUnsent plus the
    // socket buffers, so without the cap the loop ends without an error.
    constexpr int kUpdates = 60'000;
    std::atomic<bool> stop{false};
    auto client = std::async(std::launch::async, [&] {
        int sent = 0;
        for (; sent < kUpdates && !stop; ++sent) {
            if (SSL_key_update(client_->native_handle(), SSL_KEY_UPDATE_REQUESTED) != 1) break;
            beast::error_code wec;
            asio::write(*client_, asio::buffer("x", 1), wec);  // carries the KeyUpdate
            if (wec) break;                                    // the server gave up and closed
        }
        return sent;
    });
    beast::error_code failure;
    std::size_t got = 0;  // one octet per KeyUpdate
    std::optional<int> client_sent;
    std::function<void()> wait = [&] {
        server_->async_wait_readable([&](beast::error_code wait_ec) {
            if (wait_ec) {
                failure = wait_ec;
                return;
            }
            std::array<char, 256> buf;
            for (;;) {
                beast::error_code read_ec;
                const std::size_t n = server_->read_some(asio::buffer(buf), read_ec);
                if (read_ec == asio::error::would_block) break;
                if (read_ec) {
                    failure = read_ec;
                    return;
                }
                got += n;
            }
            wait();
        });
    };
    wait();
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    // Until the read fails, or it has taken in everything the client sent.
    while (!failure && !(client_sent && got >= std::size_t(*client_sent)) &&
           std::chrono::steady_clock::now() < deadline) {
        ioc_.restart();
        ioc_.run_for(10ms);
        if (!client_sent && client.wait_for(0ms) == std::future_status::ready)
            client_sent = client.get();
    }
    stop = true;
    server_->next_layer().socket().close();  // unblocks a client write, if any
    if (!client_sent) {
        ASSERT_EQ(client.wait_for(10s), std::future_status::ready);
        client_sent = client.get();
    }
    const int sent = *client_sent;
    EXPECT_EQ(failure, asio::error::no_buffer_space)
        << failure.message() << " after " << sent << " KeyUpdates, " << got << " octets";
    EXPECT_LT(sent, kUpdates);
}

}  // namespace
}  // namespace pushsvc::net
