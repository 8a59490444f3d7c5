#!/usr/bin/env bash
# Installs every Debian package pushsvc needs to build, run and test. Idempotent: when all
# packages are present it only runs dpkg-query and returns in well under a second.
set -euo pipefail

packages=(
    build-essential g++ cmake ninja-build pkg-config ccache git clang-format
    libboost1.81-all-dev libnghttp2-dev libssl-dev librocksdb-dev
    libtomlplusplus-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
    openssl curl ca-certificates nghttp2-client nghttp2-server prometheus
    firefox-esr libnss3-tools clang-14 libclang-rt-14-dev chromium
    testssl.sh util-linux libpq-dev postgresql-15 etcd-server etcd-client patroni
)
# testssl.sh: the TLS audit of the TLS listener (tests/attack/tls_audit.sh, CTest label
# tls-audit). util-linux: prlimit, the address-space limit of the attack tests (tests/attack/).
# libpq-dev: the client library of the PostgreSQL store (store.backend = "postgres"; without it
# CMake builds RocksDB only). postgresql-15: the server binaries (/usr/lib/postgresql/15/bin)
# that tests/support/pg_instance.sh runs as ordinary processes for the `postgres` tests. The
# tests never use a system service: the ones these packages may set up (PostgreSQL's cluster on
# port 5432, etcd.service) are left alone, and every test uses its own free loopback ports.
# etcd-server, etcd-client, patroni: tools/cluster.sh (a loopback cluster of 3 etcd members and
# 3 PostgreSQL under Patroni, label `cluster` tests). Patroni's Python dependencies (psycopg2...)
# come with it from Debian.
# clang-14 + libclang-rt-14-dev: libFuzzer and the sanitizer runtimes for the fuzz harnesses
# (fuzz/, tools/fuzz.sh, the fuzz-smoke step of tools/test.sh); the project itself builds with g++.
# chromium: the status page's browser test (tests/e2e/status_page.mjs, headless).
# prometheus: promtool checks the /metrics exposition, and a real Prometheus scrapes pushsvc
# (tests/integration/prometheus_scrape.sh).
# lintian, help2man: check the Debian package tools/package.sh builds (CTest label `package`)
# and make its manual pages from each program's --help.
packages+=(lintian help2man)
# valgrind: callgrind counts the instructions a push costs (tools/bench/bench-instructions.sh,
# CTest bench_smoke_instructions), the figure BENCHMARKS.md compares steps with.
packages+=(valgrind)
# Node.js (npm packages for cross-implementation and browser tests). A machine that already
# has a node >= 18 with npm (e.g. from nodesource) keeps it; otherwise Debian's is installed.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
