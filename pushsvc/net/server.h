#pragma once
// net::Server: the transport front door. Owns the listeners (cleartext HTTP/1.1 + h2c on
// server.listen, TLS with ALPN on server.tls_listen), the TLS context and the registry of live
// connections. Every accepted connection gets its own strand and, once its protocol is
// detected, is handed to the matching ProtocolHandler that app/ set (net/handoff.h): net/
// knows no protocol session and no application handler.
//
// Threads: the io_context may be run by any number of threads. All public methods are
// thread-safe. Lifecycle (see net/README.md): construct, start(), set_handlers(), run the
// io_context, ... , drain(done), destroy after done ran (or after the io_context stopped).

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>

#include "pushsvc/base/result.h"
#include "pushsvc/config/config.h"
#include "pushsvc/net/handoff.h"

namespace pushsvc::net {

class Listener;

class Server {
  public:
    Server(boost::asio::io_context& ioc, const config::Config& cfg);
    ~Server();  // stops listening; live connections finish on their own
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Who takes over a connection once its protocol is known. Connections accepted from then
    // on use `handlers` (a later call replaces them for later connections only). Until the
    // first call an accepted connection is closed at once; app/ sets the handlers after
    // start() (it needs the bound ports first) but before it runs the io_context, so no
    // connection is accepted before that.
    void set_handlers(ConnectionHandlers handlers);

    // Binds server.listen and/or server.tls_listen ("host:port", port 0 picks a free port),
    // loads the TLS certificate when tls_listen is set, logs the bound addresses and starts
    // accepting. Errors: bad address, bind failure, unreadable certificate or key; nothing is
    // left listening on error.
    result<void> start();

    // Reloads server.tls_cert and server.tls_key from the same paths (SIGHUP). On success new
    // handshakes use the new certificate while connections already accepted keep the context
    // they started with (each holds a reference), so nobody is dropped. On failure (unreadable
    // file, bad PEM, key not matching the certificate) the current certificate stays and the
    // error is returned. Either way it is logged and counted in
    // pushsvc_tls_reloads_total{result}. Without a TLS listener: an error, nothing changes.
    // Thread-safe.
    result<void> reload_tls();

    std::optional<boost::asio::ip::tcp::endpoint> cleartext_endpoint() const;
    std::optional<boost::asio::ip::tcp::endpoint> tls_endpoint() const;

    // Graceful shutdown (SIGTERM): stop accepting (synchronously: new connections are refused
    // when this returns), send GOAWAY on HTTP/2 connections, let in-flight requests finish and
    // their responses be written, close idle keep-alive connections; then post `done` to the
    // io_context. After limits.shutdown_grace_ms the remaining connections are closed hard and
    // `done` is called. `done` runs exactly once; a second drain() only gets its own `done`
    // called the same way.
    void drain(std::function<void()> done);

    // Live connections (including ones still in detection or TLS handshake).
    std::size_t connection_count() const;

  private:
    struct Shared;

    boost::asio::io_context& ioc_;
    config::Config cfg_;
    std::shared_ptr<Shared> shared_;
    mutable std::mutex mutex_;
    std::shared_ptr<Listener> cleartext_;
    std::shared_ptr<Listener> tls_;
};

}  // namespace pushsvc::net
