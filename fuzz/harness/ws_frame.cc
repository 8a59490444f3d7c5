// The WebSocket frame decoder (http1::ws::FrameReader) as the session drives it: bytes arrive
// in slices (byte 0 picks the size), the reader is asked for events until it needs more, what
// it consumed is dropped from the buffer. Invariants: consumption never exceeds the buffer,
// messages respect the size limit and text is valid UTF-8 (RFC 6455 §8.1), close codes are
// ones a peer may send, and every data message the server could echo round-trips through
// encode_frame (masked as a client would) back to the same event.
#include <algorithm>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/http1/ws_frame.h"

namespace {

using namespace pushsvc::http1::ws;
using Kind = Event::Kind;

constexpr std::size_t kMax = 1024;  // the session uses 16 KiB; smaller reaches the limit sooner

// Strict UTF-8 (no overlongs, surrogates or values past U+10FFFF), written independently of the
// decoder's own check.
bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n;
        std::uint32_t cp;
        if (c < 0x80) {
            ++i;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else
            return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

// A server frame (unmasked) turned into the client frame carrying the same payload: mask bit
// set and an all-zero masking key, which leaves the payload bytes as they are.
std::string as_client_frame(const std::string& server_frame) {
    std::size_t header = 2;
    const auto len7 = static_cast<unsigned char>(server_frame[1]) & 0x7F;
    if (len7 == 126) header = 4;
    if (len7 == 127) header = 10;
    std::string f = server_frame.substr(0, header);
    f[1] = static_cast<char>(static_cast<unsigned char>(f[1]) | 0x80);
    f.append(4, '\0');
    f.append(server_frame, header);
    return f;
}

void check(const Event& ev) {
    switch (ev.kind) {
        case Kind::text:
            FUZZ_CHECK(valid_utf8(ev.payload));
            [[fallthrough]];
        case Kind::binary: {
            FUZZ_CHECK(ev.payload.size() <= kMax);
            const auto op = ev.kind == Kind::text ? Opcode::text : Opcode::binary;
            const std::string frame = as_client_frame(encode_frame(op, ev.payload));
            std::string_view in = frame;
            FrameReader again(kMax);
            const Event back = again.next(in);
            FUZZ_CHECK(back.kind == ev.kind && back.payload == ev.payload && in.empty());
            break;
        }
        case Kind::ping:
        case Kind::pong:
            FUZZ_CHECK(ev.payload.size() <= 125);  // control frames (§5.5)
            break;
        case Kind::close:
            FUZZ_CHECK(ev.code == kNoStatus || (ev.code >= 1000 && ev.code < 5000));
            FUZZ_CHECK(ev.code != 1005 || ev.payload.empty());
            FUZZ_CHECK(valid_utf8(ev.payload));
            break;
        case Kind::error:
            FUZZ_CHECK(ev.code >= 1000 && ev.code < 1012);
            FUZZ_CHECK(encode_close(ev.code, ev.payload).size() <= 2 + 125);
            break;
        case Kind::need_more:
            break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t slice = data[0] < 128 ? std::size_t{data[0]} % 16 + 1 : size;
    const std::string_view input = pushsvc::fuzz::as_text(data + 1, size - 1);

    FrameReader reader(kMax);
    std::string buffer;
    bool done = false;
    for (std::size_t fed = 0; !done && fed < input.size();) {
        const std::size_t len = std::min(slice, input.size() - fed);
        buffer.append(input.substr(fed, len));
        fed += len;
        // Each event consumes at least one byte (need_more ends the round), so this is bounded
        // by the buffer's size.
        for (std::size_t round = 0; round <= buffer.size() + 1; ++round) {
            std::string_view in = buffer;
            const Event ev = reader.next(in);
            FUZZ_CHECK(in.size() <= buffer.size());
            buffer.erase(0, buffer.size() - in.size());
            check(ev);
            if (ev.kind == Kind::need_more) break;
            if (ev.kind == Kind::error || ev.kind == Kind::close) {
                done = true;  // the session closes
                break;
            }
        }
    }
    // The handshake helper sees outside bytes too (Sec-WebSocket-Key).
    FUZZ_CHECK(accept_key(input).size() == 28);
    return 0;
}
