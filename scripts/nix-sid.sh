#!/usr/bin/env bash
# Today's Nix for the tests: Debian sid's nix-bin (2.34 as of 2026-12) in a
# chroot, beside the host's Debian bookworm Nix 2.8.
#
#   scripts/nix-sid.sh setup           make (or update) the chroot; prints its Nix version
#   scripts/nix-sid.sh run CMD...      run a shell command inside it, in this repository
#   scripts/nix-sid.sh version         print the chroot's `nix --version`
#
# The chroot lives in $CUPCROSS_CHROOT_CACHE/sid (default /var/cache/cupcross/sid),
# with its own /nix store and database: the two Nix versions never share a
# store (2.34's database schema is newer). This repository is bind-mounted at
# the same path, and so is $CARGO_TARGET_DIR when it lies outside it, so test
# binaries built on the host find their files inside. Commands run as root,
# single-user (build-users-group empty, no sandbox), as on the host.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/chroot-lib.sh
. "$here/scripts/chroot-lib.sh"

SID=$CHROOT_CACHE/sid
STAMP=$SID/.cupcross-ready
# What the Nix-facing tests need inside: Nix, git (nix-test.sh lists the
# tracked files), python3 (fixtures' helpers), ca-certificates.
PKGS="nix-bin git python3 ca-certificates"

setup() {
  chroot_need_tools
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PKGS" ]; then
    return 0
  fi
  if [ ! -x "$SID/usr/bin/apt-get" ]; then
    rm -rf "$SID"
    chroot_base sid "$SID"
  fi
  chroot_registry_access "$SID" sid
  echo "nix-sid: installing $PKGS in $SID"
  # nix-bin pulls nix-setup-systemd, whose postinst needs systemd and fails
  # in a chroot; that failure is harmless (it only makes nixbld users), so
  # dpkg is told to carry on and the result is checked below.
  chroot_run "$SID" "" "
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $PKGS >/tmp/apt.log 2>&1 ||
      dpkg --configure -a >/dev/null 2>&1 || true
    command -v nix >/dev/null || { tail -n 30 /tmp/apt.log; exit 1; }
    mkdir -p /etc/nix
    printf 'build-users-group =\nsandbox = false\nexperimental-features = nix-command flakes\n' >/etc/nix/nix.conf
    update-ca-certificates >/dev/null 2>&1 || true
    nix --version
  " || chroot_die "nix-sid: could not install $PKGS in the sid chroot $SID (output above)"
  echo "$PKGS" >"$STAMP"
}

binds() {
  local b="$here:$here"
  local t=${CARGO_TARGET_DIR:-}
  if [ -n "$t" ] && [ -d "$t" ]; then
    t=$(cd "$t" && pwd)
    case "$t" in "$here"/*) ;; *) b="$b $t:$t" ;; esac
  fi
  # nixpkgs' lib for the module tests (scripts/nix-test.sh), at the same path
  if [ -n "${NIXPKGS_LIB:-}" ] && [ -d "$NIXPKGS_LIB" ]; then
    case "$NIXPKGS_LIB" in "$here"/*) ;; *) b="$b $NIXPKGS_LIB:$NIXPKGS_LIB:ro" ;; esac
  fi
  # the tools the host's test runner brings (cargo-nextest runs archives inside)
  local nt
  nt=$(command -v cargo-nextest || true)
  [ -n "$nt" ] && b="$b $nt:/usr/local/bin/cargo-nextest:ro"
  printf '%s' "$b"
}

case "${1:-}" in
setup)
  setup
  chroot_run "$SID" "" "nix --version"
  ;;
version)
  setup >/dev/null
  chroot_run "$SID" "" "nix --version"
  ;;
run)
  shift
  [ $# -gt 0 ] || chroot_die "usage: scripts/nix-sid.sh run COMMAND..."
  setup
  chroot_run "$SID" "$(binds)" "cd '$here' && $*"
  ;;
*)
  echo "usage: scripts/nix-sid.sh setup | version | run COMMAND..." >&2
  exit 2
  ;;
esac
