#pragma once
// Commands of pushsvc-loadgen that drive WebSocket user agents (ws_commands.cc), and the
// error helpers every command shares.

#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/bench/loadgen/common.h"
#include "tools/client/error.h"

namespace loadgen {

[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "pushsvc-loadgen: %s\n", what.c_str());
    std::exit(1);
}

template <class T>
T need(webpush_client::Result<T> r, const std::string& what) {
    if (!r) die(what + ": " + r.error().message);
    return std::move(*r);
}

int cmd_latency(const Args& a);
int cmd_idle(const Args& a);
int cmd_drain(const Args& a);
int cmd_cluster_idle(const Args& a);  // cluster_idle.cc

}  // namespace loadgen
