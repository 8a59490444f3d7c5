#include "tools/bench/loadgen/ws_swarm.h"

#include <netinet/in.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <deque>
#include <future>

namespace loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
namespace wc = webpush_client;

struct Swarm::Impl {
    asio::io_context ioc{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
    std::thread thread;
    std::vector<HostPort> targets;  // urls (or url alone); a record's node picks one
    bool tls = false;  // wss:// (the server's certificate is not verified: a benchmark)
    asio::ssl::context tls_ctx{asio::ssl::context::tls_client};
    std::vector<std::shared_ptr<Ua>> uas;  // touched on the swarm thread only
    std::vector<UaRecord>* records = nullptr;
    std::size_t next = 0, in_flight = 0, source = 0;
};

class Swarm::Ua {
  public:
    virtual ~Ua() = default;
    virtual void start(const asio::ip::address& source) = 0;
    virtual void close() = 0;
};

// Next: tcp::socket (ws://) or beast::ssl_stream<tcp::socket> (wss://).
template <class Next>
class Swarm::UaOver final : public Ua, public std::enable_shared_from_this<UaOver<Next>> {
    static constexpr bool kTls = !std::is_same_v<Next, tcp::socket>;

  public:
    // done: set for a reconnection (Swarm::reconnect), which is not counted in ready/failed.
    UaOver(Swarm& swarm, UaRecord& record, std::function<void(bool)> done = {})
        : swarm_(swarm),
          record_(record),
          ws_(make_ws(swarm)),
          timer_(swarm.impl_->ioc),
          on_done_(std::move(done)) {}

    void start(const asio::ip::address& source) override {
        auto& sock = beast::get_lowest_layer(ws_);
        beast::error_code ec;
        sock.open(tcp::v4(), ec);
        // Choose the port at connect time (per destination), not at bind time: otherwise
        // every source address would be limited to one ephemeral range for all targets.
        int one = 1;
        ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (!ec) sock.bind(tcp::endpoint(source, 0), ec);
        if (ec) return fail();
        record_.source = source.to_v4().to_uint();
        if (on_done_) {
            // A reconnection gives up after 10 s (a node that accepts but never answers).
            timer_.expires_after(std::chrono::seconds(10));
            timer_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
                if (!ec && !self->finished_) self->fail();
            });
        }
        const auto& t = target();
        tcp::endpoint ep(asio::ip::make_address(t.host), t.port);
        sock.async_connect(ep, [self = this->shared_from_this()](beast::error_code ec) {
            if (ec) return self->fail();
            if constexpr (kTls) {
                self->ws_.next_layer().async_handshake(asio::ssl::stream_base::client,
                                                       [self](beast::error_code ec) {
                                                           if (ec) return self->fail();
                                                           self->handshake();
                                                       });
            } else {
                self->handshake();
            }
        });
    }

    void close() override {
        closing_ = true;
        shut();
    }

  private:
    const HostPort& target() const {
        const auto& all = swarm_.impl_->targets;
        return all[record_.node % all.size()];
    }

    void shut() {
        beast::error_code ec;
        beast::get_lowest_layer(ws_).close(ec);
    }

    static websocket::stream<Next> make_ws(Swarm& swarm) {
        if constexpr (kTls) {
            return websocket::stream<Next>(swarm.impl_->ioc, swarm.impl_->tls_ctx);
        } else {
            return websocket::stream<Next>(swarm.impl_->ioc);
        }
    }

    void handshake() {
        ws_.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, wc::kPushSubprotocol);
        }));
        const auto& t = target();
        ws_.async_handshake(t.host + ":" + std::to_string(t.port), "/",
                            [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->fail();
                                self->ws_.text(true);
                                self->send(wc::make_hello(self->record_.uaid.empty()
                                                              ? std::nullopt
                                                              : std::optional(self->record_.uaid)));
                                self->read();
                            });
    }

    void read() {
        ws_.async_read(buffer_,
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                           if (ec) return self->fail();
                           std::string text = beast::buffers_to_string(self->buffer_.data());
                           self->buffer_.consume(self->buffer_.size());
                           self->on_text(text);
                           self->read();
                       });
    }

    void on_text(const std::string& text) {
        auto msg = wc::parse_server_message(text);
        if (!msg) return;
        if (auto* hello = std::get_if<wc::HelloReply>(&*msg)) {
            record_.uaid = hello->uaid;
            if (record_.channel.empty() && swarm_.options_.register_channel) {
                send(wc::make_register(wc::make_channel_id(),
                                       swarm_.options_.application_server_key));
            } else {
                done(true);
            }
        } else if (auto* reg = std::get_if<wc::RegisterReply>(&*msg)) {
            if (reg->status != 200) return fail();
            record_.channel = reg->channel_id;
            record_.endpoint = reg->push_endpoint;
            done(true);
        } else if (auto* note = std::get_if<wc::Notification>(&*msg)) {
            auto now = Clock::now();
            ++swarm_.notifications_;
            if (swarm_.on_notification_) swarm_.on_notification_(*note, now);
            if (swarm_.options_.ack) send(wc::make_ack({{note->channel_id, note->version, 100}}));
        }
    }

    void send(std::string text) {
        out_.push_back(std::move(text));
        if (out_.size() == 1) write_next();
    }

    void write_next() {
        ws_.async_write(asio::buffer(out_.front()),
                        [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->fail();
                            self->out_.pop_front();
                            if (!self->out_.empty()) self->write_next();
                        });
    }

    void fail() {
        // A ready user agent whose connection ends, not by drop_all(): the server dropped it.
        if (finished_ && ok_ && !closing_ && !dropped_) {
            dropped_ = true;
            if (swarm_.options_.on_drop) swarm_.options_.on_drop(record_);
        }
        shut();
        done(false);
    }

    // A user agent leaves the connect phase exactly once.
    void done(bool ok) {
        if (finished_) return;
        finished_ = true;
        ok_ = ok;
        timer_.cancel();
        if (on_done_) {
            auto cb = std::move(on_done_);
            cb(ok);
            return;
        }
        (ok ? swarm_.ready_ : swarm_.failed_)++;
        --swarm_.impl_->in_flight;
        swarm_.pump();
    }

    Swarm& swarm_;
    UaRecord& record_;
    websocket::stream<Next> ws_;
    beast::flat_buffer buffer_;
    std::deque<std::string> out_;
    asio::steady_timer timer_;
    std::function<void(bool)> on_done_;
    bool finished_ = false, ok_ = false, closing_ = false, dropped_ = false;
};

Swarm::Swarm(SwarmOptions options, OnNotification on_notification)
    : impl_(std::make_unique<Impl>()),
      options_(std::move(options)),
      on_notification_(std::move(on_notification)) {
    if (options_.urls.empty()) options_.urls.push_back(options_.url);
    for (const auto& u : options_.urls) impl_->targets.push_back(parse_origin(u));
    impl_->tls = options_.urls.front().rfind("wss://", 0) == 0;
    impl_->tls_ctx.set_verify_mode(asio::ssl::verify_none);
    impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

Swarm::~Swarm() {
    drop_all();
    impl_->work.reset();
    impl_->ioc.stop();
    impl_->thread.join();
}

void Swarm::pump() {
    auto& im = *impl_;
    while (im.records && im.next < im.records->size() &&
           im.in_flight < static_cast<std::size_t>(options_.connect_window)) {
        std::shared_ptr<Ua> ua;
        if (im.tls) {
            ua = std::make_shared<UaOver<beast::ssl_stream<tcp::socket>>>(*this,
                                                                          (*im.records)[im.next++]);
        } else {
            ua = std::make_shared<UaOver<tcp::socket>>(*this, (*im.records)[im.next++]);
        }
        im.uas.push_back(ua);
        ++im.in_flight;
        auto src = asio::ip::make_address_v4(
            0x7f000002u + static_cast<unsigned>(options_.source_base) +
            static_cast<unsigned>(im.source++ % std::max(1, options_.sources)));
        ua->start(src);
    }
}

std::size_t Swarm::connect(std::vector<UaRecord>& records, Clock::time_point deadline) {
    std::size_t before_ready = ready_, before_failed = failed_;
    asio::post(impl_->ioc, [this, &records] {
        impl_->records = &records;
        impl_->next = 0;
        pump();
    });
    while (ready_ + failed_ - before_ready - before_failed < records.size() &&
           Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::promise<void> stopped;
    asio::post(impl_->ioc, [this, &stopped] {
        impl_->records = nullptr;  // stop launching (deadline case)
        stopped.set_value();
    });
    stopped.get_future().wait();
    return ready_ - before_ready;
}

void Swarm::reconnect(UaRecord& record, std::function<void(bool ok)> done) {
    asio::post(impl_->ioc, [this, &record, done = std::move(done)]() mutable {
        std::shared_ptr<Ua> ua;
        if (impl_->tls) {
            ua = std::make_shared<UaOver<beast::ssl_stream<tcp::socket>>>(*this, record,
                                                                          std::move(done));
        } else {
            ua = std::make_shared<UaOver<tcp::socket>>(*this, record, std::move(done));
        }
        impl_->uas.push_back(ua);
        ua->start(asio::ip::make_address_v4(record.source));
    });
}

void Swarm::drop_all() {
    std::promise<void> done;
    asio::post(impl_->ioc, [this, &done] {
        for (auto& ua : impl_->uas) ua->close();
        impl_->uas.clear();
        done.set_value();
    });
    done.get_future().wait();
}

}  // namespace loadgen
