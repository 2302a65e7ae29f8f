#!/usr/bin/env bash
# Install what the Nix-facing tests need and leave a working single-user Nix:
# Debian's Nix (nix-bin, 2.8 on bookworm) and git. Idempotent and
# non-interactive; safe to run twice.
#
# Debian's nix-bin alone is not usable: run as root, Nix defaults to
# `build-users-group = nixbld`, a group nothing creates, and every build fails
# with "the group 'nixbld' specified in 'build-users-group' does not exist".
# This script writes /etc/nix/nix.conf for a single-user Nix (no build users,
# no sandbox: the tests' builders are /bin/sh, which a sandbox would not hold)
# unless that file already exists. A file we did not write is left alone,
# but if it names a build-users-group that does not exist we stop and say so.
#
# As a user other than root, /nix must belong to that user (single-user Nix);
# this is done with `sudo -n`, or the script stops saying what to run.
set -euo pipefail

SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo -n); fi
export DEBIAN_FRONTEND=noninteractive

need=()
command -v nix-instantiate >/dev/null 2>&1 || need+=(nix-bin)
command -v git >/dev/null 2>&1 || need+=(git)
if [ ${#need[@]} -gt 0 ]; then
  if [ ${#SUDO[@]} -gt 0 ] && ! sudo -n true 2>/dev/null; then
    echo "setup-nix: need root to install ${need[*]}: run 'sudo apt-get install ${need[*]}' (or give this user passwordless sudo) and try again" >&2
    exit 1
  fi
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 update -qq
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}"
  echo "setup-nix: installed ${need[*]}"
fi

conf=/etc/nix/nix.conf
marker="# written by cupcross scripts/setup-nix.sh"
if [ ! -e "$conf" ]; then
  tmp=$(mktemp)
  cat >"$tmp" <<EOF
$marker: a single-user Nix
# (Debian's nix-bin defaults to build-users-group = nixbld, which does not exist
# unless nix-setup-systemd made it). Delete this file to undo.
build-users-group =
sandbox = false
experimental-features = nix-command flakes
EOF
  "${SUDO[@]}" mkdir -p /etc/nix
  "${SUDO[@]}" install -m 0644 "$tmp" "$conf"
  rm -f "$tmp"
  echo "setup-nix: wrote $conf (single-user: build-users-group empty, sandbox off)"
elif ! grep -qF "$marker" "$conf"; then
  group=$(sed -n 's/^[[:space:]]*build-users-group[[:space:]]*=[[:space:]]*//p' "$conf" | tail -n1)
  if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
    echo "setup-nix: $conf sets build-users-group = $group, but no such group exists; add 'build-users-group =' to $conf (single-user Nix) or create the group with nix-setup-systemd" >&2
    exit 1
  fi
  echo "setup-nix: keeping the existing $conf"
fi

if [ "$(id -u)" -ne 0 ]; then
  # Single-user Nix as this user: /nix and everything under it must be ours.
  if [ ! -d /nix ] || [ "$(stat -c %U /nix)" != "$(id -un)" ]; then
    if ! "${SUDO[@]}" install -d -o "$(id -u)" -g "$(id -g)" /nix 2>/dev/null ||
      ! "${SUDO[@]}" chown -R "$(id -u):$(id -g)" /nix 2>/dev/null; then
      echo "setup-nix: /nix must belong to $(id -un) for a single-user Nix: run 'sudo mkdir -p /nix && sudo chown -R $(id -un) /nix' and try again" >&2
      exit 1
    fi
  fi
fi

# Prove it: a one-line derivation must build.
if ! probe=$(nix-build --no-out-link --option substituters '' \
  -E 'derivation { name = "cupcross-setup-probe"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ok > $out" ]; }' 2>&1); then
  echo "setup-nix: Nix cannot build even a trivial derivation: $(printf '%s' "$probe" | grep -m1 error)" >&2
  exit 1
fi
probe=$(printf '%s\n' "$probe" | tail -n1)
echo "setup-nix: $(nix --version) builds ($probe)"
