#include "tools/client/ua_connection.h"

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>

#include "tools/client/header_params.h"
#include "tools/client/transport.h"
#include "tools/client/url.h"

namespace webpush_client {
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using detail::Clock;
using detail::run_until;

struct UaConnection::Impl {
    using PlainWs = websocket::stream<detail::TcpStream>;
    using TlsWs = websocket::stream<detail::TlsStream>;

    ClientOptions options;
    boost::asio::io_context ioc;
    std::optional<detail::Transport> transport;  // keeps the TLS context alive
    std::unique_ptr<PlainWs> plain;
    std::unique_ptr<TlsWs> tls;
    beast::flat_buffer buffer;
    std::deque<std::string> raw;        // frames read, not yet parsed
    std::deque<ServerMessage> pending;  // parsed, not consumed by a request helper
    bool reading = false;
    bool writing = false;
    std::optional<CloseInfo> closed;
    std::string protocol;

    ~Impl() { shutdown(); }

    template <class F>
    void visit(F&& f) {
        if (tls) {
            f(*tls);
        } else if (plain) {
            f(*plain);
        }
    }

    Clock::time_point deadline(std::optional<std::chrono::milliseconds> t) const {
        return Clock::now() + t.value_or(options.timeout);
    }

    void fail(int code, std::string reason) {
        if (!closed) closed = CloseInfo{code, std::move(reason)};
    }

    void shutdown() {
        visit([&](auto& ws) {
            boost::system::error_code ec;
            beast::get_lowest_layer(ws).socket().close(ec);
        });
        run_until(
            ioc, [&] { return !reading && !writing; }, Clock::now() + std::chrono::seconds(2));
        plain.reset();
        tls.reset();
        transport.reset();
    }

    void start_read() {
        if (reading || closed || (!plain && !tls)) return;
        reading = true;
        visit([&](auto& ws) {
            ws.async_read(buffer, [this, &ws](boost::system::error_code ec, std::size_t) {
                reading = false;
                if (ec) {
                    if (ec == websocket::error::closed) {
                        fail(ws.reason().code,
                             std::string(ws.reason().reason.data(), ws.reason().reason.size()));
                    } else {
                        fail(1006, "connection lost: " + detail::describe(ec));
                    }
                    return;
                }
                raw.push_back(beast::buffers_to_string(buffer.data()));
                buffer.consume(buffer.size());
                start_read();
            });
        });
    }

    Result<void> write(const std::string& text) {
        if (closed) return closed_error();
        bool done = false;
        boost::system::error_code ec;
        writing = true;
        visit([&](auto& ws) {
            ws.text(true);
            ws.async_write(boost::asio::buffer(text),
                           [&](boost::system::error_code e, std::size_t) {
                               ec = e;
                               done = true;
                               writing = false;
                           });
        });
        start_read();
        if (!run_until(
                ioc, [&] { return done; }, deadline(std::nullopt))) {
            fail(1006, "write timed out");
            shutdown();
            return make_error(Errc::timeout, "WebSocket write timed out");
        }
        if (ec) {
            fail(1006, "write failed: " + detail::describe(ec));
            return make_error(Errc::io, "WebSocket write failed: " + detail::describe(ec));
        }
        return {};
    }

    Error closed_error() const {
        std::string msg = "WebSocket closed";
        if (closed) {
            msg += " (code " + std::to_string(closed->code);
            if (!closed->reason.empty()) msg += ", " + closed->reason;
            msg += ")";
        }
        return make_error(Errc::closed, msg);
    }

    // Waits for a raw frame.
    Result<std::string> next_raw(Clock::time_point until) {
        start_read();
        if (!run_until(
                ioc, [&] { return !raw.empty() || closed.has_value(); }, until)) {
            return make_error(Errc::timeout, "no WebSocket message in time");
        }
        if (raw.empty()) return closed_error();
        std::string text = std::move(raw.front());
        raw.pop_front();
        return text;
    }

    // Waits for the first parsed message that satisfies `match`; others go to `pending`.
    template <class T, class Match>
    Result<T> wait_for(Match match, Clock::time_point until) {
        for (;;) {
            auto text = next_raw(until);
            if (!text) return text.error();
            auto msg = parse_server_message(*text);
            if (!msg) continue;  // not JSON: ignored, as Firefox does
            if (auto* m = std::get_if<T>(&*msg); m && match(*m)) return std::move(*m);
            pending.push_back(std::move(*msg));
        }
    }
};

UaConnection::UaConnection(ClientOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
}

UaConnection::~UaConnection() = default;

Result<void> UaConnection::connect(const std::string& url_text) {
    auto url = parse_url(url_text);
    if (!url) return url.error();
    if (url->scheme != "ws" && url->scheme != "wss") {
        return make_error(Errc::invalid_argument, "WebSocket URL must be ws:// or wss://");
    }
    impl_->shutdown();
    impl_->closed.reset();
    impl_->raw.clear();
    impl_->pending.clear();
    impl_->buffer.clear();
    const auto deadline = impl_->deadline(std::nullopt);
    impl_->transport.emplace(impl_->ioc);
    auto connected = impl_->transport->connect(*url, impl_->options, {"http/1.1"}, deadline);
    if (!connected) return connected.error();
    auto stream = impl_->transport->release();
    if (auto* t = std::get_if<detail::TlsStream>(&stream)) {
        impl_->tls = std::make_unique<Impl::TlsWs>(std::move(*t));
    } else {
        impl_->plain =
            std::make_unique<Impl::PlainWs>(std::move(std::get<detail::TcpStream>(stream)));
    }
    boost::system::error_code ec;
    bool done = false;
    websocket::response_type response;
    impl_->visit([&](auto& ws) {
        ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
            req.set(beast::http::field::sec_websocket_protocol, kPushSubprotocol);
            req.set(beast::http::field::user_agent, "pushctl/1");
        }));
        ws.read_message_max(1 << 20);
        ws.async_handshake(response, url->authority(), url->target,
                           [&](boost::system::error_code e) {
                               ec = e;
                               done = true;
                           });
    });
    if (!run_until(
            impl_->ioc, [&] { return done; }, deadline)) {
        impl_->shutdown();
        return make_error(Errc::timeout,
                          "WebSocket handshake with " + url->authority() + " timed out");
    }
    if (ec) {
        std::string msg =
            "WebSocket handshake with " + url->authority() + " failed: " + detail::describe(ec);
        if (response.result_int() != 0)
            msg += " (HTTP " + std::to_string(response.result_int()) + ")";
        impl_->plain.reset();
        impl_->tls.reset();
        return make_error(Errc::protocol, msg);
    }
    impl_->protocol = std::string(response[beast::http::field::sec_websocket_protocol]);
    impl_->start_read();
    return {};
}

bool UaConnection::is_open() const { return (impl_->plain || impl_->tls) && !impl_->closed; }

std::string UaConnection::selected_protocol() const { return impl_->protocol; }

Result<HelloReply> UaConnection::hello(const std::optional<std::string>& uaid) {
    auto sent = impl_->write(make_hello(uaid));
    if (!sent) return sent.error();
    auto reply = impl_->wait_for<HelloReply>([](const HelloReply&) { return true; },
                                             impl_->deadline(std::nullopt));
    if (!reply) return reply.error();
    auto valid = validate_hello(*reply);
    if (!valid) return valid.error();
    return reply;
}

Result<RegisterReply> UaConnection::register_channel(
    const std::string& channel_id, const std::optional<Bytes>& application_server_key) {
    auto sent = impl_->write(make_register(channel_id, application_server_key));
    if (!sent) return sent.error();
    auto reply = impl_->wait_for<RegisterReply>(
        [&](const RegisterReply& r) { return iequals(r.channel_id, channel_id); },
        impl_->deadline(std::nullopt));
    if (!reply) return reply.error();
    if (reply->status != 200) {
        return make_error(Errc::protocol,
                          "register refused with status " + std::to_string(reply->status));
    }
    if (!parse_url(reply->push_endpoint)) {
        return make_error(Errc::protocol, "register reply has no valid pushEndpoint");
    }
    return reply;
}

Result<UnregisterReply> UaConnection::unregister(const std::string& channel_id, int code) {
    auto sent = impl_->write(make_unregister(channel_id, code));
    if (!sent) return sent.error();
    return impl_->wait_for<UnregisterReply>(
        [&](const UnregisterReply& r) { return iequals(r.channel_id, channel_id); },
        impl_->deadline(std::nullopt));
}

Result<void> UaConnection::ack(const std::vector<AckUpdate>& updates) {
    return impl_->write(make_ack(updates));
}

Result<void> UaConnection::nack(const std::string& version, int code) {
    return impl_->write(make_nack(version, code));
}

Result<void> UaConnection::ping(std::optional<std::chrono::milliseconds> timeout) {
    auto sent = impl_->write(make_ping());
    if (!sent) return sent.error();
    auto pong = impl_->wait_for<Pong>([](const Pong&) { return true; }, impl_->deadline(timeout));
    if (!pong) return pong.error();
    return {};
}

Result<ServerMessage> UaConnection::next_message(std::optional<std::chrono::milliseconds> timeout) {
    if (!impl_->pending.empty()) {
        ServerMessage m = std::move(impl_->pending.front());
        impl_->pending.pop_front();
        return m;
    }
    const auto until = impl_->deadline(timeout);
    for (;;) {
        auto text = impl_->next_raw(until);
        if (!text) return text.error();
        auto msg = parse_server_message(*text);
        if (msg) return msg;
    }
}

Result<Notification> UaConnection::next_notification(
    std::optional<std::chrono::milliseconds> timeout) {
    const auto until = impl_->deadline(timeout);
    while (!impl_->pending.empty()) {
        ServerMessage m = std::move(impl_->pending.front());
        impl_->pending.pop_front();
        if (auto* n = std::get_if<Notification>(&m)) return std::move(*n);
    }
    return impl_->wait_for<Notification>([](const Notification&) { return true; }, until);
}

Result<void> UaConnection::send_text(const std::string& text) { return impl_->write(text); }

Result<std::string> UaConnection::read_text(std::optional<std::chrono::milliseconds> timeout) {
    return impl_->next_raw(impl_->deadline(timeout));
}

std::optional<CloseInfo> UaConnection::close_info() const { return impl_->closed; }

void UaConnection::close(int code) {
    if (is_open()) {
        bool done = false;
        impl_->visit([&](auto& ws) {
            ws.async_close(websocket::close_reason(static_cast<std::uint16_t>(code)),
                           [&](boost::system::error_code) { done = true; });
        });
        run_until(
            impl_->ioc, [&] { return done; }, Clock::now() + std::chrono::seconds(2));
        impl_->fail(code, "closed by the client");
    }
    impl_->shutdown();
}

}  // namespace webpush_client
