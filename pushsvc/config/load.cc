#include "pushsvc/config/load.h"

#include "pushsvc/config/cluster_check.h"

#include <toml++/toml.h>
#include <unistd.h>  // environ

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pushsvc::config {
namespace {

// One settable key: its dotted name, how to assign it from TOML or from an environment string
// (both refuse values of the wrong type or outside the key's range, before anything is
// narrowed into the field), and how to check the field's current value against that range
// (validate() on a Config built in code).
struct Key {
    std::string name;  // "server.listen"
    std::function<void(const toml::node&)> from_toml;
    std::function<void(const std::string&)> from_string;
    std::function<void()> check = [] {};
    // Writes the field's current value as `leaf` into `table` (to_toml(): check-config).
    // Empty for a kind of key that cannot print itself; to_toml() then says so in a comment.
    std::function<void(toml::table& table, const std::string& leaf)> put = {};
};

[[noreturn]] void fail(const std::string& key, const std::string& why) {
    throw std::runtime_error("config key '" + key + "': " + why);
}

Key string_key(std::string name, std::string& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                auto v = n.value_exact<std::string>();
                if (!v) fail(name, "expected a string");
                dst = *v;
            },
            [&dst](const std::string& s) { dst = s; }, [] {},
            [&dst](toml::table& t, const std::string& leaf) { t.insert_or_assign(leaf, dst); }};
}

// A string that must be one of `choices`.
Key choice_key(std::string name, std::string& dst, std::vector<std::string> choices) {
    auto check_value = [name, choices](const std::string& v) {
        for (const auto& c : choices)
            if (v == c) return;
        std::string list;
        for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
        fail(name, "expected one of " + list + ", got '" + v + "'");
    };
    Key key = string_key(name, dst);
    key.from_toml = [inner = key.from_toml, check_value, &dst](const toml::node& n) {
        inner(n);
        check_value(dst);
    };
    key.from_string = [check_value, &dst](const std::string& s) {
        check_value(s);
        dst = s;
    };
    key.check = [check_value, &dst] { check_value(dst); };
    return key;
}

// An integer field, with the range it accepts: [min, max] within what the field can hold.
// Defaults to the whole range of the field, so a value that does not fit is refused by name
// instead of being narrowed. Intervals and timeouts pass min = 1: zero would be a busy loop
// or an instant timeout.
template <class Int>
Key int_key(std::string name, Int& dst, std::int64_t min = std::numeric_limits<Int>::min(),
            std::int64_t max = static_cast<std::int64_t>(std::numeric_limits<Int>::max())) {
    static_assert(std::is_integral_v<Int> && (sizeof(Int) < 8 || std::is_signed_v<Int>),
                  "the range is checked in int64");
    auto in_range = [name, min, max](std::int64_t v) {
        if (v < min || v > max)
            fail(name, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                           ", got " + std::to_string(v));
    };
    auto assign = [in_range, &dst](std::int64_t v) {
        in_range(v);
        dst = static_cast<Int>(v);
    };
    return {name,
            [name, assign](const toml::node& n) {
                // value_exact: 1.5 or "5" are not integers (value<> would convert them).
                auto v = n.value_exact<std::int64_t>();
                if (!v) fail(name, "expected an integer");
                assign(*v);
            },
            [name, assign](const std::string& s) {
                std::int64_t v = 0;
                auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
                if (ec == std::errc::result_out_of_range) fail(name, "'" + s + "' is out of range");
                if (s.empty() || ec != std::errc() || end != s.data() + s.size())
                    fail(name, "expected an integer, got '" + s + "'");
                assign(v);
            },
            [in_range, &dst] { in_range(static_cast<std::int64_t>(dst)); },
            [&dst](toml::table& t, const std::string& leaf) {
                t.insert_or_assign(leaf, static_cast<std::int64_t>(dst));
            }};
}

Key bool_key(std::string name, bool& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                auto v = n.value_exact<bool>();
                if (!v) fail(name, "expected true or false");
                dst = *v;
            },
            [name, &dst](const std::string& s) {
                if (s == "true" || s == "1")
                    dst = true;
                else if (s == "false" || s == "0")
                    dst = false;
                else
                    fail(name, "expected true or false, got '" + s + "'");
            },
            [] {},
            [&dst](toml::table& t, const std::string& leaf) { t.insert_or_assign(leaf, dst); }};
}

Key string_list_key(std::string name, std::vector<std::string>& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                const auto* arr = n.as_array();
                if (!arr) fail(name, "expected an array of strings");
                dst.clear();
                for (const auto& item : *arr) {
                    auto v = item.value_exact<std::string>();
                    if (!v) fail(name, "expected an array of strings");
                    dst.push_back(*v);
                }
            },
            [&dst](const std::string& s) {  // comma-separated in the environment
                dst.clear();
                std::string_view rest = s;
                while (!rest.empty()) {
                    auto pos = rest.find(',');
                    if (auto item = rest.substr(0, pos); !item.empty()) dst.emplace_back(item);
                    if (pos == std::string_view::npos) break;
                    rest.remove_prefix(pos + 1);
                }
            },
            [] {},
            [&dst](toml::table& t, const std::string& leaf) {
                toml::array arr;
                for (const auto& v : dst) arr.push_back(v);
                t.insert_or_assign(leaf, std::move(arr));
            }};
}

Key profile_key(Profile& dst) {
    auto parse = [&dst](const std::string& s) {
        if (s == "compat")
            dst = Profile::compat;
        else if (s == "strict")
            dst = Profile::strict;
        else
            fail("profile", "expected 'compat' or 'strict', got '" + s + "'");
    };
    return {"profile",
            [parse](const toml::node& n) {
                auto v = n.value_exact<std::string>();
                if (!v) fail("profile", "expected a string");
                parse(*v);
            },
            parse, [] {},
            [&dst](toml::table& t, const std::string& leaf) {
                t.insert_or_assign(leaf, dst == Profile::strict ? "strict" : "compat");
            }};
}

constexpr std::int64_t kU32Max = std::numeric_limits<std::uint32_t>::max();
constexpr std::int64_t kDaySeconds = 24 * 3600;

// Every key, declared once: the TOML reader, the environment overrides, unknown-key detection
// and range checks all come from this table, so a new key is one line here (plus its field in
// config.h and its documentation in config/pushsvc.example.toml).
std::vector<Key> keys_of(Config& c) {
    return {
        profile_key(c.profile),
        string_key("server.listen", c.server.listen),
        string_key("server.tls_listen", c.server.tls_listen),
        string_key("server.tls_cert", c.server.tls_cert),
        string_key("server.tls_key", c.server.tls_key),
        string_key("server.public_url", c.server.public_url),
        int_key("server.threads", c.server.threads, 0, 1024),
        bool_key("server.reuse_port", c.server.reuse_port),
        int_key("limits.max_header_bytes", c.limits.max_header_bytes, 1024),
        // RFC 8030 §7.2: a push service must accept at least 4096 octets of payload.
        int_key("limits.max_body_bytes", c.limits.max_body_bytes, 4096),
        int_key("limits.read_timeout_ms", c.limits.read_timeout_ms, 1),
        int_key("limits.idle_timeout_ms", c.limits.idle_timeout_ms, 1),
        int_key("limits.max_concurrent_streams", c.limits.max_concurrent_streams, 1),
        int_key("limits.shutdown_grace_ms", c.limits.shutdown_grace_ms, 0),  // 0: no grace
        // 0 disables the PING check of HTTP/2 connections that hold monitoring requests.
        int_key("limits.h2_ping_interval_ms", c.limits.h2_ping_interval_ms, 0),
        int_key("limits.h2_ping_timeout_ms", c.limits.h2_ping_timeout_ms, 0),
        // Connection limits: at least 1, or nothing could ever connect.
        int_key("limits.max_connections", c.limits.max_connections, 1),
        int_key("limits.max_connections_per_ip", c.limits.max_connections_per_ip, 1),
        int_key("limits.handshake_timeout_ms", c.limits.handshake_timeout_ms, 1),
        int_key("limits.first_request_timeout_ms", c.limits.first_request_timeout_ms, 1),
        int_key("limits.write_stall_timeout_ms", c.limits.write_stall_timeout_ms, 1),
        // At least 1 MiB: below that a handful of ordinary connections would be shed.
        int_key("limits.max_buffer_bytes", c.limits.max_buffer_bytes, 1 << 20,
                std::int64_t{1} << 50),
        int_key("push.max_ttl", c.push.max_ttl, 1),
        int_key("push.vapid_exp_skew_s", c.push.vapid_exp_skew_s, 0, kDaySeconds),
        int_key("push.vapid_cache_size", c.push.vapid_cache_size, 0),  // 0: no cache
        int_key("push.max_queued_per_ua", c.push.max_queued_per_ua, 1),
        // At least a day: "seen" is recorded at most daily.
        int_key("push.ua_idle_days", c.push.ua_idle_days, 1, 36'500),
        string_list_key("push.token_keys", c.push.token_keys),
        int_key("delivery.max_inflight", c.delivery.max_inflight, 1),
        int_key("delivery.max_subscriptions_per_ua", c.delivery.max_subscriptions_per_ua, 1),
        int_key("delivery.hello_timeout_ms", c.delivery.hello_timeout_ms, 1),
        // Pinged at half of it, so 2 is the least that leaves a ping interval.
        int_key("delivery.ws_idle_timeout_ms", c.delivery.ws_idle_timeout_ms, 2),
        // Rate limits (docs/limits.md): per_min 0 = off; a burst of 0 would refuse everything.
        int_key("rate.push_per_min", c.rate.push_per_min, 0),
        int_key("rate.push_burst", c.rate.push_burst, 1),
        int_key("rate.subscribe_per_min", c.rate.subscribe_per_min, 0),
        int_key("rate.subscribe_burst", c.rate.subscribe_burst, 1),
        int_key("rate.hello_per_min", c.rate.hello_per_min, 0),
        int_key("rate.hello_burst", c.rate.hello_burst, 1),
        int_key("rate.new_ua_per_min", c.rate.new_ua_per_min, 0),
        int_key("rate.new_ua_burst", c.rate.new_ua_burst, 1),
        int_key("rate.max_tracked", c.rate.max_tracked, 16, 100'000'000),
        choice_key("store.backend", c.store.backend, {"rocksdb", "postgres"}),
        string_key("store.postgres.dsn", c.store.postgres.dsn),
        // At least one connection; beyond a few hundred PostgreSQL runs out of backends.
        int_key("store.postgres.pool_size", c.store.postgres.pool_size, 1, 256),
        int_key("store.postgres.connect_timeout_ms", c.store.postgres.connect_timeout_ms, 100,
                600'000),
        int_key("store.postgres.statement_timeout_ms", c.store.postgres.statement_timeout_ms, 100,
                600'000),
        // Up to a minute: how long another node's change may take to be seen here.
        int_key("store.postgres.cache_ms", c.store.postgres.cache_ms, 0, 60'000),
        string_key("store.path", c.store.path),
        bool_key("store.sync", c.store.sync),
        // Expired messages removed per step: 0 would never finish a sweep.
        int_key("store.sweep_batch", c.store.sweep_batch, 1, 1'000'000),
        bool_key("web.demo", c.web.demo),
        bool_key("testdouble.enabled", c.testdouble.enabled),
        string_key("testdouble.break", c.testdouble.break_rules),
        // Secret: string_key's errors never quote the value.
        string_key("admin.token", c.admin.token),
        bool_key("admin.loopback_without_token", c.admin.loopback_without_token),
        string_key("admin.listen", c.admin.listen),
        string_key("cluster.listen", c.cluster.listen),
        string_key("cluster.advertise", c.cluster.advertise),
        string_key("cluster.node_id", c.cluster.node_id),
        // Secret: string_key's errors never quote the value; check-config masks it.
        string_key("cluster.secret", c.cluster.secret),
        choice_key("log.level", c.log.level,
                   {"trace", "debug", "info", "warn", "error", "critical", "off"}),
        choice_key("log.format", c.log.format, {"text", "json"}),
        bool_key("log.access", c.log.access),
    };
}

// "server.listen" -> "PUSHSVC__SERVER__LISTEN"
std::string env_name(const std::string& key) {
    std::string out = "PUSHSVC__";
    for (char c : key) out += c == '.' ? std::string("__") : std::string(1, char(std::toupper(c)));
    return out;
}

// "PUSHSVC__STORE__SYNK" -> "store.synk" (for messages about unknown overrides)
std::string key_of_env(std::string_view var) {
    var.remove_prefix(std::string_view("PUSHSVC__").size());
    std::string out;
    for (std::size_t i = 0; i < var.size(); ++i) {
        if (var.substr(i, 2) == "__") {
            out += '.';
            ++i;
        } else {
            out += char(std::tolower(static_cast<unsigned char>(var[i])));
        }
    }
    return out;
}

// Levenshtein distance, for "did you mean" on an unknown key.
std::size_t distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

// Names the key (and where it came from) and suggests a known key or table a typo away.
[[noreturn]] void unknown_key(const std::string& name, const std::vector<Key>& keys,
                              const std::string& source = "") {
    std::string best;
    std::size_t best_d = 3;  // only close matches: a typo, not a different key
    auto consider = [&](std::string_view candidate) {
        if (auto d = distance(name, candidate); d < best_d) best_d = d, best = candidate;
    };
    for (const auto& key : keys) {
        consider(key.name);
        if (auto dot = key.name.find('.'); dot != std::string::npos)
            consider(std::string_view(key.name).substr(0, dot));  // the table
    }
    throw std::runtime_error("config: unknown key '" + name + "'" + source +
                             (best.empty() ? "" : " (did you mean '" + best + "'?)"));
}

void check_no_unknown_keys(const toml::table& table, const std::vector<Key>& keys,
                           const std::string& prefix) {
    for (const auto& [k, node] : table) {
        std::string name =
            prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        bool known = false;
        if (const auto* sub = node.as_table()) {
            // A table is known when some key lives under it; an unknown one is reported even
            // when empty.
            for (const auto& key : keys) {
                if (key.name == name) fail(name, "expected a value, not a table");
                known |= key.name.rfind(name + ".", 0) == 0;
            }
            if (!known) unknown_key(name, keys);
            check_no_unknown_keys(*sub, keys, name);
            continue;
        }
        for (const auto& key : keys) known |= key.name == name;
        if (!known) unknown_key(name, keys);
    }
}

}  // namespace

std::vector<std::string> key_names() {
    Config scratch;
    std::vector<std::string> names;
    for (const auto& key : keys_of(scratch)) names.push_back(key.name);
    return names;
}

namespace {

// The part of load() after parsing: `table` (nullptr = no file), then the environment, then
// validation. Shared by load() and load_toml() so a fuzzed TOML string meets the same checks.
Config load_table(const toml::table* table,
                  const std::function<std::optional<std::string>(const std::string&)>& getenv) {
    Config config;
    auto keys = keys_of(config);
    if (table) {
        check_no_unknown_keys(*table, keys, "");
        for (const auto& key : keys)
            if (const auto* node = table->at_path(key.name).node()) key.from_toml(*node);
    }
    for (const auto& key : keys) {
        std::string var = env_name(key.name);
        std::optional<std::string> value;
        if (getenv) {
            value = getenv(var);
        } else if (const char* v = std::getenv(var.c_str())) {
            value = v;
        }
        if (!value) continue;
        try {
            key.from_string(*value);
        } catch (const std::runtime_error& e) {
            throw std::runtime_error(std::string(e.what()) + " (from " + var + ")");
        }
    }
    // A misspelt override would otherwise be ignored without a word. Only the real environment
    // can be listed; an injected getenv (tests) answers for known names only.
    if (!getenv) {
        for (char** e = environ; e && *e; ++e) {
            std::string_view entry(*e);
            if (entry.rfind("PUSHSVC__", 0) != 0) continue;
            std::string var(entry.substr(0, entry.find('=')));
            bool known = false;
            for (const auto& key : keys) known |= env_name(key.name) == var;
            if (!known) unknown_key(key_of_env(var), keys, " from " + var);
        }
    }
    validate(config);
    return config;
}

}  // namespace

Config load(const std::string& path,
            const std::function<std::optional<std::string>(const std::string&)>& getenv) {
    if (path.empty()) return load_table(nullptr, getenv);
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        throw std::runtime_error("config file '" + path + "': " + std::string(e.description()));
    }
    return load_table(&table, getenv);
}

Config load_toml(std::string_view text,
                 const std::function<std::optional<std::string>(const std::string&)>& getenv) {
    toml::table table;
    try {
        table = toml::parse(text);
    } catch (const toml::parse_error& e) {
        throw std::runtime_error("config text: " + std::string(e.description()));
    }
    return load_table(&table, getenv);
}

void validate(const Config& c) {
    // The per-key ranges, for a Config built in code (load() checked them while reading).
    Config copy = c;  // keys_of binds to a mutable Config; only read here
    for (const auto& key : keys_of(copy)) key.check();
    if (c.server.listen.empty() && c.server.tls_listen.empty())
        throw std::runtime_error("config: set server.listen and/or server.tls_listen");
    if (!c.server.tls_listen.empty() && (c.server.tls_cert.empty() || c.server.tls_key.empty()))
        throw std::runtime_error(
            "config: server.tls_listen needs server.tls_cert and server.tls_key");
    if (c.store.path.empty()) throw std::runtime_error("config: store.path must be set");
    // A short token is guessable online; 16 characters (e.g. `openssl rand -hex 16` gives 32)
    // is the least accepted. The message never quotes it.
    if (!c.admin.token.empty() && c.admin.token.size() < 16)
        throw std::runtime_error("config: admin.token must be at least 16 characters");
    if (c.store.backend == "postgres" && c.store.postgres.dsn.empty())
        throw std::runtime_error("config: store.backend = \"postgres\" needs store.postgres.dsn");
    if (!c.server.public_url.empty() && c.server.public_url.find("://") == std::string::npos)
        throw std::runtime_error(
            "config: server.public_url must be an origin like https://host:port");
    validate_cluster(c);
}

}  // namespace pushsvc::config

namespace pushsvc::config {
namespace {

// Keys whose values are secrets: endpoint token keys and anything named like a token,
// secret or password.
bool secret_key(const std::string& name) {
    for (const char* word : {"token", "secret", "password"})
        if (name.find(word) != std::string::npos) return true;
    return false;
}

constexpr const char* kMasked = "********";

// Passwords inside connection strings: the "user:password@" of a URL and "password=..." of a
// libpq key/value string.
std::string mask_credentials(std::string v) {
    if (auto scheme = v.find("://"); scheme != std::string::npos) {
        auto at = v.find('@', scheme + 3);
        auto slash = v.find('/', scheme + 3);
        if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
            auto colon = v.find(':', scheme + 3);
            if (colon != std::string::npos && colon < at)
                v.replace(colon + 1, at - colon - 1, kMasked);
        }
    }
    // `password=...` of a libpq key/value string (spaces allowed around `=`) or of a URL's
    // query (`?password=` / `&password=`).
    constexpr std::string_view kWord = "password";
    for (std::size_t pos = 0; (pos = v.find(kWord, pos)) != std::string::npos;) {
        std::size_t j = pos + kWord.size();
        const bool starts = pos == 0 || v[pos - 1] == ' ' || v[pos - 1] == '?' || v[pos - 1] == '&';
        while (j < v.size() && v[j] == ' ') ++j;
        if (!starts || j >= v.size() || v[j] != '=') {
            pos += kWord.size();
            continue;
        }
        ++j;
        while (j < v.size() && v[j] == ' ') ++j;
        auto end = j;
        if (end < v.size() && v[end] == '\'') {  // quoted value: up to the closing quote
            end = v.find('\'', end + 1);
            end = end == std::string::npos ? v.size() : end + 1;
        } else {
            end = v.find_first_of(" &", j);
            if (end == std::string::npos) end = v.size();
        }
        v.replace(j, end - j, kMasked);
        pos = j + std::string_view(kMasked).size();
    }
    return v;
}

}  // namespace

std::string to_toml(const Config& c) {
    Config copy = c;  // keys_of binds to a mutable Config; only read here
    toml::table root;
    std::string unprintable;
    for (const auto& key : keys_of(copy)) {
        if (!key.put) {
            unprintable += "# " + key.name + ": not shown\n";
            continue;
        }
        // Descend to (creating) the key's table: "server.tls_cert" -> [server] tls_cert.
        toml::table* table = &root;
        std::string_view rest = key.name;
        for (auto dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
            auto sub = std::string(rest.substr(0, dot));
            if (!table->contains(sub)) table->insert(sub, toml::table{});
            table = (*table)[sub].as_table();
            rest.remove_prefix(dot + 1);
        }
        const std::string leaf(rest);
        key.put(*table, leaf);
        auto* node = table->get(leaf);
        if (secret_key(key.name)) {
            if (auto* arr = node->as_array()) {
                toml::array masked;  // one mask per entry: how many keys there are shows
                for (std::size_t i = 0; i < arr->size(); ++i) masked.push_back(kMasked);
                table->insert_or_assign(leaf, std::move(masked));
            } else if (node->is_string() && !node->as_string()->get().empty()) {
                // An unset secret stays "": saying that none is set reveals nothing.
                table->insert_or_assign(leaf, kMasked);
            }
        } else if (auto* str = node->as_string()) {
            table->insert_or_assign(leaf, mask_credentials(str->get()));
        }
    }
    std::ostringstream out;
    out << toml::toml_formatter(root) << "\n" << unprintable;
    return out.str();
}

}  // namespace pushsvc::config
