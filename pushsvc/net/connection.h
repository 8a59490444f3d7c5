#pragma once
// net::Connection: what the server needs from every live connection (a TLS handshake or
// preface detection in progress, an HTTP/1.1 session, an HTTP/2 connection) in order to drain
// it. ConnectionRegistry: the set of live connections, held as weak_ptrs.
//
// Part of pushsvc_net, the layer below http1/ and http2/ (see net/README.md).

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace pushsvc::net {

// Implemented by every connection object. Both methods may be called from any thread; the
// implementation posts to the connection's strand. A connection that is already gone ignores
// them.
class Connection {
  public:
    virtual ~Connection() = default;

    // Graceful: stop taking new requests (HTTP/2: GOAWAY, RFC 9113 §6.8; HTTP/1.1: answer the
    // in-flight request with `connection: close`, RFC 9112 §9.6), close once idle.
    virtual void drain() = 0;

    // Hard: close the socket now; pending responses are dropped.
    virtual void close() = 0;
};

// Thread-safe registry of live connections (weak_ptrs, so it never keeps one alive). A
// connection adds itself when it starts and removes itself in its destructor. When the
// registry becomes empty while a watcher is set, the watcher is posted to its executor once.
class ConnectionRegistry {
  public:
    void add(const Connection* key, std::weak_ptr<Connection> conn);
    void remove(const Connection* key);  // idempotent
    std::size_t size() const;

    // Calls drain()/close() on every live connection (outside the lock).
    void drain_all();
    void close_all();

    // Posts `on_empty` to `ex` as soon as no connection is registered (now, if already empty).
    // Replaces a previous watcher; the watcher fires at most once.
    void notify_when_empty(boost::asio::any_io_executor ex, std::function<void()> on_empty);

  private:
    std::vector<std::shared_ptr<Connection>> snapshot() const;

    mutable std::mutex mutex_;
    std::unordered_map<const Connection*, std::weak_ptr<Connection>> conns_;
    boost::asio::any_io_executor watcher_ex_;
    std::function<void()> on_empty_;
};

}  // namespace pushsvc::net
