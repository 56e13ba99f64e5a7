#!/usr/bin/env bash
# Builds darkroom with a sanitizer in build-<kind>/ and runs the whole GoogleTest suite under it.
# Usage: scripts/sanitize.sh [address|thread|undefined]   (default: address)
#   address    ASan + LeakSanitizer: out-of-bounds, use-after-free, leaks in our code
#   undefined  UBSan, every check fatal (-fno-sanitize-recover): overflow, bad shifts, misaligned loads...
#   thread     TSan: data races. libtorch's OpenMP runtime is not instrumented, so expect reports from it.
# libtorch itself is not instrumented. Benchmarks are not built: they are not part of the suite.
# Extra arguments go to ctest (e.g. -R darkroom_io to run one suite).
set -euo pipefail

kind="${1:-address}"
shift || true
case "$kind" in
  address | thread | undefined) ;;
  *) echo "usage: $0 [address|thread|undefined] [ctest arguments...]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
build="build-$kind"

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDARKROOM_SANITIZE="$kind" -DDARKROOM_BUILD_BENCH=OFF
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j 2 --timeout 1800 "$@"
