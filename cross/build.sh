#!/usr/bin/env bash
# Cross-build baytrace-edge for an ARM box: cross/build.sh aarch64|armv7
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  aarch64) target=aarch64-unknown-linux-gnu; pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross); qemu=qemu-aarch64-static ;;
  armv7)   target=armv7-unknown-linux-gnueabihf; pkgs=(gcc-arm-linux-gnueabihf libc6-dev-armhf-cross); qemu=qemu-arm-static ;;
  *) echo "usage: cross/build.sh aarch64|armv7" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}"; fi
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
cargo build --release -p edge-daemon --target "$target"
bin="target/$target/release/baytrace-edge"
echo "built $bin"
if command -v "$qemu" >/dev/null 2>&1; then
  sysroot=$([ "$1" = aarch64 ] && echo /usr/aarch64-linux-gnu || echo /usr/arm-linux-gnueabihf)
  "$qemu" -L "$sysroot" "$bin" --version
fi
