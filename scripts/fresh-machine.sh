#!/usr/bin/env bash
# The fresh-machine check: the README's two commands on a plain Debian
# bookworm machine that has only git, python3, build-essential and a Rust
# toolchain. Catches every install step that works on a developer's machine
# only because of what it happens to have.
#
#   sudo bash scripts/fresh-machine.sh          check the committed HEAD
#   FRESH_KEEP=1 ...                            keep the chroot afterwards
#
# How: a debootstrap of bookworm (cached as a tarball in
# $CUPCROSS_CHROOT_CACHE, default /var/cache/cupcross, so later runs start in
# seconds), given the host's way to the package registries (certificate
# authorities, pip.conf, apt registry entries, the *_CA_BUNDLE variables) and
# an /etc/hosts naming localhost, and nothing of the project's own set-up.
# The host's Rust toolchain is bind-mounted (the README assumes Rust is
# installed): $RUSTUP_HOME, the rustup proxies of $CARGO_HOME/bin, and
# cargo-nextest where the host's toolchain ships it in /usr/local/bin. The
# repository is cloned inside, then `bash scripts/quickstart.sh` and `bash
# scripts/test.sh` run there as root; each one's exit code and time is
# printed, and their logs are kept in $FRESH_LOGS (default a new directory
# under /tmp). The Nix 2.34 leg of test.sh is left out inside
# (CUPCROSS_NIX_SID=0: it would need a chroot within the chroot); test.sh on
# the host runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/chroot-lib.sh
. "$here/scripts/chroot-lib.sh"

chroot_need_tools
FRESH=$CHROOT_CACHE/fresh-bookworm
LOGS=${FRESH_LOGS:-$(mktemp -d /tmp/cupcross-fresh.XXXXXX)}
mkdir -p "$LOGS"

if [ -n "$(git -C "$here" status --porcelain --untracked-files=no)" ]; then
  echo "fresh-machine: note: uncommitted changes are not part of the check (it clones HEAD $(git -C "$here" rev-parse --short HEAD))"
fi

t0=$SECONDS
rm -rf "$FRESH"
chroot_base bookworm "$FRESH" "git,python3,build-essential,ca-certificates"
chroot_registry_access "$FRESH" bookworm
echo "fresh-machine: bookworm base ready in $FRESH ($((SECONDS - t0)) s)"

# The host's Rust toolchain.
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[ -x "$cargo_bin/cargo" ] && [ -d "$rustup_home" ] ||
  chroot_die "fresh-machine: no Rust toolchain at $cargo_bin and $rustup_home (set CARGO_HOME / RUSTUP_HOME)"
mkdir -p "$FRESH/root/.cargo/bin"
for f in "$cargo_bin"/*; do
  case "$(basename "$f")" in
  rustup | cargo | cargo-clippy | cargo-fmt | clippy-driver | rustc | rustdoc | rustfmt | rust-gdb | rust-lldb | rust-analyzer)
    cp -a "$f" "$FRESH/root/.cargo/bin/"
    ;;
  esac
done
binds="$rustup_home:/root/.rustup"
if [ -x /usr/local/bin/cargo-nextest ]; then
  binds="$binds /usr/local/bin/cargo-nextest:/usr/local/bin/cargo-nextest:ro"
fi

git clone -q "$here" "$FRESH/root/cupcross"
git -C "$FRESH/root/cupcross" checkout -q "$(git -C "$here" rev-parse HEAD)"

status=0
run_step() { # name, command
  local name=$1 cmd=$2 t rc
  echo "fresh-machine: $cmd (log: $LOGS/$name.log)"
  t=$SECONDS
  set +e
  CHROOT_EXTRA_ENV="CUPCROSS_NIX_SID=0" chroot_run "$FRESH" "$binds" \
    "cd /root/cupcross && $cmd" </dev/null >"$LOGS/$name.log" 2>&1
  rc=$?
  set -e
  printf '%s\n' "$name: exit $rc in $((SECONDS - t)) s" >>"$LOGS/summary.txt"
  if [ $rc -ne 0 ]; then
    status=1
    echo "fresh-machine: '$cmd' FAILED (exit $rc, $((SECONDS - t)) s); the end of its log:"
    tail -n 40 "$LOGS/$name.log" | sed 's/^/   | /'
  fi
  echo "fresh-machine: '$cmd': exit $rc in $((SECONDS - t)) s"
}
: >"$LOGS/summary.txt"
run_step quickstart "bash scripts/quickstart.sh"
run_step test "bash scripts/test.sh"
grep -h '^test suites:' "$LOGS/test.log" | tail -n1 | sed 's/^/fresh-machine: inside: /' || true

if [ "${FRESH_KEEP:-0}" != 1 ]; then rm -rf "$FRESH"; fi
echo "fresh-machine: $( [ $status -eq 0 ] && echo passed || echo FAILED ) in $((SECONDS - t0)) s; logs in $LOGS"
exit $status
