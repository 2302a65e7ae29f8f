#!/usr/bin/env bash
# cup-test.sh: every check of the cup Go program, in order:
#   gofmt, go vet (host and every target's GOOS/GOARCH), go test (with -race
#   on amd64), a short fuzz smoke per fuzz target, the cross matrix
#   (scripts/cross-matrix.sh) and the real-browser UI test (scripts/ui-test.sh).
# Exits non-zero if any step failed; the last line is the summary.
#
# Env: CUP_FUZZTIME (default 5s; 0 skips fuzzing), CUP_SKIP_MATRIX=1, CUP_SKIP_UI=1.
# Needs: scripts/setup-cup.sh.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/local/bin:$PATH"
cd "$root/cup" || exit 2
if ! command -v go >/dev/null 2>&1; then
  echo "cup-test: go not found; run scripts/setup-cup.sh first" >&2
  exit 2
fi

passed=0 failed=0 skipped=0
failures=()
step() { # step NAME CMD...
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "   ok: $name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "   FAILED: $name"
  fi
}
skip() { skipped=$((skipped + 1)); echo "== $1: skipped ($2)"; }

gofmt_clean() {
  local bad
  bad=$(gofmt -l .)
  [ -z "$bad" ] || { echo "gofmt -l lists:"; echo "$bad"; echo "fix: cd cup && gofmt -w ."; return 1; }
}

vet_all_targets() { # the serial code differs per OS/arch: vet each
  local rc=0 t
  for t in linux/386 linux/arm linux/arm64 linux/riscv64 linux/ppc64le linux/s390x linux/loong64 windows/amd64 darwin/arm64; do
    GOOS=${t%/*} GOARCH=${t#*/} CGO_ENABLED=0 go vet ./... || { echo "go vet failed for $t"; rc=1; }
  done
  return $rc
}

go_test() {
  local args=(-count=1)
  [ "$(go env GOARCH)" = amd64 ] && [ "$(go env CGO_ENABLED)" = 1 ] && args+=(-race)
  go test "${args[@]}" ./... && CGO_ENABLED=0 go test -count=1 ./...
}

fuzz_smoke() {
  local t=${CUP_FUZZTIME:-5s} rc=0 pkg name
  while read -r pkg name; do
    echo "   fuzz $pkg $name ($t)"
    go test -run '^$' -fuzz "^${name}\$" -fuzztime "$t" "$pkg" >/tmp/cup-fuzz.log 2>&1 || { tail -20 /tmp/cup-fuzz.log; rc=1; }
  done < <(grep -rl --include='*_test.go' '^func Fuzz' . | while read -r f; do
    d=$(dirname "$f")
    grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | sed "s|^func ||; s|^|./${d#./} |"
  done)
  return $rc
}

step "gofmt" gofmt_clean
step "go vet (host)" go vet ./...
step "go vet (every target)" vet_all_targets
step "go test (cgo$( [ "$(go env GOARCH)" = amd64 ] && echo ', -race') and CGO_ENABLED=0)" go_test
if [ "${CUP_FUZZTIME:-5s}" = 0 ]; then skip "fuzz smoke" "CUP_FUZZTIME=0"; else step "fuzz smoke" fuzz_smoke; fi
if [ "${CUP_SKIP_MATRIX:-0}" = 1 ]; then skip "cross matrix" "CUP_SKIP_MATRIX=1"; else step "cross matrix" bash "$root/scripts/cross-matrix.sh"; fi
if [ "${CUP_SKIP_UI:-0}" = 1 ]; then skip "UI test" "CUP_SKIP_UI=1"; else step "UI test (chromium)" bash "$root/scripts/ui-test.sh"; fi

echo
[ ${#failures[@]} -gt 0 ] && echo "cup-test: failed steps: ${failures[*]}"
echo "cup-test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
