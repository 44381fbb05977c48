#!/usr/bin/env bash
# Cross-compiles edgetune-runner for 64-bit Raspberry Pi OS (aarch64) and puts it, with the arm64
# libonnxruntime.so.1 it needs, into OUT_DIR (default: build/bin/aarch64), where edgetune-cli looks for it.
#   installer/build-runner-aarch64.sh [OUT_DIR]
# Needs what installer/install-deps.sh installs: Debian's g++-aarch64-linux-gnu, cmake, ninja, the ONNX Runtime
# headers and the arm64 libonnxruntime.so.1 (from the npm package onnxruntime-node).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="${1:-$ROOT/build/bin/aarch64}"
ORT_X64="${ORT_DIR:-$ROOT/third_party/onnxruntime}"
ORT_ARM="${ORT_ARM_DIR:-$ROOT/third_party/onnxruntime-aarch64}"
BUILD_DIR="${RUNNER_BUILD_DIR:-$ROOT/build-runner-aarch64}"

command -v aarch64-linux-gnu-g++ >/dev/null || { echo "build-runner-aarch64: install g++-aarch64-linux-gnu" >&2; exit 1; }
[ -f "$ORT_X64/include/onnxruntime_cxx_api.h" ] || { echo "build-runner-aarch64: run installer/install-deps.sh first" >&2; exit 1; }

# The arm64 library (installed by install-deps.sh beside the architecture-independent headers).
[ -f "$ORT_ARM/lib/libonnxruntime.so.1" ] || { echo "build-runner-aarch64: no arm64 ONNX Runtime in $ORT_ARM; run installer/install-deps.sh first" >&2; exit 1; }

generator=()
if command -v ninja >/dev/null; then generator=(-G Ninja); fi
cmake -S "$ROOT/runner" -B "$BUILD_DIR" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/installer/cross-aarch64.cmake" -DONNXRUNTIME_ROOT="$ORT_ARM" >/dev/null
cmake --build "$BUILD_DIR" -j"${JOBS:-2}"

mkdir -p "$OUT_DIR"
cp "$BUILD_DIR/bin/edgetune-runner" "$OUT_DIR/edgetune-runner.partial"
cp "$ORT_ARM/lib/libonnxruntime.so.1" "$OUT_DIR/libonnxruntime.so.1"
mv "$OUT_DIR/edgetune-runner.partial" "$OUT_DIR/edgetune-runner"
echo "build-runner-aarch64: $(file -b "$OUT_DIR/edgetune-runner" 2>/dev/null | cut -d, -f1-2 || echo built) -> $OUT_DIR"
