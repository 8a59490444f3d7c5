#pragma once
// The WebSocket session template behind make_ws_upgrade_handler() (ws_session.h), in a header
// of its own so tests can run it over an in-memory beast::test::stream. Not for other users.

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <list>

#include "pushsvc/http1/ws_session.h"
#include "pushsvc/obs/metrics.h"
#include "pushsvc/webpush/ua_channel.h"

namespace pushsvc::http1::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using std::chrono::milliseconds;

constexpr std::string_view kSubprotocol = "push-notification";
constexpr std::size_t kMaxFrameBytes = 16 * 1024;

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
  public:
    WsSession(Stream&& stream, const WsOptions& options, const net::SessionContext& ctx)
        : ws_(std::move(stream)),
          options_(options),
          ctx_(ctx),
          channel_(*options.backend,
                   webpush::ChannelOptions{options.delivery.max_inflight,
                                           options.delivery.max_subscriptions_per_ua}),
          channel_ex_(options.channel_executor
                          ? asio::any_io_executor(asio::make_strand(*options.channel_executor))
                          : asio::any_io_executor(ws_.get_executor())),
          hello_timer_(ws_.get_executor()) {}

    ~WsSession() override {
        ctx_.registry->remove(this);
        if (!uaid_.empty()) options_.hub->detach(uaid_, this);
        obs::counter("pushsvc_ws_sessions_closed_total").inc();
    }

    void start(BeastRequest req, beast::flat_buffer&& buffer) {
        buffer_ = std::move(buffer);
        ctx_.registry->add(this, this->weak_from_this());
        // WebSocket timeouts below replace the TCP stream's own (tests use a stream without).
        if constexpr (requires { beast::get_lowest_layer(ws_).expires_never(); })
            beast::get_lowest_layer(ws_).expires_never();
        websocket::stream_base::timeout timeout{};
        timeout.handshake_timeout = milliseconds(ctx_.limits.read_timeout_ms);
        timeout.idle_timeout = milliseconds(options_.delivery.ws_idle_timeout_ms);
        timeout.keep_alive_pings = true;
        ws_.set_option(timeout);
        ws_.read_message_max(kMaxFrameBytes);
        bool select = offers_subprotocol(req);
        ws_.set_option(websocket::stream_base::decorator([select](websocket::response_type& res) {
            res.set(beast::http::field::server, net::kServerName);
            if (select) res.set(beast::http::field::sec_websocket_protocol, kSubprotocol);
        }));
        req_ = std::move(req);
        ws_.async_accept(
            req_, beast::bind_front_handler(&WsSession::on_accept, this->shared_from_this()));
    }

    // net::Connection. Draining tells Firefox "going away"; it reconnects elsewhere or later.
    void drain() override {
        asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            self->close_with(websocket::close_code::going_away, "server shutting down");
        });
    }
    void close() override {
        asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            auto& lowest = beast::get_lowest_layer(self->ws_);
            if constexpr (requires { lowest.socket(); }) {
                beast::error_code ec;
                lowest.socket().close(ec);
            } else {
                lowest.close();
            }
        });
    }

    // delivery::Target
    void wake(std::shared_ptr<const store::MessageRecord> direct) override {
        run_channel([direct = std::move(direct)](webpush::UaChannel& ch) {
            return direct ? ch.on_direct(*direct) : ch.on_stored();
        });
    }
    void acked(std::string message_id) override {
        run_channel(
            [id = std::move(message_id)](webpush::UaChannel& ch) { return ch.on_acked(id); });
    }
    // A WebSocket UA removes its own subscriptions (unregister); nothing to do here.
    void removed(std::string) override {}
    void replaced() override {
        asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
            self->uaid_.clear();  // the hub entry belongs to the newer session now
            self->close_with(websocket::close_code::normal, "replaced by a newer connection");
        });
    }

  private:
    using Actions = std::vector<webpush::channel::Action>;

    void on_accept(beast::error_code ec) {
        if (ec) {
            spdlog::debug("c{}: websocket handshake failed: {}", ctx_.id, ec.message());
            return;  // the session ends here
        }
        spdlog::debug("c{}: websocket connected from {}", ctx_.id, ctx_.peer);
        req_ = {};  // the upgrade request is only needed by the handshake
        obs::counter("pushsvc_ws_sessions_total").inc();
        hello_timer_.expires_after(milliseconds(options_.delivery.hello_timeout_ms));
        hello_timer_.async_wait([weak = this->weak_from_this()](beast::error_code ec) {
            auto self = weak.lock();
            if (ec || !self || !self->uaid_.empty()) return;
            self->close_with(websocket::close_code::policy_error, "hello timeout");
        });
        do_read();
    }

    void do_read() {
        if (closing_) return;
        ws_.async_read(buffer_,
                       beast::bind_front_handler(&WsSession::on_read, this->shared_from_this()));
    }

    void on_read(beast::error_code ec, std::size_t) {
        if (ec) {
            hello_timer_.cancel();
            spdlog::debug("c{}: websocket ended: {}", ctx_.id, ec.message());
            return;  // closed, timed out, or a protocol error: the session ends
        }
        if (!ws_.got_text()) {
            close_with(websocket::close_code::bad_payload, "text frames only");
            return;
        }
        std::string frame = beast::buffers_to_string(buffer_.data());
        buffer_.consume(buffer_.size());
        // An idle UA should hold no read buffer (the HTTP/1.1 one moved in here, and
        // a frame may have grown it): one allocation per frame is cheaper than 5 KiB held.
        buffer_.shrink_to_fit();
        // The next read starts once this frame's actions are performed (see header).
        run_channel(
            [frame = std::move(frame)](webpush::UaChannel& ch) { return ch.on_text(frame); }, true);
    }

    // Runs a channel event on the channel executor, then performs its actions on the socket
    // strand (and reads on, for frames from the UA).
    template <class Event>
    void run_channel(Event event, bool then_read = false) {
        asio::post(channel_ex_, [self = this->shared_from_this(), event = std::move(event),
                                 then_read]() mutable {
            Actions actions = event(self->channel_);
            asio::post(self->ws_.get_executor(),
                       [self, actions = std::move(actions), then_read]() mutable {
                           self->perform(actions);
                           if (then_read) self->do_read();
                       });
        });
    }

    void perform(Actions& actions) {
        for (auto& action : actions) {
            if (auto* send = std::get_if<webpush::channel::Send>(&action)) {
                enqueue(std::move(send->text));
            } else if (auto* id = std::get_if<webpush::channel::Identified>(&action)) {
                uaid_ = id->uaid;
                hello_timer_.cancel();
                spdlog::debug("c{}: hello, uaid {}...", ctx_.id,
                              webpush::UaChannel::uaid_to_wire(uaid_).substr(0, 8));
                options_.hub->attach(uaid_, this->shared_from_this());
            } else if (auto* close = std::get_if<webpush::channel::Close>(&action)) {
                close_with(close->code, close->reason);
            }
        }
    }

    void enqueue(std::string text) {
        if (closing_) return;
        // Notifications are bounded by max_inflight; replies by the one-frame-at-a-time read
        // loop. A queue beyond both means the UA sends but does not read: let it go.
        if (queue_.size() > options_.delivery.max_inflight + 64) {
            spdlog::info("c{}: websocket write queue full, closing", ctx_.id);
            close();
            return;
        }
        queue_.push_back(std::move(text));
        if (queue_.size() == 1) do_write();
    }

    void do_write() {
        ws_.text(true);
        ws_.async_write(asio::buffer(queue_.front()),
                        beast::bind_front_handler(&WsSession::on_write, this->shared_from_this()));
    }

    void on_write(beast::error_code ec, std::size_t) {
        if (ec) return;
        queue_.pop_front();
        if (!queue_.empty()) {
            do_write();
        } else if (close_pending_) {
            start_close();
        }
    }

    // Closes after the frames already queued are written (replies before the close).
    void close_with(websocket::close_code code, std::string_view reason) {
        close_with(static_cast<std::uint16_t>(code), reason);
    }
    void close_with(std::uint16_t code, std::string_view reason) {
        if (closing_ || close_pending_) return;
        close_reason_.code = code;
        reason = reason.substr(0, close_reason_.reason.max_size());
        close_reason_.reason.assign(reason.data(), reason.size());
        close_pending_ = true;
        if (queue_.empty()) start_close();
    }
    void start_close() {
        closing_ = true;
        spdlog::debug("c{}: websocket close {} ({})", ctx_.id, close_reason_.code,
                      std::string_view(close_reason_.reason.data(), close_reason_.reason.size()));
        hello_timer_.cancel();
        ws_.async_close(close_reason_, [self = this->shared_from_this()](beast::error_code) {});
    }

    websocket::stream<Stream> ws_;
    WsOptions options_;
    net::SessionContext ctx_;
    webpush::UaChannel channel_;  // touched only on channel_ex_
    asio::any_io_executor channel_ex_;
    asio::steady_timer hello_timer_;
    BeastRequest req_;
    beast::flat_buffer buffer_;
    // std::list, not std::deque: an empty libstdc++ deque still holds a 512-byte block.
    std::list<std::string> queue_;
    std::string uaid_;  // set once identified and attached to the hub
    websocket::close_reason close_reason_;
    bool close_pending_ = false;
    bool closing_ = false;
};

template <class Stream>
bool take_over(const WsOptions& options, BeastRequest& req, Stream& stream,
               beast::flat_buffer& buffer, const net::SessionContext& ctx) {
    // Firefox connects to the path of dom.push.serverURL, "/" in every deployment we know.
    if (req.target() != "/") return false;
    auto session = std::make_shared<WsSession<Stream>>(std::move(stream), options, ctx);
    session->start(std::move(req), std::move(buffer));
    return true;
}

}  // namespace pushsvc::http1::detail
