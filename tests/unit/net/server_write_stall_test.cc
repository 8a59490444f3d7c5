// HTTP/2 responses stalled on a flow-control window the peer never opens (issue 14): the
// stalled stream is reset and the connection closed at the write deadline, other streams and
// connections move on, and a stalled connection keeps its place under the connection limits
// until it closes. Every wait is bounded.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <vector>

#include "pushsvc/obs/catalog.h"
#include "tests/unit/net/h2_raw.h"
#include "tests/unit/net/limits_support.h"
#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

using namespace limits;

// -- HTTP/2 responses stalled on flow control --------------------------------------------

// An HTTP/2 client that announces a stream window of 0 and never sends WINDOW_UPDATE: the
// server can send response headers but no DATA.
class StallingClient {
  public:
    StallingClient(const char* source, unsigned short port) : fd_(connect_from(source, port)) {
        nghttp2_session_callbacks* cbs = nullptr;
        nghttp2_session_callbacks_new(&cbs);
        nghttp2_session_callbacks_set_on_frame_recv_callback(
            cbs, [](nghttp2_session*, const nghttp2_frame* f, void* u) -> int {
                auto& self = *static_cast<StallingClient*>(u);
                if (f->hd.type == NGHTTP2_HEADERS) ++self.headers;
                if (f->hd.type == NGHTTP2_DATA) ++self.data;
                if (f->hd.type == NGHTTP2_RST_STREAM) ++self.resets;
                if (f->hd.type == NGHTTP2_GOAWAY) {
                    ++self.goaways;
                    self.goaway_error = f->goaway.error_code;
                }
                if (f->hd.type == NGHTTP2_RST_STREAM) self.reset_stream = f->hd.stream_id;
                return 0;
            });
        nghttp2_session_client_new(&session_, cbs, this);
        nghttp2_session_callbacks_del(cbs);
        nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 0}};
        nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, iv, 1);
    }
    ~StallingClient() { nghttp2_session_del(session_); }

    void get(const std::string& path) {
        last_stream_ = testing::submit_h2_get(session_, path);
        flush();
    }
    // A short send is not checked: the stalling peer's socket may already be reset.
    void flush() { testing::send_h2_queued(session_, fd_.fd); }
    // Reads (answering SETTINGS/PING as nghttp2 does, never opening a window) until the
    // server closes or `timeout`; true when closed.
    bool read_until_closed(milliseconds timeout) {
        const auto end = Clock::now() + timeout;
        for (int i = 0; i < 10'000 && Clock::now() < end; ++i) {
            pollfd p{fd_.fd, POLLIN, 0};
            const auto left = std::chrono::duration_cast<milliseconds>(end - Clock::now());
            if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) continue;
            std::uint8_t buf[4096];
            const ssize_t n = ::recv(fd_.fd, buf, sizeof buf, 0);
            if (n <= 0) return true;
            nghttp2_session_mem_recv(session_, buf, static_cast<std::size_t>(n));
            flush();
        }
        return false;
    }
    // Reads for `duration` (returns early only if the server closes).
    void read_for(milliseconds duration) { read_until_closed(duration); }

    int fd() const { return fd_.fd; }
    // Opens the window of one stream (and the connection's) so its response can flow.
    void open_window(std::int32_t stream_id) {
        nghttp2_submit_window_update(session_, NGHTTP2_FLAG_NONE, stream_id, 65535);
        flush();
    }
    std::int32_t last_stream() const { return last_stream_; }

    int headers = 0, data = 0, resets = 0, goaways = 0;
    std::uint32_t goaway_error = 0;
    std::int32_t reset_stream = 0;

  private:
    Fd fd_;
    nghttp2_session* session_ = nullptr;
    std::int32_t last_stream_ = 0;
};

TEST(WriteStall, ResponseHeldByAClosedWindowIsResetAndTheConnectionClosed) {
    auto cfg = TestServer::default_config();
    cfg.limits.write_stall_timeout_ms = 400;
    cfg.limits.idle_timeout_ms = 5000;
    cfg.limits.read_timeout_ms = 5000;
    TestServer ts(cfg);
    const auto before = obs::catalog().http2_write_stalls.value();

    StallingClient stalling("127.0.0.9", ts.port());
    ASSERT_GE(stalling.fd(), 0);
    const auto start = Clock::now();
    stalling.get("/stalled");
    stalling.read_for(milliseconds(150));
    EXPECT_EQ(stalling.headers, 1);  // the response started ...
    EXPECT_EQ(stalling.data, 0);     // ... but its body waits for a window

    // Meanwhile another client on another connection is served normally.
    Fd other(connect_from("127.0.0.10", ts.port()));
    ASSERT_GE(other.fd, 0);
    EXPECT_TRUE(served(other.fd));

    ASSERT_TRUE(stalling.read_until_closed(milliseconds(3000)));
    const auto lasted = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
    EXPECT_GE(lasted, 350);
    EXPECT_LT(lasted, 2000);
    // Nothing moved on the whole connection: GOAWAY and close (the stream goes with it).
    EXPECT_EQ(stalling.goaways, 1);
    EXPECT_EQ(stalling.goaway_error, static_cast<std::uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
    EXPECT_EQ(obs::catalog().http2_write_stalls.value() - before, 1u);
    EXPECT_TRUE(served(other.fd));  // still fine afterwards
}

// The slot moves with the context into whichever session the connection becomes: an h2c
// connection (an http2::Connection by now) still counts against its address.
TEST(ConnectionLimits, AnHttp2ConnectionKeepsItsPlaceUntilItCloses) {
    auto cfg = limits_config();
    cfg.limits.max_connections_per_ip = 1;
    TestServer ts(cfg);
    auto h2 = std::make_unique<StallingClient>("127.0.0.12", ts.port());
    ASSERT_GE(h2->fd(), 0);
    h2->get("/x");
    for (int i = 0; i < 30 && h2->headers == 0; ++i) h2->read_for(milliseconds(100));
    ASSERT_EQ(h2->headers, 1);  // served by the HTTP/2 session
    Fd second(connect_from("127.0.0.12", ts.port()));
    ASSERT_GE(second.fd, 0);
    EXPECT_TRUE(closed_within(second.fd, milliseconds(1000)));
    h2.reset();  // closing it frees the place
    EXPECT_TRUE(eventually_served_from("127.0.0.12", ts.port()));
}

// While other responses on the connection make progress, only the stalled stream is reset
// (RST_STREAM CANCEL) and the connection stays up.
TEST(WriteStall, OnlyTheStalledStreamIsResetWhileOthersMove) {
    auto cfg = TestServer::default_config();
    cfg.limits.write_stall_timeout_ms = 600;
    TestServer ts(cfg);
    StallingClient client("127.0.0.11", ts.port());
    ASSERT_GE(client.fd(), 0);
    client.get("/stalled");
    const std::int32_t stalled = client.last_stream();
    client.read_for(milliseconds(300));
    client.get("/flowing");
    const std::int32_t flowing = client.last_stream();
    client.open_window(flowing);  // its body goes out at ~300 ms: the connection moves
    client.read_for(milliseconds(200));
    EXPECT_EQ(client.data, 1);
    // The stalled stream's deadline (600 ms) passes while the connection moved at ~300 ms.
    EXPECT_FALSE(client.read_until_closed(milliseconds(700)));
    EXPECT_EQ(client.resets, 1);
    EXPECT_EQ(client.reset_stream, stalled);
    EXPECT_EQ(client.goaways, 0);
}

}  // namespace
}  // namespace pushsvc::test
