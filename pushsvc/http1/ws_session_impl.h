#pragma once
// The WebSocket session template behind make_ws_upgrade_handler() (ws_session.h), in a header
// of its own so tests can instantiate it directly. Not for other users.
//
// Stream is a plain tcp::socket (released from the HTTP/1.1 session's tcp_stream) or the TLS
// stream. The framing rules are in ws_frame.h; this file is the I/O around them:
// - reading: a session parks a readiness wait (no buffer) and then reads what arrived into a
//   per-thread scratch buffer; only bytes of an incomplete frame stay with the session (and,
//   over TLS, those of an incomplete record with net::TlsStream).
// - writing: frames queue in order and go out in one gathered write.
// - one timer per session: the hello deadline, then idle pings / the idle timeout, then the
//   closing handshake's deadline.
// - failures: every handler of a session (socket, timer, channel work on the store pool) runs
//   through guarded(): an exception escaping one is logged with the connection id and ends
//   that connection only.

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>

#include <array>
#include <functional>
#include <list>
#include <vector>

#include "pushsvc/base/guard.h"
#include "pushsvc/http1/ws_frame.h"
#include "pushsvc/http1/ws_session.h"
#include "pushsvc/net/buffer_budget.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/webpush/ua_channel.h"

namespace pushsvc::http1::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using std::chrono::milliseconds;
using Socket = asio::ip::tcp::socket;

constexpr std::string_view kSubprotocol = "push-notification";
constexpr std::size_t kMaxMessageBytes = 16 * 1024;

inline bool offers_subprotocol(const BeastRequest& req) {
    auto offered = req[beast::http::field::sec_websocket_protocol];
    for (std::size_t pos = 0; pos < offered.size();) {
        auto end = offered.find(',', pos);
        auto token = offered.substr(pos, end == std::string_view::npos ? end : end - pos);
        while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
        while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
        if (token == kSubprotocol) return true;
        if (end == std::string_view::npos) break;
        pos = end + 1;
    }
    return false;
}

template <class Stream>
class WsSession final : public std::enable_shared_from_this<WsSession<Stream>>,
                        public net::Connection,
                        public delivery::Target {
    static constexpr bool kPlain = std::is_same_v<Stream, Socket>;

  public:
    WsSession(Stream&& stream, std::shared_ptr<const WsOptions> options,
              const net::SessionContext& ctx)
        : stream_(std::move(stream)),
          options_(std::move(options)),
          ctx_(ctx),
          channel_(
              *options_->backend,
              webpush::ChannelOptions{options_->delivery.max_inflight,
                                      options_->delivery.max_subscriptions_per_ua, ctx.client}),
          timer_(stream_.get_executor()),
          reader_(kMaxMessageBytes) {}

    ~WsSession() override {
        ctx_.registry->remove(this);
        if (!uaid_.empty()) options_->hub->detach(uaid_, this);
        obs::catalog().ws_sessions_closed.inc();
    }

    // `response` is the 101 (ws::accept_response); `early` holds bytes the client sent after
    // the upgrade request.
    void start(std::string response, std::string early) {
        ctx_.registry->add(this, this->weak_from_this());
        beast::error_code ec;
        lowest_socket().non_blocking(true, ec);  // read_ready() reads only what already arrived
        if constexpr (!kPlain) {
            beast::get_lowest_layer(stream_).expires_never();  // the timer below rules now
        }
        obs::catalog().ws_sessions.inc();
        spdlog::debug("c{}: websocket connected from {}", ctx_.id, ctx_.peer);
        last_rx_ = Clock::now();
        arm_timer(milliseconds(options_->delivery.hello_timeout_ms));
        send(std::move(response));
        inbox_ = std::move(early);
        process_inbox();
    }

    // net::Connection. Draining tells Firefox "going away"; it reconnects elsewhere or later.
    void drain() override {
        asio::post(stream_.get_executor(), guarded([self = this->shared_from_this()] {
                       self->close_with(ws::kGoingAway, "server shutting down");
                   }));
    }
    void close() override {
        asio::post(stream_.get_executor(),
                   guarded([self = this->shared_from_this()] { self->end(); }));
    }

    // delivery::Target
    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        ChannelEvent ev{[direct](webpush::UaChannel& ch) {
                            return direct ? ch.on_direct(*direct) : ch.on_stored();
                        },
                        {}};
        if (direct)
            ev.without_store = [direct](const webpush::UaChannel& ch) {
                return ch.handles_without_store(*direct, true);
            };
        post_channel(std::move(ev));
    }
    void stored(std::shared_ptr<const store::MessageRecord> message) override {
        ChannelEvent ev{[message](webpush::UaChannel& ch) { return ch.on_stored(message.get()); },
                        {}};
        if (message)
            ev.without_store = [message](const webpush::UaChannel& ch) {
                return ch.handles_without_store(*message, false);
            };
        post_channel(std::move(ev));
    }
    void acked(std::string message_id) override {
        post_channel(
            {[id = std::move(message_id)](webpush::UaChannel& ch) { return ch.on_acked(id); }, {}});
    }
    // A WebSocket UA removes its own subscriptions (unregister); nothing to do here.
    void removed(std::string) override {}
    void replaced() override {
        asio::post(stream_.get_executor(), guarded([self = this->shared_from_this()] {
                       self->uaid_.clear();  // the hub entry belongs to the newer session now
                       self->close_with(ws::kNormal, "replaced by a newer connection");
                   }));
    }

  private:
    using Clock = std::chrono::steady_clock;
    using Actions = std::vector<webpush::channel::Action>;

    // The boundary of every handler this session posts or waits with: an exception escaping
    // `f` (a store error thrown in the channel, a bug in a handler) is logged with the
    // connection id and ends this connection; the thread and every other connection go on.
    // The end is posted to the socket's executor since `f` may have run on the store pool.
    template <class F>
    auto guarded(F f) {
        return base::guard(std::move(f), [weak = this->weak_from_this(),
                                          id = ctx_.id](const std::string& what) {
            net::count_connection_failure();
            spdlog::error("c{}: websocket handler failed, closing the connection: {}", id, what);
            if (auto self = weak.lock())
                asio::post(self->stream_.get_executor(), [self] { self->end(); });
        });
    }

    // --- reading ---

    // An idle session parks only a readiness wait, no buffer: what arrived is read into a
    // per-thread scratch buffer (TLS: decrypted by net::TlsStream, which keeps at most a
    // partial record).
    void do_read() {
        if (reading_ || ended_ || peer_closed_) return;
        reading_ = true;
        auto on_ready = guarded([self = this->shared_from_this()](beast::error_code ec) {
            self->reading_ = false;
            if (ec) return self->read_failed(ec);
            self->read_ready();
        });
        if constexpr (kPlain) {
            stream_.async_wait(Socket::wait_read, std::move(on_ready));
        } else {
            stream_.async_wait_readable(std::move(on_ready));
        }
    }

    void read_ready() {
        // Shared by every session of this thread: nothing stays in it across a wait.
        thread_local std::array<char, 16 * 1024> scratch;
        beast::error_code ec;
        std::size_t n = stream_.read_some(asio::buffer(scratch), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return do_read();
        if (ec) return read_failed(ec);
        received({scratch.data(), n});
    }

    void read_failed(beast::error_code ec) {
        if (ec != asio::error::operation_aborted)
            spdlog::debug("c{}: websocket ended: {}", ctx_.id, ec.message());
        end();
    }

    void received(std::string_view bytes) {
        last_rx_ = Clock::now();
        ping_sent_ = false;
        if (broken_) return do_read();  // unparseable: drained until EOF or the deadline
        inbox_.append(bytes);
        process_inbox();
        // What the peer makes this session hold (net/buffer_budget.h): unhandled input and a
        // fragmented message in assembly, each bounded by the message limit.
        charge_.set(inbox_.capacity() + reader_.buffered());
        if (charge_.should_shed() && !ended_) {
            obs::catalog().connections_shed.inc();
            end();
        }
    }

    // Handles the events in inbox_ one at a time: a text message goes to the channel, and the
    // next event waits until its actions are performed (this also bounds what a flooding
    // client can make the server hold). Reads more when no complete event is left.
    void process_inbox() {
        if (in_inbox_) return;  // a message handled at once: the loop below goes on
        in_inbox_ = true;
        inbox_loop();
        in_inbox_ = false;
    }

    void inbox_loop() {
        while (!busy_ && !ended_) {
            std::string_view rest(inbox_);
            rest.remove_prefix(consumed_);
            ws::Event ev = reader_.next(rest);
            consumed_ = inbox_.size() - rest.size();
            switch (ev.kind) {
                case ws::Event::Kind::need_more:
                    compact_inbox();
                    return do_read();
                case ws::Event::Kind::text:
                    if (close_sent_) break;  // the close is under way; data is discarded
                    busy_ = true;
                    run_channel(text_event(std::move(ev.payload)));
                    if (busy_) return;  // with the store executor: finish() goes on
                    // Handled already: the next message waits for a turn of the event loop,
                    // so that replies get written and other connections served between
                    // messages (each may have been a store write), as when it went through
                    // the store executor.
                    busy_ = true;
                    asio::post(stream_.get_executor(), guarded([self = this->shared_from_this()] {
                                   self->busy_ = false;
                                   self->process_inbox();
                               }));
                    return;
                case ws::Event::Kind::binary:
                    close_with(ws::kUnsupportedData, "text frames only");
                    break;
                case ws::Event::Kind::ping:
                    send(ws::encode_frame(ws::Opcode::pong, ev.payload));
                    break;
                case ws::Event::Kind::pong:
                    break;
                case ws::Event::Kind::close:
                    peer_closed_ = true;
                    // The answer to our close: done once ours is out (on_write ends then).
                    if (close_sent_) {
                        if (writing_ == 0) end();
                        return;
                    }
                    // Echo the peer's code (RFC 6455 §5.5.1); the socket ends once it is out.
                    close_with(ev.code == ws::kNoStatus ? ws::kNormal : ev.code, "");
                    return;
                case ws::Event::Kind::error:
                    spdlog::debug("c{}: websocket protocol error: {}", ctx_.id, ev.payload);
                    broken_ = true;  // nothing more can be parsed (RFC 6455 §7.1.7)
                    std::string().swap(inbox_);
                    consumed_ = 0;
                    close_with(ev.code, ev.payload);
                    return;
            }
        }
    }

    void compact_inbox() {
        if (consumed_ == inbox_.size()) {
            std::string().swap(inbox_);  // an idle session holds no input buffer
        } else {
            inbox_.erase(0, consumed_);
        }
        consumed_ = 0;
    }

    // --- the channel ---

    // A channel event: what it does to the channel; when it can tell, whether that involves no
    // store call in the channel's present state; whether it is a message from the UA.
    struct ChannelEvent {
        std::function<Actions(webpush::UaChannel&)> run;
        std::function<bool(const webpush::UaChannel&)> without_store;
        bool from_input = false;
        // Run instead of `run` when without_store sent it to the socket's strand although
        // there is a store executor (a message from the UA: its acks' deletes come out as a
        // Forget for the executor).
        std::function<Actions(webpush::UaChannel&)> run_without_store;
    };

    static ChannelEvent text_event(std::string payload) {
        using Deletes = webpush::UaChannel::AckDeletes;
        auto text = std::make_shared<const std::string>(std::move(payload));
        return {
            [text](webpush::UaChannel& ch) { return ch.on_text(*text, Deletes::now); },
            [text](const webpush::UaChannel& ch) { return ch.handles_text_without_store(*text); },
            true, [text](webpush::UaChannel& ch) { return ch.on_text(*text, Deletes::later); }};
    }

    // From any thread (the hub's callers): onto the socket's strand, then in line.
    void post_channel(ChannelEvent ev) {
        asio::post(stream_.get_executor(),
                   guarded([self = this->shared_from_this(), ev = std::move(ev)]() mutable {
                       self->run_channel(std::move(ev));
                   }));
    }

    // On the socket's strand. Events run one at a time, in order. With a store executor, an
    // event runs there (on this session's strand of it) and its actions come back here,
    // unless it needs no store call now (a wake-up carrying the next message, an ack while
    // the queue is read to its end: no thread hand-offs); without one, every event runs here.
    // Once our close is out, events are dropped: nothing more is sent, so reading the queue or
    // marking messages delivered would only be wrong.
    void run_channel(ChannelEvent ev) {
        events_.push_back(std::move(ev));
        pump_channel();
    }

    void pump_channel() {
        if (pumping_) return;  // the loop below takes what was added
        pumping_ = true;
        while (!channel_busy_ && !events_.empty()) {
            ChannelEvent next = std::move(events_.front());
            events_.pop_front();
            if (close_sent_ || ended_) {
                Actions none;
                finish(none, next.from_input);
                continue;
            }
            if (!options_->channel_executor) {
                Actions actions = next.run(channel_);
                finish(actions, next.from_input);
                continue;
            }
            if (next.without_store && next.without_store(channel_)) {
                Actions actions =
                    (next.run_without_store ? next.run_without_store : next.run)(channel_);
                finish(actions, next.from_input);
                continue;
            }
            channel_busy_ = true;
            asio::post(store_executor(),
                       guarded([self = this->shared_from_this(), run = std::move(next.run),
                                from_input = next.from_input]() mutable {
                           Actions actions = run(self->channel_);
                           asio::post(self->stream_.get_executor(),
                                      self->guarded([self, actions = std::move(actions),
                                                     from_input]() mutable {
                                          self->channel_busy_ = false;
                                          self->finish(actions, from_input);
                                          self->pump_channel();
                                      }));
                       }));
        }
        pumping_ = false;
    }

    // Performs an event's actions (on the socket's strand); after a message from the UA, the
    // input goes on.
    void finish(Actions& actions, bool from_input) {
        perform(actions);
        if (!from_input) return;
        busy_ = false;
        process_inbox();
    }

    void perform(Actions& actions) {
        for (auto& action : actions) {
            if (auto* send = std::get_if<webpush::channel::Send>(&action)) {
                this->send(ws::encode_frame(ws::Opcode::text, send->text));
            } else if (auto* id = std::get_if<webpush::channel::Identified>(&action)) {
                // A session on its way out must not take the uaid from a live one.
                if (close_sent_ || ended_) continue;
                uaid_ = id->uaid;
                spdlog::debug("c{}: hello, uaid {}...", ctx_.id,
                              webpush::UaChannel::uaid_to_wire(uaid_).substr(0, 8));
                options_->hub->attach(uaid_, this->shared_from_this());
                // Anything stored between the hello's read of the queue and this attach
                // woke nobody: look once more.
                wake(nullptr);
                arm_timer(idle_check_interval());
            } else if (auto* close = std::get_if<webpush::channel::Close>(&action)) {
                close_with(close->code, close->reason);
            } else if (auto* acked = std::get_if<webpush::channel::Forget>(&action)) {
                forget(std::move(*acked));
            }
        }
    }

    // The deletes of acknowledged messages (channel::Forget, from an ack handled here on the
    // socket's strand): on this session's strand of the store executor, after what the
    // session gave it before and before what it gives it next (an unregister after an ack
    // finds the message deleted and its receipt sent), while the channel goes on here. No
    // hand-off comes back unless one failed: then the connection closes with 1011.
    void forget(webpush::channel::Forget acked) {
        if (!options_->channel_executor) {  // not produced without one; done in line if it were
            if (auto close = webpush::UaChannel::forget(*options_->backend, acked))
                close_with(close->code, close->reason);
            return;
        }
        // From the first Forget on, the session's store jobs keep their order on a strand of
        // the executor. Made then, not with the session: an idle browser that never acked
        // anything keeps ~200 bytes less (a strand's state), and before any Forget there is
        // nothing to order (events run there one at a time, channel_busy_).
        if (!store_strand_)
            store_strand_ = std::make_unique<asio::strand<asio::any_io_executor>>(
                asio::make_strand(*options_->channel_executor));
        asio::post(*store_strand_,
                   guarded([self = this->shared_from_this(), acked = std::move(acked)] {
                       auto close = webpush::UaChannel::forget(*self->options_->backend, acked);
                       if (!close) return;
                       asio::post(self->stream_.get_executor(),
                                  self->guarded([self, close = std::move(*close)] {
                                      self->close_with(close.code, close.reason);
                                  }));
                   }));
    }

    // Where a channel event's store work goes: the session's strand once it has one.
    asio::any_io_executor store_executor() const {
        return store_strand_ ? asio::any_io_executor(*store_strand_) : *options_->channel_executor;
    }

    // --- writing ---

    void send(std::string frame) {
        if (ended_ || close_sent_) return;
        // Notifications are bounded by max_inflight; replies by the one-message-at-a-time
        // input loop. A queue beyond both means the UA sends but does not read: let it go.
        if (queue_.size() > options_->delivery.max_inflight + 64) {
            spdlog::info("c{}: websocket write queue full, closing", ctx_.id);
            return end();
        }
        queue_.push_back(std::move(frame));
        if (writing_ == 0) do_write();
    }

    void do_write() {
        std::vector<asio::const_buffer> buffers;
        buffers.reserve(queue_.size());
        for (const auto& frame : queue_) buffers.emplace_back(asio::buffer(frame));
        writing_ = queue_.size();
        asio::async_write(stream_, buffers,
                          guarded([self = this->shared_from_this()](
                                      beast::error_code ec, std::size_t) { self->on_write(ec); }));
    }

    void on_write(beast::error_code ec) {
        for (; writing_ > 0; --writing_) queue_.pop_front();
        if (ec) return end();
        if (!queue_.empty()) return do_write();
        if (!close_sent_) return;
        // Our close frame is out: end now if the peer closed too, else give it a moment to
        // answer with its close (RFC 6455 §7.1.1). A peer that broke the framing gets a FIN
        // after the close frame and its input is drained, so the close frame is not lost to
        // a reset caused by unread input.
        if (peer_closed_) return end();
        if (broken_) {
            beast::error_code ec;
            lowest_socket().shutdown(Socket::shutdown_send, ec);
        }
        do_read();  // the deadline armed by close_with() still runs
    }

    // --- closing ---

    // Sends a close frame after the frames already queued (replies before the close).
    void close_with(std::uint16_t code, std::string_view reason) {
        if (ended_ || close_sent_) return;
        spdlog::debug("c{}: websocket close {} ({})", ctx_.id, code, reason);
        queue_.push_back(ws::encode_close(code, reason));
        close_sent_ = true;
        // One deadline for writing the close (behind whatever is queued; a peer that stops
        // reading stalls it) and for the peer's answer.
        arm_timer(milliseconds(ctx_.limits.read_timeout_ms));
        if (writing_ == 0) do_write();
    }

    void end() {
        if (ended_) return;
        ended_ = true;
        timer_.cancel();
        beast::error_code ec;
        auto& socket = lowest_socket();
        socket.shutdown(Socket::shutdown_both, ec);
        socket.close(ec);
    }

    Socket& lowest_socket() {
        if constexpr (kPlain) {
            return stream_;
        } else {
            return beast::get_lowest_layer(stream_).socket();
        }
    }

    // --- the timer ---

    milliseconds idle_check_interval() const {
        return milliseconds(std::max<std::uint64_t>(options_->delivery.ws_idle_timeout_ms / 2, 1));
    }

    void arm_timer(milliseconds after) {
        timer_.expires_after(after);
        timer_.async_wait(guarded([weak = this->weak_from_this()](beast::error_code ec) {
            auto self = weak.lock();
            if (!ec && self) self->on_timer();
        }));
    }

    void on_timer() {
        if (ended_) return;
        if (close_sent_) return end();  // the peer did not finish the closing handshake
        if (uaid_.empty())
            return close_with(ws::kPolicy, "hello timeout");  // still waiting for the hello
        // Idle: ping once after half the timeout of silence, end after all of it.
        auto silent = Clock::now() - last_rx_;
        if (silent >= milliseconds(options_->delivery.ws_idle_timeout_ms)) {
            spdlog::debug("c{}: websocket idle timeout", ctx_.id);
            return end();
        }
        if (silent >= idle_check_interval() && !ping_sent_) {
            ping_sent_ = true;
            send(ws::encode_frame(ws::Opcode::ping, ""));
        }
        arm_timer(idle_check_interval());
    }

    Stream stream_;
    std::shared_ptr<const WsOptions> options_;
    net::SessionContext ctx_;
    // Touched by one event at a time: on the socket's strand, or on the store executor while
    // channel_busy_ (the posts in between order the two).
    webpush::UaChannel channel_;
    // This session's work on the store executor in order, channel events and Forgets, once it
    // has handed over a Forget (forget()); on the socket's strand only. Behind a pointer: an
    // idle session holds 8 bytes, not the strand's executor.
    std::unique_ptr<asio::strand<asio::any_io_executor>> store_strand_;
    asio::steady_timer timer_;
    ws::FrameReader reader_;
    std::string inbox_;  // received bytes not yet handled; empty (no heap) when idle
    net::BufferBudget::Charge charge_{net::buffer_budget()};
    std::size_t consumed_ = 0;
    // std::list, not std::deque: an empty libstdc++ deque still holds a 512-byte block.
    std::list<std::string> queue_;  // encoded frames; the first `writing_` are being written
    std::size_t writing_ = 0;
    std::string uaid_;  // set once identified and attached to the hub
    Clock::time_point last_rx_;
    bool reading_ = false;
    std::list<ChannelEvent> events_;  // waiting for the channel, in order
    bool busy_ = false;               // a text message is with the channel
    bool channel_busy_ = false;       // an event runs on the store executor
    bool pumping_ = false;            // pump_channel's loop is on the stack
    bool in_inbox_ = false;           // process_inbox's loop is on the stack
    bool ping_sent_ = false;          // since the last received bytes
    bool close_sent_ = false;         // our close frame is queued or out
    bool peer_closed_ = false;        // the peer's close frame arrived
    bool broken_ = false;             // the peer broke the framing
    bool ended_ = false;              // the socket is closed
};

// Takes over `GET /` with a valid RFC 6455 handshake; anything else stays with the HTTP/1.1
// session (whose handler answers a malformed handshake on `/` with a JSON 400).
template <class Stream>
bool take_over(const std::shared_ptr<const WsOptions>& options, BeastRequest& req, Stream& stream,
               beast::flat_buffer& buffer, const net::SessionContext& ctx) {
    // Firefox connects to the path of dom.push.serverURL, "/" in every deployment we know.
    if (req.target() != "/") return false;
    auto response = ws::accept_response(req, offers_subprotocol(req) ? kSubprotocol : "");
    if (!response) return false;
    std::string early = beast::buffers_to_string(buffer.data());
    buffer.consume(buffer.size());
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
        auto session = std::make_shared<WsSession<Socket>>(stream.release_socket(), options, ctx);
        session->start(std::move(*response), std::move(early));
    } else {
        auto session = std::make_shared<WsSession<Stream>>(std::move(stream), options, ctx);
        session->start(std::move(*response), std::move(early));
    }
    return true;
}

}  // namespace pushsvc::http1::detail
