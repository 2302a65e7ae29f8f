#!/usr/bin/env bash
# Benchmark `crossplan status` against Nix's own dry run on a generated graph.
#
#   bench/status.sh                  # ~18,000 derivations, 20 ms and 0 ms latency
#   NODES=3000 RUNS=3 bench/status.sh
#   SIZE=100000 bench/status.sh      # all four goals of issue 12 in one run: the
#                                    # above, then 100,000 derivations at 20 ms
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
# plus crossplan's peak RSS cold and warm and the CPU time of one more cold
# run (/usr/bin/time -v; its `nix show-config` child, a few hundredths of a
# second, included), the cache servers' CPU time per timed cold run (/proc,
# since they share the machine's cores with crossplan), the HTTP floor (below),
# and checks that the
# answers agree (crossplan-drycompare, the oracle tests' own parser). It prints one table: median [min-max] of each,
# RSS, CPU, the ratio to each Nix, the goals of issue 12 and agreement.
#
# SIZE=N adds a graph of N derivations (its own work dir, WORK_BIG), timed at
# 20 ms only, after the NODES graph in the same run: crossplan cold and warm,
# RSS, and one Nix 2.8 dry run for agreement and its time (Nix 2.34 with
# NIX_SID_BIG=1: importing 100,000 derivations into its store takes long).
# The NODES graph is timed as without SIZE (every latency, both Nix versions),
# so one run shows all four goals; NIX_BASE=0 times it at 20 ms without Nix
# (quicker, for the scale point alone).
# Scale goal: N cold <= 6 x the NODES cold time, RSS <= 600 MiB, agreement.
#
# The HTTP floor: h2load (nghttp2's HTTP benchmark, a lean C client) sends
# the requests crossplan's cold run sent (its own count, per server, with
# the same share of found and missing narinfo files) to the same two servers
# with crossplan's window split between them, and does nothing else: no
# .drv files, no walk, no signatures. What that takes, on these cores beside
# these servers, is a lower bound on a cold run with that window: a goal
# below it is out of reach on this machine unless the window grows (and a
# larger window only helps while the cores have time to spare).
#
# Needs: nix, python3, GNU time (`time`), hyperfine (optional: a date-based
# loop otherwise), h2load (optional: no floor otherwise).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
NODES=${NODES:-18000}
SIZE=${SIZE:-}             # the scale point's graph size (empty: none)
SEED=${SEED:-1}
RUNS=${RUNS:-5}            # crossplan runs per case
NIX_RUNS=${NIX_RUNS:-3}    # Nix runs per case (slow)
FLOOR_RUNS=${FLOOR_RUNS:-5} # h2load runs per case (0: no HTTP floor)
LATENCIES=${LATENCIES:-"20 0"}
NIX_SID=${NIX_SID:-1}      # also time Nix 2.34 (needs root: a chroot)
NIX_SID_BIG=${NIX_SID_BIG:-0}
NIX_BASE=${NIX_BASE:-1}    # with SIZE, 0: the NODES graph at 20 ms only, without Nix
CACHED=${CACHED:-0.28}
VALID=${VALID:-0.006}
VALID_LAYERS=${VALID_LAYERS:-0.1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
WORK=${WORK:-$(mktemp -d /tmp/crossplan-bench.XXXXXX)}
mkdir -p "$WORK"
if [ -n "$SIZE" ]; then
  case $SIZE in
    *[!0-9]*) echo "bench: SIZE must be a number of derivations, not '$SIZE'" >&2; exit 2 ;;
  esac
  WORK_BIG=${WORK_BIG:-$WORK/size-$SIZE}
  mkdir -p "$WORK_BIG"
fi

echo "== building release binaries (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)" >&2
(cd "$repo" && cargo build --release -q -p crossplan -p crossplan-testkit --bins)
bin=$CARGO_TARGET_DIR/release
CROSSPLAN=$bin/crossplan

# prepare_graph NODES DIR: generate DIR/fx (once) and write DIR/{roots,keys,dirs}.txt
prepare_graph() {
  local nodes=$1 dir=$2
  if [ ! -f "$dir/fx/fixture.json" ]; then
    echo "== generating a $nodes-node graph in $dir/fx" >&2
    local t0 t1
    t0=$(date +%s.%N)
    "$bin/crossplan-gengraph" --dir "$dir/fx" --nodes "$nodes" --seed "$SEED" \
      --cached "$CACHED" --valid "$VALID" --valid-layers "$VALID_LAYERS" --bad-sig 0 > /dev/null
    t1=$(date +%s.%N)
    echo "   generated in $(python3 -c "print(f'{$t1-$t0:.1f}')") s" >&2
  fi
  python3 - "$dir/fx/fixture.json" "$dir" <<'PY'
import json, sys
fx = json.load(open(sys.argv[1]))
open(sys.argv[2] + "/roots.txt", "w").write("\n".join(fx["roots"]) + "\n")
open(sys.argv[2] + "/keys.txt", "w").write(fx["trusted_public_keys"])
open(sys.argv[2] + "/dirs.txt", "w").write(fx["hi_dir"] + "\n" + fx["lo_dir"] + "\n")
print("   " + fx["summary"], file=sys.stderr)
PY
}

# Nix 2.34: the same graph in the sid chroot's own store (the .drv closure
# and the outputs valid here, exported once), timed inside the chroot against
# the same caches on 127.0.0.1 (the chroot shares this network).
SID_DIR=$CARGO_TARGET_DIR/bench-sid
sid_version=-
sid_import() { # DIR: import DIR's graph into Nix 2.34's store (once per graph)
  mkdir -p "$SID_DIR"
  bash "$repo/scripts/nix-sid.sh" setup >&2
  local sid_stamp
  sid_stamp=$SID_DIR/imported-$(md5sum < "$1/roots.txt" | cut -c1-12)
  if [ ! -f "$sid_stamp" ]; then
    echo "== importing the graph into Nix 2.34's store" >&2
    sed 's/[!^].*//' "$1/roots.txt" | sort -u > "$SID_DIR/drvs.txt"
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
  cp "$1/roots.txt" "$SID_DIR/roots.txt"
  sid_version=$(bash "$repo/scripts/nix-sid.sh" run "nix --version" 2>/dev/null | awk '{print $3}')
}

# stats FILE -> "median min max" of the numbers in FILE (one a line)
stats() {
  python3 -c "import statistics,sys; t=[float(l) for l in open(sys.argv[1]) if l.strip()]; print(statistics.median(t), min(t), max(t))" "$1"
}

# sid_time NAME RUNS -> "median min max" seconds of Nix 2.34's cold dry run
# (timed inside the chroot); the stderr of its first run goes to $WORK/NAME.txt
sid_time() {
  rm -f "$SID_DIR/times.txt"
  cat >"$SID_DIR/run.sh" <<SIDRUN
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
SIDRUN
  bash "$repo/scripts/nix-sid.sh" run "bash '$SID_DIR/run.sh'" >&2
  cp "$SID_DIR/nix-first.txt" "$WORK/$1.txt"
  awk '{print $2 - $1}' "$SID_DIR/times.txt" > "$WORK/$1.times"
  stats "$WORK/$1.times"
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

# time_cmd NAME RUNS PREPARE COMMAND -> "median min max" seconds on stdout
time_cmd() {
  local name=$1 runs=$2 prepare=$3 cmd=$4
  if [ "$HAVE_HYPERFINE" = 1 ]; then
    hyperfine --style none --runs "$runs" --prepare "$prepare" --export-json "$WORK/$name.json" \
      "$cmd" > /dev/null 2> "$WORK/$name.hf.err" || { cat "$WORK/$name.hf.err" >&2; exit 1; }
    python3 -c "import json,sys; print('\n'.join(map(str, json.load(open(sys.argv[1]))['results'][0]['times'])))" \
      "$WORK/$name.json" > "$WORK/$name.times"
  else
    : > "$WORK/$name.times"
    local a b
    for _ in $(seq "$runs"); do
      bash -c "$prepare"
      a=$(date +%s.%N)
      bash -c "$cmd" > /dev/null 2>&1
      b=$(date +%s.%N)
      python3 -c "print($b-$a)" >> "$WORK/$name.times"
    done
  fi
  stats "$WORK/$name.times"
}

# peak_rss XDG -> "peak RSS in KiB, CPU seconds (user + system)" of one crossplan run
# with that cache directory
peak_rss() {
  # shellcheck disable=SC2046 # one argument per root
  XDG_CACHE_HOME=$1 /usr/bin/time -v "$CROSSPLAN" -v status --json --substituters "$SUBS" \
    --trusted-public-keys "$KEYS" --require-sigs true $(cat "$ROOTS") > "$1.json" 2> "$1.rss" || true
  local rss user sys
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$1.rss" | tail -1)
  user=$(sed -n 's/.*User time (seconds): //p' "$1.rss" | tail -1)
  sys=$(sed -n 's/.*System time (seconds): //p' "$1.rss" | tail -1)
  if [ -n "$user" ] && [ -n "$sys" ]; then
    echo "${rss:-0} $(python3 -c "print(f'{$user + $sys:.2f}')")"
  else
    echo "${rss:-0} -"
  fi
}

# servers_cpu -> CPU seconds (user + system) the running cache servers used so far
servers_cpu() {
  local total=0 p ticks
  for p in "${pids[@]}"; do
    ticks=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
    total=$((total + ticks))
  done
  python3 -c "print($total / $(getconf CLK_TCK))"
}

# round "median min max" -> the same to 2 decimals ("-" stays)
round() {
  python3 -c "import sys; print(' '.join(v if v == '-' else f'{float(v):.2f}' for v in sys.argv[1].split()))" "$1"
}

HAVE_H2LOAD=0
if [ "$FLOOR_RUNS" -gt 0 ] 2> /dev/null; then
  if command -v h2load > /dev/null; then
    HAVE_H2LOAD=1
  else
    echo "bench: h2load not found (Debian: nghttp2-client; scripts/setup.sh installs it): no HTTP floor" >&2
  fi
fi

# http_floor LOG JSON HI HI_DIR LO LO_DIR -> "median min max" seconds, then "h2load-CPU servers-CPU"
# (medians, seconds), for h2load to send the requests of the crossplan run
# whose `-v` log is LOG and answer JSON (see the header); "- - - - -" without
# h2load or the counts.
http_floor() {
  if [ "$HAVE_H2LOAD" = 0 ]; then echo "- - - - -"; return; fi
  local plan
  plan=$(python3 - "$@" "$WORK/floor" <<'PY'
import json, os, re, sys
log, answer, hi, hi_dir, lo, lo_dir, out = sys.argv[1:]
text = re.sub(r"\x1b\[[0-9;]*m", "", open(log).read())
def field(name, line_has):
    for line in text.splitlines():
        if line_has in line:
            m = re.search(rf"\b{name}=(\d+)", line)
            if m:
                return int(m.group(1))
    return None
requests, window, lookups = field("requests", "lookups done"), field("window", "lookups done"), field("lookups", "walked")
if None in (requests, window, lookups):
    sys.exit(0)
caches = json.load(open(answer))["caches"]
dirs = {hi: hi_dir, lo: lo_dir}
# Every lookup asks the first cache (priority order); those it lacks, the
# second (the bench injects no faults, so there are no retries). So the first
# found lookups - (requests - lookups); the second's hits are not logged, and
# the paths fetched from it stand in for them.
counts = [lookups, requests - lookups]
hits = [2 * lookups - requests] + [c["paths"] for c in caches[1:]]
for i, (cache, n, found) in enumerate(zip(caches, counts, hits)):
    if n <= 0 or cache["url"] not in dirs:
        continue
    names = sorted(f for f in os.listdir(dirs[cache["url"]]) if f.endswith(".narinfo"))
    found = max(0, min(found, n, len(names)))
    # h2load's clients each take the list from its start, so found and
    # missing files are spread evenly: every prefix has the run's share
    # (rounded up, so a client that sends one request finds its file).
    hits, misses = iter(names[:found]), (f"{k:032d}.narinfo" for k in range(n))
    up = lambda j: -(-j * found // n)
    uris = [next(hits) if up(j + 1) > up(j) else next(misses) for j in range(n)]
    with open(f"{out}.{i}", "w") as f:
        f.write("".join(f"{cache['url']}/{u}\n" for u in uris))
    # h2load wants at least one request per client
    share = min(n, max(1, round(window * n / max(requests, 1))))
    print(n, share, found, f"{out}.{i}")
PY
)
  if [ -z "$plan" ]; then echo "- - - - -"; return; fi
  : > "$WORK/floor.times"; : > "$WORK/floor.cpu"
  local run n c f a b before hcpu pidlist
  for run in $(seq "$FLOOR_RUNS"); do
    before=$(servers_cpu)
    rm -f "$WORK"/floor.*.h2cpu
    a=$(date +%s.%N)
    pidlist=()
    while read -r n c _ f; do
      /usr/bin/time -f "%U %S" -o "$f.h2cpu" h2load --h1 -n "$n" -c "$c" -i "$f" > "$f.out" 2>&1 &
      pidlist+=($!)
    done <<< "$plan"
    wait "${pidlist[@]}" || true  # judged by its output below
    b=$(date +%s.%N)
    while read -r n c found f; do
      # A missing file's 404 counts as "failed" in h2load's words; errors,
      # time-outs, 3xx and 5xx must not happen, and files meant to be found
      # must be (each client takes the list from its start, so the count of
      # 2xx is near `found`, not equal to it).
      local ok2xx
      ok2xx=$(sed -n 's/^status codes: \([0-9]*\) 2xx, 0 3xx, [0-9]* 4xx, 0 5xx$/\1/p' "$f.out")
      if ! grep -q "$n done, .* 0 errored, 0 timeout" "$f.out" || [ -z "$ok2xx" ] \
        || { [ "$found" -gt 0 ] && [ "$ok2xx" = 0 ]; }; then
        echo "bench: h2load failed ($f.out): $(grep -E 'requests:|status codes:' "$f.out" | tr '\n' ' ')$(tail -1 "$f.out")" >&2
        echo "- - - - -"; return
      fi
    done <<< "$plan"
    hcpu=$(awk '{s += $1 + $2} END {print s}' "$WORK"/floor.*.h2cpu)
    python3 -c "print($b - $a)" >> "$WORK/floor.times"
    echo "$hcpu $(python3 -c "print($(servers_cpu) - $before)")" >> "$WORK/floor.cpu"
  done
  echo "$(stats "$WORK/floor.times") $(python3 -c "
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
print(f'{statistics.median(r[0] for r in rows):.2f} {statistics.median(r[1] for r in rows):.2f}')" "$WORK/floor.cpu")"
}

results=$WORK/results.txt
: > "$results"

# bench_graph NODES DIR LATENCIES WITH_NIX WITH_SID NIX_RUNS: time one graph
# and append a row per latency to $results, fields separated by '|':
#   nodes, latency, Nix 2.8, Nix 2.34, cold, warm ("median min max" or "- - -"),
#   cold RSS KiB, warm RSS KiB, agreement, CPU seconds of one cold run (crossplan,
#   the two cache servers; the servers' is the mean over the timed cold runs)
bench_graph() {
  local nodes=$1 dir=$2 lats=$3 with_nix=$4 with_sid=$5 nix_runs=$6
  prepare_graph "$nodes" "$dir"
  KEYS=$(cat "$dir/keys.txt")
  ROOTS=$dir/roots.txt
  local hi_dir lo_dir nroots
  hi_dir=$(sed -n 1p "$dir/dirs.txt")
  lo_dir=$(sed -n 2p "$dir/dirs.txt")
  nroots=$(wc -l < "$ROOTS")
  if [ "$with_sid" = 1 ]; then sid_import "$dir"; fi
  local lat
  for lat in $lats; do
    local tag=$nodes-$lat
    start_server HI "$hi_dir" "$lat"
    start_server LO "$lo_dir" "$lat"
    SUBS="$LO $HI"
    echo "== $nodes derivations, latency $lat ms: hi=$HI lo=$LO, $nroots roots" >&2
    local nix_cmd cp_cmd warm_cmd agree cp_exit cmp_out
    nix_cmd="XDG_CACHE_HOME=$WORK/xdg-nix nix-store --realise --dry-run \$(cat $ROOTS) --option substituters '$SUBS' --option trusted-public-keys '$KEYS' --option require-sigs true"
    cp_cmd="XDG_CACHE_HOME=$WORK/xdg-cp $CROSSPLAN status --json --substituters '$SUBS' --trusted-public-keys '$KEYS' --require-sigs true \$(cat $ROOTS)"
    warm_cmd="XDG_CACHE_HOME=$WORK/xdg-warm $CROSSPLAN status --json --substituters '$SUBS' --trusted-public-keys '$KEYS' --require-sigs true \$(cat $ROOTS)"

    local nix_t="- - -" nix234_t="- - -"
    set +e
    bash -c "rm -rf $WORK/xdg-cp; $cp_cmd" > "$WORK/cp-$tag.json" 2> "$WORK/cp-$tag.err"
    cp_exit=$?
    set -e
    if [ "$cp_exit" != 0 ]; then
      agree="NO (crossplan exit $cp_exit: $(tail -1 "$WORK/cp-$tag.err"))"
    elif [ "$with_nix" = 1 ]; then
      # Nix 2.8, timed; every run writes its answer, the last one is compared.
      nix_t=$(time_cmd "nix28-$tag" "$nix_runs" "rm -rf $WORK/xdg-nix" "$nix_cmd 2> $WORK/nix28-$tag.txt")
      # The testkit's dry-run parser (the oracle tests' own) says whether they agree.
      if cmp_out=$("$bin/crossplan-drycompare" --nix "$WORK/nix28-$tag.txt" --crossplan "$WORK/cp-$tag.json" 2>&1); then
        agree="yes ($(printf '%s\n' "$cmp_out" | sed -n 's/^ *Nix: //p'))"
      else
        agree="NO: $(printf '%s\n' "$cmp_out" | grep -E '^ *- |drycompare' | head -3 | tr '\n' ' ')"
      fi
      if [ "$with_sid" = 1 ]; then
        nix234_t=$(sid_time "nix234-$tag" "$nix_runs")
        if ! cmp_out=$("$bin/crossplan-drycompare" --nix "$WORK/nix234-$tag.txt" --crossplan "$WORK/cp-$tag.json" 2>&1); then
          agree="$agree; with Nix $sid_version: NO: $(printf '%s\n' "$cmp_out" | grep -E '^ *- |drycompare' | head -2 | tr '\n' ' ')"
        else
          agree="$agree; Nix $sid_version agrees"
        fi
      fi
    else
      agree="(not compared)"
    fi
    echo "   answers agree: $agree" >&2

    local cold_t warm_t rss_cold rss_warm cpu_cold srv_before srv_cpu
    srv_before=$(servers_cpu)
    cold_t=$(time_cmd "cold-$tag" "$RUNS" "rm -rf $WORK/xdg-cp" "$cp_cmd")
    srv_cpu=$(python3 -c "print(f'{($(servers_cpu) - $srv_before) / $RUNS:.2f}')")
    rm -rf "$WORK/xdg-warm"
    bash -c "$warm_cmd" > /dev/null 2>&1 || true
    warm_t=$(time_cmd "warm-$tag" "$RUNS" "true" "$warm_cmd")
    rm -rf "$WORK/xdg-cp"
    read -r rss_cold cpu_cold <<< "$(peak_rss "$WORK/xdg-cp")"
    read -r rss_warm _ <<< "$(peak_rss "$WORK/xdg-warm")"
    local floor floor_t floor_cpu
    floor=$(http_floor "$WORK/xdg-cp.rss" "$WORK/xdg-cp.json" "$HI" "$hi_dir" "$LO" "$lo_dir")
    floor_t=$(echo "$floor" | cut -d' ' -f1-3)
    floor_cpu=$(echo "$floor" | cut -d' ' -f4-5)
    rm -rf "$WORK/xdg-cp" "$WORK/xdg-warm"
    echo "$nodes|$lat|$nix_t|$nix234_t|$cold_t|$warm_t|$rss_cold|$rss_warm|$cpu_cold $srv_cpu|$floor_t|$floor_cpu|$agree" >> "$results"
    echo "   median min max (s): nix 2.8 $(round "$nix_t"), nix 2.34 $(round "$nix234_t"), crossplan cold $(round "$cold_t"), warm $(round "$warm_t"), HTTP floor $(round "$floor_t"); RSS cold $rss_cold KiB, warm $rss_warm KiB; CPU s of a cold run: crossplan $cpu_cold, cache servers $srv_cpu; of the floor: h2load / servers $floor_cpu" >&2
    cleanup
  done
}

if [ -n "$SIZE" ]; then
  if [ "$NIX_BASE" = 0 ]; then
    bench_graph "$NODES" "$WORK" 20 0 0 "$NIX_RUNS"
  else
    bench_graph "$NODES" "$WORK" "$LATENCIES" 1 "$NIX_SID" "$NIX_RUNS"
  fi
  bench_graph "$SIZE" "$WORK_BIG" 20 1 "$NIX_SID_BIG" 1
else
  bench_graph "$NODES" "$WORK" "$LATENCIES" 1 "$NIX_SID" "$NIX_RUNS"
fi

python3 - "$results" "$NODES" "${SIZE:-0}" "$RUNS" "$NIX_RUNS" \
  "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(date -u '+%Y-%m-%d %H:%M UTC')" <<'PY'
import sys
# Goals (issue 12): cold at 20 ms <= 0.05 x Nix 2.34; cold at 0 ms <= 0.30 x
# Nix 2.8; warm <= 0.35 s with RSS <= 150 MiB; the SIZE graph cold at 20 ms
# <= 6 x the NODES graph's, RSS <= 600 MiB, agreeing with Nix.
path, base, size, runs, nix_runs, machine = sys.argv[1:]
base, size = int(base), int(size)
rows = [l.rstrip("\n").split("|", 11) for l in open(path) if l.strip()]
if not rows:
    print("bench: nothing was measured (is LATENCIES empty?)", file=sys.stderr)
    sys.exit(1)


def tri(s):
    v = s.split()
    return None if v[0] == "-" else tuple(map(float, v))


def fmt(t):
    return "-" if t is None else f"{t[0]:.2f} ({t[1]:.2f}–{t[2]:.2f})"


def ratio(a, b):
    return f"{a / b:.3f}" if a is not None and b else "-"


print(f"\ncrossplan status vs nix-store --realise --dry-run, cold narinfo caches; seconds, "
      f"median (min–max) of {runs} crossplan / {nix_runs} Nix runs"
      f"{f' (1 on the {size:,}-derivation graph)' if size else ''}; {machine}\n")
print("| derivations | latency | Nix 2.8 | Nix 2.34 | crossplan cold | crossplan warm "
      "| RSS MiB cold / warm | CPU s of a cold run: crossplan / cache servers "
      "| HTTP floor (h2load): s; CPU s h2load / servers "
      "| cold ÷ Nix 2.8 | cold ÷ Nix 2.34 | goals | agrees with Nix |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
ok = True
unmeasured = False
base_cold = {r[1]: tri(r[4])[0] for r in rows if int(r[0]) == base}
floors = []
for nodes, lat, n28, n234, cold, warm, rss_c, rss_w, cpu, floor, floor_cpu, agree in rows:
    cpu = " / ".join(cpu.split())
    n28, n234, cold, warm, floor = tri(n28), tri(n234), tri(cold), tri(warm), tri(floor)
    floor_cell = "-" if floor is None else f"{fmt(floor)}; {' / '.join(floor_cpu.split())}"
    rss_c, rss_w = int(rss_c or 0) / 1024, int(rss_w or 0) / 1024
    agree = agree.strip()
    goals = []
    if size and int(nodes) == size:
        b = base_cold.get(lat)
        if b:
            scale = cold[0] / b
            met = scale <= 6 and rss_c <= 600 and agree.startswith("yes") and "NO" not in agree
            goals.append(f"scale: {scale:.1f} × the {base:,} time (≤ 6), cold RSS {rss_c:.0f} MiB "
                         f"(≤ 600): {'met' if met else 'NOT met'}")
        else:
            met = False
            goals.append("scale: no base time")
    else:
        met = True
        if int(lat) >= 20:
            if n234:
                m = cold[0] / n234[0] <= 0.05
                goals.append(f"≤ 0.05 × Nix 2.34: {'met' if m else 'NOT met'}")
                met &= m
                if floor is not None and floor[0] > 0.05 * n234[0]:
                    floors.append(f"{int(nodes):,} derivations at {lat} ms: sending the cold run's requests "
                                  f"with its window and nothing else (h2load) took {floor[0]:.2f} s, "
                                  f"{floor[0] / n234[0]:.3f} × Nix 2.34: above the goal of 0.05 × "
                                  f"({0.05 * n234[0]:.2f} s) before any other work")
            elif not size:
                goals.append("≤ 0.05 × Nix 2.34: not measured (NIX_SID=0)")
                unmeasured = True
        elif n28:
            m = cold[0] / n28[0] <= 0.30
            goals.append(f"≤ 0.30 × Nix 2.8: {'met' if m else 'NOT met'}")
            met &= m
        w = warm[0] <= 0.35 and rss_w <= 150
        goals.append(f"warm ≤ 0.35 s and ≤ 150 MiB: {'met' if w else 'NOT met'}")
        met &= w
    compared = not agree.startswith("(")
    ok &= met and (not compared or (agree.startswith("yes") and "NO" not in agree))
    print(f"| {int(nodes):,} | {lat} ms | {fmt(n28)} | {fmt(n234)} | {fmt(cold)} | {fmt(warm)} | "
          f"{rss_c:.0f} / {rss_w:.0f} | {cpu} | {floor_cell} | {ratio(cold[0], n28 and n28[0])} | "
          f"{ratio(cold[0], n234 and n234[0])} | {'; '.join(goals)} | {agree} |")
for line in floors:
    print(f"\n{line}")
if not ok:
    print("\nSOME GOALS NOT MET")
elif unmeasured:
    print("\nthe goals measured are met; some were not measured")
else:
    print("\nall goals met")
PY
echo "(work dir: $WORK)" >&2
