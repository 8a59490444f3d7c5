#pragma once
// Loading the Config tree: TOML file, then `PUSHSVC__SECTION__KEY` environment overrides
// (e.g. PUSHSVC__SERVER__LISTEN=0.0.0.0:80, PUSHSVC__PROFILE=strict), then validation.
// Runs once at startup; throws std::runtime_error with a one-line reason on bad input.

#include <functional>
#include <optional>
#include <string>

#include "pushsvc/config/config.h"

namespace pushsvc::config {

// Reads `path` (empty = defaults only) and applies overrides from `getenv` (defaults to the
// process environment). Unknown keys are an error, so a typo never silently falls back to a
// default.
Config load(const std::string& path,
            const std::function<std::optional<std::string>(const std::string&)>& getenv = {});

// Throws when values are out of range or inconsistent (e.g. tls_listen without a cert).
void validate(const Config& config);

}  // namespace pushsvc::config
