#pragma once
// Listener: one bound TCP acceptor and its accept loop. Each accepted socket gets its own
// strand (make_strand) and is passed to `on_accept`, which runs on the acceptor's completion
// and must not block. All methods are thread-safe (a mutex guards the acceptor); stop() is
// synchronous: once it returns, new connections are refused by the kernel.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "pushsvc/base/result.h"
#include "pushsvc/net/admission.h"

namespace pushsvc::net {

class Listener : public std::enable_shared_from_this<Listener> {
  public:
    using OnAccept = std::function<void(boost::asio::ip::tcp::socket)>;

    // Binds and listens (SO_REUSEADDR; with `reuse_port` also SO_REUSEPORT, so that other
    // processes' listeners with it may bind the same address and the kernel spreads new
    // connections over them). Errors: address in use, permission denied, ...
    static result<std::shared_ptr<Listener>> open(boost::asio::io_context& ioc,
                                                  const boost::asio::ip::tcp::endpoint& ep,
                                                  OnAccept on_accept, bool reuse_port = false);

    Listener(boost::asio::io_context& ioc, OnAccept on_accept);

    void start();
    void stop();
    // The bound address (the real port when 0 was asked for).
    boost::asio::ip::tcp::endpoint local_endpoint() const { return endpoint_; }

  private:
    void do_accept();  // with mutex_ held
    void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
    template <class F>
    auto guarded(F f);  // the failure boundary of the accept loop's handlers

    boost::asio::io_context& ioc_;
    OnAccept on_accept_;
    std::mutex mutex_;
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::steady_timer retry_;
    boost::asio::ip::tcp::endpoint endpoint_;
    bool stopped_ = false;
    // Current pause after accept errors (0: none); see listener.cc. Under mutex_.
    std::chrono::milliseconds pause_{};
    // One line per 10 s for accept errors, with how many there were.
    RateLimitedLog error_log_{std::chrono::seconds(10)};
};

// TCP keepalive on an accepted socket: a peer that vanished without FIN or RST (host gone,
// NAT mapping dropped) is found by the kernel within kKeepaliveIdle + kKeepaliveCount *
// kKeepaliveInterval seconds (~2 minutes) even when no protocol-level check runs (HTTP/1.1,
// WebSocket between pings, a write stalled on a full window). Best effort: errors ignored.
inline constexpr int kKeepaliveIdle = 60;      // s of silence before the first probe
inline constexpr int kKeepaliveInterval = 10;  // s between unanswered probes
inline constexpr int kKeepaliveCount = 6;      // unanswered probes before the reset
void enable_keepalive(boost::asio::ip::tcp::socket& socket);

// Parses "host:port" / "[v6]:port"; an empty host or "*" means all IPv4 interfaces. Host
// names are resolved (startup only, blocking).
result<boost::asio::ip::tcp::endpoint> parse_listen_address(const std::string& text);

}  // namespace pushsvc::net
