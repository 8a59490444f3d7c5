// HTTP/2 with prior knowledge (h2c) through net::Server, driven by independent clients
// (nghttp and curl as subprocesses) and by raw bytes for malformed input.
#include "pushsvc/net/server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "pushsvc/net/preface.h"
#include "pushsvc/obs/catalog.h"
#include "tests/unit/net/h2_raw.h"
#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

std::string url(unsigned short port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + path;
}

// Walks the server's frames and reports whether one is a GOAWAY (type 0x7).
bool has_goaway(const std::string& wire) {
    for (std::size_t i = 0; i + 9 <= wire.size();) {
        const std::size_t len = (std::size_t(std::uint8_t(wire[i])) << 16) |
                                (std::size_t(std::uint8_t(wire[i + 1])) << 8) |
                                std::uint8_t(wire[i + 2]);
        if (wire[i + 3] == 0x7) return true;
        i += 9 + len;
    }
    return false;
}

TEST(H2cServer, ServesNghttpWithPriorKnowledge) {
    TestServer ts;
    auto r = run_command("nghttp -H 'x-echo: nghttp' " + url(ts.port(), "/n?q=1"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("method=GET\n"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("target=/n?q=1\n"), std::string::npos);
    EXPECT_NE(r.output.find("protocol=http2\n"), std::string::npos);
    EXPECT_NE(r.output.find("x-echo=nghttp\n"), std::string::npos);
    EXPECT_NE(r.output.find("authority=127.0.0.1:" + std::to_string(ts.port())), std::string::npos);
}

TEST(H2cServer, ServesCurlPostWithBodyAndHeaders) {
    TestServer ts;
    auto r = run_command("curl -sS -i --http2-prior-knowledge --data-binary hello-h2 " +
                         url(ts.port(), "/p"));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("HTTP/2 200"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("server: pushsvc"), std::string::npos);
    EXPECT_NE(r.output.find("date: "), std::string::npos);
    EXPECT_NE(r.output.find("content-length: "), std::string::npos);
    EXPECT_NE(r.output.find("method=POST\n"), std::string::npos);
    EXPECT_NE(r.output.find("body=hello-h2"), std::string::npos);
}

TEST(H2cServer, ReportsWhetherTheClientAllowsPush) {
    TestServer ts;
    // curl disables push (SETTINGS_ENABLE_PUSH = 0); nghttp leaves it enabled unless --no-push.
    auto curl = run_command("curl -sS --http2-prior-knowledge " + url(ts.port(), "/c"));
    EXPECT_NE(curl.output.find("can_push=0\n"), std::string::npos) << curl.output;
    auto push = run_command("nghttp " + url(ts.port(), "/n"));
    EXPECT_NE(push.output.find("can_push=1\n"), std::string::npos) << push.output;
    auto nopush = run_command("nghttp --no-push " + url(ts.port(), "/n"));
    EXPECT_NE(nopush.output.find("can_push=0\n"), std::string::npos) << nopush.output;
}

TEST(H2cServer, AnswersAnOversizedBodyWith413Json) {
    TestServer ts;
    // nghttp, not curl: the 413 comes before the upload ends and is followed by
    // RST_STREAM(NO_ERROR) (RFC 9113 §8.1), which curl 7.88 sometimes reports as a stream
    // error instead of showing the response.
    const std::string body = "/tmp/pushsvc-h2-413-" + std::to_string(::getpid());
    auto r = run_command("head -c 6000 /dev/zero > " + body + " && nghttp -v -d " + body + " " +
                         url(ts.port(), "/big") + "; rm -f " + body);
    EXPECT_NE(r.output.find(":status: 413"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("\"errno\":104"), std::string::npos);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(H2cServer, AnswersAnOversizedHeaderListWith431) {
    TestServer ts;
    auto r =
        run_command("curl -sS -i --http2-prior-knowledge -H 'x-big: " + std::string(5000, 'a') +
                    "' " + url(ts.port(), "/h"));
    EXPECT_NE(r.output.find("HTTP/2 431"), std::string::npos) << r.output;
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(H2cServer, ServesManyConcurrentStreamsOnOneConnection) {
    TestServer ts;
    std::string cmd = "nghttp";
    for (int i = 0; i < 20; ++i) cmd += " " + url(ts.port(), "/s" + std::to_string(i));
    auto r = run_command(cmd);
    EXPECT_EQ(r.exit_code, 0);
    for (int i = 0; i < 20; ++i) {
        EXPECT_NE(r.output.find("target=/s" + std::to_string(i) + "\n"), std::string::npos);
    }
}

TEST(H2cServer, SendsGoawayAndClosesOnAMalformedFrame) {
    TestServer ts;
    RawClient c(ts.port());
    // Preface, then a SETTINGS frame whose length is not a multiple of 6 (RFC 9113 §6.5:
    // FRAME_SIZE_ERROR, a connection error).
    std::string bytes(net::kHttp2Preface);
    bytes += std::string("\x00\x00\x05\x04\x00\x00\x00\x00\x00", 9) + "abcde";
    c.send_slices(bytes, {5, 9});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    EXPECT_TRUE(has_goaway(wire));
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(H2cServer, ClosesAnIdleConnectionWithGoawayAfterTheIdleTimeout) {
    auto cfg = TestServer::default_config();
    cfg.limits.idle_timeout_ms = 200;
    TestServer ts(cfg);
    RawClient c(ts.port());
    std::string bytes(net::kHttp2Preface);
    bytes += std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);  // empty SETTINGS
    c.send_slices(bytes, {4});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire, 3s));
    EXPECT_TRUE(has_goaway(wire));
}

TEST(H2cServer, ClosesOnGarbageAfterAPartialPreface) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("PRI * HTTP/2.0\r\n\r\nXX garbage\r\n\r\n", {3});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));  // parsed as HTTP/1.1: 400 and close
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 400);
}

TEST(H2cServer, CarriesTheClientKeyOfThePeerAddressInEveryRequest) {
    TestServer ts;
    auto r = run_command("curl -sS --http2-prior-knowledge " + url(ts.port(), "/c"));
    EXPECT_NE(r.output.find("client=127.0.0.1\n"), std::string::npos) << r.output;
    auto h1 = run_command("curl -sS --http1.1 " + url(ts.port(), "/c"));
    EXPECT_NE(h1.output.find("client=127.0.0.1\n"), std::string::npos) << h1.output;
}

// Rapid reset (CVE-2023-44487): HEADERS with END_STREAM and RST_STREAM for the same stream
// in one read. The stream is gone before the connection hands requests out, so the handler
// never runs for it: a client cannot make the service work (subscribe, push) for free.
TEST(H2cServer, NeverRunsTheHandlerOfAStreamResetInTheSameRead) {
    TestServer ts;
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session* session = nullptr;
    nghttp2_session_client_new(&session, cbs, nullptr);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
    std::string wire;  // the client session writes the connection preface itself
    const std::uint8_t* data = nullptr;
    ssize_t n;
    // Collected after each submit: nghttp2 cancels HEADERS still queued when their
    // RST_STREAM is submitted, and would send neither.
    auto drain = [&] {
        while ((n = nghttp2_session_mem_send(session, &data)) > 0)
            wire.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    };
    constexpr int kReset = 50;
    for (int i = 0; i < kReset; ++i) {
        const auto id = pushsvc::testing::submit_h2_get(session, "/reset-" + std::to_string(i));
        ASSERT_GT(id, 0);
        drain();
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
        drain();
    }
    ASSERT_LT(wire.size(), 16u * 1024);  // one read of the connection (its buffer is 16 KiB)
    const auto before = obs::catalog().http2_reset_before_dispatch.value();
    RawClient client(ts.port());
    ASSERT_TRUE(client.connected());
    client.send(wire);  // one write: the server reads it whole
    // Then a normal request on the same connection: its answer shows the reset ones were read.
    const auto last = pushsvc::testing::submit_h2_get(session, "/after");
    wire.clear();
    drain();
    ASSERT_GT(last, 0);
    client.send(wire);
    const std::string got = client.read_until_contains("target=/after");
    EXPECT_NE(got.find("target=/after"), std::string::npos);
    EXPECT_EQ(got.find("target=/reset-"), std::string::npos);
    EXPECT_EQ(ts.handler().calls(), 1);
    EXPECT_EQ(obs::catalog().http2_reset_before_dispatch.value(), before + kReset);
    nghttp2_session_del(session);
}

}  // namespace
}  // namespace pushsvc::test
