#pragma once
// The composition root: loads nothing itself (main.cc passes the Config), opens the store,
// builds the push service, binds the listeners, runs the network threads and shuts down in
// two phases on SIGTERM/SIGINT (stop accepting and drain, then stop the threads).
// Startup errors throw std::runtime_error with a one-line reason.

#include <string>

#include "pushsvc/config/config.h"

namespace pushsvc::app {

struct RunOptions {
    // When set, written once the listeners are bound: JSON with the bound addresses and the
    // public origin, so scripts and tests that use port 0 know where to connect.
    std::string ready_file;
};

// Exit code after an exception escaped a network thread (sysexits EX_SOFTWARE); startup
// errors are thrown instead and end the process with 1 (main.cc).
inline constexpr int kExitInternalError = 70;

// Blocks until shutdown; returns the process exit code: 0 after SIGTERM/SIGINT,
// kExitInternalError after an exception escaped a network thread (logged in one line, all
// threads joined, the store closed).
int run(const config::Config& config, const RunOptions& options);

// Endpoint-token keys: the configured ones, or those kept in `<store.path>/token_keys`,
// generated there (mode 0600) on first start so endpoints survive restarts.
std::vector<std::string> load_token_keys(const config::Config& config);

// What startup would refuse beyond the config loader, checked without opening the store or
// binding anything (`pushsvc check-config`): configured push.token_keys that are not base64url
// of 32 bytes, a TLS certificate or key that cannot be loaded or do not match. Throws
// std::runtime_error with a one-line reason.
void check_startup_files(const config::Config& config);

}  // namespace pushsvc::app
