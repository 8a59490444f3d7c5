// HTTP/1.1 through net::Server over raw sockets, every request fed in odd-sized slices.
#include "pushsvc/net/server.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include <boost/asio/write.hpp>

#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

const std::string kGet = "GET /a?b=c HTTP/1.1\r\nHost: example.test:8443\r\nX-Echo: one\r\n\r\n";

std::string post(const std::string& target, const std::string& body) {
    return "POST " + target +
           " HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
}

TEST(Http1Server, EchoesRequestAndAddsDateServerAndContentLength) {
    TestServer ts;
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    c.send_slices(kGet, {1, 2, 5});
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 200);
    EXPECT_NE(rs[0].body.find("method=GET\n"), std::string::npos);
    EXPECT_NE(rs[0].body.find("target=/a?b=c\n"), std::string::npos);
    EXPECT_NE(rs[0].body.find("authority=example.test:8443\n"), std::string::npos);
    EXPECT_NE(rs[0].body.find("x-echo=one\n"), std::string::npos);
    EXPECT_NE(rs[0].body.find("protocol=http1\n"), std::string::npos);
    EXPECT_NE(rs[0].body.find("can_push=0\n"), std::string::npos);
    EXPECT_EQ(rs[0].headers["server"], "pushsvc");
    EXPECT_FALSE(rs[0].headers["date"].empty());
    EXPECT_EQ(rs[0].headers["content-length"], std::to_string(rs[0].body.size()));
}

TEST(Http1Server, KeepsTheConnectionAliveAcrossRequests) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices(post("/one", "first"));
    auto first = parse_responses(c.read_responses(1));
    ASSERT_EQ(first.size(), 1u);
    c.send_slices(post("/two", "second"), {13});
    auto both = parse_responses(c.read_responses(1));
    ASSERT_EQ(both.size(), 1u);
    EXPECT_NE(both[0].body.find("target=/two\n"), std::string::npos);
    EXPECT_NE(both[0].body.find("body=second"), std::string::npos);
}

TEST(Http1Server, AnswersPipelinedRequestsInOrder) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices(post("/first", "1111") + post("/second", "22"), {5, 17});
    auto rs = parse_responses(c.read_responses(2));
    ASSERT_EQ(rs.size(), 2u);
    EXPECT_NE(rs[0].body.find("target=/first\n"), std::string::npos);
    EXPECT_NE(rs[1].body.find("target=/second\n"), std::string::npos);
    EXPECT_NE(rs[1].body.find("body=22"), std::string::npos);
}

TEST(Http1Server, AcceptsAChunkedRequestBody) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices(
        "POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n",
        {3, 1, 4});
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_NE(rs[0].body.find("body=hello, world"), std::string::npos);
}

TEST(Http1Server, RejectsOversizedHeaderWith431AndCloses) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n",
                  {1000});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 431);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, RejectsDeclaredOversizedBodyWith413JsonBeforeReadingIt) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", {9});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 413);
    EXPECT_EQ(rs[0].headers["content-type"], "application/json");
    EXPECT_NE(rs[0].body.find("\"errno\":104"), std::string::npos);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, RejectsChunkedBodyGrowingPastTheLimitWith413) {
    TestServer ts;
    RawClient c(ts.port());
    std::string req = "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 5; ++i) req += "3e8\r\n" + std::string(1000, 'x') + "\r\n";
    req += "0\r\n\r\n";
    c.send_slices(req, {777});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 413);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, AnswersGarbageWith400AndCloses) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("\x01\x02 NOT HTTP AT ALL\r\n\r\n", {2});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 400);
}

TEST(Http1Server, NeverHandsATruncatedBodyToTheHandler) {
    TestServer ts;
    {
        RawClient c(ts.port());
        c.send_slices("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly-part", {4});
        c.shutdown_write();
        std::string wire;
        EXPECT_TRUE(c.read_until_closed(wire));
        EXPECT_TRUE(wire.empty());
    }
    // drain() completes only once every session has ended, so the truncated one has been
    // fully processed when done runs.
    std::promise<void> done;
    ts.server().drain([&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, DeliversAResponseGivenFromAnotherThread) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("GET /defer/x HTTP/1.1\r\nHost: h\r\n\r\n");
    auto parked = ts.handler().take_deferred();
    ASSERT_TRUE(parked);
    std::thread other([&] {
        http::Response res;
        res.status = 201;
        res.headers.add("location", "/m/1");
        res.body = "later";
        parked->second(std::move(res));
    });
    other.join();
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 201);
    EXPECT_EQ(rs[0].headers["location"], "/m/1");
    EXPECT_EQ(rs[0].body, "later");
}

TEST(Http1Server, ClosesAnIdleKeepAliveConnectionAfterTheIdleTimeout) {
    auto cfg = TestServer::default_config();
    cfg.limits.idle_timeout_ms = 200;
    TestServer ts(cfg);
    RawClient c(ts.port());
    c.send_slices(kGet);
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire, 3s));
    EXPECT_EQ(parse_responses(wire).size(), 1u);
}

TEST(Http1Server, ClosesARequestThatDoesNotCompleteWithinTheReadTimeout) {
    auto cfg = TestServer::default_config();
    cfg.limits.read_timeout_ms = 200;
    TestServer ts(cfg);
    RawClient c(ts.port());
    c.send_slices("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire, 3s));
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, SendsInterim100ContinueBeforeTheBody) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices(
        "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    EXPECT_NE(c.read_until_contains("\r\n\r\n").find("HTTP/1.1 100 Continue"), std::string::npos);
    c.send_slices("abcde");
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_NE(rs[0].body.find("body=abcde"), std::string::npos);
}

TEST(Http1Server, AnswersHeadWithTheLengthButNoBody) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n");
    // The HEAD response has no body on the wire, so the GET response follows its header.
    const std::string wire = c.read_until_contains("target=/y");
    const auto head_end = wire.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos);
    EXPECT_EQ(wire.compare(head_end + 4, 9, "HTTP/1.1 "), 0);
}

const std::string kUpgrade =
    "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

TEST(Http1Server, GivesAnUpgradeRequestANormalResponseWithoutAnUpgradeHook) {
    TestServer ts;
    RawClient c(ts.port());
    c.send_slices(kUpgrade);
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 200);
    EXPECT_EQ(ts.handler().calls(), 1);
}

TEST(Http1Server, HandsTheStreamToTheUpgradeHookWhenItAccepts) {
    std::atomic<int> upgrades{0};
    http1::UpgradeHandler hook;
    hook.plain = [&](http1::BeastRequest& req, boost::beast::tcp_stream& stream,
                     boost::beast::flat_buffer&, const net::SessionContext&) {
        if (req.target() != "/ws") return false;
        ++upgrades;
        boost::beast::tcp_stream taken(std::move(stream));  // the hook owns it now
        boost::system::error_code ec;
        boost::asio::write(taken,
                           boost::asio::buffer(std::string_view(
                               "HTTP/1.1 101 Switching Protocols\r\n\r\ntaken-over")),
                           ec);
        return true;  // `taken` closes when it goes out of scope
    };
    TestServer ts(TestServer::default_config(), false, std::move(hook));
    RawClient c(ts.port());
    c.send_slices(kUpgrade);
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    EXPECT_NE(wire.find("101 Switching Protocols"), std::string::npos);
    EXPECT_NE(wire.find("taken-over"), std::string::npos);
    EXPECT_EQ(upgrades.load(), 1);
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Server, ServesCurlAsAnIndependentClient) {
    TestServer ts;
    auto r =
        run_command("curl -sS --http1.1 -H 'X-Echo: curl' --data-binary hello http://127.0.0.1:" +
                    std::to_string(ts.port()) + "/c");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("protocol=http1\n"), std::string::npos);
    EXPECT_NE(r.output.find("x-echo=curl\n"), std::string::npos);
    EXPECT_NE(r.output.find("body=hello"), std::string::npos);
}

TEST(Http1Server, ServesCurlWithALargeBodyAndExpectContinue) {
    TestServer ts;
    // curl sends `Expect: 100-continue` for bodies over 1 KiB.
    auto r = run_command(
        "head -c 3000 /dev/zero | tr '\\0' 'z' | curl -sS --http1.1 "
        "--data-binary @- http://127.0.0.1:" +
        std::to_string(ts.port()) + "/big");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.output.find("body=" + std::string(3000, 'z')), std::string::npos);
}

}  // namespace
}  // namespace pushsvc::test
