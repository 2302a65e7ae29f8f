#!/usr/bin/env bash
# Install everything cupcross's tests and demo need on a Debian/Ubuntu machine:
# Debian's Nix, the Go toolchain and cross compilers for cup, QEMU, Chromium,
# and the Rust tools (cargo-nextest). Idempotent and non-interactive; run it as
# root or as a user with passwordless sudo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive

echo "== setup: Nix"
bash scripts/setup-nix.sh

echo "== setup: Nix 2.34 (Debian sid, in a chroot) for the second leg of the Nix-facing tests"
if [ "${CUPCROSS_NIX_SID:-1}" = 0 ]; then
  echo "setup: skipped (CUPCROSS_NIX_SID=0)"
else
  "${SUDO[@]}" bash scripts/nix-sid.sh setup
fi

echo "== setup: cup (Go, cross compilers, QEMU, Chromium)"
bash scripts/setup-cup.sh

echo "== setup: tools for crossplan's tests and benchmark"
need=()
for p in time hyperfine nghttp2-client; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${need[@]}" \
    || echo "setup: could not install ${need[*]} (only the benchmark uses them)" >&2
fi

echo "== setup: Rust tools"
if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is not on PATH; install Rust (rustup) first" >&2
  exit 1
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  cargo install --locked cargo-nextest
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true
echo "== setup: done"
