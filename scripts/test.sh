#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs every test with ctest, then runs each
# fuzzer for a bounded time (DARKROOM_FUZZ_SECONDS, default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir "${DARKROOM_BUILD_DIR:-build}" --output-on-failure -j 2 --timeout 600
scripts/fuzz.sh "${DARKROOM_FUZZ_SECONDS:-30}"
