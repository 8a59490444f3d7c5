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

#include "pushsvc/app/housekeeping.h"
#include "pushsvc/app/io_threads.h"
#include "pushsvc/base/base64url.h"
#include "pushsvc/base/guard.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/api.h"
#include "pushsvc/http1/session.h"
#include "pushsvc/http1/ws_session.h"
#include "pushsvc/http2/connection.h"
#include "pushsvc/net/server.h"
#include "pushsvc/obs/log.h"
#include "pushsvc/obs/metrics.h"
#include "pushsvc/store/crc32c.h"
#include "pushsvc/store/rocks_store.h"
#ifdef PUSHSVC_WITH_POSTGRES
#include "pushsvc/store/pg_store.h"
#endif
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

// What the service tells about accepted messages goes to the hub (online user agents), and
// stored ones also to housekeeping, which re-plans expiry when one expires before its plan.
class ServiceNotifier final : public webpush::Notifier {
  public:
    ServiceNotifier(delivery::Hub& hub, Housekeeping& housekeeping)
        : hub_(hub), housekeeping_(housekeeping) {}
    void notify(const store::MessageRecord& message, bool stored) override {
        if (stored) housekeeping_.expiring_at(message.expires_ms);
        hub_.notify(message, stored);
    }
    void acknowledged(const std::string& uaid, const std::string& message_id) override {
        hub_.acknowledged(uaid, message_id);
    }
    void removed(const std::string& uaid, const std::string& subscription_id) override {
        hub_.removed(uaid, subscription_id);
    }

  private:
    delivery::Hub& hub_;
    Housekeeping& housekeeping_;
};

// The configured store (store.backend); throws with one line naming the cause when it cannot
// be opened, so a wrong DSN or an unreachable database ends startup with exit status 1.
std::unique_ptr<store::Store> open_store(const config::Config& cfg, const base::Clock& clock) {
    if (cfg.store.backend == "postgres") {
#ifdef PUSHSVC_WITH_POSTGRES
        const auto& pg = cfg.store.postgres;
        std::string error;
        auto store = store::PgStore::open(
            store::PgOptions{.dsn = pg.dsn,
                             .pool_size = int(pg.pool_size),
                             .connect_timeout_ms = int(pg.connect_timeout_ms),
                             .statement_timeout_ms = int(pg.statement_timeout_ms),
                             .clock = &clock},
            error);
        if (!store) throw std::runtime_error("cannot open the PostgreSQL store: " + error);
        spdlog::info("store: PostgreSQL at {}, schema version {}{}", store->server(),
                     store::PgStore::schema_version(),
                     store->schema_found() == store::PgStore::schema_version()
                         ? ""
                         : " (upgraded from " + std::to_string(store->schema_found()) + ")");
        return store;
#else
        throw std::runtime_error(
            "store.backend = \"postgres\": this pushsvc was built without libpq (RocksDB only)");
#endif
    }
    auto store =
        store::RocksStore::open((fs::path(cfg.store.path) / "db").string(),
                                store::RocksOptions{.sync = cfg.store.sync, .clock = &clock});
    if (!store) throw std::runtime_error("cannot open store under " + cfg.store.path);
    spdlog::info("store: RocksDB under {}, checksums on {}", cfg.store.path,
                 store::crc32c_implementation());
    return std::move(*store);
}

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
    base::AdjustableClock clock;  // system time; only test-double mode moves it
    // The store first: an unreachable database ends startup before anything else happens.
    auto store = open_store(cfg, clock);
    auto keys = load_token_keys(cfg);

    int threads = cfg.server.threads > 0 ? cfg.server.threads
                                         : int(std::max(1u, std::thread::hardware_concurrency()));
    // The store's own executor: background work (expiry, collection, statistics) always, and
    // with store.sync every write, since each waits for fsync; network threads never wait.
    // Eight threads with sync so concurrent writers share an fsync (RocksDB group commit).
    // PostgreSQL: every store call (reads too) is a round trip to the database, so all of them
    // go to the pool, one thread per connection (concurrent appends share a commit there).
    const bool postgres = cfg.store.backend == "postgres";
    const bool offload_store = cfg.store.sync || postgres;
    const int pool_threads =
        postgres ? std::max(2, int(cfg.store.postgres.pool_size)) : cfg.store.sync ? 8 : 2;
    auto store_pool = std::make_unique<asio::thread_pool>(pool_threads);
    http::Api::Offload offload;
    if (offload_store) {
        // Jobs catch their own failures (Api answers 500, WebSocket sessions close); this
        // guard only keeps a pool thread alive should one still escape.
        offload = [pool = store_pool.get()](std::function<void()> f) {
            asio::post(*pool, base::guard(std::move(f), [](const std::string& what) {
                spdlog::error("store pool job failed: {}", what);
            }));
        };
    }

    std::unique_ptr<webpush::PushService> service;
    std::unique_ptr<Housekeeping> housekeeping;
    std::unique_ptr<ServiceNotifier> notifier;
    std::unique_ptr<http::Api> api;
    std::unique_ptr<webpush::ServiceChannelBackend> channel_backend;
    delivery::Hub hub;
    std::unique_ptr<testdouble::TestDouble> test_double;  // [testdouble] enabled: wraps api
    // Declared after everything sessions point at: destroying the io_context destroys the
    // sessions still queued in it, and they detach from the hub on the way out.
    asio::io_context ioc(threads);
    // Connections are only accepted once the threads below run the io_context, after `api`
    // and the protocol handlers are in place (the origin needs the bound ports first).
    net::Server server(ioc, cfg);
    http::Handler handler = [&api, &test_double](http::Request req, http::Responder respond) {
        if (test_double) return test_double->handle(std::move(req), std::move(respond));
        api->handle(std::move(req), std::move(respond));
    };
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
    sopts.ua_idle_ms = std::int64_t(cfg.push.ua_idle_days) * 24 * 3600 * 1000;
    service =
        std::make_unique<webpush::PushService>(sopts, *store, webpush::EndpointCodec(keys), clock);
    housekeeping = std::make_unique<Housekeeping>(
        store_pool->get_executor(), *service, *store, clock,
        [&hub] { return hub.online_user_agents(); },
        HousekeepingOptions{.sweep_batch = cfg.store.sweep_batch});
    clock.on_move([hk = housekeeping.get()] { hk->clock_moved(); });
    notifier = std::make_unique<ServiceNotifier>(hub, *housekeeping);
    service->set_notifier(notifier.get());
    channel_backend = std::make_unique<webpush::ServiceChannelBackend>(*service, *store, clock);
    http::MonitorContext monitoring{&hub, channel_backend.get(), ioc.get_executor(),
                                    cfg.delivery.max_inflight};
    // Monitoring's store work (delivered marks, receipt deletes) stays off network threads.
    monitoring.store_executor = store_pool->get_executor();
    api = std::make_unique<http::Api>(*service, offload, monitoring);
    if (cfg.testdouble.enabled)
        test_double = std::make_unique<testdouble::TestDouble>(testdouble::Dependencies{
            cfg, *service, *store, hub, clock, keys,
            [&api](http::Request r, http::Responder a) { api->handle(std::move(r), std::move(a)); },
            [&ioc](std::function<void()> job) { asio::post(ioc, std::move(job)); }});
    // WebSocket user agents (Firefox) on GET / of both listeners.
    http1::WsOptions ws;
    ws.backend = channel_backend.get();
    ws.hub = &hub;
    ws.delivery = cfg.delivery;
    if (offload_store) ws.channel_executor = store_pool->get_executor();
    // net/ detects the protocol and hands each connection to these (net/handoff.h).
    server.set_handlers(
        {.http1 = http1::protocol_handler(handler, http1::make_ws_upgrade_handler(ws)),
         .http2 = http2::protocol_handler(handler)});

    // ---- Gauges computed at scrape time (GET /metrics) -------------------------------------
    // Declared after the hub and the store they read, so they unregister (and no scrape can
    // call them) before those go away.
    std::vector<obs::Gauge> gauges;
    for (auto [channel, label] : {std::pair{delivery::Channel::websocket, "websocket"},
                                  std::pair{delivery::Channel::http2, "http2"}})
        gauges.push_back(obs::gauge(
            "pushsvc_connected_user_agents",
            "User agents connected now, by channel: the WebSocket push channel, or RFC 8030 "
            "monitoring requests over HTTP/2.",
            {{"channel", label}}, [&hub, channel] { return double(hub.connected(channel)); }));
    // Store gauges: Store::stats() walks the expiry index, so housekeeping takes it on the
    // store executor every 30 s and a scrape reads that copy (never the store itself).
    gauges.push_back(obs::gauges(
        {{"pushsvc_queued_messages",
          "Messages queued for user agents and receipts queued for application servers "
          "(expired ones not swept yet included); refreshed every 30 s.",
          {}},
         {"pushsvc_user_agents",
          "User agents stored (WebSocket browsers and RFC 8030 subscription sets); refreshed "
          "every 30 s.",
          {}},
         {"pushsvc_receipt_subscriptions",
          "Receipt subscriptions stored (RFC 8030 §5.1); refreshed every 30 s.",
          {}},
         {"pushsvc_store_disk_bytes",
          "Bytes on disk under the store's folder; refreshed every 30 s.",
          {}},
         {"pushsvc_oldest_queued_message_age_seconds",
          "Age of the oldest queued message (0 when none): a growing value means messages wait "
          "for user agents that do not come.",
          {}}},
        [hk = housekeeping.get(), &clock] {
            auto s = hk->stats();
            double age = s.oldest_received_ms
                             ? std::max(0.0, double(clock.now_ms() - *s.oldest_received_ms) / 1000)
                             : 0.0;
            return std::vector<double>{double(s.queued_messages), double(s.user_agents),
                                       double(s.receipt_subscriptions), double(s.disk_bytes), age};
        }));
    // ---- end of gauges ---------------------------------------------------------------------

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

    housekeeping->start();

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: draining", sig);
        housekeeping->stop();
        server.drain([&ioc] { ioc.stop(); });
    });

    auto failure = run_io_threads(ioc, threads);
    housekeeping->stop();  // nothing left armed on the pool, so join returns
    if (failure) {
        // No drain: the process state is unknown. Queued store jobs are dropped (their
        // requests were never answered 201); the store is closed when `store` goes out of
        // scope below, after everything that uses it.
        store_pool->stop();
        store_pool->join();
        spdlog::critical("pushsvc stopped: exception escaped a network thread: {}", *failure);
        return kExitInternalError;
    }
    store_pool->join();
    spdlog::info("pushsvc stopped");
    return 0;
}

}  // namespace pushsvc::app
