// HTTP/1.1 message framing under hostile input (issue 14), through net::Server over raw
// loopback sockets: chunked bodies whose extensions, trailers or framing never end or grow past
// the limits, Transfer-Encoding other than exactly `chunked`, Content-Length conflicts and
// oversized request lines. Every refusal is a JSON error and closes the connection; none
// reaches the handler. Every wait is bounded.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "tests/unit/net/test_support.h"

namespace pushsvc::test {
namespace {

using Clock = std::chrono::steady_clock;

const std::string kChunkedHead =
    "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

// Sends `head`, then `filler` in 256-byte slices up to `max_bytes` of it, until the server
// starts answering; after each slice it waits up to 50 ms for a response. Returns how much
// filler went out before the answer began (max_bytes if none did) and, in `wire`, everything
// the server sent until it closed.
std::size_t stream_until_answered(RawClient& c, const std::string& head, char filler,
                                  std::size_t max_bytes, std::string& wire) {
    c.send(head);
    const std::string slice(256, filler);
    std::size_t sent = 0;
    while (sent < max_bytes && wire.empty()) {
        c.send(slice);
        sent += slice.size();
        wire += c.read_until_contains("HTTP/1.1", std::chrono::milliseconds(50));
    }
    std::string rest;
    EXPECT_TRUE(c.read_until_closed(rest)) << "the connection stayed open";
    wire += rest;
    return sent;
}

void expect_single_error(const std::string& wire, int status, const std::string& reason) {
    auto rs = parse_responses(wire);
    ASSERT_EQ(rs.size(), 1u) << wire;
    EXPECT_EQ(rs[0].status, status);
    EXPECT_EQ(rs[0].headers["content-type"], "application/json");
    EXPECT_EQ(rs[0].headers["connection"], "close");
    EXPECT_NE(rs[0].body.find("\"reason\":\"" + reason + "\""), std::string::npos) << rs[0].body;
}

// The request is refused, the connection closed, the handler never called.
void expect_refused(const std::string& request, int status, const std::string& reason) {
    TestServer ts;
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    c.send_slices(request, {5, 64});
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire)) << "the connection stayed open";
    expect_single_error(wire, status, reason);
    EXPECT_EQ(ts.handler().calls(), 0);
}

// ---- chunk extensions, trailers, framing overhead ----

TEST(Http1Framing, ANeverEndingChunkExtensionIsRefusedAfterAFewKiB) {
    TestServer ts;  // read timeout 5 s
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    const auto started = Clock::now();
    std::string wire;
    const std::size_t sent =
        stream_until_answered(c, kChunkedHead + "1;ext=", 'a', 256 * 1024, wire);
    EXPECT_LE(sent, 8u * 1024) << "answered only after this much extension";
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(4)) << "waited for the read timeout";
    expect_single_error(wire, 400, "chunk_metadata");
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Framing, ANeverEndingTrailerSectionIsRefusedAfterAFewKiB) {
    TestServer ts;
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    const auto started = Clock::now();
    std::string wire;
    const std::size_t sent = stream_until_answered(
        c, kChunkedHead + "5\r\nhello\r\n0\r\nX-Trailer: ", 'b', 256 * 1024, wire);
    EXPECT_LE(sent, 8u * 1024) << "answered only after this much trailer";
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(4)) << "waited for the read timeout";
    expect_single_error(wire, 400, "chunk_metadata");
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Framing, ARefusedChunkedRequestEndsInALingeringCloseNotAReset) {
    // After refusing, the session half-closes and keeps reading (and discarding) for a while
    // (RFC 9112 §9.6), so what the client still sends does not turn into a reset that could
    // destroy the response in flight. Its read cap for chunk lines must not break that.
    TestServer ts;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(ts.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    const std::string req = kChunkedHead + "1;e=" + std::string(4096, 'e');
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    // Read the answer up to the server's FIN (bounded: 100 polls of 50 ms).
    std::string wire;
    bool eof = false;
    for (int i = 0; i < 100 && !eof; ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) eof = true;
        if (n > 0) wire.append(buf, static_cast<std::size_t>(n));
    }
    ASSERT_TRUE(eof);
    expect_single_error(wire, 400, "chunk_metadata");
    // More input while the server lingers: read and dropped. A closed socket would answer it
    // with RST, which poll() reports as POLLERR/POLLHUP (always reported, so events = 0).
    const std::string more(4096, 'm');
    ASSERT_EQ(::send(fd, more.data(), more.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(more.size()));
    pollfd p{fd, 0, 0};
    EXPECT_EQ(::poll(&p, 1, 300), 0)
        << "reset while the server should linger, revents " << p.revents;
    ::close(fd);
}

TEST(Http1Framing, ChunkExtensionsOverOneKiBInTotalAreRefused) {
    // Each line is short; together they pass the 1 KiB budget.
    std::string req = kChunkedHead;
    for (int i = 0; i < 12; ++i) req += "1;name=" + std::string(100, 'v') + "\r\nx\r\n";
    req += "0\r\n\r\n";
    expect_refused(req, 400, "chunk_metadata");
}

TEST(Http1Framing, TrailerFieldsAreRefusedRatherThanMergedIntoTheHeader) {
    expect_refused(kChunkedHead + "5\r\nhello\r\n0\r\nTTL: 0\r\n\r\n", 400, "chunk_metadata");
}

TEST(Http1Framing, TinyChunksWhoseFramingOutweighsTheBodyLimitAre413) {
    // 4,000 body bytes (under the 4,352 limit) in one-byte chunks: ~24 KB on the wire.
    std::string req = kChunkedHead;
    for (int i = 0; i < 4000; ++i) req += "1\r\nx\r\n";
    req += "0\r\n\r\n";
    TestServer ts;
    RawClient c(ts.port());
    c.send(req);
    std::string wire;
    EXPECT_TRUE(c.read_until_closed(wire));
    expect_single_error(wire, 413, "payload_too_large");
    EXPECT_EQ(ts.handler().calls(), 0);
}

TEST(Http1Framing, AChunkedBodyOverTheLimitIs413) {
    std::string req = kChunkedHead;
    for (int i = 0; i < 5; ++i) req += "400\r\n" + std::string(1024, 'x') + "\r\n";
    req += "0\r\n\r\n";
    expect_refused(req, 413, "payload_too_large");
}

TEST(Http1Framing, AValidChunkedBodyWithAShortExtensionIsServed) {
    TestServer ts;
    RawClient c(ts.port());
    const std::string body(4352, 'z');  // exactly the limit, in 64-byte chunks
    std::string req = kChunkedHead + "40;note=ok\r\n" + body.substr(0, 64) + "\r\n";
    for (std::size_t off = 64; off < body.size(); off += 64)
        req += "40\r\n" + body.substr(off, 64) + "\r\n";
    req += "0\r\n\r\n";
    c.send_slices(req, {7, 300, 1});
    auto rs = parse_responses(c.read_responses(1));
    ASSERT_EQ(rs.size(), 1u);
    EXPECT_EQ(rs[0].status, 200);
    EXPECT_NE(rs[0].body.find("body=" + body), std::string::npos);
    // Keep-alive: a second request on the same connection is served too.
    c.send(kChunkedHead + "2\r\nok\r\n0\r\n\r\n");
    auto again = parse_responses(c.read_responses(1));
    ASSERT_EQ(again.size(), 1u);
    EXPECT_NE(again[0].body.find("body=ok"), std::string::npos);
}

// ---- Transfer-Encoding and Content-Length (RFC 9112 §6.1, §6.3) ----

std::string with_framing(const std::string& fields, const std::string& body) {
    return "POST /p HTTP/1.1\r\nHost: h\r\n" + fields + "\r\n" + body;
}

TEST(Http1Framing, TransferEncodingWhoseLastCodingIsNotChunkedIs400AndCloses) {
    for (const std::string te : {"xchunked", "chunked, identity", "gzip", "identity"}) {
        SCOPED_TRACE(te);
        expect_refused(with_framing("Transfer-Encoding: " + te + "\r\n", "5\r\nhello\r\n0\r\n\r\n"),
                       400, "framing_invalid");
    }
}

TEST(Http1Framing, TransferCodingsOtherThanChunkedAloneAre400) {
    // We decode no transfer coding but chunked: a gzip-coded body must not reach the handler
    // as if it were the content.
    expect_refused(with_framing("Transfer-Encoding: gzip, chunked\r\n", "5\r\nhello\r\n0\r\n\r\n"),
                   400, "framing_invalid");
    expect_refused(with_framing("Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n",
                                "5\r\nhello\r\n0\r\n\r\n"),
                   400, "framing_invalid");
}

TEST(Http1Framing, ContentLengthWithTransferEncodingIs400AndCloses) {
    expect_refused(with_framing("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                "5\r\nhello\r\n0\r\n\r\n"),
                   400, "framing_invalid");
    expect_refused(with_framing("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                "5\r\nhello\r\n0\r\n\r\n"),
                   400, "framing_invalid");
}

TEST(Http1Framing, DuplicateContentLengthIs400AndCloses) {
    expect_refused(with_framing("Content-Length: 5\r\nContent-Length: 6\r\n", "hello!"), 400,
                   "framing_invalid");
    // Identical values too (RFC 9112 §6.3 lets a server refuse them; a front-end that keeps the
    // last of differing ones would frame them differently).
    expect_refused(with_framing("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"), 400,
                   "framing_invalid");
    expect_refused(with_framing("Content-Length: 5, 5\r\n", "hello"), 400, "framing_invalid");
}

TEST(Http1Framing, AnOversizedRequestLineIs431AndCloses) {
    expect_refused("GET /" + std::string(5000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 431,
                   "header_too_large");
}

TEST(Http1Framing, ANeverEndingHeaderIsRefusedWithoutReadingItAll) {
    TestServer ts;
    RawClient c(ts.port());
    ASSERT_TRUE(c.connected());
    std::string wire;
    const std::size_t sent =
        stream_until_answered(c, "GET / HTTP/1.1\r\nX-Long: ", 'h', 256 * 1024, wire);
    EXPECT_LE(sent, 8u * 1024 + 4096);
    expect_single_error(wire, 431, "header_too_large");
}

}  // namespace
}  // namespace pushsvc::test
