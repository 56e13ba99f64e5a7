#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz and runs each for a bounded time.
# Usage: scripts/fuzz.sh [seconds per target, default 60]
# A crash, leak, sanitizer report or broken invariant fails the script; the input that caused it is
# left in build-fuzz/artifacts/ and can be replayed with: build-fuzz/fuzz/<target> <file>
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-fuzz"

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DDARKROOM_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build"

# Seeds are regenerated on every run; the corpus that libFuzzer grows beside them is kept between runs.
"$build/fuzz/safetensors_seeds" "$build/seeds"
mkdir -p "$build/artifacts"
for target in header file; do
  fuzzer="safetensors_${target}_fuzz"
  corpus="$build/corpus/$fuzzer"
  mkdir -p "$corpus"
  echo "== $fuzzer for ${seconds}s"
  "$build/fuzz/$fuzzer" "$corpus" "$build/seeds/$target" \
    -dict="$root/fuzz/safetensors.dict" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -artifact_prefix="$build/artifacts/$fuzzer-" -print_final_stats=1
done

# Prompt text and image data: no seeds needed beyond what libFuzzer invents, plus the golden PNGs.
# The image decoders decode within 2048x2048 and run under memory limits that every 2048x2048 layout fits
# (at most 134 MB peak, lossless WebP, under ASan) but that a decode near 16384x16384 (a 768 MB pixel buffer)
# breaks: a size bomb that gets past the header checks fails the run.
for fuzzer in clip_tokenizer_fuzz png_decode_fuzz jpeg_webp_decode_fuzz; do
  corpus="$build/corpus/$fuzzer"
  mkdir -p "$corpus"
  seeds=()
  [[ $fuzzer == png_decode_fuzz ]] && seeds=("$root/../shared/golden/loops")
  memory=(-rss_limit_mb=2048)
  [[ $fuzzer == *_decode_fuzz ]] && memory=(-malloc_limit_mb=64 -rss_limit_mb=512)
  echo "== $fuzzer for ${seconds}s"
  "$build/fuzz/$fuzzer" "$corpus" "${seeds[@]}" \
    -max_total_time="$seconds" -timeout=10 "${memory[@]}" -max_len=65536 \
    -artifact_prefix="$build/artifacts/$fuzzer-" -print_final_stats=1
done

# The server's wire library: request bodies (field-name dictionary, one example body per dialect as seeds)
# and the SSE and msgpack stream framings.
for fuzzer in request_json_fuzz wire_roundtrip_fuzz; do
  corpus="$build/corpus/$fuzzer"
  mkdir -p "$corpus"
  extra=()
  [[ $fuzzer == request_json_fuzz ]] && extra=("$root/fuzz/request_json_seeds" -dict="$root/fuzz/request_json.dict")
  echo "== $fuzzer for ${seconds}s"
  "$build/fuzz/$fuzzer" "$corpus" "${extra[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$build/artifacts/$fuzzer-" -print_final_stats=1
done

# WebSocket control messages: message types and field names as a dictionary, one seed per message type.
fuzzer=ws_message_fuzz
corpus="$build/corpus/$fuzzer"
mkdir -p "$corpus"
echo "== $fuzzer for ${seconds}s"
"$build/fuzz/$fuzzer" "$corpus" "$root/fuzz/ws_message_seeds" -dict="$root/fuzz/ws_message.dict" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$build/artifacts/$fuzzer-" -print_final_stats=1
