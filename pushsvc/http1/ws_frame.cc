#include "pushsvc/http1/ws_frame.h"

#include <openssl/evp.h>

#include <boost/beast/websocket/detail/utf8_checker.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace pushsvc::http1::ws {
namespace {

Event fail(std::uint16_t code, std::string reason) {
    return {Event::Kind::error, std::move(reason), code};
}

bool valid_utf8(std::string_view s) {
    // Beast's checker (Boost 1.81, the version Debian 12 pins): the same rules its own
    // websocket stream applies, incl. overlong forms and surrogates.
    return boost::beast::websocket::detail::check_utf8(s.data(), s.size());
}

// Close codes a peer may send (RFC 6455 §7.4.1-2; 1004-1006 and 1015 are reserved).
bool valid_close_code(std::uint16_t c) {
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1011) || (c >= 3000 && c <= 4999);
}

std::uint64_t read_be(std::string_view in, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    return v;
}

std::string base64(const unsigned char* data, std::size_t n) {
    std::string out(4 * ((n + 2) / 3), '\0');
    EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(n));
    return out;
}

bool valid_key(std::string_view key) {
    // base64 of 16 random bytes (§4.1 item 7): 22 characters and "==".
    if (key.size() != 24 || !key.ends_with("==")) return false;
    for (char c : key.substr(0, 22))
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/') return false;
    std::array<unsigned char, 18> raw{};
    return EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(key.data()), 24) ==
           18;
}

}  // namespace

Event FrameReader::next(std::string_view& in) {
    for (;;) {
        if (in.size() < 2) return {};
        const auto b0 = static_cast<unsigned char>(in[0]);
        const auto b1 = static_cast<unsigned char>(in[1]);
        const bool fin = (b0 & 0x80) != 0;
        const auto op = static_cast<Opcode>(b0 & 0x0F);
        if ((b0 & 0x70) != 0) return fail(kProtocolError, "reserved bits set");      // §5.2
        if ((b1 & 0x80) == 0) return fail(kProtocolError, "unmasked client frame");  // §5.1
        const bool control = (b0 & 0x08) != 0;
        if (control ? (op != Opcode::close && op != Opcode::ping && op != Opcode::pong)
                    : (op != Opcode::continuation && op != Opcode::text && op != Opcode::binary))
            return fail(kProtocolError, "unknown opcode");

        std::size_t header = 2;
        std::uint64_t len = b1 & 0x7F;
        if (len == 126) {
            if (in.size() < 4) return {};
            len = read_be(in.substr(2), 2);
            header = 4;
            if (len < 126) return fail(kProtocolError, "length not minimally encoded");
        } else if (len == 127) {
            if (in.size() < 10) return {};
            len = read_be(in.substr(2), 8);
            header = 10;
            if (len <= 0xFFFF || (len >> 63) != 0)
                return fail(kProtocolError, "length not minimally encoded");
        }
        if (control && (!fin || len > 125))
            return fail(kProtocolError, "fragmented or oversized control frame");  // §5.5
        // Checked before the payload arrives, so an oversized message is never buffered.
        if (!control && (in_message_ ? message_.size() : 0) + len > max_message_)
            return fail(kTooBig, "message too big");
        if (in.size() - header < 4 + len) return {};

        const std::string_view mask = in.substr(header, 4);
        std::string payload(in.substr(header + 4, len));
        for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= mask[i % 4];
        in.remove_prefix(header + 4 + len);

        switch (op) {
            case Opcode::ping:
                return {Event::Kind::ping, std::move(payload), 0};
            case Opcode::pong:
                return {Event::Kind::pong, std::move(payload), 0};
            case Opcode::close: {
                if (payload.empty()) return {Event::Kind::close, {}, kNoStatus};
                if (payload.size() == 1) return fail(kProtocolError, "malformed close frame");
                const auto code = static_cast<std::uint16_t>(read_be(payload, 2));
                if (!valid_close_code(code)) return fail(kProtocolError, "invalid close code");
                payload.erase(0, 2);
                if (!valid_utf8(payload)) return fail(kInvalidPayload, "close reason not UTF-8");
                return {Event::Kind::close, std::move(payload), code};
            }
            case Opcode::continuation:
                if (!in_message_) return fail(kProtocolError, "continuation without a message");
                message_.append(payload);
                break;
            default:  // text, binary
                if (in_message_) return fail(kProtocolError, "new message inside a fragmented one");
                in_message_ = true;
                message_op_ = op;
                message_ = std::move(payload);
                break;
        }
        if (!fin) continue;  // more fragments follow (possibly after control frames)
        in_message_ = false;
        Event ev{message_op_ == Opcode::text ? Event::Kind::text : Event::Kind::binary,
                 std::move(message_), 0};
        message_ = std::string();  // an idle session keeps no message buffer
        if (ev.kind == Event::Kind::text && !valid_utf8(ev.payload))
            return fail(kInvalidPayload, "text message not UTF-8");  // §8.1
        return ev;
    }
}

std::string encode_frame(Opcode op, std::string_view payload) {
    std::string out;
    out.reserve(payload.size() + 10);
    out.push_back(static_cast<char>(0x80 | static_cast<unsigned>(op)));
    const std::uint64_t n = payload.size();
    int len_bytes = 0;
    if (n < 126) {
        out.push_back(static_cast<char>(n));
    } else if (n <= 0xFFFF) {
        out.push_back(static_cast<char>(126));
        len_bytes = 2;
    } else {
        out.push_back(static_cast<char>(127));
        len_bytes = 8;
    }
    for (int i = len_bytes - 1; i >= 0; --i) out.push_back(static_cast<char>(n >> (8 * i)));
    out.append(payload);
    return out;
}

std::string encode_close(std::uint16_t code, std::string_view reason) {
    std::string payload{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
    // Control frames carry at most 125 bytes, and the reason must stay valid UTF-8 (RFC 6455
    // §5.5.1): a cut never falls inside a character (on a continuation byte).
    std::size_t n = std::min<std::size_t>(reason.size(), 123);
    while (n < reason.size() && n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80)
        --n;
    payload.append(reason.substr(0, n));
    return encode_frame(Opcode::close, payload);
}

std::string accept_key(std::string_view client_key) {
    static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    std::string input(client_key);
    input.append(kGuid);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned len = 0;
    EVP_Digest(input.data(), input.size(), digest.data(), &len, EVP_sha1(), nullptr);
    return base64(digest.data(), len);
}

std::optional<std::string> accept_response(const BeastRequest& req, std::string_view subprotocol) {
    namespace http = boost::beast::http;
    const auto key = req[http::field::sec_websocket_key];
    if (!boost::beast::websocket::is_upgrade(req) ||
        req[http::field::sec_websocket_version] != "13" || !valid_key(key))
        return std::nullopt;
    std::string out =
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Server: ";
    out.append(net::kServerName);
    out.append("\r\nSec-WebSocket-Accept: ");
    out.append(accept_key(key));
    out.append("\r\n");
    if (!subprotocol.empty()) {
        out.append("Sec-WebSocket-Protocol: ");
        out.append(subprotocol);
        out.append("\r\n");
    }
    out.append("\r\n");
    return out;
}

}  // namespace pushsvc::http1::ws
