#!/usr/bin/env bash
# Installs what is missing, builds everything and runs every test:
#   1. the whole tree (build/) and all CTest tests: unit, integration, cross-implementation,
#      attack (tests/attack/run.sh --short) and the TLS audit (testssl.sh);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. a short run of every libFuzzer harness (build-fuzz/, clang; label fuzz-smoke).
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

echo "== build (RelWithDebInfo) =="
tools/build.sh build RelWithDebInfo
echo "== tests =="
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600

echo "== conformance: webpush-conformance against pushsvc, both profiles =="
# Into a temporary file: CONFORMANCE.md changes only by the publish step, run by hand.
statement=$(mktemp)
proto-conformance/publish.sh build "$statement"
rm -f "$statement"

echo "== unit tests under ASan + UBSan =="
if [ ! -f build-asan/build.ninja ]; then
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPUSHSVC_SANITIZE=ON \
        -DPUSHSVC_BUILD_BENCH=OFF >/dev/null
fi
unit_targets=$(cd build-asan && ctest -N -L unit | awk '/Test +#/{print $3}')
ninja -C build-asan -j"$jobs" $unit_targets
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L unit --output-on-failure -j"$jobs" --timeout 600

echo "== fuzz smoke: each libFuzzer harness briefly under ASan + UBSan (build-fuzz/) =="
# A clang tree with only the libraries the harnesses need (fuzz/README.md); each harness runs
# a few seconds over its committed corpus. Long runs: tools/fuzz.sh.
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DPUSHSVC_FUZZ=ON -DPUSHSVC_BUILD_BENCH=OFF >/dev/null
fi
ninja -C build-fuzz -j"$jobs" fuzz_all
ctest --test-dir build-fuzz -L fuzz-smoke --output-on-failure -j"$jobs" --timeout 120
echo "== all tests passed =="
