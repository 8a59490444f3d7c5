#!/usr/bin/env bash
# Configures (once) and builds a build tree. Usage: tools/build.sh DIR BUILD_TYPE [cmake args...]
# [-- targets...]. Ninja, -j from the core count.
set -euo pipefail
dir=$1; type=$2; shift 2
cmake_args=(); targets=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
    cmake_args+=("$1"); shift
done
root=$(cd "$(dirname "$0")/.." && pwd)
# A tree configured before with another build type (or without build.ninja) is configured again.
if [ ! -f "$dir/build.ninja" ] ||
    ! grep -qx "CMAKE_BUILD_TYPE:STRING=$type" "$dir/CMakeCache.txt" 2>/dev/null; then
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${cmake_args[@]}" >/dev/null
fi
ninja -C "$dir" -j"$(nproc)" "${targets[@]}"
