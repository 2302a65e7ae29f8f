#!/usr/bin/env bash
# Install what scripts/nix-test.sh needs: Debian's Nix (nix-bin, 2.8 on
# bookworm) and git. Idempotent and non-interactive; safe to run twice.
# Nix settings (flakes) are passed by nix-test.sh through NIX_CONFIG, so
# nothing under /etc is written here.
set -euo pipefail

need=()
command -v nix-instantiate >/dev/null 2>&1 || need+=(nix-bin)
command -v git >/dev/null 2>&1 || need+=(git)

if [ ${#need[@]} -eq 0 ]; then
  echo "setup-nix: nothing to install ($(nix --version))"
  exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
echo "setup-nix: installed ${need[*]} ($(nix --version))"
