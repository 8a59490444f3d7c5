#pragma once
// Loading the Config tree: TOML file, then `PUSHSVC__SECTION__KEY` environment overrides
// (e.g. PUSHSVC__SERVER__LISTEN=0.0.0.0:80, PUSHSVC__PROFILE=strict), then validation.
// Runs once at startup; throws std::runtime_error with a one-line reason on bad input.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushsvc/config/config.h"

namespace pushsvc::config {

// Reads `path` (empty = defaults only) and applies overrides from `getenv` (defaults to the
// process environment). Unknown keys and tables are an error naming the key (and, in the
// process environment, unknown PUSHSVC__* variables), so a typo never silently falls back to
// a default. Every integer key has a range (intervals and timeouts start at 1; nothing may
// exceed its field): a value outside it is an error naming the key, never narrowed.
Config load(const std::string& path,
            const std::function<std::optional<std::string>(const std::string&)>& getenv = {});

// load() from TOML text instead of a file (the config fuzzer, tests); errors as load().
Config load_toml(std::string_view text,
                 const std::function<std::optional<std::string>(const std::string&)>& getenv = {});

// Every key load() accepts, dotted ("store.sync"), in declaration order.
std::vector<std::string> key_names();

// The configuration as TOML, every key with its effective value (file, environment and
// defaults applied), secrets masked: push.token_keys and any key named like a token, secret or
// password show "********" per value, and passwords inside connection strings (URL
// user:password@, libpq password=) are masked too. For `pushsvc check-config`.
std::string to_toml(const Config& config);

// Throws when values are out of their key's range or inconsistent (e.g. tls_listen without a
// cert); load() calls it, code that builds a Config itself should too.
void validate(const Config& config);

}  // namespace pushsvc::config
