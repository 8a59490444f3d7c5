#include "tools/client/http1_client.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "tools/client/transport.h"

namespace webpush_client {
namespace http = boost::beast::http;
using detail::Clock;
using detail::run_until;

struct Http1Client::Impl {
    ClientOptions options;
    boost::asio::io_context ioc;
    std::optional<detail::Transport> transport;
    std::string origin;
    boost::beast::flat_buffer buffer;

    Result<HttpResponse> attempt(const Url& url, const HttpRequest& request, bool& reused,
                                 bool& written);
};

Http1Client::Http1Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}

Http1Client::~Http1Client() { close(); }

void Http1Client::close() {
    if (impl_->transport) {
        impl_->transport->close();
        impl_->ioc.restart();
        impl_->ioc.poll();
        impl_->transport.reset();
    }
}

Result<HttpResponse> Http1Client::request(const HttpRequest& request) {
    auto url = parse_url(request.url);
    if (!url) return url.error();
    bool reused = false;
    bool written = false;
    auto response = impl_->attempt(*url, request, reused, written);
    // A kept-alive connection the server had already closed: one fresh attempt, unless a
    // non-idempotent request may already have been processed (RFC 9110 §9.2.2).
    const bool idempotent = request.method != "POST" && request.method != "PATCH";
    if (!response && reused && (!written || idempotent) &&
        (response.error().code == Errc::closed || response.error().code == Errc::io)) {
        close();
        response = impl_->attempt(*url, request, reused, written);
    }
    if (!response) close();
    return response;
}

Result<HttpResponse> Http1Client::Impl::attempt(const Url& url, const HttpRequest& request,
                                                bool& reused, bool& written) {
    written = false;
    const auto deadline = Clock::now() + options.timeout;
    const std::string want_origin = url.origin();
    reused = transport && transport->is_open() && origin == want_origin &&
             !transport->idle_connection_stale();
    if (!reused) {
        if (transport) transport->close();
        transport.emplace(ioc);
        buffer.clear();
        auto connected = transport->connect(url, options, {"http/1.1"}, deadline);
        if (!connected) {
            transport.reset();
            return connected.error();
        }
        origin = want_origin;
    }

    http::request<http::string_body> req;
    req.method_string(request.method);
    req.target(url.target);
    req.version(11);
    for (const auto& [name, value] : request.headers) req.insert(name, value);
    if (!request.headers.has("Host")) req.set(http::field::host, url.authority());
    if (!request.headers.has("User-Agent")) req.set(http::field::user_agent, "pushctl/1");
    req.body() = request.body;
    if (!request.headers.has("Content-Length") &&
        (!request.body.empty() || request.method == "POST" || request.method == "PUT")) {
        req.prepare_payload();
    }

    boost::system::error_code ec;
    bool done = false;
    transport->visit([&](auto& stream) {
        http::async_write(stream, req, [&](boost::system::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
    });
    auto finish = [&](const char* what) -> Result<HttpResponse> {
        transport->close();
        run_until(
            ioc, [&] { return done; }, Clock::now() + std::chrono::seconds(5));
        transport.reset();
        return make_error(Errc::timeout, std::string(what) + " " + url.str() + " timed out");
    };
    if (!run_until(
            ioc, [&] { return done; }, deadline))
        return finish("sending to");
    if (ec) {
        return make_error(Errc::io, "sending to " + url.str() + ": " + detail::describe(ec));
    }
    written = true;

    http::response_parser<http::string_body> parser;
    parser.body_limit(options.max_body);
    if (request.method == "HEAD") parser.skip(true);
    done = false;
    transport->visit([&](auto& stream) {
        http::async_read(stream, buffer, parser, [&](boost::system::error_code e, std::size_t) {
            ec = e;
            done = true;
        });
    });
    if (!run_until(
            ioc, [&] { return done; }, deadline))
        return finish("waiting for");
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset) {
        return make_error(Errc::closed, url.authority() + " closed the connection");
    }
    if (ec) {
        return make_error(Errc::protocol,
                          "reading response from " + url.str() + ": " + detail::describe(ec));
    }
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.reason = std::string(res.reason());
    for (const auto& field : res) {
        out.headers.add(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    out.version = 11;
    if (!res.keep_alive()) {
        transport->close();
        transport.reset();
    }
    return out;
}

}  // namespace webpush_client
