#pragma once
// TlsStream: TLS (OpenSSL) over a beast::tcp_stream, for every TLS connection: the handshake,
// HTTP/1.1, HTTP/2 and the WebSocket push channel.
//
// Why not asio::ssl::stream: it keeps four fixed 17 KiB buffers per connection (two of its own
// and the two of a BIO pair), about 70 KB of RSS for an idle wss:// user agent against 3 KB
// for ws:// (tools/bench, BENCHMARKS.md). Here ciphertext sits only in strings that exist
// while bytes are in flight, OpenSSL releases its record buffers between records
// (SSL_MODE_RELEASE_BUFFERS), and a reader may wait for readiness with no buffer at all
// (async_wait_readable() + read_some(), as the WebSocket session does).
//
// Model: OpenSSL reads ciphertext from State::in and appends what it writes to State::out
// through a BIO of our own that never blocks; the operations below move bytes between those
// strings and the socket. As with any asio stream, one read and one write may be outstanding
// at once, and all of them run on the stream's executor (each connection's strand). The state
// is shared with the operations in flight, so OpenSSL's own output (handshake, session tickets,
// alerts) is sent even when the owner goes away first.
//
// Timeouts: socket reads and writes go through the tcp_stream, so its expires_after() (via
// beast::get_lowest_layer) applies as it did to asio's stream.

#include <openssl/ssl.h>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace pushsvc::net {
namespace tls_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

// A single write hands OpenSSL at most this much; the caller's write loop sends the rest.
inline constexpr std::size_t kMaxWrite = 64 * 1024;
// Unsent output at which a read fails: one write's worth (the one write that may be waiting
// for its bytes to go out) plus 64 KiB that OpenSSL produced on its own while reading.
inline constexpr std::uint64_t kMaxUnsent = kMaxWrite + 64 * 1024;

// What one OpenSSL call came to.
struct Step {
    enum Kind { done, want_read, failed } kind = done;
    std::size_t n = 0;
    beast::error_code ec;
};

// A move-only callback (a suspended write or shutdown waiting for its bytes to be sent).
struct Waiter {
    virtual ~Waiter() = default;
    virtual void run() = 0;
};
template <class F>
struct WaiterImpl final : Waiter {
    explicit WaiterImpl(F&& f) : f(std::move(f)) {}
    void run() override { f(); }
    F f;
};

struct State : std::enable_shared_from_this<State> {
    State(beast::tcp_stream&& next, SSL_CTX* ctx);
    ~State();
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    // OpenSSL steps; each one starts sending whatever OpenSSL wrote.
    Step handshake();
    Step read(void* data, std::size_t size);
    Step write(const void* data, std::size_t size);
    Step shutdown();

    // Room at the end of `in` for one socket read of about `hint` bytes; commit_read() keeps
    // the `n` that arrived.
    asio::mutable_buffer prepare_read(std::size_t hint);
    void commit_read(std::size_t n);

    // Sends `out` unless a send is in flight (whose completion sends what accumulated).
    void start_flush();
    // OpenSSL can return plaintext without more socket input: a record it has decrypted but
    // not handed out, or a complete record waiting in `in`.
    bool readable() const;
    // Runs `w` once everything appended so far is sent, or sending failed; only while a send
    // is in flight (see Flushed in the .cc).
    void when_sent(std::unique_ptr<Waiter> w);
    bool all_sent() const { return sent == appended; }
    std::uint64_t unsent() const { return appended - sent; }
    // A socket read's error as the stream reports it: EOF before the peer's close_notify is a
    // truncation (as asio::ssl::stream reports it), after it a plain eof.
    beast::error_code socket_error(beast::error_code ec) const;

    beast::tcp_stream next;
    SSL* ssl = nullptr;
    std::string in;           // ciphertext received; OpenSSL has taken in[0, in_pos)
    std::size_t in_pos = 0;   //
    std::size_t in_read = 0;  // bytes of `in` reserved for a socket read in flight
    std::string out;          // ciphertext OpenSSL wrote, not yet handed to the socket
    std::string sending;      // ciphertext the socket is writing
    bool flushing = false;
    beast::error_code write_error;  // the first send failure; every later write fails with it
    std::uint64_t appended = 0;     // octets ever appended to `out`
    std::uint64_t sent = 0;         // octets ever sent
    std::uint64_t waiter_target = 0;
    std::unique_ptr<Waiter> waiter;

  private:
    Step finish(int ret, std::size_t n);
};

template <class F>
std::unique_ptr<Waiter> make_waiter(F&& f) {
    return std::make_unique<WaiterImpl<std::decay_t<F>>>(std::forward<F>(f));
}

// First non-empty buffer of a sequence (asio streams may transfer less than asked).
template <class Buffers>
auto first_buffer(const Buffers& buffers) {
    auto it = asio::buffer_sequence_begin(buffers);
    const auto end = asio::buffer_sequence_end(buffers);
    using Buffer = std::decay_t<decltype(*it)>;
    for (; it != end; ++it)
        if (Buffer(*it).size() > 0) return Buffer(*it);
    return Buffer();
}

// A sequence's first kMaxGather octets as one buffer: the first non-empty buffer itself when
// it is the only one (or already that long), else a copy in a per-thread buffer.
inline constexpr std::size_t kMaxGather = 16 * 1024;
template <class Buffers>
asio::const_buffer gather(const Buffers& buffers) {
    const asio::const_buffer first = first_buffer(buffers);
    if (first.size() >= kMaxGather || asio::buffer_size(buffers) == first.size()) return first;
    thread_local std::string scratch;
    scratch.clear();
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
        const asio::const_buffer b(*it);
        const std::size_t n = std::min(b.size(), kMaxGather - scratch.size());
        scratch.append(static_cast<const char*>(b.data()), n);
        if (scratch.size() == kMaxGather) break;
    }
    return asio::buffer(scratch);
}

// Completes with (ec, n) for reads and writes, (ec) for the handshake and shutdown.
template <bool WithSize, class Self>
void complete(Self& self, const Step& r) {
    if constexpr (WithSize) {
        self.complete(r.ec, r.n);
    } else {
        self.complete(r.ec);
    }
}

// Read, handshake: run `step` until it needs no more input, reading the socket in between.
template <bool WithSize, class StepFn>
struct InputOp {
    std::shared_ptr<State> s;
    StepFn step;
    std::size_t hint;
    enum { starting, reading, posted } phase = starting;
    Step result{};

    template <class Self>
    void operator()(Self& self, beast::error_code ec = {}, std::size_t n = 0) {
        if (phase == posted) return complete<WithSize>(self, result);
        if (phase == reading) {
            s->commit_read(ec ? 0 : n);
            if (ec) return complete<WithSize>(self, {Step::failed, 0, s->socket_error(ec)});
        }
        result = step(*s);
        if (result.kind == Step::want_read && s->unsent() > kMaxUnsent) {
            // OpenSSL answers some records itself (KeyUpdate, alerts); a peer that sends them
            // without reading ours would grow `out` without bound.
            result = {Step::failed, 0, asio::error::no_buffer_space};
        }
        if (result.kind == Step::want_read) {
            phase = reading;
            return s->next.async_read_some(s->prepare_read(hint), std::move(self));
        }
        if (phase == starting) {  // never complete inside the initiating call
            phase = posted;
            return asio::post(s->next.get_executor(), std::move(self));
        }
        complete<WithSize>(self, result);
    }
};

// Write, shutdown: run `step` once, then wait until its output is on the wire.
template <bool WithSize, class StepFn>
struct OutputOp {
    std::shared_ptr<State> s;
    StepFn step;
    enum { starting, waiting, posted } phase = starting;
    Step result{};

    template <class Self>
    void operator()(Self& self) {
        if (phase == waiting && s->write_error) result = {Step::failed, 0, s->write_error};
        if (phase != starting) return complete<WithSize>(self, result);
        // After a failed send nothing more goes out: every later write or shutdown fails alike.
        result = s->write_error ? Step{Step::failed, 0, s->write_error} : step(*s);
        // SSL_write wants input only to renegotiate, which the context disables; completing
        // with 0 bytes would make a write loop spin.
        if (result.kind == Step::want_read)
            result = {Step::failed, 0, asio::error::operation_not_supported};
        if (result.kind == Step::done && !s->all_sent()) {  // all sent, too, after a failure
            phase = waiting;
            // `self` is moved into the waiter: this op's members are gone after this line.
            auto state = s;
            state->when_sent(make_waiter([state, self = std::move(self)]() mutable {
                auto ex = asio::get_associated_executor(self, state->next.get_executor());
                asio::dispatch(ex, std::move(self));
            }));
            return;
        }
        phase = posted;
        asio::post(s->next.get_executor(), std::move(self));
    }
};

}  // namespace tls_detail

class TlsStream {
  public:
    using executor_type = boost::beast::tcp_stream::executor_type;
    using next_layer_type = boost::beast::tcp_stream;

    TlsStream(boost::beast::tcp_stream&& next, boost::asio::ssl::context& ctx)
        : s_(std::make_shared<tls_detail::State>(std::move(next), ctx.native_handle())) {}

    executor_type get_executor() { return s_->next.get_executor(); }
    next_layer_type& next_layer() { return s_->next; }
    SSL* native_handle() { return s_->ssl; }

    // Server side only (pushsvc accepts TLS; it never dials out).
    template <class Handler>
    auto async_handshake(boost::asio::ssl::stream_base::handshake_type type, Handler&& handler) {
        assert(type == boost::asio::ssl::stream_base::server);
        (void)type;
        auto step = [](tls_detail::State& s) { return s.handshake(); };
        return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
            tls_detail::InputOp<false, decltype(step)>{s_, step, 4096}, handler, s_->next);
    }

    template <class MutableBuffers, class Handler>
    auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
        const auto b = tls_detail::first_buffer(buffers);
        auto step = [b](tls_detail::State& s) { return s.read(b.data(), b.size()); };
        return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
            tls_detail::InputOp<true, decltype(step)>{s_, step, b.size()}, handler, s_->next);
    }

    // Several buffers (an HTTP/1.1 header's fields, queued WebSocket frames) go out as one
    // record where they fit: gathered into a per-thread buffer first.
    template <class ConstBuffers, class Handler>
    auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
        auto step = [buffers](tls_detail::State& s) {
            const auto b = tls_detail::gather(buffers);
            return s.write(b.data(), b.size());
        };
        return boost::asio::async_compose<Handler, void(boost::beast::error_code, std::size_t)>(
            tls_detail::OutputOp<true, decltype(step)>{s_, step}, handler, s_->next);
    }

    // Sends our close_notify and completes once it is written; does not wait for the peer's.
    template <class Handler>
    auto async_shutdown(Handler&& handler) {
        auto step = [](tls_detail::State& s) { return s.shutdown(); };
        return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(
            tls_detail::OutputOp<false, decltype(step)>{s_, step}, handler, s_->next);
    }

    // Readiness style, for a reader that keeps no buffer while it waits: wait until there is
    // something to read (bytes on the socket, or records already received), then read_some()
    // (would_block: wait again). Needs the socket in non-blocking mode.
    template <class Handler>
    void async_wait_readable(Handler handler) {
        if (s_->readable()) {
            boost::asio::post(get_executor(), [h = std::move(handler)]() mutable {
                h(boost::beast::error_code());
            });
            return;
        }
        s_->next.socket().async_wait(boost::asio::socket_base::wait_read, std::move(handler));
    }
    std::size_t read_some(boost::asio::mutable_buffer b, boost::beast::error_code& ec);

  private:
    std::shared_ptr<tls_detail::State> s_;
};

}  // namespace pushsvc::net
