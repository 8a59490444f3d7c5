#include "pushsvc/net/listener.h"

#include <boost/asio/strand.hpp>

#include <charconv>
#include <chrono>

#include "pushsvc/base/guard.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::net {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
// Back-off after an accept error such as EMFILE, so the loop does not spin.
constexpr auto kAcceptRetry = std::chrono::milliseconds(50);
}  // namespace

Listener::Listener(asio::io_context& ioc, OnAccept on_accept)
    : ioc_(ioc),
      on_accept_(std::move(on_accept)),
      acceptor_(asio::make_strand(ioc)),
      retry_(acceptor_.get_executor()) {}

result<std::shared_ptr<Listener>> Listener::open(asio::io_context& ioc, const tcp::endpoint& ep,
                                                 OnAccept on_accept) {
    auto l = std::make_shared<Listener>(ioc, std::move(on_accept));
    boost::system::error_code ec;
    l->acceptor_.open(ep.protocol(), ec);
    if (!ec) l->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
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
        obs::catalog().accepted.inc();
        // Responses and HTTP/2 frames are written whole; Nagle would hold a small write
        // (a 201, a WINDOW_UPDATE) until the peer's delayed ACK, ~40 ms on Linux, which
        // made pipelined HTTP/2 pushes latency-bound.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        on_accept_(std::move(socket));
        return do_accept();
    }
    if (ec == asio::error::operation_aborted) return;
    SPDLOG_WARN("accept on {}:{} failed: {}", endpoint_.address().to_string(), endpoint_.port(),
                ec.message());
    retry_.expires_after(kAcceptRetry);
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
