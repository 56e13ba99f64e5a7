#!/usr/bin/env bash
# Installs the dependencies and builds darkroom. The binary is build/darkroom.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh "$@"
