#include "pushsvc/http2/connection.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "pushsvc/base/guard.h"
#include "pushsvc/http/error_map.h"
#include "pushsvc/http2/engine.h"
#include "pushsvc/net/buffer_budget.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::http2 {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using std::chrono::milliseconds;

// Reads start at 16 KiB; a connection whose read filled that (a sender with many streams in
// flight) reads 64 KiB from then on, so one read, and so one group commit of its pushes,
// takes ~16 3-KB pushes instead of ~4. Idle and monitoring connections keep 16 KiB.
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kBusyReadChunk = 64 * 1024;
constexpr std::size_t kWriteChunk = 64 * 1024;
// After the last frame, the connection half-closes and discards input this long so the
// peer reads our GOAWAY before the socket is gone (no reset on unread data).
constexpr auto kLingerTimeout = std::chrono::seconds(1);

// The application's handle on a monitoring GET (http::Pusher): pushes go to the connection's
// strand; `gone` is set by the connection when the stream ends.
class StreamPusher final : public http::Pusher {
  public:
    using PushFn = std::function<void(std::string, http::Response, http::PushDone)>;
    // `monitoring_started` tells the connection (on any thread) that the stream became a
    // monitoring one, so its PING deadline is armed even if nothing else happens.
    StreamPusher(PushFn push, std::function<void()> monitoring_started, std::string tag)
        : push_(std::move(push)),
          monitoring_started_(std::move(monitoring_started)),
          tag_(std::move(tag)) {}

    void push(std::string path, http::Response response, http::PushDone done) override {
        push_(std::move(path), std::move(response), std::move(done));
    }
    std::string tag() const override { return tag_; }
    void on_gone(std::function<void()> cb) override {
        {
            std::lock_guard lock(mutex_);
            monitoring_ = true;
            if (!gone_) on_gone_ = std::move(cb);
        }
        if (!cb) return monitoring_started_();
        cb();
    }
    // The application keeps the request open to push on it (it asked to hear when it ends).
    bool monitoring() {
        std::lock_guard lock(mutex_);
        return monitoring_ && !gone_;
    }
    void mark_gone() {
        std::function<void()> cb;
        {
            std::lock_guard lock(mutex_);
            if (gone_) return;
            gone_ = true;
            cb = std::move(on_gone_);
        }
        if (cb) cb();
    }

  private:
    PushFn push_;
    std::function<void()> monitoring_started_;
    const std::string tag_;
    std::mutex mutex_;
    bool gone_ = false;
    bool monitoring_ = false;
    std::function<void()> on_gone_;
};

template <class Stream>
class Connection : public net::Connection, public std::enable_shared_from_this<Connection<Stream>> {
  public:
    Connection(Stream&& stream, std::string initial, net::SessionContext ctx,
               std::shared_ptr<const http::Handler> handler)
        : ex_(stream.get_executor()),
          ctx_(std::move(ctx)),
          handler_(std::move(handler)),
          stream_(std::move(stream)),
          engine_(ctx_),
          timer_(ex_),
          initial_(std::move(initial)) {}

    ~Connection() override {
        ctx_.registry->remove(this);
        // Monitoring sessions are owned by their stream's gone-callback: release them.
        for (auto& [id, pusher] : pushers_) pusher->mark_gone();
        fail_pushes();  // every push gets its outcome, even if finish() never ran
    }

    void run() {
        ctx_.registry->add(this, this->weak_from_this());
        asio::dispatch(ex_, guarded([self = this->shared_from_this()] { self->start(); }));
    }

    void drain() override {
        asio::post(ex_, guarded([weak = this->weak_from_this()] {
                       if (auto s = weak.lock()) s->on_drain();
                   }));
    }

    void close() override {
        asio::post(ex_, [weak = this->weak_from_this()] {
            if (auto s = weak.lock()) s->finish();
        });
    }

  private:
    auto& lowest() { return beast::get_lowest_layer(stream_); }

    // The boundary of this connection's handlers: an exception escaping one (std::bad_alloc
    // when memory runs out, a bug) is logged, counted and closes this connection only; the
    // network thread, the process and every other connection go on.
    template <class F>
    auto guarded(F f) {
        return base::guard(
            std::move(f), [weak = this->weak_from_this(), id = ctx_.id](const std::string& what) {
                net::count_connection_failure();
                SPDLOG_ERROR("c{} http2 handler failed, closing the connection: {}", id, what);
                if (auto self = weak.lock())
                    asio::post(self->ex_, [self] {
                        try {
                            self->finish();
                        } catch (...) {  // out of memory again: the socket closes with `self`
                        }
                    });
            });
    }

    void start() {
        // The stream's own timeouts stay off: this class keeps one deadline timer instead,
        // because a read and a write are pending at the same time.
        lowest().expires_never();
        last_activity_ = Clock::now();
        if (!engine_.start()) return finish();
        if (!initial_.empty()) {
            const bool ok = engine_.recv(reinterpret_cast<const std::uint8_t*>(initial_.data()),
                                         initial_.size());
            initial_.clear();
            initial_.shrink_to_fit();
            if (!ok) return fail();
            dispatch_ready();
        }
        flush();
        do_read();
        arm_timer();
    }

    void do_read() {
        if (reading_ || closed_) return;
        reading_ = true;
        stream_.async_read_some(
            asio::buffer(rbuf_),
            guarded([self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                self->on_read(ec, n);
            }));
    }

    void on_read(beast::error_code ec, std::size_t n) {
        reading_ = false;
        if (closed_) return;
        if (ec) return finish();         // peer gone: open streams are dropped
        if (closing_) return do_read();  // lingering: discard
        last_activity_ = Clock::now();
        ping_outstanding_ = false;  // any frame from the peer answers a PING as well as its ACK
        if (!engine_.recv(rbuf_.data(), n)) return fail();
        if (n == rbuf_.size() && n < kBusyReadChunk) rbuf_.resize(kBusyReadChunk);
        dispatch_ready();
        collect_push_results();  // pushes reset by the peer
        flush();
        if (over_buffer_budget()) return;
        report_closed();
        if (engine_.want_read()) do_read();
        arm_timer();
    }

    // Handler calls happen here, outside nghttp2 callbacks. The requests of one read form one
    // http::RequestGroup, ended after the last of them (the pushes' group commit). A handler
    // that answers at once or at the group's end (pushes with store.sync off) has its response
    // submitted directly, so one write after this carries the responses to everything one
    // read brought in; answers from other threads or later are posted to the executor.
    void dispatch_ready() {
        struct Dispatching {  // restored on every way out
            const void* outer = tl_dispatching;
            explicit Dispatching(const void* self) { tl_dispatching = self; }
            ~Dispatching() { tl_dispatching = outer; }
        } dispatching(this);
        http::RequestGroup group;
        for (auto& r : engine_.take_ready()) {
            r.request.group = &group;
            http::Responder responder = [weak = this->weak_from_this(), ex = ex_,
                                         id = r.stream_id](http::Response res) {
                if (auto s = weak.lock(); s && tl_dispatching == s.get()) {
                    s->engine_.submit_response(id, std::move(res));  // flushed by the caller
                    return;
                }
                asio::post(ex, [weak, id, res = std::move(res)]() mutable {
                    if (auto s = weak.lock()) s->on_response(id, std::move(res));
                });
            };
            if (r.request.can_push && r.request.method == "GET") {
                // A possible RFC 8030 monitoring GET: the application may push on it.
                auto pusher = std::make_shared<StreamPusher>(
                    [weak = this->weak_from_this(), ex = ex_, id = r.stream_id](
                        std::string path, http::Response res, http::PushDone done) {
                        asio::post(ex, [weak, id, path = std::move(path), res = std::move(res),
                                        done = std::move(done)]() mutable {
                            if (auto s = weak.lock()) {
                                s->on_push(id, path, std::move(res), std::move(done));
                            } else {
                                report_push(done, false);  // the connection is gone
                            }
                        });
                    },
                    [weak = this->weak_from_this(), ex = ex_] {
                        asio::post(ex, [weak] {
                            if (auto s = weak.lock()) s->arm_timer();
                        });
                    },
                    "c" + std::to_string(ctx_.id) + "/s" + std::to_string(r.stream_id));
                engine_.mark_monitored(r.stream_id);
                pushers_[r.stream_id] = pusher;
                r.request.pusher = std::move(pusher);
            }
            try {
                (*handler_)(std::move(r.request), std::move(responder));
            } catch (const std::exception& e) {
                SPDLOG_ERROR("c{}/s{} handler threw: {}", ctx_.id, r.stream_id, e.what());
                engine_.submit_response(r.stream_id,
                                        http::error_response(errc::internal, ctx_.profile));
            }
        }
        group.end();  // GroupWork::run answers what it holds, failures included
    }

    // The connection whose dispatch_ready() runs on this thread, if any.
    static inline thread_local const void* tl_dispatching = nullptr;

    void on_response(std::int32_t stream_id, http::Response res) {
        if (closed_) return;
        engine_.submit_response(stream_id, std::move(res));  // false: stream gone, dropped
        flush();
        if (over_buffer_budget()) return;
        arm_timer();
    }

    void on_push(std::int32_t stream_id, const std::string& path, http::Response res,
                 http::PushDone done) {
        if (closed_ || closing_) return report_push(done, false);
        std::int32_t promised = 0;
        try {
            promised = engine_.submit_push(stream_id, path, std::move(res));
        } catch (const std::exception& e) {
            // Allocation failure or the like: this monitoring stream ends, the connection
            // and the process go on.
            SPDLOG_ERROR("c{}/s{} push failed: {}", ctx_.id, stream_id, e.what());
            engine_.reset_stream(stream_id);
        }
        if (promised == 0) {
            report_push(done, false);  // refused: the application keeps the message
        } else {
            push_done_[promised] = std::move(done);
        }
        flush();
        if (over_buffer_budget()) return;
        arm_timer();
    }

    // Runs a push's completion, which only posts to the application's strand; anything it
    // throws stays here.
    static void report_push(http::PushDone& done, bool sent) noexcept {
        if (!done) return;
        try {
            std::exchange(done, {})(sent);
        } catch (const std::exception& e) {
            SPDLOG_ERROR("push completion threw: {}", e.what());
        }
    }

    // Takes the engine's push outcomes: failures are reported now; pushes whose last frame
    // nghttp2 serialized wait for the write that carries it (in flush()).
    void collect_push_results() {
        for (const auto& r : engine_.take_push_results()) {
            auto it = push_done_.find(r.promised_id);
            if (it == push_done_.end()) continue;
            auto done = std::move(it->second);
            push_done_.erase(it);
            if (r.sent) {
                serialized_.push_back(std::move(done));
            } else {
                report_push(done, false);
            }
        }
    }

    // Everything not yet reported fails: the connection is closing or gone.
    void fail_pushes() noexcept {
        for (auto& [id, done] : push_done_) report_push(done, false);
        for (auto& done : serialized_) report_push(done, false);
        for (auto& done : in_write_) report_push(done, false);
        push_done_.clear();
        serialized_.clear();
        in_write_.clear();
    }

    // Tells the application which monitoring streams ended (all of them once closed).
    void report_closed() {
        auto ended = closed_ ? std::vector<std::int32_t>{} : engine_.take_closed();
        if (closed_)
            for (const auto& [id, p] : pushers_) ended.push_back(id);
        for (auto id : ended) {
            auto it = pushers_.find(id);
            if (it == pushers_.end()) continue;
            auto pusher = std::move(it->second);
            pushers_.erase(it);
            pusher->mark_gone();
        }
    }

    void flush() {
        if (writing_ || closed_) return;
        wbuf_.clear();
        if (!engine_.send(wbuf_, kWriteChunk)) return finish();
        collect_push_results();
        if (wbuf_.empty()) {
            // A push's last frame that the previous (completed) write carried.
            for (auto& done : serialized_) report_push(done, true);
            serialized_.clear();
            return maybe_close();
        }
        // Pushes serialized by this send() are reported sent once this write completes.
        in_write_ = std::move(serialized_);
        serialized_.clear();
        writing_ = true;
        write_started_ = Clock::now();
        asio::async_write(stream_, asio::buffer(wbuf_),
                          guarded([self = this->shared_from_this()](
                                      beast::error_code ec, std::size_t) { self->on_write(ec); }));
    }

    void on_write(beast::error_code ec) {
        writing_ = false;
        if (closed_) return;
        if (ec) return finish();
        for (auto& done : in_write_) report_push(done, true);
        in_write_.clear();
        flush();
        if (over_buffer_budget()) return;
        report_closed();
        arm_timer();
    }

    // Reports what this connection holds to the process's buffer budget; over the budget
    // and holding more than its share, the connection is closed at once (no GOAWAY: the
    // peer that holds output back is not reading anyway). True when it was.
    bool over_buffer_budget() {
        charge_.set(engine_.held_bytes() + wbuf_.size());
        if (!charge_.should_shed()) return false;
        obs::catalog().connections_shed.inc();
        // Debug only: under an attack this happens per connection; the counter has the number.
        SPDLOG_DEBUG(
            "c{} holds {} bytes of buffers while they are over limits.max_buffer_bytes: "
            "closing it",
            ctx_.id, charge_.bytes());
        finish();
        charge_.set(0);
        return true;
    }

    // The engine has queued a GOAWAY for a fatal error: write it, then close.
    void fail() {
        failed_ = true;
        flush();
        if (!writing_) start_close();
    }

    void maybe_close() {
        if (writing_) return;
        if (failed_ || (!engine_.want_read() && !engine_.want_write())) start_close();
    }

    void on_drain() {
        if (closed_ || closing_ || draining_) return;
        draining_ = true;
        engine_.shutdown();
        // Monitoring GETs would hold the connection open forever: end them (200, nothing
        // more to push here) so clients reconnect, as after any GOAWAY (RFC 8030 §7.1).
        for (const auto& [id, pusher] : pushers_) {
            if (!pusher->monitoring()) continue;
            http::Response done;
            done.status = 200;
            engine_.submit_response(id, std::move(done));
        }
        flush();
        arm_timer();
    }

    void start_close() {
        if (closing_ || closed_) return;
        closing_ = true;
        close_deadline_ = Clock::now() + kLingerTimeout;
        beast::error_code ignored;
        lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
        do_read();
        arm_timer();
    }

    void finish() {
        if (closed_) return;
        closed_ = true;
        timer_.cancel();
        lowest().close();
        ctx_.registry->remove(this);
        report_closed();
        fail_pushes();
    }

    Clock::time_point next_deadline() const {
        const auto rt = milliseconds(ctx_.limits.read_timeout_ms);
        if (closing_) return close_deadline_;
        Clock::time_point d = Clock::time_point::max();
        if (writing_) d = std::min(d, write_started_ + rt);
        if (auto oldest = engine_.oldest_incomplete()) d = std::min(d, *oldest + rt);
        if (engine_.open_streams() == 0) {
            d = std::min(d, last_activity_ + milliseconds(ctx_.limits.idle_timeout_ms));
        }
        // Until the peer opens its first stream (a silent or dripping h2/h2c client).
        if (!engine_.stream_seen()) d = std::min(d, ctx_.first_request_deadline);
        if (auto p = engine_.oldest_write_progress()) {
            d = std::min(d, *p + milliseconds(ctx_.limits.write_stall_timeout_ms));
        }
        if (pinging()) {
            d = std::min(d, ping_outstanding_
                                ? ping_sent_at_ + milliseconds(ctx_.limits.h2_ping_timeout_ms)
                                : last_activity_ + milliseconds(ctx_.limits.h2_ping_interval_ms));
        }
        return d;
    }

    // A monitoring GET keeps the connection open with nothing to read for as long as no
    // message comes, so a peer that vanished (NAT mapping dropped, host gone without FIN/RST)
    // would hold the stream, its hub registration and the socket for good: such connections
    // are checked with PING after `h2_ping_interval_ms` of silence.
    bool pinging() const {
        if (ctx_.limits.h2_ping_interval_ms == 0 || ctx_.limits.h2_ping_timeout_ms == 0)
            return false;
        for (const auto& [id, pusher] : pushers_)
            if (pusher->monitoring()) return true;
        return false;
    }

    // One timer serves every deadline: it is re-armed only when the next deadline moves
    // earlier, and re-evaluates everything when it fires.
    void arm_timer() {
        if (closed_) return;
        const auto d = next_deadline();
        if (d == Clock::time_point::max()) return;
        if (timer_armed_ && d >= timer_expiry_) return;
        timer_armed_ = true;
        timer_expiry_ = d;
        timer_.expires_at(d);
        timer_.async_wait(guarded([self = this->shared_from_this()](beast::error_code ec) {
            if (ec == asio::error::operation_aborted) return;  // re-armed or finished
            self->on_timer();
        }));
    }

    void on_timer() {
        timer_armed_ = false;
        if (closed_) return;
        const auto now = Clock::now();
        const auto rt = milliseconds(ctx_.limits.read_timeout_ms);
        if (closing_) {
            if (now >= close_deadline_) return finish();
        } else if (writing_ && now >= write_started_ + rt) {
            return finish();  // the peer does not read
        } else if (ping_outstanding_ && pinging() &&
                   now >= ping_sent_at_ + milliseconds(ctx_.limits.h2_ping_timeout_ms)) {
            // Nothing at all from the peer since our PING: it is gone. Closing releases its
            // monitoring streams (their messages stay stored for the next connection).
            SPDLOG_DEBUG("c{} no answer to PING, closing", ctx_.id);
            obs::catalog().http2_ping_timeouts.inc();
            return finish();
        } else {
            if (!ping_outstanding_ && pinging() &&
                now >= last_activity_ + milliseconds(ctx_.limits.h2_ping_interval_ms)) {
                if (engine_.submit_ping()) {
                    ping_outstanding_ = true;
                    ping_sent_at_ = now;
                    flush();
                }
            }
            if (!engine_.stream_seen() && now >= ctx_.first_request_deadline) {
                SPDLOG_DEBUG("c{} no request within first_request_timeout_ms, closing", ctx_.id);
                obs::catalog().first_request_timeouts.inc();
                return finish();
            }
            if (engine_.reset_stalled(now - rt) > 0) flush();
            // Responses the peer's flow-control window holds back (it never sends
            // WINDOW_UPDATE) would keep their streams and bodies forever: reset them, and
            // when nothing on the connection moves at all, close it.
            bool none_moving = false;
            if (engine_.reset_write_stalled(now - milliseconds(ctx_.limits.write_stall_timeout_ms),
                                            none_moving) > 0) {
                if (none_moving) {
                    SPDLOG_DEBUG("c{} every response stalled on flow control, closing", ctx_.id);
                    engine_.terminate(NGHTTP2_ENHANCE_YOUR_CALM);
                    return fail();
                }
                flush();
            }
            if (engine_.open_streams() == 0 && !writing_ &&
                now >= last_activity_ + milliseconds(ctx_.limits.idle_timeout_ms)) {
                engine_.shutdown();
                draining_ = true;
                flush();
            }
        }
        arm_timer();
    }

    asio::any_io_executor ex_;
    net::SessionContext ctx_;
    std::shared_ptr<const http::Handler> handler_;
    Stream stream_;
    Engine engine_;
    asio::steady_timer timer_;
    std::string initial_;
    std::vector<std::uint8_t> rbuf_ = std::vector<std::uint8_t>(kReadChunk);
    std::string wbuf_;
    net::BufferBudget::Charge charge_{net::buffer_budget()};  // this connection's part of it
    std::map<std::int32_t, std::shared_ptr<StreamPusher>> pushers_;
    std::map<std::int32_t, http::PushDone> push_done_;  // promised stream -> completion
    std::vector<http::PushDone> serialized_;            // last frame serialized, not yet in a write
    std::vector<http::PushDone> in_write_;              // last frame in the write in flight
    bool ping_outstanding_ = false;
    Clock::time_point ping_sent_at_{};
    bool reading_ = false;
    bool writing_ = false;
    bool draining_ = false;
    bool failed_ = false;
    bool closing_ = false;
    bool closed_ = false;
    bool timer_armed_ = false;
    Clock::time_point timer_expiry_{};
    Clock::time_point write_started_{};
    Clock::time_point last_activity_{};
    Clock::time_point close_deadline_{};
};

}  // namespace

net::ProtocolHandler protocol_handler(http::Handler handler) {
    auto h = std::make_shared<const http::Handler>(std::move(handler));
    net::ProtocolHandler out;
    out.plain = [h](beast::tcp_stream&& stream, beast::flat_buffer&& initial,
                    net::SessionContext ctx) {
        std::make_shared<Connection<beast::tcp_stream>>(
            std::move(stream), beast::buffers_to_string(initial.data()), std::move(ctx), h)
            ->run();
    };
    out.tls = [h](TlsStream&& stream, beast::flat_buffer&& initial, net::SessionContext ctx) {
        std::make_shared<Connection<TlsStream>>(
            std::move(stream), beast::buffers_to_string(initial.data()), std::move(ctx), h)
            ->run();
    };
    return out;
}

}  // namespace pushsvc::http2
