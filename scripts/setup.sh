#!/usr/bin/env bash
# Installs the dependencies and builds what the main job needs: the darkroom binary, build/darkroom
# (scripts/test.sh builds the tests and benchmarks in the same folder, reusing what this built).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh darkroom
