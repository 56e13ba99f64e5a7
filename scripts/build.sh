#!/usr/bin/env bash
# Configures and builds darkroom into build/ (extra arguments go to cmake, e.g. -DDARKROOM_SANITIZE=address).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${DARKROOM_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-RelWithDebInfo} "$@"
cmake --build "$build_dir" -j "$(nproc)"
