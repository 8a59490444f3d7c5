// RFC 6455 server-side framing and handshake (pushsvc/http1/ws_frame.h), byte by byte: the
// RFC's own examples, fragmentation with control frames in between, input split anywhere,
// every protocol violation with the close code it earns, and the encoder's length forms.
#include <gtest/gtest.h>

#include "pushsvc/http1/ws_frame.h"

namespace pushsvc::http1::ws {
namespace {

using Kind = Event::Kind;

// A client frame: masked with `mask`, FIN and RSV bits as given.
std::string client_frame(std::uint8_t op, std::string_view payload, bool fin = true,
                         std::uint8_t rsv = 0, std::string_view mask = "\x11\x22\x33\x44") {
    std::string f;
    f.push_back(static_cast<char>((fin ? 0x80 : 0) | rsv | op));
    const std::uint64_t n = payload.size();
    if (n < 126) {
        f.push_back(static_cast<char>(0x80 | n));
    } else if (n <= 0xFFFF) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(n >> 8));
        f.push_back(static_cast<char>(n));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>(n >> (8 * i)));
    }
    f.append(mask);
    for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ mask[i % 4]);
    return f;
}

Event parse_one(std::string_view bytes, std::size_t max = 16384) {
    FrameReader r(max);
    return r.next(bytes);
}

TEST(WsFrame, Rfc6455MaskedHelloExample) {
    // RFC 6455 §5.7: "A single-frame masked text message".
    const std::string bytes("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
    std::string_view in = bytes;
    FrameReader r(100);
    Event ev = r.next(in);
    EXPECT_EQ(ev.kind, Kind::text);
    EXPECT_EQ(ev.payload, "Hello");
    EXPECT_TRUE(in.empty());
}

TEST(WsFrame, FragmentedMessageWithAPingInBetween) {
    const std::string bytes = client_frame(0x1, "Hel", false) + client_frame(0x9, "p") +
                              client_frame(0x0, "l", false) + client_frame(0x0, "o");
    std::string_view in = bytes;
    FrameReader r(100);
    Event ping = r.next(in);
    EXPECT_EQ(ping.kind, Kind::ping);  // control frames may interleave (§5.4)
    EXPECT_EQ(ping.payload, "p");
    Event msg = r.next(in);
    EXPECT_EQ(msg.kind, Kind::text);
    EXPECT_EQ(msg.payload, "Hello");
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(r.next(in).kind, Kind::need_more);
}

TEST(WsFrame, InputSplitAtEveryByteWaitsThenDelivers) {
    const std::string bytes =
        client_frame(0x1, std::string(300, 'a')) + client_frame(0x1, std::string(70000, 'b'));
    FrameReader r(100000);
    std::string buffer;
    std::vector<std::string> got;
    for (char c : bytes) {
        buffer.push_back(c);
        std::string_view in = buffer;
        Event ev = r.next(in);
        buffer.erase(0, buffer.size() - in.size());
        if (ev.kind == Kind::need_more) continue;
        ASSERT_EQ(ev.kind, Kind::text);
        got.push_back(ev.payload);
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], std::string(300, 'a'));    // 16-bit length form
    EXPECT_EQ(got[1], std::string(70000, 'b'));  // 64-bit length form
}

TEST(WsFrame, BinaryPongAndCloseEvents) {
    EXPECT_EQ(parse_one(client_frame(0x2, "\x01\x02")).kind, Kind::binary);
    EXPECT_EQ(parse_one(client_frame(0xA, "x")).kind, Kind::pong);
    Event bare = parse_one(client_frame(0x8, ""));
    EXPECT_EQ(bare.kind, Kind::close);
    EXPECT_EQ(bare.code, kNoStatus);
    Event coded = parse_one(client_frame(0x8, std::string("\x03\xe8", 2) + "bye"));
    EXPECT_EQ(coded.kind, Kind::close);
    EXPECT_EQ(coded.code, 1000);
    EXPECT_EQ(coded.payload, "bye");
}

void expect_error(const std::string& bytes, std::uint16_t code, std::size_t max = 16384) {
    Event ev = parse_one(bytes, max);
    EXPECT_EQ(ev.kind, Kind::error) << ev.payload;
    EXPECT_EQ(ev.code, code) << ev.payload;
}

TEST(WsFrame, ProtocolViolationsEarnTheirCloseCodes) {
    std::string unmasked = client_frame(0x1, "hi");
    unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
    expect_error(unmasked, kProtocolError);                             // §5.1
    expect_error(client_frame(0x1, "hi", true, 0x40), kProtocolError);  // RSV1, no extension
    expect_error(client_frame(0x3, "hi"), kProtocolError);              // reserved data opcode
    expect_error(client_frame(0xB, "hi"), kProtocolError);              // reserved control opcode
    expect_error(client_frame(0x9, "p", false), kProtocolError);        // fragmented control
    expect_error(client_frame(0x9, std::string(126, 'p')), kProtocolError);  // > 125 bytes
    expect_error(client_frame(0x0, "lo"), kProtocolError);                   // continuation first
    expect_error(client_frame(0x1, "a", false) + client_frame(0x1, "b"), kProtocolError);
    expect_error(client_frame(0x8, "x"), kProtocolError);  // 1-byte close body
    expect_error(client_frame(0x8, std::string("\x03\xed", 2)), kProtocolError);  // 1005
    expect_error(client_frame(0x8, std::string("\x03\xe8\xff", 3)), kInvalidPayload);
    expect_error(client_frame(0x1, "\xc3\x28"), kInvalidPayload);      // invalid UTF-8 (§8.1)
    expect_error(client_frame(0x1, "\xed\xa0\x80"), kInvalidPayload);  // a surrogate
    // Non-minimal lengths (§5.2): 16-bit form for 5 bytes, 64-bit form for 300.
    std::string short16("\x81\xfe\x00\x05\x11\x22\x33\x44xxxxx", 13);
    expect_error(short16, kProtocolError);
    std::string long64 = client_frame(0x1, std::string(300, 'a'));
    long64.replace(1, 3, std::string("\xff\x00\x00\x00\x00\x00\x00\x01\x2c", 9));
    expect_error(long64, kProtocolError);
}

TEST(WsFrame, TooBigIsRefusedFromTheHeaderAlone) {
    // Only the header of a 20,000-byte frame: refused before the payload is buffered.
    const std::string bytes = client_frame(0x1, std::string(20000, 'x')).substr(0, 8);
    expect_error(bytes, kTooBig, 16384);
    // The limit applies to the whole fragmented message too.
    expect_error(client_frame(0x1, std::string(10000, 'x'), false) +
                     client_frame(0x0, std::string(10000, 'x')),
                 kTooBig, 16384);
}

TEST(WsFrame, RandomBytesEndInAnErrorOrNeedMoreWithinBounds) {
    // Malformed input never crashes or loops (run under ASan/UBSan by tools/test.sh): every
    // event consumes input or ends the parse.
    std::uint32_t seed = 12345;
    auto next = [&seed] { return seed = seed * 1664525u + 1013904223u; };
    for (int round = 0; round < 3000; ++round) {
        std::string bytes(next() % 64, '\0');
        for (auto& c : bytes) c = static_cast<char>(next() >> 24);
        if (round % 2 == 0 && bytes.size() > 1) bytes[1] = static_cast<char>(bytes[1] | 0x80);
        FrameReader r(1024);
        std::string_view in = bytes;
        for (int step = 0; step <= 64; ++step) {
            ASSERT_LT(step, 64) << "no progress on round " << round;
            const std::size_t before = in.size();
            Event ev = r.next(in);
            if (ev.kind == Kind::need_more || ev.kind == Kind::error) break;
            ASSERT_LT(in.size(), before);
        }
    }
}

TEST(WsFrame, EncoderUsesTheShortestLengthForm) {
    EXPECT_EQ(encode_frame(Opcode::text, ""), std::string("\x81\x00", 2));
    EXPECT_EQ(encode_frame(Opcode::text, std::string(125, 'a')).substr(0, 2), "\x81\x7d");
    EXPECT_EQ(encode_frame(Opcode::text, std::string(126, 'a')).substr(0, 4),
              std::string("\x81\x7e\x00\x7e", 4));
    EXPECT_EQ(encode_frame(Opcode::text, std::string(65535, 'a')).size(), 65535u + 4);
    const std::string big = encode_frame(Opcode::binary, std::string(65536, 'a'));
    EXPECT_EQ(big.substr(0, 10), std::string("\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
    EXPECT_EQ(encode_frame(Opcode::pong, "x"), "\x8a\x01x");
    const std::string close = encode_close(1001, std::string(200, 'r'));
    EXPECT_EQ(close.size(), 2u + 125u);  // reason cut to fit a control frame
    EXPECT_EQ(close.substr(0, 4), "\x88\x7d\x03\xe9");
}

// RFC 6455 §5.5.1: the cut reason stays valid UTF-8. 122 ASCII bytes, then a 3-byte character
// straddling byte 123: it is dropped whole, not split.
TEST(WsFrame, CloseReasonIsCutOnACharacterBoundary) {
    const std::string reason = std::string(122, 'r') + "\xe2\x82\xac" + "tail";
    const std::string close = encode_close(1000, reason);
    EXPECT_EQ(close.size(), 2u + 2u + 122u);
    EXPECT_EQ(close.substr(4), std::string(122, 'r'));
    // A character that ends exactly at the limit is kept.
    const std::string fits = std::string(120, 'r') + "\xe2\x82\xac" + "tail";
    EXPECT_EQ(encode_close(1000, fits).substr(4), std::string(120, 'r') + "\xe2\x82\xac");
}

TEST(WsFrame, AcceptKeyRfc6455Example) {
    // RFC 6455 §1.3.
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

BeastRequest upgrade_request() {
    BeastRequest req{boost::beast::http::verb::get, "/", 11};
    req.set(boost::beast::http::field::host, "push.test");
    req.set(boost::beast::http::field::upgrade, "websocket");
    req.set(boost::beast::http::field::connection, "Upgrade");
    req.set(boost::beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
    req.set(boost::beast::http::field::sec_websocket_version, "13");
    return req;
}

TEST(WsFrame, HandshakeAnswersValidRequestsOnly) {
    auto ok = accept_response(upgrade_request(), "push-notification");
    ASSERT_TRUE(ok);
    EXPECT_TRUE(ok->starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    EXPECT_NE(ok->find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
              std::string::npos);
    EXPECT_NE(ok->find("Sec-WebSocket-Protocol: push-notification\r\n"), std::string::npos);
    EXPECT_TRUE(ok->ends_with("\r\n\r\n"));
    auto plain = accept_response(upgrade_request(), "");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->find("Sec-WebSocket-Protocol"), std::string::npos);

    auto old_version = upgrade_request();
    old_version.set(boost::beast::http::field::sec_websocket_version, "8");
    EXPECT_FALSE(accept_response(old_version, ""));
    auto bad_key = upgrade_request();
    bad_key.set(boost::beast::http::field::sec_websocket_key, "not-a-nonce");
    EXPECT_FALSE(accept_response(bad_key, ""));
    bad_key.set(boost::beast::http::field::sec_websocket_key, "dGhlIHNhbXBs=Sub25jZQ==");
    EXPECT_FALSE(accept_response(bad_key, ""));  // padding inside
    auto no_upgrade = upgrade_request();
    no_upgrade.erase(boost::beast::http::field::upgrade);
    EXPECT_FALSE(accept_response(no_upgrade, ""));
    auto post = upgrade_request();
    post.method(boost::beast::http::verb::post);
    EXPECT_FALSE(accept_response(post, ""));
}

}  // namespace
}  // namespace pushsvc::http1::ws
