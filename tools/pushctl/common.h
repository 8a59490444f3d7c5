#pragma once
// Shared plumbing of the pushctl subcommands: the error type every command throws (printed by
// main as one line, exit 1), argument readers (inline value, @file, file path, stdin) and the
// transport options common to all network commands.

#include <CLI/CLI.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "tools/client/client_options.h"
#include "tools/client/error.h"
#include "tools/client/p256_key.h"
#include "tools/client/push_service.h"

namespace pushctl {

// Thrown by commands; main prints "pushctl: <message>" and exits with `exit_code`.
struct CommandError : std::runtime_error {
    explicit CommandError(const std::string& message, int code = 1)
        : std::runtime_error(message), exit_code(code) {}
    int exit_code;
};

// Unwraps a Result or throws CommandError with its message (prefixed by `what`).
template <class T>
T check(webpush_client::Result<T> r, const std::string& what = "") {
    if (!r) throw CommandError(what.empty() ? r.error().message : what + ": " + r.error().message);
    if constexpr (!std::is_void_v<T>) return std::move(*r);
}

std::string read_file(const std::string& path);  // "-" = stdin; throws on error
// "@path" -> file content, "@-" -> stdin, anything else -> itself.
std::string value_or_file(const std::string& arg);
// Inline JSON when it starts with '{', otherwise a file path ("-" = stdin).
std::string json_or_file(const std::string& arg);

// --vapid-key: a PEM file, or a base64url 32-octet private key.
webpush_client::P256Key load_private_key(const std::string& arg);

struct NetOptions {
    bool http1 = false;
    bool http2 = false;
    bool insecure = false;
    std::string cacert;
    double timeout = 10;

    void add_to(CLI::App& app, bool with_version = true);
    webpush_client::ClientOptions client_options() const;
    webpush_client::HttpVersion version() const {
        return http2 ? webpush_client::HttpVersion::http2 : webpush_client::HttpVersion::http1;
    }
};

void setup_vapid_keygen(CLI::App& app);
void setup_send(CLI::App& app);
void setup_subscribe(CLI::App& app);
void setup_decrypt(CLI::App& app);
void setup_ua(CLI::App& app);

}  // namespace pushctl
