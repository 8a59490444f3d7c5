// The HTTP/1.1 request path as http1::Session runs it, without a socket: Beast's request
// parser with pushsvc's limits (max_header_bytes, max_body_bytes), several keep-alive requests
// per connection, then what the session does with a parsed request: the WebSocket opening
// handshake check (ws::accept_response) when it is an upgrade, else the translation to
// http::Request and of a response back. Byte 0 picks the slice size reads arrive in.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <optional>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/config/config.h"
#include "pushsvc/http1/convert.h"
#include "pushsvc/http1/ws_frame.h"

// Boost assertions (BOOST_ENABLE_ASSERT_HANDLER is set for this harness, fuzz/CMakeLists.txt)
// abort as usual, except one: Boost 1.81's basic_parser::parse_chunk_header asserts n >= 5 on
// re-entry, which a chunked body split as "0\r\n" + "\r" + ... reaches; the code after it is
// right (it asks for more), and Beast corrected the assertion (boostorg/beast#2861, Boost 1.86).
// Release builds (NDEBUG) do not evaluate it.
namespace boost {
void assertion_failed(const char* expr, const char* function, const char* file, long line) {
    if (std::string_view(expr) == "n >= 5" && std::string_view(file).ends_with("basic_parser.ipp"))
        return;
    std::fprintf(stderr, "%s:%ld: %s: Boost assertion failed: %s\n", file, line, function, expr);
    std::abort();
}
void assertion_failed_msg(const char* expr, const char* msg, const char* function, const char* file,
                          long line) {
    std::fprintf(stderr, "%s:%ld: %s: Boost assertion failed: %s (%s)\n", file, line, function,
                 expr, msg);
    std::abort();
}
}  // namespace boost

namespace {

using namespace pushsvc;
namespace bhttp = boost::beast::http;

const config::LimitsConfig kLimits{};  // the defaults the server runs with

void handle(http1::BeastRequest&& req) {
    FUZZ_CHECK(req.body().size() <= kLimits.max_body_bytes);
    const bool head = req.method() == bhttp::verb::head;
    const unsigned version = req.version();
    const bool keep_alive = req.keep_alive();
    if (boost::beast::websocket::is_upgrade(req)) {
        if (auto answer = http1::ws::accept_response(req, "push-notification")) {
            FUZZ_CHECK(answer->starts_with("HTTP/1.1 101 "));
            FUZZ_CHECK(answer->ends_with("\r\n\r\n"));
        }
    }
    http::Request r = http1::to_request(std::move(req));
    for (const auto& f : r.headers.all()) {
        for (char c : f.name) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));  // lower-cased names
    }
    http::Response res;
    res.status = 200;
    res.body = r.body;
    res.headers.add("connection", "upgrade");  // hop-by-hop: to_beast must drop it
    auto out = http1::to_beast(std::move(res), version, keep_alive, head);
    FUZZ_CHECK(out.find(bhttp::field::upgrade) == out.end());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t slice = data[0] < 128 ? std::size_t{data[0]} % 64 + 1 : size;
    const std::string_view input = pushsvc::fuzz::as_text(data + 1, size - 1);

    // The session's read buffer: bytes arrive in slices; the parser takes what it can.
    std::string buffer;
    std::size_t fed = 0;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser;
    for (int requests = 0; requests < 32;) {
        if (!parser) {
            parser.emplace();
            parser->header_limit(kLimits.max_header_bytes);
            parser->body_limit(std::uint64_t{kLimits.max_body_bytes});
        }
        boost::beast::error_code ec;
        std::size_t used = 0;
        if (!buffer.empty()) used = parser->put(boost::asio::buffer(buffer), ec);
        buffer.erase(0, used);
        if (ec == bhttp::error::need_more || (!ec && !parser->is_done())) {
            if (fed == input.size()) {
                // The peer closed. put_eof() requires a started message (a Beast
                // precondition); the session likewise just closes an idle connection.
                if (!parser->got_some()) break;
                parser->put_eof(ec);  // a request cut short is an error
                if (!ec && parser->is_done()) handle(parser->release());
                break;
            }
            const std::size_t len = std::min(slice, input.size() - fed);
            buffer.append(input.substr(fed, len));
            fed += len;
            continue;
        }
        if (ec) break;  // the session answers 400/413/431 and closes
        ++requests;
        const bool keep_alive = parser->get().keep_alive();
        handle(parser->release());
        parser.reset();
        if (!keep_alive) break;
    }
    return 0;
}
