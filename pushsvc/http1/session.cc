#include "pushsvc/http1/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>

#include "pushsvc/base/guard.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/http1/convert.h"
#include "pushsvc/net/buffer_budget.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::http1 {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// After a response with `connection: close` the session half-closes and discards what the
// client still sends for a short while, so unread request bytes do not turn the close into a
// TCP reset that could destroy the response in flight (RFC 9112 §9.6, "lingering close").
constexpr auto kLingerTimeout = std::chrono::seconds(1);
constexpr std::size_t kLingerMaxBytes = 1 << 20;
constexpr std::size_t kLingerChunk = 4096;

const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// Chunked request bodies (RFC 9112 §7.1). Beast buffers a chunk-size line, with its
// extensions, and the trailer section whole before parsing them, and neither the header nor
// the body limit covers those bytes; so they get limits of their own, keeping what a peer can
// make a session hold per request within max_header_bytes + max_body_bytes + a few KiB.
// Extensions carry nothing this service uses (RFC 9112 §7.1.1 lets a server ignore them):
// at most kMaxChunkExtensionBytes of them per request.
constexpr std::size_t kMaxChunkExtensionBytes = 1024;
// Unparsed input held while a chunk-size line or the trailer section is incomplete: one line
// of extensions plus the chunk size and CRLFs. Beyond it the request is refused.
constexpr std::size_t kMaxChunkLineBytes = kMaxChunkExtensionBytes + 64;
// Framing bytes (chunk-size lines, extensions, CRLFs) allowed on the wire on top of
// max_body_bytes, so tiny chunks cannot make the body cost many times its size to parse.
// Chunks of 64 bytes and more stay well inside it at the default body limit.
constexpr std::size_t kMaxChunkFramingBytes = 2048;

bool is_framing_error(const beast::error_code& ec) {
    return ec == bhttp::error::bad_transfer_encoding || ec == bhttp::error::bad_content_length ||
           ec == bhttp::error::multiple_content_length;
}

// RFC 9112 §6.1/§6.3 beyond what Beast checks: Beast takes a Transfer-Encoding whose last
// coding is not chunked as "no body" and accepts repeated identical Content-Length values.
// A request body here is either Content-Length (once) or exactly `chunked`: anything else is
// refused, with the connection closed, because a front-end may frame the same bytes
// differently (request smuggling).
bool framing_ok(const BeastRequest::header_type& h) {
    const auto te = h.count(bhttp::field::transfer_encoding);
    const auto cl = h.count(bhttp::field::content_length);
    if (te > 1 || cl > 1 || (te && cl)) return false;
    if (te) {
        std::string_view v = h[bhttp::field::transfer_encoding];
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
        return beast::iequals(v, "chunked");
    }
    if (cl) return h[bhttp::field::content_length].find(',') == beast::string_view::npos;
    return true;
}

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// What every HTTP/1.1 session of one protocol_handler() calls; immutable.
struct Application {
    http::Handler handler;
    UpgradeHandler upgrade;
};

// The shared HTTP/1.1 state machine: do_read/on_read, handle, write_response/on_write, close.
// Every member is touched on the strand only; drain()/close() post there.
template <class Derived>
class Session : public net::Connection {
  public:
    Session(asio::any_io_executor ex, beast::flat_buffer&& initial, net::SessionContext ctx,
            std::shared_ptr<const Application> app)
        : ex_(std::move(ex)),
          ctx_(std::move(ctx)),
          app_(std::move(app)),
          buffer_(std::move(initial)),
          on_chunk_header_([this](std::uint64_t, beast::string_view ext, beast::error_code& ec) {
              chunk_extension_bytes_ += ext.size();
              if (chunk_extension_bytes_ > kMaxChunkExtensionBytes) {
                  chunk_metadata_refused_ = true;
                  ec = bhttp::error::bad_chunk_extension;
              }
          }) {}

    ~Session() override { ctx_.registry->remove(this); }

    void run() {
        ctx_.registry->add(this, derived().weak_from_this());
        asio::dispatch(ex_, guarded([self = derived().shared_from_this()] { self->do_read(); }));
    }

    void drain() override {
        asio::post(ex_, guarded([weak = derived().weak_from_this()] {
                       if (auto s = weak.lock()) s->on_drain();
                   }));
    }

    void close() override {
        asio::post(ex_, guarded([weak = derived().weak_from_this()] {
                       if (auto s = weak.lock()) s->finish();
                   }));
    }

  protected:
    enum class State { reading, handling, writing, closing, closed };

    Derived& derived() { return static_cast<Derived&>(*this); }
    auto& lowest() { return beast::get_lowest_layer(derived().stream()); }

    // The boundary of every handler of this session: an exception escaping one (a bug, a
    // response that cannot be serialised) is logged with the connection id and closes this
    // connection; the network thread and the other connections go on. (The application
    // handler's own exceptions are answered 500 in on_request.)
    template <class F>
    auto guarded(F f) {
        return base::guard(std::move(f), [weak = derived().weak_from_this(),
                                          id = ctx_.id](const std::string& what) {
            net::count_connection_failure();
            SPDLOG_ERROR("c{} http1 handler failed, closing the connection: {}", id, what);
            if (auto self = weak.lock()) asio::post(self->ex_, [self] { self->finish(); });
        });
    }

    void do_read() {
        if (state_ == State::closing || state_ == State::closed) return;
        if (draining_ && buffer_.size() == 0) return start_close();
        state_ = State::reading;
        parser_.emplace();
        parser_->header_limit(ctx_.limits.max_header_bytes);
        parser_->body_limit(std::uint64_t{ctx_.limits.max_body_bytes});
        parser_->on_chunk_header(on_chunk_header_);
        chunk_extension_bytes_ = 0;
        chunk_metadata_refused_ = false;
        header_checked_ = false;
        header_fields_ = 0;
        body_wire_bytes_ = 0;
        // Reads stop once the header limit (plus a line of slack, so the parser's own
        // header_limit error comes first) is buffered unparsed; pipelined input that is
        // already here stays.
        set_buffer_cap(std::size_t{ctx_.limits.max_header_bytes} + kMaxChunkLineBytes);
        continue_sent_ = false;
        started_ = buffer_.size() > 0;
        if (started_) deadline_ = Clock::now() + milliseconds(ctx_.limits.read_timeout_ms);
        read_some();
    }

    void read_some() {
        // Idle until the first byte of a request; then the whole request has read_timeout_ms.
        if (started_) {
            lowest().expires_at(deadline_);
        } else {
            lowest().expires_after(milliseconds(ctx_.limits.idle_timeout_ms));
        }
        bhttp::async_read_some(
            derived().stream(), buffer_, *parser_,
            guarded([self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
                self->on_read(ec, n);
            }));
    }

    // A cap on unparsed input: Beast's read stops with buffer_overflow once it is reached.
    // Never below what is already buffered (a flat_buffer cannot hold more than its cap).
    void set_buffer_cap(std::size_t cap) { buffer_.max_size(std::max(cap, buffer_.size())); }

    void on_read(beast::error_code ec, std::size_t n) {
        if (state_ != State::reading) return;
        if (ec) return on_read_error(ec);
        // What this request makes the session hold now (net/buffer_budget.h): its unparsed
        // input and the body so far. Bounded per connection by the header and body limits,
        // so it counts towards the process's total rather than being shed on its own.
        charge_.set(buffer_.capacity() + parser_->get().body().size());
        if (charge_.should_shed()) {
            obs::catalog().connections_shed.inc();
            return finish();
        }
        if (!started_ && (n > 0 || parser_->got_some())) {
            started_ = true;
            deadline_ = Clock::now() + milliseconds(ctx_.limits.read_timeout_ms);
        }
        if (parser_->is_header_done()) {
            if (!header_checked_) {
                // This read ended with the header (Beast's put stops there), so `n` was
                // header bytes only.
                header_checked_ = true;
                if (!framing_ok(parser_->get().base())) return reply_error(errc::framing_invalid);
                header_fields_ = field_count();
            } else {
                body_wire_bytes_ += n;
            }
            if (parser_->chunked()) {
                if (body_wire_bytes_ >
                    std::size_t{ctx_.limits.max_body_bytes} + kMaxChunkFramingBytes) {
                    return reply_error(errc::payload_too_large);
                }
                // What stays unparsed now is at most one unfinished chunk line or trailer.
                set_buffer_cap(kMaxChunkLineBytes);
            }
            // Beast adds trailer fields to the header; refused rather than let a trailer
            // stand in for a header field the handler reads (RFC 9110 §6.5.1).
            if (parser_->is_done() && field_count() != header_fields_) {
                return reply_error(errc::chunk_metadata);
            }
        }
        if (parser_->is_header_done() && !parser_->is_done() && !continue_sent_ &&
            beast::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
            continue_sent_ = true;
            return write_continue();
        }
        if (!parser_->is_done()) return read_some();
        on_request();
    }

    std::size_t field_count() {
        const auto& h = parser_->get().base();
        return static_cast<std::size_t>(std::distance(h.begin(), h.end()));
    }

    void on_read_error(beast::error_code ec) {
        if (ec == bhttp::error::header_limit) return reply_error(errc::header_too_large);
        if (ec == bhttp::error::buffer_overflow) {
            // The unparsed input reached its cap: an endless header, or after the header an
            // endless chunk-size line (extensions) or trailer section.
            return reply_error(parser_->is_header_done() ? errc::chunk_metadata
                                                         : errc::header_too_large);
        }
        if (chunk_metadata_refused_) return reply_error(errc::chunk_metadata);
        if (is_framing_error(ec)) return reply_error(errc::framing_invalid);
        if (ec == bhttp::error::body_limit) return reply_error(errc::payload_too_large);
        if (ec == beast::error::timeout) {
            // The stream closed itself. An idle keep-alive connection ending is normal; a
            // request that did not finish in time is counted.
            if (started_) obs::catalog().http1_read_timeouts.inc();
            return finish();
        }
        if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) {
            // Truncated requests never reach the handler (R8188-4.2-a).
            if (started_) obs::catalog().http1_truncated_requests.inc();
            return finish();
        }
        if (is_parse_error(ec)) {
            SPDLOG_DEBUG("c{} http1 malformed request: {}", ctx_.id, ec.message());
            return reply_error(errc::bad_request);
        }
        finish();
    }

    void write_continue() {
        lowest().expires_at(deadline_);
        asio::async_write(
            derived().stream(), asio::buffer(kContinue),
            guarded([self = derived().shared_from_this()](beast::error_code ec, std::size_t) {
                if (self->state_ != State::reading) return;
                if (ec) return self->finish();
                self->read_some();
            }));
    }

    void on_request() {
        BeastRequest req = parser_->release();
        parser_.reset();
        if (beast::websocket::is_upgrade(req) && derived().try_upgrade(req)) {
            // The stream now belongs to the upgrade hook's session.
            state_ = State::closed;
            ctx_.registry->remove(this);
            return;
        }
        version_ = req.version();
        head_ = req.method() == bhttp::verb::head;
        keep_alive_ = req.keep_alive();
        state_ = State::handling;
        const std::uint64_t seq = ++seq_;
        obs::catalog().http1_requests.inc();
        // No I/O is pending while the handler works, so the responder keeps the session
        // alive; if the application drops it unanswered, the session ends and closes.
        http::Responder responder = [self = derived().shared_from_this(), seq](http::Response res) {
            asio::post(self->ex_, self->guarded([self, seq, res = std::move(res)]() mutable {
                self->on_response(seq, std::move(res));
            }));
        };
        try {
            http::Request request = to_request(std::move(req));
            request.peer_address = ctx_.peer_address;
            request.client = ctx_.client;  // per-address rate limits
            request.protocol = version_ == 10 ? "HTTP/1.0" : "HTTP/1.1";
            request.connection = ctx_.id;
            request.secure = ctx_.secure;
            app_->handler(std::move(request), std::move(responder));
        } catch (const std::exception& e) {
            SPDLOG_ERROR("c{} handler threw: {}", ctx_.id, e.what());
            on_response(seq, http::error_response(errc::internal, ctx_.profile));
        }
    }

    void on_response(std::uint64_t seq, http::Response res) {
        if (state_ != State::handling || seq != seq_) return;  // late or duplicate: drop
        write_response(std::move(res));
    }

    void reply_error(errc e) {
        parser_.reset();
        keep_alive_ = false;
        head_ = false;
        version_ = 11;
        write_response(http::error_response(e, ctx_.profile));
    }

    void write_response(http::Response res) {
        keep_alive_ = keep_alive_ && !draining_;
        res_ =
            std::make_unique<BeastResponse>(to_beast(std::move(res), version_, keep_alive_, head_));
        state_ = State::writing;
        lowest().expires_after(milliseconds(ctx_.limits.read_timeout_ms));
        bhttp::async_write(derived().stream(), *res_,
                           guarded([self = derived().shared_from_this()](
                                       beast::error_code ec, std::size_t) { self->on_write(ec); }));
    }

    void on_write(beast::error_code ec) {
        res_.reset();
        if (state_ != State::writing) return;
        if (ec) return finish();
        if (!keep_alive_ || draining_) return start_close();
        do_read();
    }

    void on_drain() {
        draining_ = true;
        // Idle keep-alive connection: nothing in flight, close now. Otherwise the current
        // request completes and its response carries `connection: close`.
        if (state_ == State::reading && !started_) finish();
    }

    void start_close() {
        if (state_ == State::closing || state_ == State::closed) return;
        state_ = State::closing;
        derived().shutdown_then_close();
    }

    // Plain TCP: half-close, then discard input until EOF or the linger deadline.
    void linger() {
        beast::error_code ignored;
        lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        // The read cap of a refused chunked request would make every linger read fail.
        buffer_.clear();
        buffer_.max_size(kLingerChunk);
        lowest().expires_after(kLingerTimeout);
        linger_read();
    }

    void linger_read() {
        buffer_.clear();
        lowest().async_read_some(
            buffer_.prepare(kLingerChunk),
            guarded([self = derived().shared_from_this()](beast::error_code ec, std::size_t n) {
                self->lingered_ += n;
                if (ec || self->lingered_ > kLingerMaxBytes) {
                    return self->finish();
                }
                self->linger_read();
            }));
    }

    // Leaves the registry at once: a responder the application still holds may keep this
    // object alive after the socket is gone, and drain must not wait for that.
    void finish() {
        if (state_ == State::closed) return;
        state_ = State::closed;
        lowest().close();
        ctx_.registry->remove(this);
    }

    asio::any_io_executor ex_;
    net::SessionContext ctx_;
    std::shared_ptr<const Application> app_;
    beast::flat_buffer buffer_;
    net::BufferBudget::Charge charge_{net::buffer_budget()};
    // Beast keeps a reference to it: it must live as long as any parser (declared before it).
    std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> on_chunk_header_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    std::size_t chunk_extension_bytes_ = 0;
    bool chunk_metadata_refused_ = false;
    bool header_checked_ = false;
    std::size_t header_fields_ = 0;
    std::size_t body_wire_bytes_ = 0;  // chunked: bytes parsed after the header
    std::unique_ptr<BeastResponse> res_;
    State state_ = State::reading;
    bool started_ = false;
    bool continue_sent_ = false;
    bool keep_alive_ = true;
    bool head_ = false;
    bool draining_ = false;
    unsigned version_ = 11;
    std::uint64_t seq_ = 0;
    std::size_t lingered_ = 0;
    Clock::time_point deadline_{};
};

class PlainSession : public Session<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
  public:
    PlainSession(beast::tcp_stream&& stream, beast::flat_buffer&& initial, net::SessionContext ctx,
                 std::shared_ptr<const Application> app)
        : Session(stream.get_executor(), std::move(initial), std::move(ctx), std::move(app)),
          stream_(std::move(stream)) {}

    beast::tcp_stream& stream() { return stream_; }

    bool try_upgrade(BeastRequest& req) {
        return app_->upgrade.plain && app_->upgrade.plain(req, stream_, buffer_, ctx_);
    }

    void shutdown_then_close() { linger(); }

  private:
    beast::tcp_stream stream_;
};

class TlsSession : public Session<TlsSession>, public std::enable_shared_from_this<TlsSession> {
  public:
    TlsSession(TlsStream&& stream, beast::flat_buffer&& initial, net::SessionContext ctx,
               std::shared_ptr<const Application> app)
        : Session(stream.get_executor(), std::move(initial), std::move(ctx), std::move(app)),
          stream_(std::move(stream)) {}

    TlsStream& stream() { return stream_; }

    bool try_upgrade(BeastRequest& req) {
        return app_->upgrade.tls && app_->upgrade.tls(req, stream_, buffer_, ctx_);
    }

    // Send close_notify (RFC 8446 §6.1), then linger as plain TCP does: unread input (a body
    // we refused, pipelined requests) would otherwise make the kernel answer with a reset that
    // can destroy the response before the client reads it.
    void shutdown_then_close() {
        lowest().expires_after(kLingerTimeout);
        stream_.async_shutdown(guarded([self = shared_from_this()](beast::error_code ec) {
            if (ec) return self->finish();
            self->linger();
        }));
    }

  private:
    TlsStream stream_;
};

}  // namespace

net::ProtocolHandler protocol_handler(http::Handler handler, UpgradeHandler upgrade) {
    auto app =
        std::make_shared<const Application>(Application{std::move(handler), std::move(upgrade)});
    net::ProtocolHandler out;
    out.plain = [app](beast::tcp_stream&& stream, beast::flat_buffer&& initial,
                      net::SessionContext ctx) {
        std::make_shared<PlainSession>(std::move(stream), std::move(initial), std::move(ctx), app)
            ->run();
    };
    out.tls = [app](TlsStream&& stream, beast::flat_buffer&& initial, net::SessionContext ctx) {
        std::make_shared<TlsSession>(std::move(stream), std::move(initial), std::move(ctx), app)
            ->run();
    };
    return out;
}

}  // namespace pushsvc::http1
