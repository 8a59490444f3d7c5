#pragma once
// Synchronous-facade HTTP/2 client (RFC 9113) on libnghttp2, over TLS (ALPN "h2") or
// cleartext with prior knowledge (h2c; RFC 9113 §3.3). Its initial SETTINGS enable server
// push (SETTINGS_ENABLE_PUSH = 1, §6.5.2) so it can act as an RFC 8030 §6 user agent: every
// PUSH_PROMISE and its pushed response are collected and handed to the caller.
//
// Many requests can be in flight at once: submit() returns a stream id and I/O happens while
// any wait_*() / poll() call runs. A held-open monitoring GET (RFC 8030 §6) is just a
// submit() whose response never completes; wait_push() then yields the pushed messages.
// Owns its io_context; not thread-safe (one client per thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/client/client_options.h"
#include "tools/client/error.h"
#include "tools/client/http_message.h"

namespace webpush_client {

// One server push (RFC 9113 §8.4): the promised request and the pushed response.
struct PushPromise {
    std::int32_t promised_stream_id = 0;
    std::int32_t associated_stream_id = 0;  // the stream the PUSH_PROMISE arrived on
    Headers request_headers;                // :method, :scheme, :authority, :path, ...
    HttpResponse response;                  // status, headers, body of the pushed response
    std::uint32_t reset_code = 0;           // non-zero if the pushed stream was reset

    std::string method() const { return request_headers.get(":method").value_or(""); }
    std::string path() const { return request_headers.get(":path").value_or(""); }
};

class Http2Client {
  public:
    explicit Http2Client(ClientOptions options = {});
    ~Http2Client();
    Http2Client(const Http2Client&) = delete;
    Http2Client& operator=(const Http2Client&) = delete;

    // Connects to the URL's origin and exchanges the connection preface + SETTINGS.
    Result<void> connect(const std::string& url);
    bool is_open() const;

    // Requests go to the connected origin; request.url supplies :path (and :authority
    // unless a Host header is given). Returns the stream id.
    Result<std::int32_t> submit(const HttpRequest& request);
    // Waits for the complete response of a stream (END_STREAM or reset).
    Result<HttpResponse> wait_response(std::int32_t stream_id,
                                       std::optional<std::chrono::milliseconds> timeout = {});
    // Waits until the response HEADERS arrived; returns the :status.
    Result<int> wait_status(std::int32_t stream_id,
                            std::optional<std::chrono::milliseconds> timeout = {});
    // submit() + wait_response().
    Result<HttpResponse> request(const HttpRequest& request);

    // Next completely received pushed response, in the order the pushes completed.
    Result<PushPromise> wait_push(std::optional<std::chrono::milliseconds> timeout = {});
    std::size_t pending_pushes() const;     // completed, not yet taken
    std::size_t promises_received() const;  // PUSH_PROMISE frames seen so far

    Result<void> ping(std::optional<std::chrono::milliseconds> timeout = {});
    Result<void> cancel(std::int32_t stream_id);  // RST_STREAM(CANCEL)
    bool stream_open(std::int32_t stream_id) const;
    // Runs I/O for the given time (collects pushes, answers PINGs).
    void poll(std::chrono::milliseconds duration);

    // GOAWAY received from the server: its error code.
    std::optional<std::uint32_t> goaway_code() const;
    // Sends GOAWAY(NO_ERROR) and closes the socket.
    void close();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace webpush_client
