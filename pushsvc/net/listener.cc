#include "pushsvc/net/listener.h"

#include <boost/asio/strand.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <charconv>
#include <chrono>

#include "pushsvc/base/guard.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// Pause after an accept error. Out of descriptors (EMFILE/ENFILE) or memory, retrying at
// once would fail again at once: the loop would spin and, logging each failure, wrote ~1.7M
// lines a day. The pause starts at kAcceptPauseMin and doubles while failures go on, up to
// kAcceptPauseMax; a successful accept resets it. Meanwhile new connections wait in the
// kernel's backlog.
constexpr auto kAcceptPauseMin = std::chrono::milliseconds(100);
constexpr auto kAcceptPauseMax = std::chrono::milliseconds(1600);

// Errors about one connection that the peer ended before we took it: accept the next at once.
bool peer_error(const boost::system::error_code& ec) {
    return ec == asio::error::connection_aborted || ec == asio::error::connection_reset ||
           ec == asio::error::try_again;
}
}  // namespace

void enable_keepalive(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
    // The kernel default waits 2 hours before the first probe: far too long for a service
    // whose connections may sit idle behind NATs that forget them after ~5 minutes.
    using Idle = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPIDLE>;
    using Interval = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPINTVL>;
    using Count = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPCNT>;
    socket.set_option(Idle(kKeepaliveIdle), ignored);
    socket.set_option(Interval(kKeepaliveInterval), ignored);
    socket.set_option(Count(kKeepaliveCount), ignored);
#endif
}

Listener::Listener(asio::io_context& ioc, OnAccept on_accept)
    : ioc_(ioc),
      on_accept_(std::move(on_accept)),
      acceptor_(asio::make_strand(ioc)),
      retry_(acceptor_.get_executor()) {}

result<std::shared_ptr<Listener>> Listener::open(asio::io_context& ioc, const tcp::endpoint& ep,
                                                 OnAccept on_accept, bool reuse_port) {
    auto l = std::make_shared<Listener>(ioc, std::move(on_accept));
    boost::system::error_code ec;
    l->acceptor_.open(ep.protocol(), ec);
    if (!ec) l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && reuse_port) {
        l->acceptor_.set_option(
            asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
    }
    if (!ec) l->acceptor_.bind(ep, ec);
    if (!ec) l->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) l->endpoint_ = l->acceptor_.local_endpoint(ec);
    if (ec) return ec;
    return l;
}

void Listener::start() {
    std::lock_guard lock(mutex_);
    do_accept();
}

void Listener::stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    retry_.cancel();
}

// The boundary of the accept loop's handlers: an exception while setting up one connection
// (its socket closes as it unwinds) is logged and accepting goes on, since nothing else would
// restart the loop.
template <class F>
auto Listener::guarded(F f) {
    return base::guard(std::move(f), [weak = weak_from_this()](const std::string& what) {
        auto self = weak.lock();
        if (!self) return;
        SPDLOG_ERROR("accept on {}:{}: handler failed, accepting on: {}",
                     self->endpoint_.address().to_string(), self->endpoint_.port(), what);
        std::lock_guard lock(self->mutex_);
        self->do_accept();
    });
}

void Listener::do_accept() {
    if (stopped_) return;
    acceptor_.async_accept(
        asio::make_strand(ioc_),
        guarded([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket));
        }));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
    // The callback runs under the mutex, so a connection accepted just before stop() is
    // registered before stop() returns (and is seen by the drain that follows).
    std::lock_guard lock(mutex_);
    if (stopped_) return;  // the socket closes here
    if (!ec) {
        pause_ = {};
        obs::catalog().accepted.inc();
        // Responses and HTTP/2 frames are written whole; Nagle would hold a small write
        // (a 201, a WINDOW_UPDATE) until the peer's delayed ACK, ~40 ms on Linux, which
        // made pipelined HTTP/2 pushes latency-bound.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        enable_keepalive(socket);
        on_accept_(std::move(socket));
        return do_accept();
    }
    if (ec == asio::error::operation_aborted) return;
    obs::catalog().accept_errors.inc();
    const bool per_connection = peer_error(ec);
    if (const auto n = error_log_.record()) {
        SPDLOG_WARN("accept on {}:{} failed {} time(s) since the last report, latest: {}{}",
                    endpoint_.address().to_string(), endpoint_.port(), n, ec.message(),
                    per_connection ? ""
                                   : "; pausing accepts (limits.max_connections too high "
                                     "for the open files limit?)");
    }
    if (per_connection) return do_accept();
    pause_ = pause_ == decltype(pause_){} ? kAcceptPauseMin : std::min(pause_ * 2, kAcceptPauseMax);
    retry_.expires_after(pause_);
    retry_.async_wait(guarded([self = shared_from_this()](boost::system::error_code wec) {
        if (wec) return;
        std::lock_guard lock(self->mutex_);
        self->do_accept();
    }));
}

result<tcp::endpoint> parse_listen_address(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
        return make_error_code(boost::system::errc::invalid_argument);
    }
    std::string host = text.substr(0, colon);
    const std::string port_text = text.substr(colon + 1);
    unsigned short port = 0;
    auto [p, pec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (pec != std::errc() || p != port_text.data() + port_text.size()) {
        return make_error_code(boost::system::errc::invalid_argument);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty() || host == "*") return tcp::endpoint(tcp::v4(), port);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (!ec) return tcp::endpoint(addr, port);
    asio::io_context tmp;
    tcp::resolver resolver(tmp);
    auto results = resolver.resolve(host, port_text, ec);
    if (ec) return ec;
    if (results.empty()) return make_error_code(boost::system::errc::address_not_available);
    return results.begin()->endpoint();
}

}  // namespace pushsvc::net
