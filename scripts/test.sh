#!/usr/bin/env bash
# Run every test of cupcross: Rust (fmt, clippy, nextest — the Nix oracle and
# fault suites included), the flake's offline Nix tests, and cup (Go tests,
# the cross matrix under QEMU, the browser test). Exits non-zero if any part
# fails and ends with one summary line.
#
#   scripts/test.sh            everything
#   scripts/test.sh rust nix   only some parts (rust, nix, cup)
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH="/usr/local/bin:$HOME/.cargo/bin:$PATH"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(rust nix cup)

passed=0
failed=0
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
    step nix bash scripts/nix-test.sh
    ;;
  cup)
    step cup bash scripts/cup-test.sh
    ;;
  *)
    echo "unknown part '$part' (expected rust, nix or cup)" >&2
    exit 2
    ;;
  esac
done

echo
if [ "$failed" -gt 0 ]; then
  echo "failed parts: ${failures[*]}"
fi
echo "test suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
