#!/usr/bin/env bash
# Installs every Debian package darkroom's build, tests and fuzzers need. Safe to run repeatedly.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # tensor library: the models and samplers run on it
  libopenblas0-openmp     # fast BLAS for libtorch (the default reference BLAS is ~40x slower)
  nlohmann-json3-dev      # safetensors headers, diffusers configs, tokenizer vocab.json
  libcli11-dev            # command-line parsing
  libicu-dev              # Unicode lowercasing and character classes for the CLIP tokenizer
  zlib1g-dev              # reading bpe_simple_vocab_16e6.txt.gz
  libpng-dev              # PNG output with generation parameters in a text chunk
  libjpeg62-turbo-dev     # JPEG previews and images (libjpeg-turbo's libjpeg API)
  libwebp-dev             # WebP previews and images, animated WebP of a generation (libwebpmux/libwebpdemux)
  libboost1.81-dev libboost-url1.81-dev  # the server: Beast (HTTP, WebSocket) on Asio, URL parsing
  libzip-dev              # the NovelAI dialect's zip of PNGs
  libgtest-dev libgmock-dev  # tests
  libbenchmark-dev        # benchmarks under bench/
  clang libclang-rt-14-dev   # libFuzzer targets for the parsers that face untrusted input
  python3 python3-httpx   # the DiffuGen client test: its seed's client is Python on httpx
  chromium fonts-dejavu-core  # the web page's browser tests (headless, driven by puppeteer-core from npm) and screenshots
)
# node (18 or newer) and npm for the server tests with real JavaScript clients (tests/server/js). Nodesource's
# nodejs package bundles npm; Debian's splits it out: ask only for the commands that are missing.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The JavaScript test clients at the versions package-lock.json pins (node_modules is not committed).
# --omit=optional: nekoai-js's optional canvas would build native code it does not need here.
npm ci --prefix "$(dirname "$0")/../tests/server/js" --no-audit --no-fund --omit=optional
# puppeteer-core drives Debian's chromium; it downloads no browser of its own.
npm ci --prefix "$(dirname "$0")/../tests/web" --no-audit --no-fund
