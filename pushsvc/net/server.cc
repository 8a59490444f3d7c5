#include "pushsvc/net/server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <limits>
#include <optional>

#include "pushsvc/base/guard.h"
#include "pushsvc/net/admission.h"
#include "pushsvc/net/buffer_budget.h"
#include "pushsvc/net/connection.h"
#include "pushsvc/net/detect.h"
#include "pushsvc/net/listener.h"
#include "pushsvc/net/session_context.h"
#include "pushsvc/net/tls_context.h"
#include "pushsvc/obs/catalog.h"
#include "pushsvc/obs/log.h"

namespace pushsvc::net {

namespace asio = boost::asio;
using asio::ip::tcp;

// What the accept callbacks need; shared with them so it outlives nothing it depends on.
struct Server::Shared {
    SessionContext base;  // limits, profile, registry

    // The TLS context new handshakes use. Replaced by reload_tls(); each handshake takes its
    // own reference at accept (and OpenSSL's SSL holds its SSL_CTX), so a reload never pulls
    // the context out from under a connection in progress.
    mutable std::mutex tls_mutex;
    std::shared_ptr<asio::ssl::context> tls;

    std::shared_ptr<asio::ssl::context> current_tls() const {
        std::lock_guard lock(tls_mutex);
        return tls;
    }

    // Set by set_handlers() from any thread, read by the accept callbacks: each connection
    // keeps the set that was current when it was accepted.
    mutable std::mutex handlers_mutex;
    std::shared_ptr<const ConnectionHandlers> handlers;

    std::shared_ptr<const ConnectionHandlers> current_handlers() const {
        std::lock_guard lock(handlers_mutex);
        return handlers;
    }

    // Connection limits (net/admission.h), set by start().
    std::shared_ptr<Admission> admission;
    // One line per reason per 10 s however many connections are refused: a client hammering
    // the port must not turn into a log flood (the counters have the exact numbers).
    mutable RateLimitedLog refused_total_log{std::chrono::seconds(10)};
    mutable RateLimitedLog refused_per_ip_log{std::chrono::seconds(10)};

    // The context of a connection admitted under the limits, or nullopt when a limit is
    // reached: the caller then drops the socket before any TLS or protocol work.
    std::optional<SessionContext> admit(tcp::socket& socket) const {
        boost::system::error_code ec;
        const auto ep = socket.remote_endpoint(ec);
        if (ec) return std::nullopt;  // already reset by the peer: nothing to serve
        if (buffer_budget().over()) {
            refuse_memory(socket, ep);
            return std::nullopt;
        }
        Admission::Refusal why{};
        auto slot = admission->admit(ep.address(), why);
        if (!slot) {
            refuse(socket, ep, why);
            return std::nullopt;
        }
        SessionContext ctx = base;
        ctx.id = obs::next_connection_id();
        ctx.peer_address = ep.address().to_string();
        ctx.peer = ctx.peer_address + ":" + std::to_string(ep.port());
        ctx.client = client_key(ep.address());
        ctx.admission_slot = std::move(slot);
        return ctx;
    }

    void refuse(tcp::socket& socket, const tcp::endpoint& ep, Admission::Refusal why) const {
        const bool total = why == Admission::Refusal::total;
        (total ? obs::catalog().connections_refused_total
               : obs::catalog().connections_refused_per_ip)
            .inc();
        // Reset rather than FIN: a refused flood leaves no TIME_WAIT entries on our side.
        boost::system::error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        if (const auto n = (total ? refused_total_log : refused_per_ip_log).record()) {
            if (total) {
                SPDLOG_WARN(
                    "refused {} connection(s) since the last report: {} open connections "
                    "is the limit (limits.max_connections); latest from {}",
                    n, admission_limit_total, ep.address().to_string());
            } else {
                SPDLOG_WARN(
                    "refused {} connection(s) since the last report: per-address limit "
                    "of {} (limits.max_connections_per_ip) reached; latest from {}",
                    n, base.limits.max_connections_per_ip, ep.address().to_string());
            }
        }
    }
    std::size_t admission_limit_total = 0;

    // Connection buffers are over limits.max_buffer_bytes: nothing new until they shrink.
    void refuse_memory(tcp::socket& socket, const tcp::endpoint& ep) const {
        obs::catalog().connections_refused_memory.inc();
        boost::system::error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
        if (const auto n = refused_memory_log.record()) {
            SPDLOG_WARN(
                "refused {} connection(s) since the last report: connection buffers hold {} "
                "bytes, over limits.max_buffer_bytes {}; latest from {}",
                n, buffer_budget().held(), buffer_budget().limit(), ep.address().to_string());
        }
    }
    mutable RateLimitedLog refused_memory_log{std::chrono::seconds(10)};
};

namespace {

// State of one drain() call; touched only on its strand.
struct DrainState {
    explicit DrainState(asio::strand<asio::io_context::executor_type> s, std::function<void()> d)
        : strand(s), timer(s), done(std::move(d)) {}
    asio::strand<asio::io_context::executor_type> strand;
    asio::steady_timer timer;
    std::function<void()> done;
    bool fired = false;

    void fire() {
        if (fired) return;
        fired = true;
        timer.cancel();
        if (done) done();
    }
};

std::string describe(const tcp::endpoint& ep) {
    return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

Server::Server(asio::io_context& ioc, const config::Config& cfg)
    : ioc_(ioc), cfg_(cfg), shared_(std::make_shared<Shared>()) {
    shared_->base.limits = cfg.limits;
    shared_->base.profile = cfg.profile;
    shared_->base.registry = std::make_shared<ConnectionRegistry>();
}

Server::~Server() {
    std::lock_guard lock(mutex_);
    if (cleartext_) cleartext_->stop();
    if (tls_) tls_->stop();
}

void Server::set_handlers(ConnectionHandlers handlers) {
    auto h = std::make_shared<const ConnectionHandlers>(std::move(handlers));
    std::lock_guard lock(shared_->handlers_mutex);
    shared_->handlers = std::move(h);
}

result<void> Server::start() {
    std::lock_guard lock(mutex_);
    std::shared_ptr<Listener> cleartext;
    std::shared_ptr<Listener> tls;
    std::shared_ptr<const Shared> shared = shared_;

    const auto nofile = open_files_limit();
    shared_->admission_limit_total = effective_max_connections(cfg_.limits.max_connections, nofile);
    shared_->admission = std::make_shared<Admission>(shared_->admission_limit_total,
                                                     cfg_.limits.max_connections_per_ip);
    SPDLOG_INFO(
        "connection limits: {} in total (limits.max_connections {}, open files limit "
        "{}), {} per client address",
        shared_->admission_limit_total, cfg_.limits.max_connections,
        nofile == std::numeric_limits<std::uint64_t>::max() ? std::string("unlimited")
                                                            : std::to_string(nofile),
        cfg_.limits.max_connections_per_ip);

    // A public listener on `address`: every accepted socket meets the current handlers and
    // admission, then `start(socket, ctx, handlers)` runs its transport.
    auto open_public = [&](const std::string& address,
                           auto start) -> result<std::shared_ptr<Listener>> {
        auto ep = parse_listen_address(address);
        if (!ep) return ep.error();
        return Listener::open(
            ioc_, *ep,
            [shared, start](tcp::socket socket) {
                auto handlers = shared->current_handlers();
                if (!handlers) return;  // see set_handlers(): the socket closes here
                auto ctx = shared->admit(socket);
                if (!ctx) return;
                start(std::move(socket), std::move(*ctx), std::move(handlers));
            },
            cfg_.server.reuse_port);
    };
    if (!cfg_.server.listen.empty()) {
        auto l = open_public(cfg_.server.listen, [](tcp::socket socket, auto ctx, auto handlers) {
            start_cleartext_detection(std::move(socket), std::move(ctx), std::move(handlers));
        });
        if (!l) return l.error();
        cleartext = *l;
    }
    if (!cfg_.server.tls_listen.empty()) {
        auto ctx = make_server_tls_context(cfg_.server.tls_cert, cfg_.server.tls_key);
        if (!ctx) {
            SPDLOG_ERROR("TLS certificate/key {} {}: {}", cfg_.server.tls_cert, cfg_.server.tls_key,
                         ctx.error().message());
            return ctx.error();
        }
        {
            std::lock_guard tls_lock(shared_->tls_mutex);
            shared_->tls = *ctx;
        }
        SPDLOG_INFO("TLS certificate {}: {}", cfg_.server.tls_cert, describe_certificate(**ctx));
        auto l = open_public(cfg_.server.tls_listen,
                             [shared](tcp::socket socket, auto ctx, auto handlers) {
                                 start_tls_handshake(std::move(socket), shared->current_tls(),
                                                     std::move(ctx), std::move(handlers));
                             });
        if (!l) return l.error();
        tls = *l;
    }
    cleartext_ = cleartext;
    tls_ = tls;
    if (cleartext_) {
        SPDLOG_INFO("listening on {} (HTTP/1.1, h2c)", describe(cleartext_->local_endpoint()));
        cleartext_->start();
    }
    if (tls_) {
        SPDLOG_INFO("listening on {} (TLS: h2, http/1.1)", describe(tls_->local_endpoint()));
        tls_->start();
    }
    return {};
}

result<void> Server::reload_tls() {
    if (cfg_.server.tls_listen.empty()) {
        SPDLOG_WARN("TLS reload: no TLS listener (server.tls_listen) configured");
        obs::catalog().tls_reloads_failed.inc();
        return boost::system::errc::make_error_code(boost::system::errc::operation_not_supported);
    }
    auto ctx = make_server_tls_context(cfg_.server.tls_cert, cfg_.server.tls_key);
    if (!ctx) {
        obs::catalog().tls_reloads_failed.inc();
        SPDLOG_ERROR("TLS reload failed, keeping the current certificate: {} {}: {}",
                     cfg_.server.tls_cert, cfg_.server.tls_key, ctx.error().message());
        return ctx.error();
    }
    const auto described = describe_certificate(**ctx);
    {
        std::lock_guard lock(shared_->tls_mutex);
        shared_->tls = std::move(*ctx);
    }
    obs::catalog().tls_reloads_ok.inc();
    SPDLOG_INFO("TLS reload: new handshakes use {}: {}", cfg_.server.tls_cert, described);
    return {};
}

std::optional<tcp::endpoint> Server::cleartext_endpoint() const {
    std::lock_guard lock(mutex_);
    if (!cleartext_) return std::nullopt;
    return cleartext_->local_endpoint();
}

std::optional<tcp::endpoint> Server::tls_endpoint() const {
    std::lock_guard lock(mutex_);
    if (!tls_) return std::nullopt;
    return tls_->local_endpoint();
}

std::size_t Server::connection_count() const { return shared_->base.registry->size(); }

void Server::drain(std::function<void()> done) {
    {
        std::lock_guard lock(mutex_);
        if (cleartext_) cleartext_->stop();
        if (tls_) tls_->stop();
    }
    auto registry = shared_->base.registry;
    SPDLOG_INFO("draining {} connections", registry->size());
    registry->drain_all();

    auto state = std::make_shared<DrainState>(asio::make_strand(ioc_), std::move(done));
    const auto grace = std::chrono::milliseconds(cfg_.limits.shutdown_grace_ms);
    asio::dispatch(state->strand, [state, registry, grace] {
        state->timer.expires_after(grace);
        // Guarded: shutdown must complete (`done` stops the io_context) even if closing the
        // remaining connections fails.
        state->timer.async_wait(base::guard(
            [state, registry](boost::system::error_code ec) {
                if (ec || state->fired) return;
                SPDLOG_WARN("shutdown grace over, closing {} connections", registry->size());
                registry->close_all();
                state->fire();
            },
            [state](const std::string& what) {
                SPDLOG_ERROR("shutdown: closing connections failed: {}", what);
                state->fire();
            }));
        registry->notify_when_empty(state->strand, [state] { state->fire(); });
    });
}

}  // namespace pushsvc::net
