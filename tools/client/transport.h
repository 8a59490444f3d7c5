#pragma once
// One client byte stream, cleartext TCP or TLS (with SNI, certificate + host name
// verification unless insecure, and ALPN), plus the helpers that let the synchronous client
// facades drive Asio with deadlines. Internal to webpush_client; not thread-safe: one
// io_context per client object, run only by the caller's thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <variant>
#include <vector>

#include "tools/client/client_options.h"
#include "tools/client/error.h"
#include "tools/client/url.h"

namespace webpush_client::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using Clock = std::chrono::steady_clock;
using TcpStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Runs handlers until done() holds or the deadline passes; false on deadline or when the
// io_context has no work left and done() still does not hold.
bool run_until(asio::io_context& ioc, const std::function<bool()>& done,
               Clock::time_point deadline);

class Transport {
  public:
    explicit Transport(asio::io_context& ioc) : ioc_(ioc) {}

    // Resolves, connects and (for https / wss) performs the TLS handshake.
    Result<void> connect(const Url& url, const ClientOptions& options,
                         const std::vector<std::string>& alpn, Clock::time_point deadline);
    bool is_open() const;
    // For an idle kept-alive connection: true when the peer closed it or sent something
    // unexpected (e.g. TLS close_notify), so it must not be reused.
    bool idle_connection_stale();
    std::string alpn_selected() const;  // empty for cleartext or no ALPN
    void close();                       // cancels pending operations

    // Calls f(stream) with the concrete stream type (TcpStream& or TlsStream&).
    template <class F>
    decltype(auto) visit(F&& f) {
        if (auto* tls = std::get_if<TlsStream>(&stream_)) return f(*tls);
        return f(std::get<TcpStream>(stream_));
    }

    // Hands the connected stream over (e.g. to a websocket::stream).
    std::variant<std::monostate, TcpStream, TlsStream> release() { return std::move(stream_); }

  private:
    asio::io_context& ioc_;
    std::shared_ptr<asio::ssl::context> ssl_ctx_;
    std::variant<std::monostate, TcpStream, TlsStream> stream_;
};

std::string describe(const boost::system::error_code& ec);

}  // namespace webpush_client::detail
