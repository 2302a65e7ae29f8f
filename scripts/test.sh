#!/usr/bin/env bash
# Run every test of cupcross: Rust (fmt, clippy, nextest — the Nix oracle and
# fault suites included), the flake's offline Nix tests, and cup (Go tests,
# the cross matrix under QEMU, the browser test). The Nix-facing tests run
# twice: against the host's Nix (Debian bookworm's 2.8) and against Debian
# sid's Nix 2.34 in a chroot (scripts/nix-sid.sh; part `sid`). Exits non-zero
# if any part fails and ends with one summary line.
#
#   scripts/test.sh                everything: rust nix cup sid
#   scripts/test.sh rust nix       only some parts (rust, nix, cup, sid)
#   CUPCROSS_NIX_SID=0 scripts/test.sh   leave out the Nix 2.34 leg (said in the summary)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH="/usr/local/bin:$HOME/.cargo/bin:$PATH"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(rust nix cup sid)

passed=0
failed=0
skipped=0
failures=()
step() {
  local name=$1
  shift
  echo
  echo "==== $name: $*"
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1))
    echo "==== $name: ok ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "==== $name: FAILED ($((SECONDS - t0)) s)"
  fi
}

for part in "${parts[@]}"; do
  case "$part" in
  rust)
    step rust-fmt cargo fmt --all --check
    step rust-clippy cargo clippy --workspace --all-targets --locked -- -D warnings
    step rust-nextest cargo nextest run --workspace --locked --profile ci
    ;;
  nix)
    # nix/lib's values under this Nix, for the sid leg to compare with
    step nix env LIB_SNAPSHOT_TO="${CARGO_TARGET_DIR:-$here/target}/lib-snapshot-host.json" bash scripts/nix-test.sh
    ;;
  cup)
    step cup bash scripts/cup-test.sh
    ;;
  sid)
    if [ "${CUPCROSS_NIX_SID:-1}" = 0 ]; then
      echo
      echo "==== sid: skipped (CUPCROSS_NIX_SID=0): the Nix 2.34 leg did not run"
      skipped=$((skipped + 1))
      continue
    fi
    # The same test binaries, built once here, run inside the chroot against
    # Nix 2.34 and a store of its own; then the flake's offline tests.
    archive=${CARGO_TARGET_DIR:-$here/target}/nix-sid-tests.tar.zst
    sudo_=()
    [ "$(id -u)" -eq 0 ] || sudo_=(sudo -n)
    step sid-setup "${sudo_[@]}" bash scripts/nix-sid.sh setup
    step sid-archive cargo nextest archive --workspace --locked --archive-file "$archive"
    # The chroot holds Nix and what the Nix-facing tests need, not Go and
    # QEMU: the one test that needs those (calibrate under qemu-user) runs on
    # the host leg only; with CI=true it would fail here instead of skipping.
    step sid-nextest "${sudo_[@]}" bash scripts/nix-sid.sh run \
      "cargo-nextest nextest run --archive-file '$archive' --workspace-remap '$here' --profile ci -E 'not test(=calibrate::calibrate_riscv64_under_qemu_user)'"
    snap=${CARGO_TARGET_DIR:-$here/target}/lib-snapshot-host.json
    from=()
    [ -f "$snap" ] && from=(LIB_SNAPSHOT_FROM="$snap")
    step sid-nix "${sudo_[@]}" bash scripts/nix-sid.sh run \
      "${from[*]} ${NIXPKGS_LIB:+NIXPKGS_LIB='$NIXPKGS_LIB'} bash scripts/nix-test.sh"
    ;;
  *)
    echo "unknown part '$part' (expected rust, nix, cup or sid)" >&2
    exit 2
    ;;
  esac
done

echo
if [ "$failed" -gt 0 ]; then
  echo "failed parts: ${failures[*]}"
fi
if [ "$skipped" -gt 0 ]; then
  echo "test suites: $passed passed, $failed failed, $skipped skipped"
else
  echo "test suites: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
