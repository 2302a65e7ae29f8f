#!/usr/bin/env bash
# Benchmark `crossplan status` against Nix's own dry run on a generated graph.
#
#   bench/status.sh            # ~18,000 derivations, 20 ms and 0 ms latency
#   NODES=3000 RUNS=3 bench/status.sh
#
# It builds the release binaries, generates a layered derivation graph with
# crossplan-gengraph (~30% of nodes cached across two caches of different
# priority, a few percent valid locally, some allowSubstitutes = false),
# serves both caches with crossplan-cachesrv on 127.0.0.1 (--latency-ms 20,
# then 0), and times, cold (fresh XDG_CACHE_HOME every run):
#   nix-store --realise --dry-run ROOTS      (Nix 2.8, http-connections = 25)
#   the same with Nix 2.34                   (Debian sid's, in the chroot of
#                                             scripts/nix-sid.sh, the graph
#                                             imported into its store; NIX_SID=0
#                                             leaves it out)
#   crossplan status --json ROOTS            (cold narinfo cache)
#   crossplan status --json ROOTS            (warm: narinfo cache filled)
# plus crossplan's peak RSS (/usr/bin/time -v), and checks that both answers
# agree. Needs: nix, python3, GNU time (`time`), hyperfine (optional: a
# date-based loop otherwise).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NODES=${NODES:-18000}
SEED=${SEED:-1}
RUNS=${RUNS:-5}            # crossplan runs per case
NIX_RUNS=${NIX_RUNS:-3}    # Nix runs per case (slow)
LATENCIES=${LATENCIES:-"20 0"}
NIX_SID=${NIX_SID:-1}      # also time Nix 2.34 (needs root: a chroot)
CACHED=${CACHED:-0.28}
VALID=${VALID:-0.006}
VALID_LAYERS=${VALID_LAYERS:-0.1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
WORK=${WORK:-$(mktemp -d /tmp/crossplan-bench.XXXXXX)}
mkdir -p "$WORK"

echo "== building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
(cd "$repo" && cargo build --release -q -p crossplan -p crossplan-testkit --bins)
bin=$CARGO_TARGET_DIR/release
CROSSPLAN=$bin/crossplan

if [ ! -f "$WORK/fx/fixture.json" ]; then
  echo "== generating a $NODES-node graph in $WORK/fx" >&2
  t0=$(date +%s.%N)
  "$bin/crossplan-gengraph" --dir "$WORK/fx" --nodes "$NODES" --seed "$SEED" \
    --cached "$CACHED" --valid "$VALID" --valid-layers "$VALID_LAYERS" --bad-sig 0 > /dev/null
  t1=$(date +%s.%N)
  echo "   generated in $(python3 -c "print(f'{$t1-$t0:.1f}')") s" >&2
fi
FX=$WORK/fx/fixture.json
python3 - "$FX" "$WORK" <<'PY'
import json, sys
fx = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/roots.txt", "w").write("\n".join(fx["roots"]) + "\n")
open(sys.argv[2] + "/keys.txt", "w").write(fx["trusted_public_keys"])
open(sys.argv[2] + "/dirs.txt", "w").write(fx["hi_dir"] + "\n" + fx["lo_dir"] + "\n")
print("   " + fx["summary"], file=sys.stderr)
PY
KEYS=$(cat "$WORK/keys.txt")
HI_DIR=$(sed -n 1p "$WORK/dirs.txt")
LO_DIR=$(sed -n 2p "$WORK/dirs.txt")
nroots=$(wc -l < "$WORK/roots.txt")

# Nix 2.34: the same graph in the sid chroot's own store (the .drv closure
# and the outputs valid here, exported once), timed inside the chroot against
# the same caches on 127.0.0.1 (the chroot shares this network).
SID_DIR=$CARGO_TARGET_DIR/bench-sid
sid_version=-
if [ "$NIX_SID" = 1 ]; then
  mkdir -p "$SID_DIR"
  bash "$repo/scripts/nix-sid.sh" setup >&2
  sid_stamp=$SID_DIR/imported-$(md5sum < "$WORK/roots.txt" | cut -c1-12)
  if [ ! -f "$sid_stamp" ]; then
    echo "== importing the graph into Nix 2.34's store" >&2
    sed 's/[!^].*//' "$WORK/roots.txt" | sort -u > "$SID_DIR/drvs.txt"
    xargs nix-store -qR --include-outputs < "$SID_DIR/drvs.txt" > "$SID_DIR/closure.txt"
    # One export stream per chunk of 1000 paths, which fits one command line
    # (xargs would run several exports and concatenate their streams,
    # and --import stops at the first one's end); -qR lists dependencies
    # first, so the chunks import in order.
    rm -f "$SID_DIR"/chunk.*
    split -l 1000 -d -a 4 "$SID_DIR/closure.txt" "$SID_DIR/chunk."
    for c in "$SID_DIR"/chunk.[0-9]*; do
      xargs nix-store --export < "$c" > "$c.export"
    done
    bash "$repo/scripts/nix-sid.sh" run "for f in '$SID_DIR'/chunk.*.export; do nix-store --import < \$f > /dev/null; done" >&2
    rm -f "$SID_DIR"/chunk.*
    # every root must be there now, or the timings would be of an error
    if ! bash "$repo/scripts/nix-sid.sh" run "xargs nix-store --check-validity < '$SID_DIR/drvs.txt'" >&2; then
      echo "bench: importing the graph into Nix 2.34's store failed" >&2
      exit 1
    fi
    touch "$sid_stamp"
  fi
  cp "$WORK/roots.txt" "$SID_DIR/roots.txt"
  sid_version=$(bash "$repo/scripts/nix-sid.sh" run "nix --version" 2>/dev/null | awk '{print $3}')
fi

# sid_time LAT RUNS -> median seconds of Nix 2.34's cold dry run (timed
# inside the chroot); the stderr of its first run goes to $WORK/nix234-LAT.txt
sid_time() {
  rm -f "$SID_DIR/times.txt"
  cat >"$SID_DIR/run.sh" <<EOF
for i in \$(seq $2); do
  rm -rf /tmp/xdg-nix
  a=\$(date +%s.%N)
  XDG_CACHE_HOME=/tmp/xdg-nix nix-store --realise --dry-run \$(cat '$SID_DIR/roots.txt') \\
    --option substituters '$SUBS' --option trusted-public-keys '$KEYS' --option require-sigs true \\
    2> '$SID_DIR/nix-run.txt' > /dev/null
  b=\$(date +%s.%N)
  echo "\$a \$b" >> '$SID_DIR/times.txt'
  [ "\$i" = 1 ] && cp '$SID_DIR/nix-run.txt' '$SID_DIR/nix-first.txt'
done
true
EOF
  bash "$repo/scripts/nix-sid.sh" run "bash '$SID_DIR/run.sh'" >&2
  cp "$SID_DIR/nix-first.txt" "$WORK/nix234-$1.txt"
  python3 -c "import statistics,sys; print(statistics.median(float(b)-float(a) for a,b in (l.split() for l in open(sys.argv[1]))))" "$SID_DIR/times.txt"
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; pids=(); }
trap cleanup EXIT

start_server() { # VAR dir latency: start a server (in this shell, so its pid is
  # recorded for cleanup) and set VAR to its URL.
  local log
  log=$(mktemp "$WORK/srv.XXXXXX")
  "$bin/crossplan-cachesrv" --dir "$2" --latency-ms "$3" > "$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$log"; then
      printf -v "$1" '%s' "$(sed -n 's/^listening on //p' "$log" | head -1)"
      return
    fi
    sleep 0.05
  done
  echo "crossplan-cachesrv did not start: $(cat "$log")" >&2
  exit 1
}

HAVE_HYPERFINE=0
command -v hyperfine > /dev/null && HAVE_HYPERFINE=1

# time_cmd NAME RUNS PREPARE COMMAND -> median seconds on stdout
time_cmd() {
  local name=$1 runs=$2 prepare=$3 cmd=$4
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    hyperfine --style none --runs "$runs" --prepare "$prepare" --export-json "$WORK/$name.json" \
      "$cmd" > /dev/null 2> "$WORK/$name.hf.err" || { cat "$WORK/$name.hf.err" >&2; exit 1; }
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['results'][0]['median'])" "$WORK/$name.json"
  else
    local times=()
    for _ in $(seq "$runs"); do
      bash -c "$prepare"
      local a b
      a=$(date +%s.%N)
      bash -c "$cmd" > /dev/null 2>&1
      b=$(date +%s.%N)
      times+=("$(python3 -c "print($b-$a)")")
    done
    python3 -c "import statistics,sys; print(statistics.median(map(float, sys.argv[1:])))" "${times[@]}"
  fi
}

results=$WORK/results.txt
: > "$results"
for lat in $LATENCIES; do
  start_server HI "$HI_DIR" "$lat"
  start_server LO "$LO_DIR" "$lat"
  SUBS="$LO $HI"
  echo "== latency $lat ms: hi=$HI lo=$LO, $nroots roots" >&2
  nix_cmd="XDG_CACHE_HOME=$WORK/xdg-nix nix-store --realise --dry-run \$(cat $WORK/roots.txt) --option substituters '$SUBS' --option trusted-public-keys '$KEYS' --option require-sigs true"
  cp_cmd="XDG_CACHE_HOME=$WORK/xdg-cp $CROSSPLAN status --json --substituters '$SUBS' --trusted-public-keys '$KEYS' --require-sigs true \$(cat $WORK/roots.txt)"
  warm_cmd="XDG_CACHE_HOME=$WORK/xdg-warm $CROSSPLAN status --json --substituters '$SUBS' --trusted-public-keys '$KEYS' --require-sigs true \$(cat $WORK/roots.txt)"

  # Agreement on this graph, once.
  bash -c "rm -rf $WORK/xdg-nix; $nix_cmd" 2> "$WORK/nix-$lat.txt" > /dev/null
  set +e
  bash -c "rm -rf $WORK/xdg-cp; $cp_cmd" > "$WORK/cp-$lat.json" 2> "$WORK/cp-$lat.err"
  cp_exit=$?
  set -e
  # The testkit's dry-run parser (the oracle tests' own) says whether they agree.
  if [ "$cp_exit" != 0 ]; then
    agree="NO (crossplan exit $cp_exit)"
  elif cmp_out=$("$bin/crossplan-drycompare" --nix "$WORK/nix-$lat.txt" --crossplan "$WORK/cp-$lat.json" 2>&1); then
    agree="yes ($(printf '%s\n' "$cmp_out" | sed -n 's/^ *Nix: //p'))"
  else
    agree="NO: $(printf '%s\n' "$cmp_out" | grep -E '^ *- |drycompare' | head -3 | tr '\n' ' ')"
  fi
  echo "   answers agree: $agree" >&2

  nix_t=$(time_cmd "nix-$lat" "$NIX_RUNS" "rm -rf $WORK/xdg-nix" "$nix_cmd")
  nix234_t=-
  if [ "$NIX_SID" = 1 ]; then
    nix234_t=$(sid_time "$lat" "$NIX_RUNS")
    if ! cmp_out=$("$bin/crossplan-drycompare" --nix "$WORK/nix234-$lat.txt" --crossplan "$WORK/cp-$lat.json" 2>&1); then
      agree="$agree; with Nix $sid_version: NO: $(printf '%s\n' "$cmp_out" | grep -E '^ *- |drycompare' | head -2 | tr '\n' ' ')"
    else
      agree="$agree; Nix $sid_version agrees"
    fi
  fi
  cold_t=$(time_cmd "cold-$lat" "$RUNS" "rm -rf $WORK/xdg-cp" "$cp_cmd")
  rm -rf "$WORK/xdg-warm"; bash -c "$warm_cmd" > /dev/null 2>&1 || true
  warm_t=$(time_cmd "warm-$lat" "$RUNS" "true" "$warm_cmd")
  rm -rf "$WORK/xdg-cp"
  # Peak RSS of one cold run.
  rm -rf "$WORK/xdg-cp"
  XDG_CACHE_HOME=$WORK/xdg-cp /usr/bin/time -v "$CROSSPLAN" status --json --substituters "$SUBS" \
    --trusted-public-keys "$KEYS" --require-sigs true $(cat "$WORK/roots.txt") > /dev/null 2> "$WORK/rss-$lat.txt" || true
  rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/rss-$lat.txt" | tail -1)
  echo "$lat $nix_t $nix234_t $cold_t $warm_t $rss_kib $agree" >> "$results"
  echo "   nix 2.8 $nix_t s, nix 2.34 $nix234_t s, crossplan cold $cold_t s, warm $warm_t s, RSS $rss_kib KiB" >&2
  cleanup
done

python3 - "$results" "$NODES" "$RUNS" "$NIX_RUNS" "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(date -u +%Y-%m-%d)" <<'PY'
import sys
# Goals (issue 12): cold at 20 ms <= 0.05 x Nix 2.34; cold at 0 ms <= 0.30 x
# Nix 2.8; warm <= 0.35 s with RSS <= 150 MiB.
rows = [l.split(" ", 6) for l in open(sys.argv[1]) if l.strip()]
print(f"\ncrossplan status vs nix-store --realise --dry-run, {sys.argv[2]} derivations; medians of {sys.argv[3]} crossplan / {sys.argv[4]} Nix runs; {sys.argv[5]}\n")
print(f"{'latency':>8} {'nix 2.8':>9} {'nix 2.34':>9} {'cold':>8} {'warm':>8} {'/2.8':>6} {'/2.34':>6} {'goal':>14} {'warm':>5} {'RSS MiB':>8}  agree")
ok = True
for lat, nix, nix234, cold, warm, rss, agree in rows:
    nix, cold, warm, rss = float(nix), float(cold), float(warm), int(rss) / 1024
    n234 = None if nix234 == "-" else float(nix234)
    r28 = cold / nix
    r234 = cold / n234 if n234 else None
    if int(lat) >= 20:
        goal, met = "<=0.05x2.34", (r234 is not None and r234 <= 0.05)
    else:
        goal, met = "<=0.30x2.8", r28 <= 0.30
    warm_ok = warm <= 0.35 and rss <= 150
    ok &= met and warm_ok and agree.startswith("yes") and "NO" not in agree
    n234s = f"{n234:.2f}s" if n234 else "-"
    r234s = f"{r234:.3f}" if r234 else "-"
    print(f"{lat + ' ms':>8} {nix:>8.2f}s {n234s:>9} {cold:>7.3f}s {warm:>7.3f}s {r28:>6.3f} {r234s:>6} "
          f"{goal + (' ok' if met else ' NO'):>14} {('ok' if warm_ok else 'NO'):>5} {rss:>8.1f}  {agree.strip()}")
print("\nall goals met" if ok else "\nSOME GOALS MISSED")
PY
echo "(work dir: $WORK)" >&2
