// HTTP/2 server connection fed raw bytes: the real http2::Engine (nghttp2 session with
// pushsvc's callbacks, limits and flood guards) without a socket. The input follows the
// client connection preface, which the harness supplies so that coverage goes to frames.
// Byte 0 picks the slice size the bytes arrive in (reads split anywhere); every complete
// request gets a response, every other one on a monitored stream also a server push, as the
// application would do for a monitoring GET (RFC 8030 §6).
#include <algorithm>
#include <chrono>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/http2/engine.h"

namespace {

using namespace pushsvc;

const net::SessionContext& context() {
    static const net::SessionContext ctx = [] {
        net::SessionContext c;
        c.limits.max_header_bytes = 1024;  // small, so limits are reached by short inputs
        c.limits.max_body_bytes = 256;
        c.limits.max_concurrent_streams = 8;
        return c;
    }();
    return ctx;
}

// Drains the engine's output; bounded because send() appends at most `limit` per call.
bool drain(http2::Engine& e) {
    std::string out;
    for (int i = 0; i < 64; ++i) {
        out.clear();
        if (!e.send(out, 16 * 1024)) return false;
        if (out.empty()) break;
    }
    return true;
}

void serve(http2::Engine& e, unsigned& n) {
    for (auto& r : e.take_ready()) {
        FUZZ_CHECK(r.request.body.size() <= context().limits.max_body_bytes);
        FUZZ_CHECK(r.stream_id > 0 && r.stream_id % 2 == 1);  // client-initiated
        http::Response res;
        res.status = 200;
        res.body = "ok";
        if (++n % 2 == 0) {
            e.mark_monitored(r.stream_id);
            http::Response pushed;
            pushed.body = "push";
            e.submit_push(r.stream_id, "/m/x", std::move(pushed));
        } else {
            e.submit_response(r.stream_id, std::move(res));
        }
    }
    (void)e.take_closed();
    (void)e.take_push_results();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t slice = data[0] < 128 ? std::size_t{data[0]} % 32 + 1 : size;
    ++data;
    --size;

    http2::Engine e(context());
    FUZZ_CHECK(static_cast<bool>(e.start()));
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    bool alive = e.recv(reinterpret_cast<const std::uint8_t*>(kPreface), sizeof kPreface - 1);
    unsigned served = 0;
    for (std::size_t off = 0; alive && off < size;) {
        const std::size_t len = std::min(slice, size - off);
        alive = e.recv(data + off, len);
        off += len;
        serve(e, served);
        alive = drain(e) && alive;
    }
    // What the connection does at its end: the read timeout, then a graceful GOAWAY.
    e.reset_stalled(http2::Clock::now() + std::chrono::hours(1));
    e.shutdown();
    drain(e);
    return 0;
}
