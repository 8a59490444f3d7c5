// pushsvc: parses the command line, loads the config and hands over to app::run (or to one of
// the operator commands: check-config, backup).
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

#include "pushsvc/app/app.h"
#include "pushsvc/app/backup.h"
#include "pushsvc/config/load.h"
#include "pushsvc/version.h"

namespace {

std::string version_text() {
    std::string text = std::string("pushsvc ") + pushsvc::kVersion;
    if (*pushsvc::kGitDescribe) text += std::string(" (git ") + pushsvc::kGitDescribe + ")";
    return text;
}

// Runs `f`; an exception becomes one line on stderr and exit 1, never std::terminate.
template <class F>
int one_line_errors(F&& f) {
    try {
        return f();
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    } catch (...) {
        spdlog::critical("failed: unknown exception");
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"pushsvc: a self-hosted Web Push service (RFC 8030, 8291, 8292)"};
    cli.set_version_flag("--version", version_text(), "print the version and exit");
    // `pushsvc backup --config FILE DIR`: the parent's --config may follow the subcommand.
    cli.fallthrough();
    std::string config_path;
    pushsvc::app::RunOptions options;
    cli.add_option("-c,--config", config_path,
                   "TOML config file (see config/pushsvc.example.toml)");
    cli.add_option("--ready-file", options.ready_file,
                   "write the bound addresses as JSON to this file once listening");

    auto* check = cli.add_subcommand(
        "check-config",
        "validate a config file (with the PUSHSVC__* environment overrides, TLS certificate "
        "and token keys) and print the effective configuration, secrets masked");
    std::string check_path;
    check->add_option("FILE", check_path, "TOML config file")->required();

    auto* backup = cli.add_subcommand(
        "backup",
        "copy the store (RocksDB and the token key file) into DIR while the service runs "
        "(asked over <store.path>/control.sock) or while it is stopped; restore: "
        "docs/operations.md");
    std::string backup_dir;
    backup->add_option("DIR", backup_dir, "where to put the copy (new or empty)")->required();
    CLI11_PARSE(cli, argc, argv);

    if (backup->parsed()) {
        // The store is found through the same config (and environment) as the service's.
        return one_line_errors([&] {
            return pushsvc::app::backup_command(pushsvc::config::load(config_path), backup_dir);
        });
    }

    if (check->parsed()) {
        // Errors go to stderr as the loader's one line (no log decoration), so a unit's
        // ExecStartPre or a deploy script shows exactly what is wrong.
        try {
            auto config = pushsvc::config::load(check_path);
            pushsvc::app::check_startup_files(config);
            std::cout << pushsvc::config::to_toml(config);
            return 0;
        } catch (const std::exception& e) {
            std::cerr << e.what() << "\n";
            return 1;
        }
    }
    return one_line_errors([&] {
        auto config = pushsvc::config::load(config_path);
        return pushsvc::app::run(config, options);
    });
}
