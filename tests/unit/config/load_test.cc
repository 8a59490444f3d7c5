#include "pushsvc/config/load.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

namespace pushsvc::config {
namespace {

struct TempToml {
    explicit TempToml(const std::string& text) {
        path =
            std::filesystem::temp_directory_path() /
            ("pushsvc-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
        std::ofstream(path) << text;
    }
    ~TempToml() { std::filesystem::remove(path); }
    std::filesystem::path path;
};

auto env(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    };
}

TEST(ConfigLoad, DefaultsAreValidWithoutAFile) {
    Config c = load("", env({}));
    EXPECT_EQ(c.profile, Profile::compat);
    EXPECT_EQ(c.server.listen, "127.0.0.1:8080");
    EXPECT_EQ(c.limits.max_body_bytes, 4352u);  // above 4096 so padded senders fit
    EXPECT_FALSE(c.store.sync);
}

TEST(ConfigLoad, ReadsEverySectionFromToml) {
    TempToml f(R"(
profile = "strict"
[server]
listen = "127.0.0.1:0"
public_url = "https://push.example"
[store]
path = "/tmp/x"
sync = true
[push]
max_ttl = 60
token_keys = ["a", "b"]
)");
    Config c = load(f.path.string(), env({}));
    EXPECT_EQ(c.profile, Profile::strict);
    EXPECT_EQ(c.server.listen, "127.0.0.1:0");
    EXPECT_EQ(c.server.public_url, "https://push.example");
    EXPECT_EQ(c.store.path, "/tmp/x");
    EXPECT_TRUE(c.store.sync);
    EXPECT_EQ(c.push.max_ttl, 60u);
    EXPECT_EQ(c.push.token_keys, (std::vector<std::string>{"a", "b"}));
}

// Dead HTTP/2 monitoring clients are found within ping interval + timeout: both default
// well under the ~5 minutes after which NATs forget idle TCP flows.
// load_toml (used by the config fuzzer) applies the same keys, environment and checks as load().
TEST(ConfigLoad, LoadTomlReadsTextLikeAFile) {
    Config c = load_toml("profile = \"strict\"\n[limits]\nmax_body_bytes = 4096\n",
                         env({{"PUSHSVC__SERVER__LISTEN", "0.0.0.0:80"}}));
    EXPECT_EQ(c.profile, Profile::strict);
    EXPECT_EQ(c.limits.max_body_bytes, 4096u);
    EXPECT_EQ(c.server.listen, "0.0.0.0:80");
    EXPECT_THROW(load_toml("[limits]\nmax_body_byts = 1\n", env({})), std::runtime_error);
    EXPECT_THROW(load_toml("[limits\n", env({})), std::runtime_error);
    EXPECT_THROW(load_toml("[limits]\nread_timeout_ms = 0\n", env({})), std::runtime_error);
}

TEST(ConfigLoad, ReadsTheHttp2PingKeysWithDefaultsWellUnderNatTimeouts) {
    Config d = load("", env({}));
    EXPECT_EQ(d.limits.h2_ping_interval_ms, 60'000u);
    EXPECT_EQ(d.limits.h2_ping_timeout_ms, 30'000u);
    EXPECT_LT(d.limits.h2_ping_interval_ms + d.limits.h2_ping_timeout_ms, 300'000u);
    TempToml f("[limits]\nh2_ping_interval_ms = 1500\nh2_ping_timeout_ms = 700\n");
    Config c = load(f.path.string(), env({{"PUSHSVC__LIMITS__H2_PING_TIMEOUT_MS", "900"}}));
    EXPECT_EQ(c.limits.h2_ping_interval_ms, 1500u);
    EXPECT_EQ(c.limits.h2_ping_timeout_ms, 900u);
}

// Connection limits and phase deadlines (issue 14): defaults as documented, read from the
// file and the environment, and zero refused (it would refuse every connection or time out
// every handshake at once).
TEST(ConfigLoad, ReadsTheConnectionLimitKeys) {
    Config d = load("", env({}));
    EXPECT_EQ(d.limits.max_connections, 100'000u);
    EXPECT_EQ(d.limits.max_connections_per_ip, 256u);
    EXPECT_EQ(d.limits.handshake_timeout_ms, 10'000u);
    EXPECT_EQ(d.limits.first_request_timeout_ms, 10'000u);
    EXPECT_EQ(d.limits.write_stall_timeout_ms, 30'000u);
    TempToml f(
        "[limits]\nmax_connections = 50\nmax_connections_per_ip = 3\n"
        "handshake_timeout_ms = 200\nfirst_request_timeout_ms = 300\n");
    Config c = load(f.path.string(), env({{"PUSHSVC__LIMITS__WRITE_STALL_TIMEOUT_MS", "400"}}));
    EXPECT_EQ(c.limits.max_connections, 50u);
    EXPECT_EQ(c.limits.max_connections_per_ip, 3u);
    EXPECT_EQ(c.limits.handshake_timeout_ms, 200u);
    EXPECT_EQ(c.limits.first_request_timeout_ms, 300u);
    EXPECT_EQ(c.limits.write_stall_timeout_ms, 400u);
    for (const char* key : {"max_connections", "max_connections_per_ip", "handshake_timeout_ms",
                            "first_request_timeout_ms", "write_stall_timeout_ms"}) {
        TempToml zero(std::string("[limits]\n") + key + " = 0\n");
        EXPECT_THROW(load(zero.path.string(), env({})), std::runtime_error) << key;
    }
}

TEST(ConfigLoad, EnvironmentOverridesFileValues) {
    TempToml f("[server]\nlisten = \"127.0.0.1:1\"\n");
    Config c = load(f.path.string(), env({{"PUSHSVC__SERVER__LISTEN", "127.0.0.1:2"},
                                          {"PUSHSVC__PROFILE", "strict"},
                                          {"PUSHSVC__STORE__SYNC", "true"},
                                          {"PUSHSVC__LIMITS__MAX_BODY_BYTES", "5000"},
                                          {"PUSHSVC__PUSH__TOKEN_KEYS", "k1,k2"}}));
    EXPECT_EQ(c.server.listen, "127.0.0.1:2");
    EXPECT_EQ(c.profile, Profile::strict);
    EXPECT_TRUE(c.store.sync);
    EXPECT_EQ(c.limits.max_body_bytes, 5000u);
    EXPECT_EQ(c.push.token_keys.size(), 2u);
}

TEST(ConfigLoad, RejectsUnknownKeysWrongTypesAndBadValues) {
    TempToml typo("[server]\nlistn = \"x\"\n");
    EXPECT_THROW(load(typo.path.string(), env({})), std::runtime_error);
    TempToml type("[store]\nsync = \"yes\"\n");
    EXPECT_THROW(load(type.path.string(), env({})), std::runtime_error);
    EXPECT_THROW(load("", env({{"PUSHSVC__PROFILE", "lenient"}})), std::runtime_error);
    EXPECT_THROW(load("", env({{"PUSHSVC__LIMITS__MAX_BODY_BYTES", "4095"}})), std::runtime_error);
    EXPECT_THROW(load("", env({{"PUSHSVC__SERVER__TLS_LISTEN", "127.0.0.1:0"}})),
                 std::runtime_error);
    EXPECT_THROW(load("", env({{"PUSHSVC__PUSH__MAX_TTL", "abc"}})), std::runtime_error);
    EXPECT_THROW(load("/nonexistent/pushsvc.toml", env({})), std::runtime_error);
}

// The one-line message load() throws, or "" when it loads.
std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::runtime_error& e) {
        return e.what();
    }
    return "";
}

std::string file_error(const std::string& toml) {
    TempToml f(toml);
    return error_of([&] { load(f.path.string(), env({})); });
}

std::string env_error(const std::string& var, const std::string& value) {
    return error_of([&] { load("", env({{var, value}})); });
}

TEST(ConfigLoad, UnknownKeysAndTablesAreNamed) {
    EXPECT_EQ(file_error("[store]\nsynk = true\n"),
              "config: unknown key 'store.synk' (did you mean 'store.sync'?)");
    EXPECT_EQ(file_error("[stor]\npath = \"x\"\n"),
              "config: unknown key 'stor' (did you mean 'store'?)");
    // An unknown table is reported even when it is empty.
    EXPECT_EQ(file_error("[metrix]\n"), "config: unknown key 'metrix'");
    EXPECT_EQ(file_error("prfile = \"strict\"\n"),
              "config: unknown key 'prfile' (did you mean 'profile'?)");
    // A table where a value belongs, and a value where a table belongs.
    EXPECT_EQ(file_error("[store.sync]\nx = 1\n"),
              "config key 'store.sync': expected a value, not a table");
    EXPECT_NE(file_error("store = 1\n").find("unknown key 'store'"), std::string::npos);
}

TEST(ConfigLoad, ZeroIntervalsAndTimeoutsAreRefusedByName) {
    for (const char* key :
         {"store.sweep_batch", "push.ua_idle_days", "limits.read_timeout_ms",
          "limits.idle_timeout_ms", "delivery.hello_timeout_ms", "delivery.ws_idle_timeout_ms",
          "delivery.max_inflight", "limits.max_concurrent_streams", "push.max_ttl",
          "push.max_queued_per_ua"}) {
        std::string k(key);
        auto dot = k.find('.');
        std::string msg = file_error("[" + k.substr(0, dot) + "]\n" + k.substr(dot + 1) + " = 0\n");
        EXPECT_EQ(msg.rfind("config key '" + k + "': must be between ", 0), 0u) << key << msg;
        EXPECT_NE(msg.find(", got 0"), std::string::npos) << msg;
    }
    EXPECT_EQ(file_error("[store]\nsweep_batch = -5\n"),
              "config key 'store.sweep_batch': must be between 1 and 1000000, got -5");
    // Zero stays allowed where it means "none".
    EXPECT_EQ(file_error("[limits]\nshutdown_grace_ms = 0\n[push]\nvapid_cache_size = 0\n"), "");
}

TEST(ConfigLoad, ValuesThatDoNotFitTheirFieldAreRefusedNotNarrowed) {
    // 2^32 would narrow to 0 in a uint32 field; 2^32 - 1 fits.
    EXPECT_EQ(file_error("[limits]\nread_timeout_ms = 4294967296\n"),
              "config key 'limits.read_timeout_ms': must be between 1 and 4294967295, got "
              "4294967296");
    EXPECT_EQ(file_error("[limits]\nread_timeout_ms = 4294967295\n"), "");
    EXPECT_EQ(file_error("[push]\nmax_queued_per_ua = -1\n"),
              "config key 'push.max_queued_per_ua': must be between 1 and 4294967295, got -1");
    // An int field: 2^31 does not fit.
    EXPECT_NE(file_error("[server]\nthreads = 2147483648\n").find("'server.threads'"),
              std::string::npos);
    // Not integers at all.
    EXPECT_EQ(file_error("[push]\nmax_ttl = 1.5\n"),
              "config key 'push.max_ttl': expected an integer");
    EXPECT_EQ(file_error("[push]\nmax_ttl = \"60\"\n"),
              "config key 'push.max_ttl': expected an integer");
}

TEST(ConfigLoad, EnvironmentOverridesAreValidatedTheSameWay) {
    EXPECT_EQ(env_error("PUSHSVC__STORE__SWEEP_BATCH", "0"),
              "config key 'store.sweep_batch': must be between 1 and 1000000, got 0 "
              "(from PUSHSVC__STORE__SWEEP_BATCH)");
    EXPECT_EQ(env_error("PUSHSVC__LIMITS__IDLE_TIMEOUT_MS", "-1"),
              "config key 'limits.idle_timeout_ms': must be between 1 and 4294967295, got -1 "
              "(from PUSHSVC__LIMITS__IDLE_TIMEOUT_MS)");
    EXPECT_EQ(env_error("PUSHSVC__DELIVERY__MAX_INFLIGHT", "4294967296"),
              "config key 'delivery.max_inflight': must be between 1 and 4294967295, got "
              "4294967296 (from PUSHSVC__DELIVERY__MAX_INFLIGHT)");
    EXPECT_EQ(env_error("PUSHSVC__PUSH__MAX_TTL", "99999999999999999999"),
              "config key 'push.max_ttl': '99999999999999999999' is out of range "
              "(from PUSHSVC__PUSH__MAX_TTL)");
    EXPECT_EQ(env_error("PUSHSVC__PUSH__MAX_TTL", "60s"),
              "config key 'push.max_ttl': expected an integer, got '60s' "
              "(from PUSHSVC__PUSH__MAX_TTL)");
    EXPECT_EQ(env_error("PUSHSVC__LOG__LEVEL", "verbose"),
              "config key 'log.level': expected one of trace, debug, info, warn, error, "
              "critical, off, got 'verbose' (from PUSHSVC__LOG__LEVEL)");
    EXPECT_EQ(env_error("PUSHSVC__STORE__SWEEP_BATCH", "10"), "");
}

// The real environment can be listed, so a misspelt override is reported like a misspelt key.
TEST(ConfigLoad, UnknownOverrideInTheProcessEnvironmentIsNamed) {
    ASSERT_EQ(::setenv("PUSHSVC__STORE__SYNK", "true", 1), 0);
    std::string msg = error_of([] { load(""); });
    ::unsetenv("PUSHSVC__STORE__SYNK");
    EXPECT_EQ(msg,
              "config: unknown key 'store.synk' from PUSHSVC__STORE__SYNK (did you mean "
              "'store.sync'?)");
    EXPECT_EQ(error_of([] { load(""); }), "");
}

TEST(ConfigValidate, ChecksTheRangesOfAConfigBuiltInCode) {
    Config c;
    EXPECT_NO_THROW(validate(c));
    c.store.sweep_batch = 0;
    EXPECT_EQ(error_of([&] { validate(c); }),
              "config key 'store.sweep_batch': must be between 1 and 1000000, got 0");
}

TEST(ConfigLoad, ExampleConfigDocumentsEveryKeyAndLoads) {
    std::string path = std::string(PUSHSVC_SOURCE_DIR) + "/config/pushsvc.example.toml";
    Config c = load(path, env({}));  // no unknown keys, every value in range
    // ...and it lists every key (config.h points readers to it for the documentation).
    std::ifstream in(path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string table;
    std::set<std::string> present;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("[", 0) == 0)
            table = line.substr(1, line.find(']') - 1) + ".";
        else if (auto eq = line.find(" = "); eq != std::string::npos && line[0] != '#')
            present.insert(table + line.substr(0, eq));
    }
    for (const auto& key : key_names()) EXPECT_TRUE(present.count(key)) << key << " undocumented";
    EXPECT_EQ(c.server.listen, Config{}.server.listen);
    EXPECT_EQ(c.limits.max_body_bytes, Config{}.limits.max_body_bytes);
    EXPECT_EQ(c.push.max_ttl, Config{}.push.max_ttl);
}

TEST(ConfigLoad, RateLimitsAreOnByDefaultCanBeTurnedOffAndNeedABurst) {
    Config d = load("", env({}));
    EXPECT_GT(d.rate.push_per_min, 0u);
    EXPECT_GT(d.rate.subscribe_per_min, 0u);
    EXPECT_GT(d.rate.hello_per_min, 0u);
    EXPECT_GT(d.rate.new_ua_per_min, 0u);
    Config c = load_toml("[rate]\npush_per_min = 0\nsubscribe_burst = 7\n",
                         env({{"PUSHSVC__RATE__NEW_UA_PER_MIN", "3"}}));
    EXPECT_EQ(c.rate.push_per_min, 0u);  // 0: that limit is off
    EXPECT_EQ(c.rate.subscribe_burst, 7u);
    EXPECT_EQ(c.rate.new_ua_per_min, 3u);
    // A bucket of 0 would refuse everything; off is per_min = 0.
    EXPECT_THROW(load_toml("[rate]\npush_burst = 0\n", env({})), std::runtime_error);
    EXPECT_THROW(load_toml("[rate]\nmax_tracked = 1\n", env({})), std::runtime_error);
}

}  // namespace
}  // namespace pushsvc::config

namespace pushsvc::config {
namespace {

TEST(ConfigLoad, AdminTokenIsASecretOfAtLeast16Characters) {
    Config c =
        load_toml("[admin]\ntoken = \"0123456789abcdef\"\nlisten = \"127.0.0.1:0\"\n", env({}));
    EXPECT_EQ(c.admin.token, "0123456789abcdef");
    EXPECT_EQ(c.admin.listen, "127.0.0.1:0");
    EXPECT_TRUE(c.admin.loopback_without_token);
    std::string msg = error_of([] { load_toml("[admin]\ntoken = \"short-secret\"\n", env({})); });
    EXPECT_EQ(msg, "config: admin.token must be at least 16 characters");
    EXPECT_EQ(msg.find("short-secret"), std::string::npos);  // never quoted
    EXPECT_EQ(Config{}.admin.token, "");                     // none by default: loopback only
}

// [cluster] (docs/cluster.md): off by default; with cluster.listen every key is checked at load
// time, each refusal one line naming the key, the secret never quoted.
TEST(ConfigLoad, ClusterKeysAreCheckedWhenClusterListenIsSet) {
    const std::string secret(40, 's');
    const std::string pg = "[store]\nbackend = \"postgres\"\n[store.postgres]\ndsn = \"x\"\n";
    Config off = load("", env({}));
    EXPECT_EQ(off.cluster.listen, "");  // a single node routes nothing
    Config c = load_toml(pg + "[cluster]\nlisten = \"10.0.0.5:8081\"\nsecret = \"" + secret +
                             "\"\nadvertise = \"http://10.0.0.5:8081\"\nnode_id = \"node-1\"\n",
                         env({}));
    EXPECT_EQ(c.cluster.listen, "10.0.0.5:8081");
    EXPECT_EQ(c.cluster.advertise, "http://10.0.0.5:8081");
    EXPECT_EQ(c.cluster.node_id, "node-1");
    EXPECT_EQ(c.cluster.secret, secret);
    // The environment works as for every key; advertise may be derived from a concrete host.
    Config e = load_toml(pg, env({{"PUSHSVC__CLUSTER__LISTEN", "127.0.0.1:0"},
                                  {"PUSHSVC__CLUSTER__SECRET", secret}}));
    EXPECT_EQ(e.cluster.listen, "127.0.0.1:0");

    auto refused = [&](const std::string& toml) {
        return error_of([&] { load_toml(toml, env({})); });
    };
    const std::string ok_secret = "secret = \"" + secret + "\"\n";
    EXPECT_EQ(refused(pg + "[cluster]\nlisten = \"127.0.0.1:1\"\nsecret = \"too-short\"\n"),
              "config: cluster.secret must be set, at least 32 characters, the same on every "
              "node");
    EXPECT_EQ(refused(pg + "[cluster]\nlisten = \"127.0.0.1:1\"\n"),
              "config: cluster.secret must be set, at least 32 characters, the same on every "
              "node");
    EXPECT_NE(refused("[cluster]\nlisten = \"127.0.0.1:1\"\n" + ok_secret)
                  .find("cluster.listen needs store.backend = \"postgres\""),
              std::string::npos);
    EXPECT_NE(refused(pg + "[cluster]\nlisten = \"0.0.0.0:8081\"\n" + ok_secret)
                  .find("set cluster.advertise"),
              std::string::npos);
    EXPECT_NE(refused(pg + "[cluster]\nlisten = \"[::]:8081\"\n" + ok_secret)
                  .find("set cluster.advertise"),
              std::string::npos);
    EXPECT_NE(refused(pg + "[cluster]\nlisten = \"nohostport\"\n" + ok_secret)
                  .find("cluster.listen must be host:port"),
              std::string::npos);
    for (const char* bad : {"10.0.0.5:8081", "https://10.0.0.5:8081", "http://10.0.0.5",
                            "http://10.0.0.5:8081/path", "http://:8081", "http://h:99999"})
        EXPECT_NE(refused(pg + "[cluster]\nlisten = \"0.0.0.0:8081\"\n" + ok_secret +
                          "advertise = \"" + bad + "\"\n")
                      .find("cluster.advertise must be http://host:port"),
                  std::string::npos)
            << bad;
    EXPECT_NE(refused(pg + "[cluster]\nlisten = \"127.0.0.1:1\"\n" + ok_secret +
                      "node_id = \"has space\"\n")
                  .find("cluster.node_id must be printable"),
              std::string::npos);
    // A cluster key without cluster.listen is a mistake, not silently ignored.
    for (const char* key : {"advertise = \"http://h:1\"", "node_id = \"n\"", "secret = \"x\""})
        EXPECT_NE(refused(std::string("[cluster]\n") + key + "\n")
                      .find("is set but cluster.listen is not"),
                  std::string::npos)
            << key;
    const std::string msg =
        refused(pg + "[cluster]\nlisten = \"127.0.0.1:1\"\nsecret = \"" + "hunter2-short" + "\"\n");
    EXPECT_EQ(msg.find("hunter2"), std::string::npos);  // never quoted
    // check-config masks the secret.
    const std::string text = to_toml(c);
    EXPECT_EQ(text.find(secret), std::string::npos) << text;
    EXPECT_NE(text.find("secret = '********'"), std::string::npos) << text;
    EXPECT_NE(text.find("node_id = 'node-1'"), std::string::npos) << text;
}

// check-config prints what load() produced: read back, it is the same configuration except
// for the masked secrets.
TEST(ConfigToToml, RoundTripsEveryPrintedValueAndMasksSecrets) {
    Config c = load_toml(R"(
profile = "strict"
[server]
listen = "127.0.0.1:9"
public_url = "https://u:pw@push.example:8443"
[limits]
max_body_bytes = 5000
[push]
token_keys = ["k1secret", "k2secret"]
[store]
sync = true
sweep_batch = 5
[log]
level = "debug"
)",
                         env({{"PUSHSVC__DELIVERY__MAX_INFLIGHT", "3"}}));
    const std::string text = to_toml(c);
    EXPECT_EQ(text.find("k1secret"), std::string::npos) << text;
    EXPECT_EQ(text.find(":pw@"), std::string::npos) << text;
    Config back = load_toml(text, env({}));
    EXPECT_EQ(back.profile, Profile::strict);
    EXPECT_EQ(back.server.listen, "127.0.0.1:9");
    EXPECT_EQ(back.server.public_url, "https://u:********@push.example:8443");
    EXPECT_EQ(back.limits.max_body_bytes, 5000u);
    EXPECT_EQ(back.push.token_keys, (std::vector<std::string>{"********", "********"}));
    EXPECT_EQ(back.delivery.max_inflight, 3u);
    EXPECT_TRUE(back.store.sync);
    EXPECT_EQ(back.store.sweep_batch, 5u);
    EXPECT_EQ(back.log.level, "debug");
    // A libpq key/value password (a database DSN) is masked wherever a string holds one;
    // testdouble.break is merely a string key to carry it here.
    Config dsn =
        load_toml("[testdouble]\nbreak = \"host=db password=hunter2 user=push\"\n", env({}));
    const std::string dsn_text = to_toml(dsn);
    EXPECT_EQ(dsn_text.find("hunter2"), std::string::npos) << dsn_text;
    EXPECT_EQ(load_toml(dsn_text, env({})).testdouble.break_rules,
              "host=db password=******** user=push");
    // Every key is printed: the text names each one.
    for (const auto& key : key_names()) {
        auto leaf = key.substr(key.rfind('.') + 1);
        EXPECT_NE(text.find(leaf + " = "), std::string::npos) << key << " missing in\n" << text;
    }
}

}  // namespace
}  // namespace pushsvc::config

namespace pushsvc::config {
namespace {

// check-config's output reaches logs (the packaged unit's ExecStartPre): every spelling of a
// connection-string password is masked, and the text around it kept.
TEST(ConfigToToml, MasksPasswordsInEverySpellingOfAConnectionString) {
    auto shown = [](const std::string& value) {
        Config c = load_toml("[testdouble]\nbreak = \"" + value + "\"\n", env({}));
        return load_toml(to_toml(c), env({})).testdouble.break_rules;
    };
    EXPECT_EQ(shown("postgresql://u@h/db?password=hunter2&sslmode=require"),
              "postgresql://u@h/db?password=********&sslmode=require");
    EXPECT_EQ(shown("postgresql://u@h/db?sslmode=require&password=hunter2"),
              "postgresql://u@h/db?sslmode=require&password=********");
    EXPECT_EQ(shown("host=db password = hunter2 user=push"),
              "host=db password = ******** user=push");
    EXPECT_EQ(shown("password='hunter 2' host=db"), "password=******** host=db");
    EXPECT_EQ(shown("host=db mypassword=kept"), "host=db mypassword=kept");  // another key
}

}  // namespace
}  // namespace pushsvc::config
