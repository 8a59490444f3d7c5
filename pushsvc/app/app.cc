#include "pushsvc/app/app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "pushsvc/app/backup.h"
#include "pushsvc/app/cluster_node.h"
#include "pushsvc/app/control.h"
#include "pushsvc/app/housekeeping.h"
#include "pushsvc/app/io_threads.h"
#include "pushsvc/base/base64url.h"
#include "pushsvc/base/guard.h"
#include "pushsvc/crypto/p256.h"
#include "pushsvc/crypto/random.h"
#include "pushsvc/delivery/hub.h"
#include "pushsvc/http/api.h"
#include "pushsvc/http1/session.h"
#include "pushsvc/http1/ws_session.h"
#include "pushsvc/http2/connection.h"
#include "pushsvc/net/buffer_budget.h"
#include "pushsvc/net/server.h"
#include "pushsvc/net/tls_context.h"
#include "pushsvc/obs/log.h"
#include "pushsvc/obs/metrics.h"
#include "pushsvc/store/crc32c.h"
#include "pushsvc/store/rocks_store.h"
#ifdef PUSHSVC_WITH_POSTGRES
#include "pushsvc/store/pg_store.h"
#endif
#include "pushsvc/testdouble/testdouble.h"
#include "pushsvc/web/pages.h"

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
// In cluster mode everything also goes to the router, which tells the node holding the user
// agent when that is another one (router.h: never waiting on it here).
class ServiceNotifier final : public webpush::Notifier {
  public:
    ServiceNotifier(delivery::Hub& hub, Housekeeping& housekeeping, cluster::Router* router)
        : hub_(hub), housekeeping_(housekeeping), router_(router) {}
    void notify(const store::MessageRecord& message, bool stored,
                const store::RouteSeen& route) override {
        if (stored) housekeeping_.expiring_at(message.expires_ms);
        hub_.wake(message, stored);
        if (!router_) return;
        using Kind = cluster::Event::Kind;
        router_->forward({.kind = stored ? Kind::wake : Kind::direct,
                          .uaid = message.uaid,
                          .id = {},
                          // A stored message goes along when the store named the one before it: the
                          // node holding the user agent may then send it without reading the queue.
                          .message = stored && message.prev_seq == 0
                                         ? nullptr
                                         : std::make_shared<const store::MessageRecord>(message)},
                         route);
    }
    void acknowledged(const std::string& uaid, const std::string& message_id) override {
        hub_.acknowledged(uaid, message_id);
        if (router_) router_->forward({cluster::Event::Kind::acked, uaid, message_id, nullptr});
    }
    void removed(const std::string& uaid, const std::string& subscription_id) override {
        hub_.removed(uaid, subscription_id);
        if (router_)
            router_->forward({cluster::Event::Kind::removed, uaid, subscription_id, nullptr});
    }

  private:
    delivery::Hub& hub_;
    Housekeeping& housekeeping_;
    cluster::Router* router_;  // cluster mode only
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
                             .cache_ms = int(pg.cache_ms),
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

// The responder of `req` wrapped to write its access line (log.access) when it answers.
http::Responder with_access_log(const http::Request& req, http::Responder respond) {
    return [respond = std::move(respond), method = req.method, target = req.target,
            protocol = std::string(req.protocol), connection = req.connection, secure = req.secure,
            start = std::chrono::steady_clock::now()](http::Response res) {
        const std::chrono::duration<double, std::milli> took =
            std::chrono::steady_clock::now() - start;
        obs::log_access({.connection = connection,
                         .method = method,
                         .target = target,
                         .status = res.status,
                         .latency_ms = took.count(),
                         .protocol = protocol,
                         .tls = secure});
        respond(std::move(res));
    };
}

// Writes a secret next to the data, readable by its owner only; by rename, so a crash leaves
// the old file or the new one, never half of one.
void write_secret_file(const fs::path& file, const std::string& text) {
    fs::path tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out{tmp, std::ios::trunc};
        out << text;
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
    }
    ::chmod(tmp.c_str(), 0600);
    fs::rename(tmp, file);
}

// The try-it page's VAPID key (web.demo), generated on first start and kept, so the demo
// subscriptions browsers made stay valid across restarts. Each node of a cluster has its own
// (its own store.path): a demo subscription made on one node is for that node's page.
crypto::P256PrivateKey load_demo_key(const config::Config& cfg) {
    fs::path file = fs::path(cfg.store.path) / "demo_vapid_key";
    if (std::ifstream in{file}) {
        std::string line;
        std::getline(in, line);
        auto raw = base::base64url_decode(line);
        auto key = raw ? crypto::P256PrivateKey::from_private_raw(*raw)
                       : result<crypto::P256PrivateKey>(errc::bad_request);
        if (!key) throw std::runtime_error("corrupt demo key file " + file.string());
        return std::move(*key);
    }
    auto key = crypto::P256PrivateKey::generate();
    write_secret_file(file, base::base64url_encode(key.private_raw()) + "\n");
    spdlog::info("generated the demo page's VAPID key in {}", file.string());
    return key;
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
    write_secret_file(file, base::base64url_encode(keys.front()) + "\n");
    spdlog::info("generated endpoint token key in {}", file.string());
    return keys;
}

void check_startup_files(const config::Config& cfg) {
    for (const auto& text : cfg.push.token_keys) {
        auto raw = base::base64url_decode(text);
        if (!raw || raw->size() != 32)
            throw std::runtime_error(
                "config: push.token_keys entries must be base64url of 32 bytes");
    }
    if (!cfg.server.tls_listen.empty()) {
        auto ctx = net::make_server_tls_context(cfg.server.tls_cert, cfg.server.tls_key);
        if (!ctx)
            throw std::runtime_error("TLS certificate/key " + cfg.server.tls_cert + " " +
                                     cfg.server.tls_key + ": " + ctx.error().message());
    }
}

int run(const config::Config& cfg, const RunOptions& options) {
    obs::set_log_level(cfg.log.level);
    net::buffer_budget().set_limit(static_cast<std::size_t>(cfg.limits.max_buffer_bytes));
    obs::configure_logging(cfg.log.format == "json" ? obs::LogFormat::json : obs::LogFormat::text,
                           cfg.log.access);
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
    // go to the pool: one thread per connection, and as many again as appends can share a
    // commit, since each append holds its thread until its batch commits (with only one per
    // connection, a batch could never hold more appends than there are connections).
    const bool postgres = cfg.store.backend == "postgres";
    const bool offload_store = cfg.store.sync || postgres;
    int pool_threads = cfg.store.sync ? 8 : 2;
#ifdef PUSHSVC_WITH_POSTGRES
    if (postgres)
        pool_threads = int(cfg.store.postgres.pool_size + store::PgStore::kMaxAppendBatch);
#endif
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
    // Cluster mode (cluster.listen): routes and notifications between nodes. Before the
    // io_context, like the hub: sessions destroyed with it still tell the hub they go.
    std::unique_ptr<cluster::Router> router;
    if (!cfg.cluster.listen.empty())
        router = std::make_unique<cluster::Router>(*store, hub, store_pool->get_executor(), clock);
    std::unique_ptr<testdouble::TestDouble> test_double;  // [testdouble] enabled: wraps api
    std::optional<crypto::P256PrivateKey> demo_key;       // web.demo
    std::unique_ptr<web::StatusReport> status;
    std::unique_ptr<web::Pages> pages;        // in front of everything: status and try-it pages
    std::unique_ptr<web::Pages> admin_pages;  // the status page on admin.listen
    // Declared after everything sessions point at: destroying the io_context destroys the
    // sessions still queued in it, and they detach from the hub on the way out.
    asio::io_context ioc(threads);
    // Connections are only accepted once the threads below run the io_context, after `api`
    // and the protocol handlers are in place (the origin needs the bound ports first).
    net::Server server(ioc, cfg);
    // `pushsvc backup` asks over this socket for a consistent copy (app/backup.h). Folders a
    // backup left behind when it was interrupted are removed first.
    {
        std::error_code ignored;
        fs::remove_all(staging_root(cfg), ignored);
    }
    std::unique_ptr<ControlSocket> control;
    try {
        control = std::make_unique<ControlSocket>(
            ioc, control_socket_path(cfg),
            [&cfg, rocks = dynamic_cast<store::RocksStore*>(store.get()), pool = store_pool.get()](
                const std::string& command, std::function<void(std::string)> reply) {
                if (command != "backup") return reply("error unknown command");
                // A PostgreSQL store is the database's to back up (pg_basebackup, Patroni).
                if (!rocks) return reply("error backup copies a RocksDB store only");
                asio::post(*pool, [&cfg, rocks, reply = std::move(reply)] {
                    reply(stage_backup(cfg, *rocks));
                });
            });
    } catch (const std::exception& e) {
        // Serving pushes matters more than hot backups (e.g. a store.path too long for a
        // socket address): say so and go on.
        spdlog::warn("{}; `pushsvc backup` needs the service stopped", e.what());
    }
    http::Handler application = [&api, &test_double](http::Request req, http::Responder respond) {
        if (test_double) return test_double->handle(std::move(req), std::move(respond));
        api->handle(std::move(req), std::move(respond));
    };
    http::Handler handler = [&pages](http::Request req, http::Responder respond) {
        if (obs::access_log_enabled()) respond = with_access_log(req, std::move(respond));
        pages->handle(std::move(req), std::move(respond));
    };
    if (auto r = server.start(); !r)
        throw std::runtime_error("cannot bind listeners: " + r.error().message());
    // cluster.listen: the internal listener (only the route other nodes call) and the client
    // for theirs; starts the router.
    std::unique_ptr<ClusterNode> cluster_node;
    if (router) cluster_node = std::make_unique<ClusterNode>(ioc, cfg, hub, *router);
    // admin.listen: a listener of its own for the operator routes, with the same transport
    // (limits, deadlines, drain) as the public ones and a handler that knows only those routes.
    std::unique_ptr<net::Server> admin_server;
    if (!cfg.admin.listen.empty()) {
        config::Config admin_cfg = cfg;
        admin_cfg.server.listen = cfg.admin.listen;
        admin_cfg.server.tls_listen.clear();
        admin_cfg.server.reuse_port = false;  // /metrics of this process, not of any sharer
        admin_server = std::make_unique<net::Server>(ioc, admin_cfg);
        if (auto r = admin_server->start(); !r)
            throw std::runtime_error("cannot bind admin.listen: " + r.error().message());
    }

    webpush::ServiceOptions sopts;
    sopts.profile = cfg.profile;
    sopts.origin = origin_of(cfg, server);
    sopts.max_ttl = cfg.push.max_ttl;
    sopts.max_body_bytes = cfg.limits.max_body_bytes;
    sopts.vapid_skew_s = cfg.push.vapid_exp_skew_s;
    sopts.vapid_cache_size = cfg.push.vapid_cache_size;
    sopts.max_queued_per_ua = cfg.push.max_queued_per_ua;
    sopts.ua_idle_ms = std::int64_t(cfg.push.ua_idle_days) * 24 * 3600 * 1000;
    sopts.rate = cfg.rate;
    service =
        std::make_unique<webpush::PushService>(sopts, *store, webpush::EndpointCodec(keys), clock);
    housekeeping = std::make_unique<Housekeeping>(
        store_pool->get_executor(), *service, *store, clock,
        [&hub] { return hub.online_user_agents(); },
        HousekeepingOptions{.sweep_batch = cfg.store.sweep_batch});
    clock.on_move([hk = housekeeping.get()] { hk->clock_moved(); });
    notifier = std::make_unique<ServiceNotifier>(hub, *housekeeping, router.get());
    service->set_notifier(notifier.get());
    channel_backend = std::make_unique<webpush::ServiceChannelBackend>(*service, *store, clock);
    http::MonitorContext monitoring{&hub, channel_backend.get(), ioc.get_executor(),
                                    cfg.delivery.max_inflight};
    // Monitoring's store work (delivered marks, receipt deletes) stays off network threads.
    monitoring.store_executor = store_pool->get_executor();
    api = std::make_unique<http::Api>(*service, offload, monitoring);
    api->set_admin(cfg.admin);
    if (cfg.testdouble.enabled)
        test_double = std::make_unique<testdouble::TestDouble>(testdouble::Dependencies{
            cfg, *service, *store, hub, clock, keys,
            [&api](http::Request r, http::Responder a) { api->handle(std::move(r), std::move(a)); },
            [&ioc](std::function<void()> job) { asio::post(ioc, std::move(job)); }});
    {
        web::StatusSources sources{
            .origin = sopts.origin,
            .profile = cfg.profile == config::Profile::strict ? "strict" : "compat",
            .listeners = {},
            .websocket_connected = [&hub] { return hub.connected(delivery::Channel::websocket); },
            .http2_connected = [&hub] { return hub.connected(delivery::Channel::http2); },
            .store_stats = [hk = housekeeping.get()] { return hk->stats(); },
            .store_backend = cfg.store.backend};
        if (auto ep = server.cleartext_endpoint())
            sources.listeners.emplace_back("cleartext", endpoint_text(*ep));
        if (auto ep = server.tls_endpoint())
            sources.listeners.emplace_back("tls", endpoint_text(*ep));
        if (admin_server)
            sources.listeners.emplace_back("admin",
                                           endpoint_text(*admin_server->cleartext_endpoint()));
        status = std::make_unique<web::StatusReport>(std::move(sources), web::steady_ms());
    }
    if (cfg.web.demo) demo_key = load_demo_key(cfg);
    // The status page follows /metrics: on the public listeners unless admin.listen is set.
    auto operator_check = [&cfg](bool admin_listener) {
        return [access = http::AdminAccess::from(cfg.admin, admin_listener), profile = cfg.profile](
                   const http::Request& req) { return http::check_admin(req, access, profile); };
    };
    pages = std::make_unique<web::Pages>(
        web::PagesDependencies{.status = *status,
                               .serve_status = cfg.admin.listen.empty(),
                               .authorize = operator_check(false),
                               .origin = sopts.origin,
                               .demo_key = demo_key ? &*demo_key : nullptr,
                               .clock = clock,
                               .inner = application});
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
    if (admin_server) {
        admin_pages = std::make_unique<web::Pages>(
            web::PagesDependencies{.status = *status,
                                   .serve_status = true,
                                   .authorize = operator_check(true),
                                   .origin = sopts.origin,
                                   .demo_key = nullptr,
                                   .clock = clock,
                                   .inner = [&api](http::Request req, http::Responder respond) {
                                       api->handle_admin(std::move(req), std::move(respond));
                                   }});
        http::Handler admin_handler = [&admin_pages](http::Request req, http::Responder respond) {
            admin_pages->handle(std::move(req), std::move(respond));
        };
        admin_server->set_handlers({.http1 = http1::protocol_handler(admin_handler),
                                    .http2 = http2::protocol_handler(admin_handler)});
    }

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
            {{"channel", label}}, [&hub, ch = channel] { return double(hub.connected(ch)); }));
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
    gauges.push_back(obs::gauge(
        "pushsvc_buffer_bytes",
        "Bytes connections make the service hold in buffers now (request heads and bodies being "
        "read, HTTP/2 pending output, WebSocket messages being assembled); bounded by "
        "limits.max_buffer_bytes.",
        {}, [] { return double(net::buffer_budget().held()); }));
    // ---- end of gauges ---------------------------------------------------------------------

    boost::json::object ready{
        {"origin", sopts.origin},
        {"profile", cfg.profile == config::Profile::strict ? "strict" : "compat"}};
    if (auto ep = server.cleartext_endpoint()) ready["cleartext"] = endpoint_text(*ep);
    if (auto ep = server.tls_endpoint()) ready["tls"] = endpoint_text(*ep);
    if (admin_server) ready["admin"] = endpoint_text(*admin_server->cleartext_endpoint());
    if (cluster_node) {
        ready["cluster"] = cluster_node->endpoint();
        ready["node_id"] = cluster_node->node_id();
    }
    spdlog::info("pushsvc ready: {} (subscribe: POST {}/subscribe)", boost::json::serialize(ready),
                 sopts.origin);
    if (!options.ready_file.empty()) {
        fs::path tmp = options.ready_file + ".tmp";
        std::ofstream(tmp) << boost::json::serialize(ready) << "\n";
        fs::rename(tmp, options.ready_file);
    }

    housekeeping->start();

    // SIGHUP (systemctl reload): reload the TLS certificate and key from their paths, for
    // renewals without a restart; re-armed after each signal. Connections stay open.
    asio::signal_set hangups(ioc, SIGHUP);
    std::function<void()> await_hangup = [&] {
        hangups.async_wait([&](boost::system::error_code ec, int) {
            if (ec) return;
            if (cfg.server.tls_listen.empty()) {
                spdlog::info("signal SIGHUP: no TLS listener, nothing to reload");
            } else {
                spdlog::info("signal SIGHUP: reloading the TLS certificate");
                (void)server.reload_tls();  // logged and counted there
            }
            await_hangup();
        });
    };
    await_hangup();

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int sig) {
        if (ec) return;
        spdlog::info("signal {}: draining", sig);
        boost::system::error_code ignored;
        hangups.cancel(ignored);
        if (control) control->close();
        housekeeping->stop();
        // Every listener drains; the io_context stops when the last is done (the `done`s run
        // on the io_context's threads, hence the atomic).
        auto pending =
            std::make_shared<std::atomic<int>>(1 + (admin_server ? 1 : 0) + (cluster_node ? 1 : 0));
        auto done = [&ioc, pending] {
            if (pending->fetch_sub(1) == 1) ioc.stop();
        };
        server.drain(done);
        if (admin_server) admin_server->drain(done);
        if (cluster_node) cluster_node->drain(done);
    });

    auto failure = run_io_threads(ioc, threads);
    housekeeping->stop();  // nothing left armed on the pool, so join returns
    if (router) router->cancel_retries();
    if (failure) {
        // No drain: the process state is unknown. Queued store jobs are dropped (their
        // requests were never answered 201); the store is closed when `store` goes out of
        // scope below, after everything that uses it.
        store_pool->stop();
        store_pool->join();
        if (router) router->stop();
        spdlog::critical("pushsvc stopped: exception escaped a network thread: {}", *failure);
        return kExitInternalError;
    }
    store_pool->join();
    if (router) router->stop();  // sessions destroyed with the io_context no longer route
    spdlog::info("pushsvc stopped");
    return 0;
}

}  // namespace pushsvc::app
