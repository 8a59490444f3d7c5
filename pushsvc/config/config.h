#pragma once
// The configuration tree: plain structs whose member initialisers are the documented defaults
// (config/pushsvc.example.toml lists every key). Loaded once by app/, then read-only, so any
// thread may read it.

#include <cstdint>
#include <string>
#include <vector>

namespace pushsvc::config {

enum class Profile { compat, strict };

struct ServerConfig {
    std::string listen = "127.0.0.1:8080";  // cleartext HTTP/1.1 + h2c; "" disables
    std::string tls_listen;                 // TLS with ALPN h2, http/1.1; "" disables
    std::string tls_cert;                   // PEM chain
    std::string tls_key;                    // PEM private key
    std::string public_url;                 // origin in endpoint URLs; "" = derived
    int threads = 0;                        // network threads; 0 = hardware concurrency
    // SO_REUSEPORT on `listen` and `tls_listen`: several pushsvc processes on one machine
    // share the public ports and the kernel spreads new connections over them (a machine's
    // connections beyond one process's open-files limit; each process is its own cluster
    // node, with its own cluster.listen and node_id). The internal listener never shares.
    bool reuse_port = false;
};

struct LimitsConfig {
    std::uint32_t max_header_bytes = 16 * 1024;  // per request, all fields
    std::uint32_t max_body_bytes = 4352;         // 413 above this (compat default)
    std::uint32_t read_timeout_ms = 30'000;      // a started request must finish within
    std::uint32_t idle_timeout_ms = 120'000;     // keep-alive connection with no request
    std::uint32_t max_concurrent_streams = 128;  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS
    std::uint32_t shutdown_grace_ms = 5'000;     // in-flight requests may finish
    // HTTP/2 connections holding monitoring GETs (RFC 8030 §6) are otherwise silent for as
    // long as no message comes: after this much silence they get a PING, well inside the
    // ~5 minutes after which NATs forget idle TCP flows. 0 disables.
    std::uint32_t h2_ping_interval_ms = 60'000;
    // A peer that sends nothing (no PING ACK, no frame) this long after our PING is gone:
    // the connection is closed and its monitoring streams released.
    std::uint32_t h2_ping_timeout_ms = 30'000;
    // Open client connections in total (every protocol, from accept to close). The server
    // uses min(this, RLIMIT_NOFILE - 1024) so the store and logs keep descriptors.
    std::uint32_t max_connections = 100'000;
    // Open connections from one IPv4 address or one IPv6 /64; generous because whole
    // NATed offices and carrier-grade NATs share one address.
    std::uint32_t max_connections_per_ip = 256;
    // A TLS handshake must complete within this time from accept.
    std::uint32_t handshake_timeout_ms = 10'000;
    // From accept (cleartext) or the end of the TLS handshake: the protocol must be known and
    // the first request's head (HTTP/1.1) or first stream (HTTP/2) must arrive within this
    // time, however slowly the bytes drip in.
    std::uint32_t first_request_timeout_ms = 10'000;
    // An HTTP/2 response that cannot make progress because the peer keeps its flow-control
    // window at 0 is reset after this long; a connection where nothing moved is closed.
    std::uint32_t write_stall_timeout_ms = 30'000;
    // Bytes all connections together may make the service hold in buffers (request heads and
    // bodies being read, HTTP/2 pending output, WebSocket messages being assembled;
    // net/buffer_budget.h). Over it new connections are refused before TLS and the largest
    // holders are closed, so many slow or never-reading peers cannot exhaust memory.
    std::int64_t max_buffer_bytes = std::int64_t{512} * 1024 * 1024;
};

struct PushConfig {
    std::uint32_t max_ttl = 2'592'000;   // 30 days; longer TTLs are kept this long (R8030-5.2-f)
    std::int64_t vapid_exp_skew_s = 60;  // tolerance on VAPID exp (<= 24 h + skew)
    std::uint32_t vapid_cache_size = 10'000;
    // Messages kept for one user agent; pushes beyond it get 429 + Retry-After (R8030-8.4-b)
    // until the UA drains its queue or messages expire. Nothing accepted is dropped.
    std::uint32_t max_queued_per_ua = 1000;
    // A user agent (WebSocket browser, RFC 8030 subscription set) not seen for this many days
    // is gone: pushes to it get 410 at once, and it is deleted with its subscriptions and
    // queue. Seen = a hello, a monitoring GET, or being connected (refreshed daily).
    std::uint32_t ua_idle_days = 60;
    // Endpoint token keys, base64url 32 bytes each; the first encrypts, all decrypt (rotation).
    // Empty: generated on first start and kept under store.path.
    std::vector<std::string> token_keys;
};

// The WebSocket user-agent channel (Firefox's push protocol) and delivery to online UAs.
struct DeliveryConfig {
    std::uint32_t max_inflight = 32;  // un-acked notifications per connection
    std::uint32_t max_subscriptions_per_ua = 500;
    std::uint32_t hello_timeout_ms = 10'000;     // the first frame must be a hello within this
    std::uint32_t ws_idle_timeout_ms = 600'000;  // silence before close; pinged at half of it
};

// Per-client rate limits (docs/limits.md): token buckets that allow `*_burst` requests at once
// and `*_per_min` a minute after that; `*_per_min = 0` turns a limit off. Over a limit an HTTP
// request gets 429 with Retry-After (RFC 8030 §8.4, R8030-8.4-b) and a WebSocket hello is
// closed with 1013 "try again later" (Firefox reconnects with backoff). The defaults sit far
// above what a real sender, user agent or NAT of browsers does, so only floods meet them.
struct RateConfig {
    // Pushes per sender: the VAPID key of a restricted subscription, else the source address
    // (an unrestricted subscription takes any key, so a key there is no identity). TTL-0
    // pushes count too: they skip the per-UA queue cap, so this is their only bound.
    std::uint32_t push_per_min = 300'000;  // 5,000 a second
    std::uint32_t push_burst = 50'000;     // a broadcast to 50k subscriptions goes out at once
    // POST /subscribe per source address (IPv4 address or IPv6 /64): each one is a store write
    // and a new user agent that lives until it is idle for push.ua_idle_days.
    std::uint32_t subscribe_per_min = 600;
    std::uint32_t subscribe_burst = 1000;
    // WebSocket hellos per source address: each costs a store read and a queue scan. The burst
    // covers a NAT full of browsers reconnecting together after a restart.
    std::uint32_t hello_per_min = 1200;
    std::uint32_t hello_burst = 2000;
    // User agents created by hellos (no or unknown uaid) per source address: without it a
    // client could lift delivery.max_subscriptions_per_ua by reconnecting with a new hello.
    std::uint32_t new_ua_per_min = 120;
    std::uint32_t new_ua_burst = 500;
    // Keys (senders, addresses) tracked per limit; the least recently used are forgotten
    // beyond it, so rotating keys or addresses cannot grow memory (~150-250 bytes a key).
    std::uint32_t max_tracked = 100'000;
};

// PostgreSQL as the store (store.backend = "postgres"): the shared, replicated database that
// several pushsvc nodes can use (issue "Cluster mode on PostgreSQL"). Read only with that
// backend.
struct PostgresConfig {
    // libpq connection string. Several hosts plus target_session_attrs=read-write make every
    // (re)connection find the current primary after a failover.
    std::string dsn;
    // Connections kept open; also how many store calls can wait on PostgreSQL at once, so the
    // store executor gets at least this many threads.
    std::uint32_t pool_size = 8;
    // A connection attempt gives up after this, so an unreachable primary fails a request with
    // 503 instead of holding it (and startup fails instead of hanging).
    std::uint32_t connect_timeout_ms = 3000;
    // Server-side statement_timeout, and (plus a margin) how long the client waits for an
    // answer before it drops the connection: a stalled database never hangs a request.
    std::uint32_t statement_timeout_ms = 5000;
    // How long a push may use this node's copy of a subscription and its user agent instead
    // of reading them (every append still checks that the subscription exists): another
    // node's hello reaches push.ua_idle_days checks this much later, a TTL-0 push to a
    // subscription removed on another node this long ago is still answered 201.
    std::uint32_t cache_ms = 2000;
};

struct StoreConfig {
    // "rocksdb" (single node, data under `path`) or "postgres" (store.postgres).
    std::string backend = "rocksdb";
    PostgresConfig postgres;
    std::string path = "./data";
    bool sync = false;  // fsync each write (group commit)
    // Expired messages removed per step; the next step is queued behind other store work, so
    // a mass expiry does not hold up pushes. Expiry runs when the earliest message expires.
    std::uint32_t sweep_batch = 1000;
};

// Test-double mode for sender-library CI and the conformance suite (pushsvc/testdouble/): a
// control API under /_testdouble/, web-push-testing compatible routes under /web-push-testing/,
// in-service user agents that record and decrypt what they receive, failure injection and an
// adjustable clock. Off by default; never enable it on a production service.
struct TestDoubleConfig {
    bool enabled = false;
    // Comma list of rules to break on purpose, for the conformance suite's own tests
    // (testdouble/README.md lists them). Only honoured when enabled.
    std::string break_rules;
};

// The pages a person opens in a browser (pushsvc/web/): the status page at GET / and
// /status.json (operators only, like /metrics) are always there; this switches the try-it page.
struct WebConfig {
    // /demo/: subscribes the visiting browser with the service's demo VAPID key (generated on
    // first start, kept under store.path) and pushes to it on request. It gives nobody a power
    // they lack: it pushes only to this service's endpoints, like anyone holding one may, and
    // restricted ones only when made for the demo key. Demo pushes share the demo key's push
    // rate limit (rate.push_*), so a flood of them can stall the demo, nothing else.
    bool demo = true;
};

// Operator routes (/metrics, the status page's /status.json; http/admin_access.h). Metrics tell an
// outsider how busy the service is, which senders fail and how, so they are not public.
struct AdminConfig {
    // Secret: a request from a non-loopback peer needs `Authorization: Bearer <token>`. ""
    // = no token: only loopback peers (and the admin listener) are served. Never logged.
    std::string token;
    // Loopback peers are trusted without the token: whoever runs code on the host can read the
    // token from the config anyway. Set false when a reverse proxy on the same host forwards
    // public traffic, since then every request comes from loopback.
    bool loopback_without_token = true;
    // A separate cleartext listener serving only GET /metrics, /health and the status page (a
    // private interface for Prometheus). When set, the public listeners answer /metrics and
    // /status.json 404. "" disables it.
    std::string listen;
};

// Cluster mode (docs/cluster.md): several nodes on one PostgreSQL store tell each other about
// pushes for the user agents they hold, over an internal listener that serves nothing else.
// Off while `listen` is empty (a single node needs none of it).
struct ClusterConfig {
    // The internal listener ("host:port", cleartext HTTP/1.1), on an address only the other
    // nodes reach. "" = cluster routing off: this node wakes only its own connections.
    std::string listen;
    // How the other nodes reach `listen`: "http://host:port". "" = derived from the bound
    // address (so `listen` must then name a concrete host, not 0.0.0.0 or ::).
    std::string advertise;
    // This node's name in routes and logs; unique per node. "" = the advertise URL.
    std::string node_id;
    // Shared by every node: requests between nodes are signed with it (HMAC-SHA-256), so
    // nothing but a node can make another one act. At least 32 characters; never logged.
    std::string secret;
};

struct LogConfig {
    std::string level = "info";
    // "text" for people reading a terminal or journalctl; "json" (one object per line) for log
    // collectors that would otherwise have to parse free text.
    std::string format = "text";
    // One line per request (method, redacted path, status, latency, protocol): what operators
    // ask for when debugging a sender, off by default because it is one line per push.
    bool access = false;
};

struct Config {
    Profile profile = Profile::compat;
    ServerConfig server;
    LimitsConfig limits;
    PushConfig push;
    DeliveryConfig delivery;
    RateConfig rate;
    StoreConfig store;
    TestDoubleConfig testdouble;
    WebConfig web;
    AdminConfig admin;
    ClusterConfig cluster;
    LogConfig log;
};

}  // namespace pushsvc::config
