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

struct LogConfig {
    std::string level = "info";
};

struct Config {
    Profile profile = Profile::compat;
    ServerConfig server;
    LimitsConfig limits;
    PushConfig push;
    DeliveryConfig delivery;
    StoreConfig store;
    TestDoubleConfig testdouble;
    LogConfig log;
};

}  // namespace pushsvc::config
