#!/usr/bin/env bash
# Configures and builds darkroom into build/ (DARKROOM_BUILD_DIR): the targets named (e.g. darkroom), or
# everything (tests and benchmarks too) when none is. Release by default: no debug info, which a user does
# not need and which makes the libtorch-heavy files slower to compile; CMAKE_BUILD_TYPE=RelWithDebInfo for
# a debugger.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${DARKROOM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release}
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
