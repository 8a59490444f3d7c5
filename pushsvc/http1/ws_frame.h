#pragma once
// RFC 6455 for the server end of the push channel, without I/O: the opening handshake's
// answer (§4.2) and the framing (§5). The session (ws_session_impl.h) owns the socket; this
// owns the rules, so they are unit-tested byte by byte.
//
// Why not Beast's websocket::stream: an idle Firefox holds its connection for hours, and a
// Beast stream keeps a 1.5 KiB read buffer, a parked composed read operation (~2 KiB with its
// handler chain) and a dynamic buffer prepared for the next frame on every connection. Here
// an idle session waits for readability with nothing allocated for the read (BENCHMARKS.md).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pushsvc/http1/convert.h"

namespace pushsvc::http1::ws {

enum class Opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

// Close codes (RFC 6455 §7.4.1) the server sends or interprets.
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicy = 1008;
inline constexpr std::uint16_t kTooBig = 1009;

struct Event {
    enum class Kind {
        need_more,  // no complete event in the input yet
        text,       // a complete text message (UTF-8 checked), in `payload`
        binary,     // a complete binary message
        ping,
        pong,
        close,  // the peer's close: `code` (kNoStatus if it gave none), reason in `payload`
        error,  // the peer broke the protocol: close with `code`, reason in `payload`
    };
    Kind kind = Kind::need_more;
    std::string payload;
    std::uint16_t code = 0;
};

// Parses what a client sends (every frame masked, §5.3): data messages, possibly fragmented,
// with control frames interleaved. Stateful across calls (a fragmented message in progress).
class FrameReader {
  public:
    explicit FrameReader(std::size_t max_message_bytes) : max_message_(max_message_bytes) {}

    // Returns the next event at the front of `in` and advances `in` past the bytes it used.
    // need_more consumes nothing it cannot keep: call again with the same bytes plus more.
    // After an error event the connection is done; further calls are meaningless.
    Event next(std::string_view& in);

    // Bytes of a fragmented message held so far (net/buffer_budget.h accounting).
    std::size_t buffered() const noexcept { return message_.capacity(); }

  private:
    std::size_t max_message_;
    std::string message_;  // data of a fragmented message so far
    bool in_message_ = false;
    Opcode message_op_ = Opcode::text;
};

// One unfragmented server frame (FIN set, unmasked, §5.1).
std::string encode_frame(Opcode op, std::string_view payload);
// A close frame with `code` and as much of `reason` as fits a control frame.
std::string encode_close(std::uint16_t code, std::string_view reason);

// The `101 Switching Protocols` response to a valid opening handshake (RFC 6455 §4.2.1-2),
// selecting `subprotocol` when non-empty; nullopt if `req` is not a valid version-13 handshake.
std::optional<std::string> accept_response(const BeastRequest& req, std::string_view subprotocol);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (§4.2.2 step 5.4).
std::string accept_key(std::string_view client_key);

}  // namespace pushsvc::http1::ws
