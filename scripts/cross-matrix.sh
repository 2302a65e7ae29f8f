#!/usr/bin/env bash
# cross-matrix.sh: build cup for every target in nix/targets.json with the host
# Go and Debian's cross compilers (no Nix), then run `cup selftest` on each
# Linux binary (natively or under qemu-<arch>-static -L <sysroot>), check the
# Windows binary is PE32+ (and run it under wine if wine works), and the
# Darwin one is Mach-O arm64. Prints a summary table; exits 1 if any target
# failed. Binaries go to out/.
#
# Usage: scripts/cross-matrix.sh [TARGET...]      (default: every target)
# Needs: scripts/setup-cup.sh (go, cross gccs, qemu-user-static, file).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
targets_json="$root/nix/targets.json"
out="$root/out"
mkdir -p "$out"
export PATH="/usr/local/bin:$PATH"

if ! command -v go >/dev/null 2>&1; then
  echo "cross-matrix: go not found; run scripts/setup-cup.sh first" >&2
  exit 2
fi

# One tab-separated line per target, from targets.json.
rows=$(python3 - "$targets_json" "$@" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
want = sys.argv[2:]
unknown = [w for w in want if w not in t]
if unknown:
    sys.exit("cross-matrix: unknown target(s) %s; known: %s" % (", ".join(unknown), ", ".join(t)))
for name, e in t.items():
    if want and name not in want:
        continue
    g, ci = e["go"], e.get("ci") or {}
    fields = [name, g["GOOS"], g["GOARCH"], g.get("GOARM") or "-",
              "1" if ci.get("cgo") else "0", ci.get("cc") or "-", ci.get("sysroot") or "-",
              e.get("qemu") or "-", "1" if e.get("static") else "0",
              " ".join(e.get("pureGoFlags") or []) or "-", e.get("exeSuffix") or ""]
    print("\t".join(fields))
PY
) || exit 2

# QEMU CPU models that hold a binary to its target's ISA level: an armv6l
# binary must run on an ARM1176 (Raspberry Pi 1 / Zero).
qemu_cpu() { case "$1" in armv6l) echo arm1176 ;; esac; }

wine_ok=""
wine_works() {
  if [ -z "$wine_ok" ]; then
    wine_ok=no
    if command -v wine >/dev/null 2>&1; then
      export WINEPREFIX="${WINEPREFIX:-$out/wineprefix}" WINEDEBUG=-all
      if timeout 120 wine cmd /c exit 0 >/dev/null 2>&1; then wine_ok=yes; fi
    fi
  fi
  [ "$wine_ok" = yes ]
}

# check_json FILE GOARCH CGO GOARM: the selftest line says ok and matches the target
check_json() {
  python3 - "$@" <<'PY'
import json, sys
path, goarch, cgo, goarm = sys.argv[1:5]
lines = [l for l in open(path, errors="replace").read().splitlines() if l.startswith("{")]
if len(lines) != 1:
    sys.exit("expected one JSON line, got %d" % len(lines))
r = json.loads(lines[0])
errs = []
if r.get("ok") is not True:
    errs.append("ok=false: " + "; ".join("%s: %s" % (c["name"], c.get("detail", "")) for c in r.get("checks", []) if not c.get("ok")))
if r.get("goarch") != goarch:
    errs.append("goarch %s, want %s" % (r.get("goarch"), goarch))
if r.get("cgo") is not (cgo == "1"):
    errs.append("cgo %s, want %s" % (r.get("cgo"), cgo == "1"))
if goarm != "-" and r.get("goarm") != goarm:
    errs.append("goarm %r, want %r" % (r.get("goarm"), goarm))
if errs:
    sys.exit("; ".join(errs))
print("%d passed, %d skipped" % (r.get("passed", 0), r.get("skipped", 0)))
PY
}

summary=()
failed=0
while IFS=$'\t' read -r name goos goarch goarm cgo cc sysroot qemu static pflags suffix; do
  [ -n "$name" ] || continue
  bin="$out/cup-$name$suffix"
  log="$out/cup-$name.log"
  : >"$log"
  arch="$goos/$goarch"; [ "$goarm" != "-" ] && arch+="/v$goarm"
  echo "== $name: $arch cgo=$cgo cc=$cc"
  env_vars=(GOOS="$goos" GOARCH="$goarch" CGO_ENABLED="$cgo")
  [ "$goarm" != "-" ] && env_vars+=(GOARM="$goarm")
  flags=(-trimpath -o "$bin")
  if [ "$cgo" = 1 ]; then
    if ! command -v "$cc" >/dev/null 2>&1; then
      summary+=("$name|$goos/$goarch|cgo|FAIL|C compiler $cc not found (run scripts/setup-cup.sh)")
      failed=1
      continue
    fi
    env_vars+=(CC="$cc")
    [ "$static" = 1 ] && flags+=(-ldflags "-linkmode external -extldflags -static")
  else
    [ "$pflags" != "-" ] && read -r -a extra <<<"$pflags" && flags+=("${extra[@]}")
  fi
  start=$(date +%s)
  if ! (cd "$root/cup" && env "${env_vars[@]}" go build "${flags[@]}" ./cmd/cup) >>"$log" 2>&1; then
    summary+=("$name|$goos/$goarch|$([ "$cgo" = 1 ] && echo cgo || echo purego)|FAIL|build failed, see out/cup-$name.log")
    failed=1
    tail -20 "$log"
    continue
  fi
  secs=$(( $(date +%s) - start ))
  mode=$([ "$cgo" = 1 ] && echo cgo || echo purego)
  kind=$(file -b "$bin")
  result="" status=ok cpu="" msg=""
  case "$goos" in
    linux)
      case "$kind" in ELF*) ;; *) status=FAIL result="not an ELF file: $kind" ;; esac
      if [ "$status" = ok ]; then
        run=()
        case "$qemu" in
          native) run=("$bin") ;;
          -) run=() ;;
          *)
            emu=$(command -v "qemu-$qemu-static" || true)
            if [ -z "$emu" ]; then status=FAIL result="qemu-$qemu-static not installed"; fi
            run=("$emu")
            cpu=$(qemu_cpu "$name"); [ -n "$cpu" ] && run+=(-cpu "$cpu")
            [ "$sysroot" != "-" ] && run+=(-L "$sysroot")
            run+=("$bin")
            ;;
        esac
        if [ "$status" = ok ] && [ ${#run[@]} -gt 0 ]; then
          if timeout 300 "${run[@]}" selftest >"$out/cup-$name.selftest.json" 2>>"$log"; then :; fi
          if msg=$(check_json "$out/cup-$name.selftest.json" "$goarch" "$cgo" "$goarm" 2>&1); then
            result="selftest: $msg${cpu:+ (qemu -cpu $cpu)}"
          else
            status=FAIL result="selftest: $msg"
          fi
        elif [ "$status" = ok ]; then
          result="built only (no emulator)"
        fi
      fi
      ;;
    windows)
      case "$kind" in
        *PE32+*x86-64*)
          result="PE32+ x86-64"
          if wine_works && ! timeout 120 wine "$bin" version >>"$log" 2>&1; then
            # Go >= 1.24 needs ProcessPrng from bcryptprimitives.dll, which
            # older wine (Debian 12 has 8.0) does not have: a wine limit, not ours.
            why=$(grep -m1 -oE '[A-Za-z0-9_]+\.dll not found' "$log" || echo "wine cannot start Go binaries")
            result+="; wine $(wine --version 2>/dev/null) cannot run it ($why), selftest skipped"
          elif wine_works; then
            if timeout 300 wine "$bin" selftest >"$out/cup-$name.selftest.json" 2>>"$log" &&
               msg=$(check_json "$out/cup-$name.selftest.json" "$goarch" "$cgo" "$goarm" 2>&1); then
              result+="; wine selftest: $msg"
            else
              status=FAIL result+="; wine selftest failed: $(tail -c 300 "$out/cup-$name.selftest.json" 2>/dev/null) ${msg:-}"
            fi
          else
            result+="; wine not available, selftest skipped"
          fi
          ;;
        *) status=FAIL result="not PE32+ x86-64: $kind" ;;
      esac
      ;;
    darwin)
      case "$kind" in
        *Mach-O*64-bit*arm64*) result="Mach-O arm64 (not runnable here)" ;;
        *) status=FAIL result="not Mach-O arm64: $kind" ;;
      esac
      ;;
    *) result="built (no check for $goos)" ;;
  esac
  [ "$status" = ok ] || failed=1
  summary+=("$name|$arch|$mode|$status|${secs}s build; $result")
  echo "   $status: $result"
done <<<"$rows"

echo
printf '%-13s %-16s %-7s %-5s %s\n' TARGET GOOS/GOARCH MODE RESULT DETAIL
for s in "${summary[@]}"; do
  IFS='|' read -r a b c d e <<<"$s"
  printf '%-13s %-16s %-7s %-5s %s\n' "$a" "$b" "$c" "$d" "$e"
done
total=${#summary[@]}
bad=$(printf '%s\n' "${summary[@]}" | awk -F'|' '$4!="ok"' | grep -c . || true)
echo
echo "cross-matrix: $((total - bad)) passed, $bad failed"
exit $failed
