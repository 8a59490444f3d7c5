#include "pushsvc/net/detect.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>

#include "pushsvc/base/guard.h"
#include "pushsvc/net/preface.h"
#include "pushsvc/net/tls_context.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::net {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using std::chrono::milliseconds;

constexpr std::size_t kDetectChunk = 4096;

std::string_view as_view(const beast::flat_buffer& b) {
    return {static_cast<const char*>(b.data().data()), b.size()};
}

// An HTTP/1.1 connection is handed over once its first request head is complete (or too
// large: the session answers 431), so limits.first_request_timeout_ms bounds the head however
// slowly it drips in; the HTTP/1.1 session then bounds the body with read_timeout_ms.
// A bare-LF blank line also ends the wait: the session then answers whatever it makes of it
// instead of the peer waiting out the deadline.
bool http1_head_done(const beast::flat_buffer& b, std::uint32_t max_header_bytes) {
    const auto v = as_view(b);
    return b.size() > max_header_bytes || v.find("\r\n\r\n") != std::string_view::npos ||
           v.find("\n\n") != std::string_view::npos;
}

void count_phase_timeout(const beast::error_code& ec, [[maybe_unused]] std::uint64_t id,
                         [[maybe_unused]] const char* phase) {
    if (ec != beast::error::timeout) return;
    obs::catalog().first_request_timeouts.inc();
    SPDLOG_DEBUG("c{} {} not done in time, closing", id, phase);
}

// The boundary of a detector's handlers: an exception (setting up the protocol session, a
// bug) is logged with the connection id and closes this connection only; the network thread
// and every other connection go on. A stream already handed over was moved into the session
// being set up and closed as that unwound.
template <class Self, class F>
auto guarded(const std::shared_ptr<Self>& self, std::uint64_t id, F f) {
    return base::guard(std::move(f),
                       [weak = std::weak_ptr<Self>(self), id](const std::string& what) {
                           count_connection_failure();
                           SPDLOG_ERROR("c{} connection setup failed, closing it: {}", id, what);
                           if (auto s = weak.lock()) s->close();
                       });
}

// Hands the stream over; without a handler for the protocol the stream is dropped, which
// closes the connection.
template <class Stream>
void hand_over(const std::function<void(Stream&&, beast::flat_buffer&&, SessionContext)>& to,
               Stream&& stream, beast::flat_buffer&& initial, SessionContext&& ctx) {
    if (!to) {
        SPDLOG_DEBUG("c{} no handler for the detected protocol, closing", ctx.id);
        return;
    }
    to(std::move(stream), std::move(initial), std::move(ctx));
}

class CleartextDetector : public Connection,
                          public std::enable_shared_from_this<CleartextDetector> {
  public:
    CleartextDetector(asio::ip::tcp::socket&& socket, SessionContext ctx,
                      std::shared_ptr<const ConnectionHandlers> handlers)
        : ex_(socket.get_executor()),
          registry_(ctx.registry),
          ctx_(std::move(ctx)),
          handlers_(std::move(handlers)),
          stream_(std::move(socket)) {}

    // ctx_ moves on to the protocol session; registry_ stays for the destructor.
    ~CleartextDetector() override { registry_->remove(this); }

    void run() {
        registry_->add(this, weak_from_this());
        // One deadline for the whole phase, set once: re-arming it per read let a peer
        // dripping one byte per idle_timeout_ms hold the connection for ~46 minutes.
        ctx_.first_request_deadline =
            std::chrono::steady_clock::now() + milliseconds(ctx_.limits.first_request_timeout_ms);
        asio::dispatch(ex_, guarded(shared_from_this(), ctx_.id,
                                    [self = shared_from_this()] { self->do_read(); }));
    }

    void drain() override { close(); }

    void close() override {
        asio::post(ex_, [weak = weak_from_this()] {
            if (auto s = weak.lock(); s && !s->handed_over_) s->stream_.close();
        });
    }

  private:
    void do_read() {
        stream_.expires_at(ctx_.first_request_deadline);
        stream_.async_read_some(
            buffer_.prepare(kDetectChunk),
            guarded(shared_from_this(), ctx_.id,
                    [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->on_read(ec, n);
                    }));
    }

    void on_read(beast::error_code ec, std::size_t n) {
        if (ec) {
            // Closed, timed out or reset before a request: nothing to answer.
            return count_phase_timeout(ec, ctx_.id, "protocol preface / first request");
        }
        buffer_.commit(n);
        switch (classify_preface(as_view(buffer_))) {
            case PrefaceMatch::need_more:
                return do_read();
            case PrefaceMatch::http2:
                // The HTTP/2 session closes the connection if no stream opens by
                // ctx_.first_request_deadline.
                handed_over_ = true;
                stream_.expires_never();
                obs::catalog().connections_h2c.inc();
                return hand_over(handlers_->http2.plain, std::move(stream_), std::move(buffer_),
                                 std::move(ctx_));
            case PrefaceMatch::http1:
                if (!http1_head_done(buffer_, ctx_.limits.max_header_bytes)) return do_read();
                handed_over_ = true;
                stream_.expires_never();
                obs::catalog().connections_http1.inc();
                return hand_over(handlers_->http1.plain, std::move(stream_), std::move(buffer_),
                                 std::move(ctx_));
        }
    }

    asio::any_io_executor ex_;
    std::shared_ptr<ConnectionRegistry> registry_;
    SessionContext ctx_;
    std::shared_ptr<const ConnectionHandlers> handlers_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    bool handed_over_ = false;
};

class TlsHandshake : public Connection, public std::enable_shared_from_this<TlsHandshake> {
  public:
    TlsHandshake(asio::ip::tcp::socket&& socket, std::shared_ptr<asio::ssl::context> tls,
                 SessionContext ctx, std::shared_ptr<const ConnectionHandlers> handlers)
        : ex_(socket.get_executor()),
          tls_(std::move(tls)),
          registry_(ctx.registry),
          ctx_(std::move(ctx)),
          handlers_(std::move(handlers)),
          stream_(beast::tcp_stream(std::move(socket)), *tls_) {}

    ~TlsHandshake() override { registry_->remove(this); }

    void run() {
        registry_->add(this, weak_from_this());
        asio::dispatch(ex_, guarded(shared_from_this(), ctx_.id,
                                    [self = shared_from_this()] { self->do_handshake(); }));
    }

    void drain() override { close(); }

    void close() override {
        asio::post(ex_, [weak = weak_from_this()] {
            if (auto s = weak.lock(); s && !s->handed_over_) {
                beast::get_lowest_layer(s->stream_).close();
            }
        });
    }

  private:
    void do_handshake() {
        // Set once for the whole handshake (TlsStream reads and writes go through the
        // tcp_stream, whose expiry covers every operation until changed): a peer that
        // stops half way or drips records is closed after handshake_timeout_ms.
        beast::get_lowest_layer(stream_).expires_after(
            milliseconds(ctx_.limits.handshake_timeout_ms));
        stream_.async_handshake(
            asio::ssl::stream_base::server,
            guarded(shared_from_this(), ctx_.id,
                    [self = shared_from_this()](beast::error_code ec) { self->on_handshake(ec); }));
    }

    void on_handshake(beast::error_code ec) {
        if (ec) {
            // Old protocol versions, no shared cipher, plain HTTP on the TLS port, timeouts.
            obs::catalog().tls_handshake_failures.inc();
            count_phase_timeout(ec, ctx_.id, "TLS handshake");
            SPDLOG_DEBUG("c{} TLS handshake failed: {}", ctx_.id, ec.message());
            return;
        }
        ctx_.secure = true;
        ctx_.first_request_deadline =
            std::chrono::steady_clock::now() + milliseconds(ctx_.limits.first_request_timeout_ms);
        if (negotiated_protocol(stream_.native_handle()) == AppProtocol::http2) {
            // The HTTP/2 session enforces ctx_.first_request_deadline on the preface and the
            // first stream itself.
            beast::get_lowest_layer(stream_).expires_never();
            handed_over_ = true;
            obs::catalog().connections_h2.inc();
            return hand_over(handlers_->http2.tls, std::move(stream_), {}, std::move(ctx_));
        }
        do_read_head();
    }

    // HTTP/1.1 over TLS: the first request head must arrive by the deadline, as on cleartext.
    void do_read_head() {
        beast::get_lowest_layer(stream_).expires_at(ctx_.first_request_deadline);
        stream_.async_read_some(
            buffer_.prepare(kDetectChunk),
            guarded(shared_from_this(), ctx_.id,
                    [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                        self->on_read_head(ec, n);
                    }));
    }

    void on_read_head(beast::error_code ec, std::size_t n) {
        if (ec) return count_phase_timeout(ec, ctx_.id, "first request");
        buffer_.commit(n);
        if (!http1_head_done(buffer_, ctx_.limits.max_header_bytes)) return do_read_head();
        beast::get_lowest_layer(stream_).expires_never();
        handed_over_ = true;
        obs::catalog().connections_https1.inc();
        hand_over(handlers_->http1.tls, std::move(stream_), std::move(buffer_), std::move(ctx_));
    }

    asio::any_io_executor ex_;
    std::shared_ptr<asio::ssl::context> tls_;
    std::shared_ptr<ConnectionRegistry> registry_;
    SessionContext ctx_;
    std::shared_ptr<const ConnectionHandlers> handlers_;
    TlsStream stream_;
    beast::flat_buffer buffer_;
    bool handed_over_ = false;
};

}  // namespace

void start_cleartext_detection(asio::ip::tcp::socket&& socket, SessionContext ctx,
                               std::shared_ptr<const ConnectionHandlers> handlers) {
    std::make_shared<CleartextDetector>(std::move(socket), std::move(ctx), std::move(handlers))
        ->run();
}

void start_tls_handshake(asio::ip::tcp::socket&& socket, std::shared_ptr<asio::ssl::context> tls,
                         SessionContext ctx, std::shared_ptr<const ConnectionHandlers> handlers) {
    std::make_shared<TlsHandshake>(std::move(socket), std::move(tls), std::move(ctx),
                                   std::move(handlers))
        ->run();
}

}  // namespace pushsvc::net
