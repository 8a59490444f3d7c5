#include "pushsvc/config/load.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace pushsvc::config {
namespace {

// One settable key: its dotted name and how to assign it from TOML or from a string.
struct Key {
    std::string name;  // "server.listen"
    std::function<void(const toml::node&)> from_toml;
    std::function<void(const std::string&)> from_string;
};

[[noreturn]] void fail(const std::string& key, const std::string& why) {
    throw std::runtime_error("config key '" + key + "': " + why);
}

Key string_key(std::string name, std::string& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                auto v = n.value<std::string>();
                if (!v) fail(name, "expected a string");
                dst = *v;
            },
            [&dst](const std::string& s) { dst = s; }};
}

template <class Int>
Key int_key(std::string name, Int& dst) {
    auto assign = [name, &dst](long long v) {
        if (v < 0 && std::is_unsigned_v<Int>) fail(name, "must not be negative");
        dst = static_cast<Int>(v);
    };
    return {name,
            [name, assign](const toml::node& n) {
                auto v = n.value<long long>();
                if (!v) fail(name, "expected an integer");
                assign(*v);
            },
            [name, assign](const std::string& s) {
                char* end = nullptr;
                long long v = std::strtoll(s.c_str(), &end, 10);
                if (s.empty() || *end != '\0') fail(name, "expected an integer, got '" + s + "'");
                assign(v);
            }};
}

Key bool_key(std::string name, bool& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                auto v = n.value<bool>();
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
            }};
}

Key string_list_key(std::string name, std::vector<std::string>& dst) {
    return {name,
            [name, &dst](const toml::node& n) {
                const auto* arr = n.as_array();
                if (!arr) fail(name, "expected an array of strings");
                dst.clear();
                for (const auto& item : *arr) {
                    auto v = item.value<std::string>();
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
                auto v = n.value<std::string>();
                if (!v) fail("profile", "expected a string");
                parse(*v);
            },
            parse};
}

std::vector<Key> keys_of(Config& c) {
    return {
        profile_key(c.profile),
        string_key("server.listen", c.server.listen),
        string_key("server.tls_listen", c.server.tls_listen),
        string_key("server.tls_cert", c.server.tls_cert),
        string_key("server.tls_key", c.server.tls_key),
        string_key("server.public_url", c.server.public_url),
        int_key("server.threads", c.server.threads),
        int_key("limits.max_header_bytes", c.limits.max_header_bytes),
        int_key("limits.max_body_bytes", c.limits.max_body_bytes),
        int_key("limits.read_timeout_ms", c.limits.read_timeout_ms),
        int_key("limits.idle_timeout_ms", c.limits.idle_timeout_ms),
        int_key("limits.max_concurrent_streams", c.limits.max_concurrent_streams),
        int_key("limits.shutdown_grace_ms", c.limits.shutdown_grace_ms),
        int_key("push.max_ttl", c.push.max_ttl),
        int_key("push.vapid_exp_skew_s", c.push.vapid_exp_skew_s),
        int_key("push.vapid_cache_size", c.push.vapid_cache_size),
        int_key("push.max_queued_per_ua", c.push.max_queued_per_ua),
        int_key("push.ua_idle_days", c.push.ua_idle_days),
        string_list_key("push.token_keys", c.push.token_keys),
        int_key("delivery.max_inflight", c.delivery.max_inflight),
        int_key("delivery.max_subscriptions_per_ua", c.delivery.max_subscriptions_per_ua),
        int_key("delivery.hello_timeout_ms", c.delivery.hello_timeout_ms),
        int_key("delivery.ws_idle_timeout_ms", c.delivery.ws_idle_timeout_ms),
        string_key("store.path", c.store.path),
        bool_key("store.sync", c.store.sync),
        int_key("store.sweep_batch", c.store.sweep_batch),
        bool_key("testdouble.enabled", c.testdouble.enabled),
        string_key("testdouble.break", c.testdouble.break_rules),
        string_key("log.level", c.log.level),
    };
}

// "server.listen" -> "PUSHSVC__SERVER__LISTEN"
std::string env_name(const std::string& key) {
    std::string out = "PUSHSVC__";
    for (char c : key) out += c == '.' ? std::string("__") : std::string(1, char(std::toupper(c)));
    return out;
}

void check_no_unknown_keys(const toml::table& table, const std::vector<Key>& keys,
                           const std::string& prefix) {
    for (const auto& [k, node] : table) {
        std::string name =
            prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (const auto* sub = node.as_table()) {
            check_no_unknown_keys(*sub, keys, name);
            continue;
        }
        bool known = false;
        for (const auto& key : keys) known |= key.name == name;
        if (!known) throw std::runtime_error("config: unknown key '" + name + "'");
    }
}

}  // namespace

Config load(const std::string& path,
            const std::function<std::optional<std::string>(const std::string&)>& getenv) {
    Config config;
    auto keys = keys_of(config);
    if (!path.empty()) {
        toml::table table;
        try {
            table = toml::parse_file(path);
        } catch (const toml::parse_error& e) {
            throw std::runtime_error("config file '" + path + "': " + std::string(e.description()));
        }
        check_no_unknown_keys(table, keys, "");
        for (const auto& key : keys)
            if (const auto* node = table.at_path(key.name).node()) key.from_toml(*node);
    }
    for (const auto& key : keys) {
        std::optional<std::string> value;
        if (getenv) {
            value = getenv(env_name(key.name));
        } else if (const char* v = std::getenv(env_name(key.name).c_str())) {
            value = v;
        }
        if (value) key.from_string(*value);
    }
    validate(config);
    return config;
}

void validate(const Config& c) {
    if (c.server.listen.empty() && c.server.tls_listen.empty())
        throw std::runtime_error("config: set server.listen and/or server.tls_listen");
    if (!c.server.tls_listen.empty() && (c.server.tls_cert.empty() || c.server.tls_key.empty()))
        throw std::runtime_error(
            "config: server.tls_listen needs server.tls_cert and server.tls_key");
    if (c.limits.max_body_bytes < 4096)
        throw std::runtime_error("config: limits.max_body_bytes must be >= 4096 (RFC 8030 §7.2)");
    if (c.push.max_ttl == 0) throw std::runtime_error("config: push.max_ttl must be > 0");
    if (c.limits.max_concurrent_streams == 0)
        throw std::runtime_error("config: limits.max_concurrent_streams must be > 0");
    if (c.delivery.max_inflight == 0)
        throw std::runtime_error("config: delivery.max_inflight must be > 0");
    if (c.server.threads < 0) throw std::runtime_error("config: server.threads must be >= 0");
    if (c.store.path.empty()) throw std::runtime_error("config: store.path must be set");
    if (!c.server.public_url.empty() && c.server.public_url.find("://") == std::string::npos)
        throw std::runtime_error(
            "config: server.public_url must be an origin like https://host:port");
}

}  // namespace pushsvc::config
