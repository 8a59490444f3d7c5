#include "pushsvc/cluster/peer_client.h"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <deque>
#include <optional>
#include <vector>

#include "pushsvc/obs/catalog.h"

namespace pushsvc::cluster {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// A kept connection idle longer than this is replaced rather than reused: the peer's
// limits.idle_timeout_ms (120 s by default) may have closed it already.
constexpr std::chrono::seconds kIdleReuse{30};

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "http://host:port" -> host (IPv6 without brackets) and port; false when it is not that.
bool split_address(const std::string& address, std::string& host, std::string& port) {
    constexpr std::string_view kScheme = "http://";
    if (address.rfind(kScheme, 0) != 0) return false;
    std::string_view rest = std::string_view(address).substr(kScheme.size());
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) return false;
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (port.size() > 5) return false;
    for (char c : port)
        if (c < '0' || c > '9') return false;
    return std::stoi(port) <= 65535;
}

// Logs a failure at most every 10 s per peer, so a dead node does not flood the log.
struct LogLimit {
    Clock::time_point last{};
    bool allow() {
        auto now = Clock::now();
        if (last != Clock::time_point{} && now - last < std::chrono::seconds(10)) return false;
        last = now;
        return true;
    }
};

}  // namespace

struct PeerClient::Context {
    PeerOptions options;
    Stale stale;
};

// One node: its waiting events, its connection, on its own strand.
class PeerClient::Peer : public std::enable_shared_from_this<Peer> {
  public:
    Peer(asio::io_context& ioc, std::shared_ptr<const Context> ctx, std::string host,
         std::string port, std::string node_id)
        : strand_(asio::make_strand(ioc)),
          resolver_(strand_),
          timer_(strand_),
          ctx_(std::move(ctx)),
          host_(std::move(host)),
          port_(std::move(port)),
          node_id_(std::move(node_id)) {}

    void add(Event event, std::uint64_t version) {
        asio::post(strand_, [self = shared_from_this(), event = std::move(event), version]() {
            self->enqueue({std::move(event), version});
        });
    }

    void stop() {
        asio::post(strand_, [self = shared_from_this()] {
            self->stopped_ = true;
            self->waiting_.clear();
            self->resolver_.cancel();
            self->timer_.cancel();
            self->close();
        });
    }

  private:
    struct Waiting {
        Event event;
        std::uint64_t version = 0;
    };

    const PeerOptions& opts() const { return ctx_->options; }

    void enqueue(Waiting w) {
        if (stopped_) return;
        if (waiting_.size() >= opts().max_waiting) {
            obs::catalog().cluster_failed(obs::ClusterFailure::overflow).inc();
            if (log_.allow())
                spdlog::warn("cluster: {} events wait for node {}: dropping new ones",
                             waiting_.size(), node_id_);
            return;
        }
        waiting_.push_back(std::move(w));
        if (!busy_) next();
    }

    // Starts the next batch, if any.
    void next() {
        busy_ = false;
        batch_.clear();
        if (stopped_ || waiting_.empty()) return;
        busy_ = true;
        const bool down = Clock::now() < down_until_;
        Notification n{.to = node_id_, .from = opts().node_id, .events = {}};
        while (!waiting_.empty() && (down || batch_.size() < opts().max_batch)) {
            n.events.push_back(waiting_.front().event);
            batch_.push_back(std::move(waiting_.front()));
            waiting_.pop_front();
        }
        if (down) return give_up(obs::ClusterFailure::unreachable);  // fail fast meanwhile
        body_ = encode(n);
        attempt_ = 0;
        retried_reused_ = false;
        send_batch();
    }

    void send_batch() {
        req_ = {bhttp::verb::post, std::string(kNotifyPath), 11};
        req_.set(bhttp::field::host, host_ + ":" + port_);
        req_.set(bhttp::field::content_type, "application/json");
        req_.set(bhttp::field::authorization,
                 sign(ctx_->options.secret, wall_ms(), "POST", kNotifyPath, body_));
        req_.keep_alive(true);
        req_.body() = body_;
        req_.prepare_payload();
        if (stream_ && Clock::now() - last_used_ > kIdleReuse) close();
        if (stream_) return write(true);
        connect();
    }

    void connect() {
        boost::system::error_code ec;
        auto ip = asio::ip::make_address(host_, ec);
        if (!ec) {
            const auto port = static_cast<unsigned short>(std::stoi(port_));
            return connect_to({tcp::endpoint(ip, port)});
        }
        // A name: resolve within connect_timeout (getaddrinfo itself has no deadline).
        timer_.expires_after(opts().connect_timeout);
        timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
            if (!e) self->resolver_.cancel();
        });
        resolver_.async_resolve(host_, port_,
                                [self = shared_from_this()](boost::system::error_code e,
                                                            tcp::resolver::results_type results) {
                                    self->timer_.cancel();
                                    if (self->stopped_) return;
                                    if (e) return self->failed(false, e.message());
                                    self->connect_to({results.begin(), results.end()});
                                });
    }

    void connect_to(std::vector<tcp::endpoint> endpoints) {
        if (stopped_) return;
        stream_.emplace(strand_);
        stream_->expires_after(opts().connect_timeout);
        stream_->async_connect(endpoints, [self = shared_from_this()](boost::system::error_code e,
                                                                      const tcp::endpoint&) {
            if (self->stopped_) return;  // stop() closed the stream meanwhile
            if (e) return self->failed(false, "connect: " + e.message());
            self->stream_->socket().set_option(tcp::no_delay(true));
            self->write(false);
        });
    }

    void write(bool reused) {
        stream_->expires_after(opts().request_timeout);
        bhttp::async_write(
            *stream_, req_,
            [self = shared_from_this(), reused](boost::system::error_code e, std::size_t) {
                if (self->stopped_) return;
                if (e) return self->failed(reused, "write: " + e.message());
                self->read(reused);
            });
    }

    void read(bool reused) {
        res_ = {};
        buffer_.clear();
        bhttp::async_read(
            *stream_, buffer_, res_,
            [self = shared_from_this(), reused](boost::system::error_code e, std::size_t) {
                if (self->stopped_) return;
                if (e) return self->failed(reused, "read: " + e.message());
                self->on_response();
            });
    }

    void on_response() {
        last_used_ = Clock::now();
        if (!res_.keep_alive()) close();
        const int status = static_cast<int>(res_.result_int());
        if (status == 200) {
            auto absent = decode_absent(res_.body(), batch_.size());
            if (!absent) {
                if (log_.allow()) spdlog::error("cluster: node {} answered garbage", node_id_);
                return give_up(obs::ClusterFailure::rejected);
            }
            obs::catalog().cluster_sent.inc(batch_.size());
            for (auto i : *absent) ctx_->stale(batch_[i].event.uaid, batch_[i].version);
            down_until_ = {};
            return next();
        }
        if (status >= 400 && status < 500) {
            // Not a passing fault: another cluster.secret, a clock far off, a bug. Retrying
            // cannot help, and the route may well be right: leave it.
            if (log_.allow())
                spdlog::error("cluster: node {} refused a notification: {} {}", node_id_, status,
                              res_.body().substr(0, 200));
            return give_up(obs::ClusterFailure::rejected);
        }
        failed(false, "status " + std::to_string(status));
    }

    void failed(bool reused, const std::string& why) {
        close();
        if (stopped_) return;
        // A kept connection the peer closed meanwhile: once, at once, on a fresh one.
        if (reused && !retried_reused_) {
            retried_reused_ = true;
            return send_batch();
        }
        if (++attempt_ < opts().attempts) {
            timer_.expires_after(std::chrono::milliseconds(50) * (1 << (attempt_ - 1)));
            timer_.async_wait([self = shared_from_this()](boost::system::error_code e) {
                if (!e && !self->stopped_) self->send_batch();
            });
            return;
        }
        if (log_.allow())
            spdlog::warn("cluster: node {} at {}:{} unreachable ({})", node_id_, host_, port_, why);
        down_until_ = Clock::now() + kDownFor;
        give_up(obs::ClusterFailure::unreachable);
    }

    // The batch is lost for live delivery. The routes stay, even for an unreachable node: a
    // node that is only cut off or stalled for a few seconds still holds its browsers, and
    // nothing would write their routes again while they stay connected. A dead node's
    // browsers reconnect elsewhere and replace them; one that restarts under its node_id
    // answers "not held here", and that clears them.
    void give_up(obs::ClusterFailure why) {
        obs::catalog().cluster_failed(why).inc(batch_.size());
        next();
    }

    void close() {
        if (!stream_) return;
        boost::system::error_code ignored;
        stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_->close();
        stream_.reset();
    }

    asio::strand<asio::io_context::executor_type> strand_;
    tcp::resolver resolver_;
    asio::steady_timer timer_;
    std::shared_ptr<const Context> ctx_;
    const std::string host_, port_, node_id_;

    std::deque<Waiting> waiting_;
    std::vector<Waiting> batch_;  // in flight
    std::string body_;
    bool busy_ = false;
    bool stopped_ = false;
    int attempt_ = 0;
    bool retried_reused_ = false;
    Clock::time_point down_until_{};
    Clock::time_point last_used_{};
    LogLimit log_;

    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    bhttp::request<bhttp::string_body> req_;
    bhttp::response<bhttp::string_body> res_;
};

PeerClient::PeerClient(asio::io_context& ioc, PeerOptions options, Stale stale)
    : ioc_(ioc),
      context_(std::make_shared<Context>(Context{std::move(options), std::move(stale)})) {}

PeerClient::~PeerClient() { stop(); }

void PeerClient::send(const std::string& address, const std::string& node_id, Event event,
                      std::uint64_t version) {
    std::shared_ptr<Peer> peer;
    {
        std::lock_guard lk(mu_);
        if (stopped_) return;
        const std::string key = address + '\n' + node_id;
        auto it = peers_.find(key);
        if (it == peers_.end()) {
            std::string host, port;
            if (!split_address(address, host, port)) {
                // Not written by any pushsvc (config validation checks cluster.advertise).
                obs::catalog().cluster_failed(obs::ClusterFailure::unreachable).inc();
                context_->stale(event.uaid, version);
                return;
            }
            it = peers_.emplace(key, std::make_shared<Peer>(ioc_, context_, host, port, node_id))
                     .first;
        }
        peer = it->second;
    }
    peer->add(std::move(event), version);
}

void PeerClient::stop() {
    std::unordered_map<std::string, std::shared_ptr<Peer>> peers;
    {
        std::lock_guard lk(mu_);
        stopped_ = true;
        peers.swap(peers_);
    }
    for (auto& [key, peer] : peers) peer->stop();
}

}  // namespace pushsvc::cluster
