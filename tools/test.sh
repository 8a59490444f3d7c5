#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test:
#   1. the whole tree (build/, the Release tree tools/run.sh builds) and all its CTest tests:
#      unit, integration, conformance (webpush-conformance against pushsvc in both profiles),
#      browsers, cross-implementation, cluster, package, benchmark smokes, attack
#      (tests/attack/run.sh --short) and the TLS audit (testssl.sh);
#   2. in one clang tree (build-san/): the unit tests again under AddressSanitizer +
#      UndefinedBehaviorSanitizer, and a short run of every libFuzzer harness (label fuzz-smoke).
# Exit status is non-zero if anything fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

tools/install-deps.sh
if [ -f tests/e2e/package-lock.json ]; then
    # Pinned npm packages for cross-implementation and browser tests.
    if [ ! -d tests/e2e/node_modules ] || [ tests/e2e/package-lock.json -nt tests/e2e/node_modules ]; then
        npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
        touch tests/e2e/node_modules
    fi
fi

echo "== build (Release, the tree tools/run.sh builds) =="
tools/build.sh build Release
echo "== tests, while the sanitizer tree (build-san/, clang) builds at low priority =="
# The tests spend most of their time waiting (TTLs, failovers, browsers), so the sanitizer
# tree builds meanwhile at nice 19: every library under ASan + UBSan (and coverage for
# libFuzzer), compiled once for both the unit tests and the harnesses (fuzz/README.md), at
# -O0 (half the compile time of -O1; 5-second smoke runs need no speed). Long fuzz runs:
# tools/fuzz.sh (build-fuzz/, -O1).
# With the kernel's autogroup scheduling, nice ranks processes only within their session, and
# some tests start servers in sessions of their own (tools/cluster.sh): so the build gets a
# session of its own whose autogroup is lowered to nice 19 as well.
CC=clang-14 CXX=clang++-14 setsid nice -n 19 tools/build.sh build-san Debug -DPUSHSVC_FUZZ=ON \
    -DPUSHSVC_FUZZ_OPT=-O0 -- unit_all fuzz_all >build/build-san.log 2>&1 &
san_build=$!
echo 19 >"/proc/$san_build/autogroup" 2>/dev/null || true
status=0
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600 || status=$?
if ! wait "$san_build"; then
    tail -n 40 build/build-san.log
    echo "sanitizer tree build failed; full log in build/build-san.log"
    exit 1
fi
[ "$status" -eq 0 ] || exit "$status"

echo "== unit tests under ASan + UBSan =="
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-san -L unit --output-on-failure -j"$jobs" --timeout 600
echo "== fuzz smoke: each libFuzzer harness for a few seconds over its corpus =="
ctest --test-dir build-san -L fuzz-smoke --output-on-failure -j"$jobs" --timeout 120
echo "== all tests passed =="
