// The config loader (config::load_toml) on arbitrary TOML text, with an empty environment.
// load() documents one failure mode: std::runtime_error with a reason. Anything else escaping
// (another exception type, a sanitizer report) is a finding. Invariant: a config that loads
// passes validate() again and every integer key stays in its range (validate checks them).
#include <stdexcept>
#include <string>

#include "fuzz/harness/fuzz_check.h"
#include "pushsvc/config/load.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pushsvc;
    const auto no_env = [](const std::string&) -> std::optional<std::string> {
        return std::nullopt;
    };
    try {
        const config::Config c = config::load_toml(fuzz::as_text(data, size), no_env);
        config::validate(c);
        FUZZ_CHECK(c.limits.read_timeout_ms >= 1);  // timeouts start at 1 (load.h)
    } catch (const std::runtime_error&) {
        // Refused with a reason: what a bad file gets at startup.
    }
    return 0;
}
