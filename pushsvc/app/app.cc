#include "pushsvc/app/app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "pushsvc/base/base64url.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/api.h"
#include "pushsvc/http1/ws_session.h"
#include "pushsvc/net/server.h"
#include "pushsvc/obs/log.h"
#include "pushsvc/store/crc32c.h"
#include "pushsvc/store/rocks_store.h"
#include "pushsvc/testdouble/testdouble.h"

namespace pushsvc::app {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;

std::string endpoint_text(const asio::ip::tcp::endpoint& ep) {
    auto addr = ep.address();
    std::string host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
    return host + ":" + std::to_string(ep.port());
}

// The origin written into endpoint URLs: the configured public_url, else derived from the
// bound listener (TLS preferred, since RFC 8030 §8 wants https).
std::string origin_of(const config::Config& cfg, const net::Server& server) {
    if (!cfg.server.public_url.empty()) {
        std::string url = cfg.server.public_url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
    }
    auto host_of = [](const asio::ip::tcp::endpoint& ep) {
        auto a = ep.address();
        if (a.is_unspecified()) return std::string("localhost");
        return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    };
    if (auto ep = server.tls_endpoint())
        return "https://" + host_of(*ep) + ":" + std::to_string(ep->port());
    auto ep = server.cleartext_endpoint();
    return "http://" + host_of(*ep) + ":" + std::to_string(ep->port());
}

// Periodically deletes expired messages so their space is reclaimed and their failure
// receipts go out.
class Sweeper {
  public:
    Sweeper(asio::io_context& ioc, webpush::PushService& service, const base::Clock& clock,
            std::chrono::milliseconds period)
        : timer_(ioc), service_(service), clock_(clock), period_(period) {}
    void start() { arm(); }
    void stop() { timer_.cancel(); }

  private:
    void arm() {
        timer_.expires_after(period_);
        timer_.async_wait([this](boost::system::error_code ec) {
            if (ec) return;
            if (auto n = service_.sweep(clock_.now_ms()); n && *n > 0)
                spdlog::debug("sweeper: removed {} expired messages", *n);
            arm();
        });
    }
    asio::steady_timer timer_;
    webpush::PushService& service_;
    const base::Clock& clock_;
    std::chrono::milliseconds period_;
};

}  // namespace

std::vector<std::string> load_token_keys(const config::Config& cfg) {
    std::vector<std::string> keys;
    for (const auto& text : cfg.push.token_keys) {
        auto raw = base::base64url_decode(text);
        if (!raw || raw->size() != 32)
            throw std::runtime_error(
                "config: push.token_keys entries must be base64url of 32 bytes");
        keys.push_back(*raw);
    }
    if (!keys.empty()) return keys;
    fs::path file = fs::path(cfg.store.path) / "token_keys";
    if (std::ifstream in{file}) {
        std::string line;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            auto raw = base::base64url_decode(line);
            if (!raw || raw->size() != 32)
                throw std::runtime_error("corrupt token key file " + file.string());
            keys.push_back(*raw);
        }
        if (!keys.empty()) return keys;
    }
    // First start: generate a key and keep it next to the data it protects.
    keys.push_back(crypto::random_bytes(32));
    fs::path tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out{tmp, std::ios::trunc};
        out << base::base64url_encode(keys.front()) << "\n";
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
    }
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, file);
    spdlog::info("generated endpoint token key in {}", file.string());
    return keys;
}

int run(const config::Config& cfg, const RunOptions& options) {
    obs::set_log_level(cfg.log.level);
    fs::create_directories(cfg.store.path);
    auto keys = load_token_keys(cfg);

    base::AdjustableClock clock;  // system time; only test-double mode moves it
    auto store =
        store::RocksStore::open((fs::path(cfg.store.path) / "db").string(),
                                store::RocksOptions{.sync = cfg.store.sync, .clock = &clock});
    if (!store) throw std::runtime_error("cannot open store under " + cfg.store.path);
    spdlog::info("store: RocksDB under {}, checksums on {}", cfg.store.path,
                 store::crc32c_implementation());

    int threads = cfg.server.threads > 0 ? cfg.server.threads
                                         : int(std::max(1u, std::thread::hardware_concurrency()));
    // With store.sync every write waits for fsync: those run on a pool of their own so network
    // threads never wait; RocksDB group-commits the concurrent writers.
    std::unique_ptr<asio::thread_pool> store_pool;
    std::unique_ptr<asio::thread_pool> monitor_pool;  // outlives the io_context, as store_pool
    http::Api::Offload offload;
    if (cfg.store.sync) {
        store_pool = std::make_unique<asio::thread_pool>(8);
        offload = [pool = store_pool.get()](std::function<void()> f) {
            asio::post(*pool, std::move(f));
        };
    }

    std::unique_ptr<webpush::PushService> service;
    std::unique_ptr<http::Api> api;
    std::unique_ptr<webpush::ServiceChannelBackend> channel_backend;
    delivery::Hub hub;
    std::unique_ptr<testdouble::TestDouble> test_double;  // [testdouble] enabled: wraps api
    // Declared after everything sessions point at: destroying the io_context destroys the
    // sessions still queued in it, and they detach from the hub on the way out.
    asio::io_context ioc(threads);
    // Connections are only accepted once the threads below run the io_context, after `api`
    // and the WebSocket hook are in place (the origin needs the bound ports first).
    net::Server server(ioc, cfg, [&api, &test_double](http::Request req, http::Responder respond) {
        if (test_double) return test_double->handle(std::move(req), std::move(respond));
        api->handle(std::move(req), std::move(respond));
    });
    if (auto r = server.start(); !r)
        throw std::runtime_error("cannot bind listeners: " + r.error().message());

    webpush::ServiceOptions sopts;
    sopts.profile = cfg.profile;
    sopts.origin = origin_of(cfg, server);
    sopts.max_ttl = cfg.push.max_ttl;
    sopts.max_body_bytes = cfg.limits.max_body_bytes;
    sopts.vapid_skew_s = cfg.push.vapid_exp_skew_s;
    sopts.vapid_cache_size = cfg.push.vapid_cache_size;
    sopts.max_queued_per_ua = cfg.push.max_queued_per_ua;
    service =
        std::make_unique<webpush::PushService>(sopts, **store, webpush::EndpointCodec(keys), clock);
    service->set_notifier(&hub);
    channel_backend = std::make_unique<webpush::ServiceChannelBackend>(*service, **store, clock);
    http::MonitorContext monitoring{&hub, channel_backend.get(), ioc.get_executor(),
                                    cfg.delivery.max_inflight};
    // Monitoring's store work (delivered marks, receipt deletes) stays off network threads:
    // on the store pool, or without one (store.sync off) on a small pool of its own.
    if (!store_pool) monitor_pool = std::make_unique<asio::thread_pool>(2);
    monitoring.store_executor = (store_pool ? store_pool : monitor_pool)->get_executor();
    api = std::make_unique<http::Api>(*service, offload, monitoring);
    if (cfg.testdouble.enabled)
        test_double = std::make_unique<testdouble::TestDouble>(testdouble::Dependencies{
            cfg, *service, **store, hub, clock, keys, [&api](http::Request r, http::Responder a) {
                api->handle(std::move(r), std::move(a));
            }});
    // WebSocket user agents (Firefox) on GET / of both listeners.
    http1::WsOptions ws;
    ws.backend = channel_backend.get();
    ws.hub = &hub;
    ws.delivery = cfg.delivery;
    if (store_pool) ws.channel_executor = store_pool->get_executor();
    server.set_upgrade_handler(http1::make_ws_upgrade_handler(ws));

    boost::json::object ready{
        {"origin", sopts.origin},
        {"profile", cfg.profile == config::Profile::strict ? "strict" : "compat"}};
    if (auto ep = server.cleartext_endpoint()) ready["cleartext"] = endpoint_text(*ep);
    if (auto ep = server.tls_endpoint()) ready["tls"] = endpoint_text(*ep);
    spdlog::info("pushsvc ready: {} (subscribe: POST {}/subscribe)", boost::json::serialize(ready),
                 sopts.origin);
    if (!options.ready_file.empty()) {
        fs::path tmp = options.ready_file + ".tmp";
        std::ofstream(tmp) << boost::json::serialize(ready) << "\n";
        fs::rename(tmp, options.ready_file);
    }

    Sweeper sweeper(ioc, *service, clock, std::chrono::milliseconds(cfg.store.sweep_interval_ms));
    sweeper.start();

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: draining", sig);
        sweeper.stop();
        server.drain([&ioc] { ioc.stop(); });
    });

    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    if (store_pool) store_pool->join();
    if (monitor_pool) monitor_pool->join();
    spdlog::info("pushsvc stopped");
    return 0;
}

}  // namespace pushsvc::app
