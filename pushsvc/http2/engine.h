#pragma once
// http2::Engine: the HTTP/2 server protocol state of one connection, without I/O. Owns the
// nghttp2_session and the stream map; bytes go in through recv(), frames come out through
// send(), complete requests are collected and handed out by take_ready(). The I/O side
// (http2/connection.cc) calls it on the connection's strand only; nothing here is thread-safe.
//
// Life of a stream (see http2/README.md): created in on_begin_headers, request fields checked
// against max_header_bytes as they arrive (RFC 9113 §6.5.2 size: name + value + 32), body
// collected up to max_body_bytes, handed out on END_STREAM (a stream reset before that, or
// before take_ready() handed it out, never reaches the handler), answered by
// submit_response(), erased in on_stream_close.
//
// Errors produced here use http::error_response: 431 when the header list is too large, 413
// when the body is (Content-Length up front or while streaming). Protocol errors are answered
// by nghttp2 itself with RST_STREAM or GOAWAY (RFC 9113 §5.4); floods end the connection with
// GOAWAY(ENHANCE_YOUR_CALM).
//
// Server push (RFC 9113 §8.4, RFC 8030 §6): submit_push() promises a synthesized GET on an
// open request stream (a monitoring GET) and submits the pushed response on the promised
// stream. Monitored streams are reported by take_closed() once they end, so the connection
// can tell the application to stop pushing. Every accepted push has exactly one outcome in
// take_push_results(): sent once nghttp2 has serialized the promised stream's final frame
// (END_STREAM, on_frame_send), failed when the PUSH_PROMISE or the response could not be sent
// (on_frame_not_send) or the promised stream closed before its final frame (reset, session
// over). The application deletes a pushed receipt only on `sent` (RFC 8030 §6.3).

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pushsvc/base/result.h"
#include "pushsvc/http/message.h"
#include "pushsvc/http2/flood_guard.h"
#include "pushsvc/net/session_context.h"

namespace pushsvc::http2 {

using Clock = std::chrono::steady_clock;

// One request/response exchange. Owned by Engine::streams_.
struct Stream {
    std::int32_t id = 0;
    http::Request request;
    std::size_t header_bytes = 0;
    bool is_head = false;
    bool rejected = false;          // an error response or reset was submitted; input ignored
    bool request_complete = false;  // END_STREAM received
    bool responded = false;         // response HEADERS submitted
    bool monitored = false;         // the application may push on it (RFC 8030 §6)
    bool push_pending = false;      // a promised stream whose final frame is not sent yet
    std::string authority;          // for promised requests
    Clock::time_point started{};
    // When the response was submitted or last had body bytes taken by nghttp2: a response
    // whose body waits longer than write_stall_timeout_ms is stalled on the peer's
    // flow-control window (see Engine::reset_write_stalled).
    Clock::time_point progress{};
    // Response body source for the data provider.
    std::string out_body;
    std::size_t out_offset = 0;
};

// Flood limits (per connection). Control frames: PING, SETTINGS, PRIORITY, empty DATA frames
// without END_STREAM, and WINDOW_UPDATE beyond those earned by DATA we sent.
inline constexpr std::uint32_t kMaxControlFramesPerSecond = 500;
// WINDOW_UPDATE frames a client may send per DATA frame it received without them counting
// as control frames: one for the connection and one for the stream.
inline constexpr std::uint32_t kWindowUpdatesPerDataFrame = 2;
// Cap on that earned credit, so a long-lived connection cannot save it up for a flood.
inline constexpr std::uint32_t kMaxWindowUpdateCredit = 2 * kMaxControlFramesPerSecond;
// RST_STREAM from the peer (rapid reset, CVE-2023-44487): token bucket in nghttp2.
inline constexpr std::uint64_t kStreamResetBurst = 1000;
inline constexpr std::uint64_t kStreamResetRate = 33;

class Engine {
  public:
    struct Ready {
        std::int32_t stream_id;
        http::Request request;
    };
    // The outcome of one accepted push, by promised stream id (see the header comment).
    struct PushResult {
        std::int32_t promised_id;
        bool sent;
    };

    explicit Engine(const net::SessionContext& ctx);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Creates the server session and queues our SETTINGS (MAX_CONCURRENT_STREAMS from config,
    // ENABLE_PUSH 0, MAX_HEADER_LIST_SIZE = max_header_bytes). Fails only on allocation.
    result<void> start();

    // Feeds bytes read from the peer. false: the session is over (bad client magic, a frame
    // nghttp2 treats as fatal, a flood); a GOAWAY may be queued for send().
    bool recv(const std::uint8_t* data, std::size_t len);

    // Requests that completed during recv(), in order; the caller invokes the handler.
    std::vector<Ready> take_ready();

    // Appends serialized frames to `out` until nothing is pending or out.size() >= limit.
    // false on a fatal session error.
    bool send(std::string& out, std::size_t limit);

    // Submits the response for a stream; false when the stream is gone (reset or closed) or
    // already answered: the response is dropped.
    bool submit_response(std::int32_t stream_id, http::Response&& res);

    // Marks a ready request stream as one the application may push on (a monitoring GET).
    void mark_monitored(std::int32_t stream_id);
    // PUSH_PROMISE of `GET path` on the open stream `stream_id`, then `res` on the promised
    // stream (RFC 9113 §8.4). Returns the promised stream id, whose outcome comes later from
    // take_push_results(); 0 when refused at once (the stream is gone or answered, the peer
    // disabled push, no stream ids left): the push is dropped (the message stays stored).
    std::int32_t submit_push(std::int32_t stream_id, const std::string& path, http::Response&& res);
    // Monitored streams that ended since the last call.
    std::vector<std::int32_t> take_closed() { return std::exchange(closed_monitored_, {}); }
    // Outcomes of accepted pushes since the last call, in the order they were decided.
    std::vector<PushResult> take_push_results() { return std::exchange(push_results_, {}); }
    // Queues a PING (RFC 9113 §6.7) to learn whether the peer is still there; its ACK, like
    // any frame, arrives through recv(). False on allocation failure.
    bool submit_ping();
    // RST_STREAM(INTERNAL_ERROR) for a stream the application failed on.
    void reset_stream(std::int32_t stream_id);

    // Graceful shutdown: GOAWAY(NO_ERROR) with the last processed stream id (RFC 9113 §6.8);
    // open streams may finish.
    void shutdown();
    // GOAWAY with `error_code`; the session ends as soon as it is sent.
    void terminate(std::uint32_t error_code);

    // Both false: the connection should be closed (after the output is written).
    bool want_read() const;
    bool want_write() const;

    std::size_t open_streams() const noexcept { return streams_.size(); }
    bool peer_enables_push() const;

    // Start of the oldest request whose END_STREAM has not arrived.
    std::optional<Clock::time_point> oldest_incomplete() const;
    // RST_STREAM(CANCEL) for requests incomplete since before `cutoff` (read_timeout_ms).
    std::size_t reset_stalled(Clock::time_point cutoff);

    // Oldest progress of a response whose body is not all sent (a peer window at 0 keeps it
    // there: nghttp2 takes no body bytes until WINDOW_UPDATE).
    std::optional<Clock::time_point> oldest_write_progress() const;
    // RST_STREAM(CANCEL) for responses without progress since before `cutoff`
    // (write_stall_timeout_ms); their buffered bodies are freed when the streams close.
    // `none_moving` is set when no response body bytes at all went out on the connection
    // since `cutoff`: the peer is holding the whole connection, not one stream.
    std::size_t reset_write_stalled(Clock::time_point cutoff, bool& none_moving);
    // Whether the peer has opened any stream yet (the first-request deadline).
    bool stream_seen() const;
    // Bytes the peer makes this connection hold now: request header blocks and bodies, and
    // response bodies not yet released (net/buffer_budget.h). O(open streams).
    std::size_t held_bytes() const noexcept;

    std::uint64_t id() const noexcept { return ctx_.id; }

    // -- Called only from the nghttp2 callbacks (http2/callbacks.cc); all noexcept. --
    int on_begin_headers(const nghttp2_frame* frame) noexcept;
    int on_header(const nghttp2_frame* frame, const std::uint8_t* name, std::size_t namelen,
                  const std::uint8_t* value, std::size_t valuelen) noexcept;
    int on_frame_recv(const nghttp2_frame* frame) noexcept;
    int on_frame_send(const nghttp2_frame* frame) noexcept;
    int on_frame_not_send(const nghttp2_frame* frame, int error_code) noexcept;
    int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t len) noexcept;
    int on_stream_close(std::int32_t stream_id, std::uint32_t error_code) noexcept;
    ssize_t read_body(std::int32_t stream_id, std::uint8_t* buf, std::size_t len,
                      std::uint32_t* data_flags) noexcept;

  private:
    Stream* find(std::int32_t stream_id) noexcept;
    void complete(Stream& s) noexcept;
    void reject(Stream& s, errc e) noexcept;
    bool submit(Stream& s, http::Response&& res) noexcept;
    bool flood(Clock::time_point now) noexcept;
    void push_outcome(Stream& s, bool sent) noexcept;

    net::SessionContext ctx_;
    nghttp2_session* session_ = nullptr;
    std::map<std::int32_t, std::unique_ptr<Stream>> streams_;
    std::vector<Ready> ready_;
    std::vector<std::int32_t> closed_monitored_;
    std::vector<PushResult> push_results_;
    FloodGuard control_frames_{kMaxControlFramesPerSecond, std::chrono::seconds(1)};
    bool flooded_ = false;
    std::uint32_t window_update_credit_ = 0;  // earned by DATA frames sent; see on_frame_recv
    // Last time nghttp2 took response body bytes on any stream (reset_write_stalled).
    Clock::time_point body_progress_ = Clock::now();
};

}  // namespace pushsvc::http2
