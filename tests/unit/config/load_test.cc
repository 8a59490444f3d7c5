#include "pushsvc/config/load.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

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

TEST(ConfigLoad, ExampleConfigDocumentsEveryKeyAndLoads) {
    Config c = load(std::string(PUSHSVC_SOURCE_DIR) + "/config/pushsvc.example.toml", env({}));
    EXPECT_EQ(c.server.listen, Config{}.server.listen);
    EXPECT_EQ(c.limits.max_body_bytes, Config{}.limits.max_body_bytes);
    EXPECT_EQ(c.push.max_ttl, Config{}.push.max_ttl);
}

}  // namespace
}  // namespace pushsvc::config
