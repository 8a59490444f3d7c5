// pushsvc: parses the command line, loads the config and hands over to app::run.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <exception>

#include "pushsvc/app/app.h"
#include "pushsvc/config/load.h"

int main(int argc, char** argv) {
    CLI::App cli{"pushsvc: a self-hosted Web Push service (RFC 8030, 8291, 8292)"};
    std::string config_path;
    pushsvc::app::RunOptions options;
    cli.add_option("-c,--config", config_path,
                   "TOML config file (see config/pushsvc.example.toml)");
    cli.add_option("--ready-file", options.ready_file,
                   "write the bound addresses as JSON to this file once listening");
    CLI11_PARSE(cli, argc, argv);
    try {
        auto config = pushsvc::config::load(config_path);
        return pushsvc::app::run(config, options);
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    } catch (...) {  // not a std::exception: still one line and exit 1, never std::terminate
        spdlog::critical("startup failed: unknown exception");
        return 1;
    }
}
