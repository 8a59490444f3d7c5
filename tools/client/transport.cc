#include "tools/client/transport.h"

#include <sys/socket.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <cerrno>

namespace webpush_client::detail {
namespace {

using tcp = asio::ip::tcp;

}  // namespace

bool run_until(asio::io_context& ioc, const std::function<bool()>& done,
               Clock::time_point deadline) {
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        if (ioc.stopped()) ioc.restart();
        if (ioc.run_one_until(deadline) == 0 && ioc.stopped() && !done()) {
            // No work left at all: nothing can make done() true any more.
            return done();
        }
    }
    return true;
}

std::string describe(const boost::system::error_code& ec) { return ec.message(); }

Result<void> Transport::connect(const Url& url, const ClientOptions& options,
                                const std::vector<std::string>& alpn, Clock::time_point deadline) {
    const std::string where = url.host + ":" + std::to_string(url.port);
    tcp::resolver resolver(ioc_);
    boost::system::error_code ec;
    tcp::resolver::results_type endpoints;
    bool done = false;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [&](boost::system::error_code e, tcp::resolver::results_type r) {
                               ec = e;
                               endpoints = std::move(r);
                               done = true;
                           });
    if (!run_until(
            ioc_, [&] { return done; }, deadline)) {
        resolver.cancel();
        run_until(
            ioc_, [&] { return done; }, Clock::now() + std::chrono::seconds(5));
        return make_error(Errc::timeout, "resolving " + url.host + " timed out");
    }
    if (ec) return make_error(Errc::io, "cannot resolve " + url.host + ": " + describe(ec));

    TcpStream tcp_stream(ioc_);
    done = false;
    tcp_stream.expires_at(deadline);
    tcp_stream.async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) {
        ec = e;
        done = true;
    });
    run_until(
        ioc_, [&] { return done; }, Clock::time_point::max());
    if (ec == beast::error::timeout)
        return make_error(Errc::timeout, "connect " + where + " timed out");
    if (ec) return make_error(Errc::io, "connect " + where + ": " + describe(ec));
    tcp_stream.socket().set_option(tcp::no_delay(true), ec);
    tcp_stream.expires_never();

    if (!url.tls()) {
        stream_.emplace<TcpStream>(std::move(tcp_stream));
        return {};
    }

    ssl_ctx_ = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ssl_ctx_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3);
    if (options.tls.insecure) {
        ssl_ctx_->set_verify_mode(asio::ssl::verify_none);
    } else {
        ssl_ctx_->set_default_verify_paths(ec);
        if (!options.tls.ca_file.empty()) {
            ssl_ctx_->load_verify_file(options.tls.ca_file, ec);
            if (ec) {
                return make_error(
                    Errc::tls, "cannot load CA file " + options.tls.ca_file + ": " + describe(ec));
            }
        }
        ssl_ctx_->set_verify_mode(asio::ssl::verify_peer);
        ssl_ctx_->set_verify_callback(asio::ssl::host_name_verification(url.host));
    }
    auto& tls = stream_.emplace<TlsStream>(std::move(tcp_stream), *ssl_ctx_);
    if (!url.host_is_ipv6 && !std::isdigit(static_cast<unsigned char>(url.host.back()))) {
        SSL_set_tlsext_host_name(tls.native_handle(), url.host.c_str());
    }
    if (!alpn.empty()) {
        std::vector<unsigned char> wire;
        for (const auto& p : alpn) {
            wire.push_back(static_cast<unsigned char>(p.size()));
            wire.insert(wire.end(), p.begin(), p.end());
        }
        SSL_set_alpn_protos(tls.native_handle(), wire.data(), static_cast<unsigned>(wire.size()));
    }
    done = false;
    beast::get_lowest_layer(tls).expires_at(deadline);
    tls.async_handshake(asio::ssl::stream_base::client, [&](boost::system::error_code e) {
        ec = e;
        done = true;
    });
    run_until(
        ioc_, [&] { return done; }, Clock::time_point::max());
    beast::get_lowest_layer(tls).expires_never();
    if (ec == beast::error::timeout) {
        stream_ = std::monostate{};
        return make_error(Errc::timeout, "TLS handshake with " + where + " timed out");
    }
    if (ec) {
        stream_ = std::monostate{};
        return make_error(Errc::tls, "TLS handshake with " + where + ": " + describe(ec));
    }
    return {};
}

bool Transport::is_open() const {
    if (auto* t = std::get_if<TcpStream>(&stream_)) return t->socket().is_open();
    if (auto* t = std::get_if<TlsStream>(&stream_))
        return beast::get_lowest_layer(*t).socket().is_open();
    return false;
}

bool Transport::idle_connection_stale() {
    int fd = -1;
    if (auto* t = std::get_if<TcpStream>(&stream_)) fd = t->socket().native_handle();
    if (auto* t = std::get_if<TlsStream>(&stream_)) {
        fd = beast::get_lowest_layer(*t).socket().native_handle();
    }
    if (fd < 0) return true;
    char byte = 0;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

std::string Transport::alpn_selected() const {
    auto* tls = std::get_if<TlsStream>(&stream_);
    if (!tls) return {};
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(const_cast<TlsStream*>(tls)->native_handle(), &data, &len);
    return std::string(reinterpret_cast<const char*>(data), len);
}

void Transport::close() {
    boost::system::error_code ec;
    if (auto* t = std::get_if<TcpStream>(&stream_)) t->socket().close(ec);
    if (auto* t = std::get_if<TlsStream>(&stream_)) beast::get_lowest_layer(*t).socket().close(ec);
}

}  // namespace webpush_client::detail
