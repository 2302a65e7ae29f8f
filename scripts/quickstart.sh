#!/usr/bin/env bash
# The quick start: install what cupcross needs, build crossplan, and run it on
# a real example.
#
# Offline (always): a generated graph of derivations, instantiated by Nix, a
# part of it built locally, and two binary caches of signed narinfo records
# served on 127.0.0.1 with crossplan-cachesrv. crossplan answers "what would a
# build of these roots fetch and build?", and Nix's own dry run answers the
# same question against the same caches, so you can compare the two.
# Online (QUICKSTART_ONLINE=1): also `crossplan status nixpkgs#hello` against
# cache.nixos.org.
#
#   bash scripts/quickstart.sh                 # NODES=2000 by default
#   NODES=500 QUICKSTART_SKIP_SETUP=1 bash scripts/quickstart.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH="/usr/local/bin:$HOME/.cargo/bin:$PATH"
NODES=${NODES:-2000}
SEED=${SEED:-1}

if [ "${QUICKSTART_SKIP_SETUP:-0}" != 1 ]; then
  bash scripts/setup.sh
fi

echo "== building crossplan (release)"
cargo build --release --locked -q -p crossplan -p crossplan-testkit --bins
bin=${CARGO_TARGET_DIR:-$here/target}/release

work=$(mktemp -d /tmp/cupcross-quickstart.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== generating a graph of $NODES derivations and two signed caches in $work"
"$bin/crossplan-gengraph" --dir "$work/fx" --nodes "$NODES" --seed "$SEED" --cached 0.35 >/dev/null
fx=$work/fx/fixture.json
python3 -c 'import json,sys; print("   " + json.load(open(sys.argv[1]))["summary"])' "$fx"

serve() { # serve DIR → prints the URL
  local log=$work/srv-$RANDOM.log
  "$bin/crossplan-cachesrv" --dir "$1" --latency-ms 5 >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$log"; then
      sed -n 's/^listening on //p' "$log" | head -n1
      return 0
    fi
    sleep 0.05
  done
  echo "quickstart: crossplan-cachesrv did not start; its log:" >&2
  cat "$log" >&2
  return 1
}
hi_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hi_dir"])' "$fx")
lo_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lo_dir"])' "$fx")
keys=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trusted_public_keys"])' "$fx")
mapfile -t roots < <(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["roots"]))' "$fx")
hi_url=$(serve "$hi_dir")
lo_url=$(serve "$lo_dir")
subs="$lo_url $hi_url"
echo "   caches: $hi_url (priority 30), $lo_url (priority 50)"

echo
echo "== crossplan status (${#roots[@]} roots)"
XDG_CACHE_HOME=$work/xdg "$bin/crossplan" status --substituters "$subs" \
  --trusted-public-keys "$keys" "${roots[@]}"
XDG_CACHE_HOME=$work/xdg "$bin/crossplan" status --json --substituters "$subs" \
  --trusted-public-keys "$keys" "${roots[@]}" >"$work/crossplan.json"

echo
echo "== the same question to Nix: nix-store --realise --dry-run"
nix_roots=("${roots[@]//^/!}")
t0=$(date +%s.%N)
XDG_CACHE_HOME=$work/xdg-nix nix-store --realise --dry-run "${nix_roots[@]}" \
  --option substituters "$subs" --option trusted-public-keys "$keys" 2>"$work/nix.txt" || {
  echo "quickstart: nix-store --realise --dry-run failed:" >&2
  cat "$work/nix.txt" >&2
  exit 1
}
t1=$(date +%s.%N)
# The testkit's dry-run parser, the one the oracle tests use.
"$bin/crossplan-drycompare" --nix "$work/nix.txt" --crossplan "$work/crossplan.json" \
  --seconds "$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$t1")"

if [ "${QUICKSTART_ONLINE:-0}" = 1 ]; then
  echo
  echo "== online: crossplan status nixpkgs#hello (cache.nixos.org)"
  "$bin/crossplan" status 'nixpkgs#hello'
fi

echo
echo "next: '$bin/crossplan --help', and 'bash scripts/test.sh' for the tests"
