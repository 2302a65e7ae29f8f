#!/usr/bin/env bash
# The flake's tests that need neither nixpkgs nor the network, run with the
# Nix CI has (Debian's 2.8, single user, no sandbox):
#   - every .nix file parses
#   - nix/lib's tests (nix/tests/lib.nix), standalone and through the flake
#   - `nix eval .#lib.targets` works offline and is nix/targets.json
#   - each bad strategy.json throws, naming the file and the target
#   - nix/hybrid.json reads (lib.hybrid); each bad hybrid file throws,
#     naming the file and the entry; swapOverlay's errors name the path, and
#     so do hybridSpecs.<key>.hybrid's
#   - flake.lock holds exactly the pinned nodes, and Nix accepts it
#   - output names: variants that cannot exist are absent; modules, overlays,
#     boards are there
#   - nix/targets.json is the only copy of the target table
#   - every NixOS module under nixpkgs' own lib.evalModules, the gcc
#     variants against lib.systems, and legacyPackages.*.hybridSpecs (what
#     crossplan hybrid evaluates) over the flake's board configurations
#     (nix/tests/{modules,systems,hybrid-specs}-eval.nix; need
#     NIXPKGS_LIB=<nixpkgs.lib>/lib, skipped without it)
#   - which gcc variants each build host gets
#   - nix/lib gives the same values under two Nix versions (LIB_SNAPSHOT_TO
#     under one, LIB_SNAPSHOT_FROM under the other; skipped otherwise)
# Ends with "N passed, M failed"; exits non-zero on any failure.
#
#   bash scripts/setup-nix.sh && bash scripts/nix-test.sh
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
export NIX_CONFIG="experimental-features = nix-command flakes
warn-dirty = false"
NIX=(nix --offline)

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "ok   - $*"; }
fail() { failed=$((failed + 1)); echo "FAIL - $*"; }
skip() { skipped=$((skipped + 1)); echo "skip - $*"; }

# The files a commit would hold (tracked, plus new files not ignored), copied
# to a scratch flake: a `path:` flake of the work tree would copy target/.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FLAKE=$WORK/flake
mkdir -p "$FLAKE"
files() { git ls-files --cached --others --exclude-standard | while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done; }
files | tar -cf - -T - | tar -xf - -C "$FLAKE"
REF="path:$FLAKE"

# --- 1. every .nix file parses -------------------------------------------
nixfiles=$(files | grep '\.nix$' || true)
bad=0
for f in $nixfiles; do
  if ! nix-instantiate --parse "$f" >/dev/null 2>"$WORK/parse.err"; then
    bad=1
    fail "parse $f: $(head -c 400 "$WORK/parse.err")"
  fi
done
[ $bad -eq 0 ] && pass "all $(echo "$nixfiles" | wc -w) .nix files parse"

# --- 2. lib tests -----------------------------------------------------------
run_lib_tests() { # label, nix expression giving { count; failures; }
  local label=$1 expr=$2 out count nfail
  if ! out=$("${NIX[@]}" eval --json --impure --expr "$expr" --apply 'r: { inherit (r) count failures; }' 2>"$WORK/lib.err"); then
    fail "$label: evaluation failed: $(head -c 600 "$WORK/lib.err")"
    return
  fi
  count=$(nix-instantiate --eval --expr "(builtins.fromJSON ''$out'').count" 2>/dev/null)
  nfail=$(nix-instantiate --eval --expr "builtins.length (builtins.fromJSON ''$out'').failures" 2>/dev/null)
  passed=$((passed + count - nfail))
  failed=$((failed + nfail))
  if [ "$nfail" -eq 0 ]; then
    echo "ok   - $label: $count tests"
  else
    echo "FAIL - $label: $nfail of $count failed:"
    echo "$out"
  fi
}
run_lib_tests "nix/tests/lib.nix (standalone)" "import $FLAKE/nix/tests/lib.nix { }"
run_lib_tests "nix/tests/lib.nix (flake lib)" \
  "import $FLAKE/nix/tests/lib.nix { cupcrossLib = (builtins.getFlake \"$REF\").lib; }"

# --- 3. nix eval .#lib.targets offline ------------------------------------
if out=$("${NIX[@]}" eval --json "$REF#lib.targets" 2>"$WORK/eval.err"); then
  printf '%s' "$out" >"$WORK/targets.out.json"
  if [ "$(nix-instantiate --eval --expr "builtins.fromJSON (builtins.readFile $WORK/targets.out.json) == builtins.fromJSON (builtins.readFile $FLAKE/nix/targets.json)")" = true ]; then
    pass "nix eval .#lib.targets (offline) equals nix/targets.json"
  else
    fail "nix eval .#lib.targets differs from nix/targets.json"
  fi
else
  fail "nix eval .#lib.targets offline: $(head -c 600 "$WORK/eval.err")"
fi
if "${NIX[@]}" eval --json "$REF#lib.strategies" >/dev/null 2>"$WORK/eval.err"; then
  pass "nix eval .#lib.strategies (the shipped nix/strategy.json) resolves"
else
  fail "nix eval .#lib.strategies: $(head -c 600 "$WORK/eval.err")"
fi

# --- 4. bad strategy.json files throw, naming file and target --------------
expect_throw() { # sample file, words the message must contain...
  local sample=$1
  shift
  local path=$FLAKE/nix/tests/strategy/$sample
  if "${NIX[@]}" eval --json --impure --expr \
    "((builtins.getFlake \"$REF\").lib.withFiles { strategyFile = $path; }).strategies" \
    >/dev/null 2>"$WORK/throw.err"; then
    fail "strategy $sample: expected an error, evaluation succeeded"
    return
  fi
  local w
  for w in "$sample" "$@"; do
    if ! grep -qF -- "$w" "$WORK/throw.err"; then
      fail "strategy $sample: error does not mention '$w': $(grep -m1 error "$WORK/throw.err")"
      return
    fi
  done
  pass "strategy $sample throws: $(grep -m1 -o 'error: .*' "$WORK/throw.err" | cut -c1-140)"
}
expect_throw bad-version.json "unsupported version 2"
expect_throw no-version.json "unsupported version null"
expect_throw unknown-strategy.json "targets.riscv64" '"teleport"'
expect_throw unavailable-strategy.json "targets.windows" '"emulated"' "not available"
expect_throw unknown-target.json "targets.sparc64" "unknown target"
expect_throw missing-strategy.json "targets.aarch64" 'missing "strategy"'
expect_throw bad-targets.json '"targets" must be an object'
out=$("${NIX[@]}" eval --raw --impure --expr \
  "((builtins.getFlake \"$REF\").lib.withFiles { strategyFile = $FLAKE/nix/tests/strategy/absent.json; }).strategies.riscv64.strategy" 2>&1)
[ "$out" = cross ] && pass "missing strategy.json: riscv64 falls back to cross" || fail "missing strategy.json: got '$out'"

# --- 4b. nix/hybrid.json and swapOverlay ----------------------------------
if out=$("${NIX[@]}" eval --json --impure --expr \
  "let l = (builtins.getFlake \"$REF\").lib; in l.hybrid == builtins.fromJSON (builtins.readFile $FLAKE/nix/hybrid.json)
     && l.hybridSwapsFor \"visionfive2\" == [ \"linuxPackages.kernel\" ] && l.hybridSwapsFor \"raspberrypi4\" == [ \"linuxPackages.kernel\" ]" \
  2>"$WORK/eval.err") && [ "$out" = true ]; then
  pass "nix eval .#lib.hybrid is the shipped nix/hybrid.json (both boards swap linuxPackages.kernel)"
else
  fail "nix eval .#lib.hybrid: ${out:-} $(head -c 600 "$WORK/eval.err")"
fi
# Each error case of nix/tests/lib.nix: `attr` names an attribute set of
# cases; `value` forces one, `mentions` lists strings its message must hold.
expect_messages() { # label, attribute of lib.nix's result, nix expression forcing case $n[, "named"]
  local label=$1 attr=$2 force=$3 named=${4:-} n w missing names
  local lib="(import $FLAKE/nix/tests/lib.nix { cupcrossLib = (builtins.getFlake \"$REF\").lib; })"
  if ! names=$("${NIX[@]}" eval --raw --impure --expr "builtins.concatStringsSep \" \" (builtins.attrNames $lib.$attr)" 2>"$WORK/msg.err"); then
    fail "$label: $(head -c 400 "$WORK/msg.err")"
    return
  fi
  [ -n "$names" ] || fail "$label: no cases found"
  for n in $names; do
    if "${NIX[@]}" eval --json --impure --expr "let lib = $lib; n = \"$n\"; in $force" >/dev/null 2>"$WORK/msg.err"; then
      fail "$label $n: expected an error, evaluation succeeded"
      continue
    fi
    missing=""
    [ -n "$named" ] && ! grep -qF -- "$n" "$WORK/msg.err" && missing=" [$n]"
    while IFS= read -r w; do
      grep -qF -- "$w" "$WORK/msg.err" || missing="$missing [$w]"
    done < <("${NIX[@]}" eval --raw --impure --expr "let lib = $lib; n = \"$n\"; in builtins.concatStringsSep \"\n\" (lib.$attr.\${n}.mentions or lib.$attr.\${n})")
    if [ -n "$missing" ]; then
      fail "$label $n: error does not mention$missing: $(grep -m1 'error' "$WORK/msg.err")"
    else
      pass "$label $n throws: $(grep -m1 -o 'error: .*' "$WORK/msg.err" | cut -c1-150)"
    fi
  done
}
expect_messages "swapOverlay" swapErrors 'builtins.deepSeq lib.swapErrors.${n}.value null'
expect_messages "hybridSpecs" specErrors 'builtins.deepSeq lib.specErrors.${n}.value null'
expect_messages "hybrid file" hybridErrors \
  'builtins.deepSeq ((builtins.getFlake "'"$REF"'").lib.readHybridFile ('"$FLAKE"'/nix/tests/hybrid + "/${n}")) null' named

# --- 5. flake.lock holds exactly the pins ----------------------------------
cat >"$WORK/lock-test.nix" <<'NIX'
lockFile:
let
  lock = builtins.fromJSON (builtins.readFile lockFile);
  gh = owner: repo: rev: lastModified: narHash: {
    locked = { type = "github"; inherit owner repo rev lastModified narHash; };
  };
  # design.md §7 / nix-facts.md §8 (crane test/flake.lock @ 2c71e194).
  expected = {
    nixpkgs = gh "NixOS" "nixpkgs" "531670d871c0e29724a02f3cbcac170adc65b58c" 1785734586 "sha256-ODZkEK9Gy50yg6h98u7KkitZ3oc/uuTFK00bh1CRdNA=";
    crane = gh "ipetkov" "crane" "b8d87f76ea4e4b6f30f2e6eaf3fbb60ff7d87167" 1785631643 "sha256-H++/2dMt+5+tErKU+t5z6c4Xedvj9w+UPQYrpygwIPw=";
    fenix = gh "nix-community" "fenix" "1635a532f6778304adfac2044c82992ece8a99d8" 1785750890 "sha256-hax+Dgq9/KtG0NPXEcyNIfKIJhzCfQVVIf6Ynu8bCRM=";
    rust-analyzer-src = gh "rust-lang" "rust-analyzer" "b54a82b321c9617c5cf0b07ac0f12c08f7bc5902" 1785701467 "sha256-+HtsUgRhJR1pYz8lhKK4ChfBmZTjwcTmiq0mWBcvrfo=";
    advisory-db = gh "rustsec" "advisory-db" "d91a8fc9492378f23cba86b81770c6d16de6ebba" 1785693380 "sha256-drCgheG8xP1Swm4pdmlPjVNtSfxWmM/MCvrMl9YARnE=";
  };
  n = lock.nodes;
  checks = {
    "version 7" = lock.version == 7;
    "root is root" = lock.root == "root";
    "exactly the pinned nodes" =
      builtins.attrNames n == builtins.sort builtins.lessThan ([ "root" ] ++ builtins.attrNames expected);
    "root inputs" = n.root.inputs == { nixpkgs = "nixpkgs"; crane = "crane"; fenix = "fenix"; advisory-db = "advisory-db"; };
    "fenix follows our nixpkgs" = n.fenix.inputs == { nixpkgs = [ "nixpkgs" ]; rust-analyzer-src = "rust-analyzer-src"; };
    "advisory-db is flake = false" = (n.advisory-db.flake or true) == false;
    "rust-analyzer-src is flake = false" = (n.rust-analyzer-src.flake or true) == false;
    "nixpkgs follows nixos-26.05" = n.nixpkgs.original.ref or null == "nixos-26.05";
    "rust-analyzer-src follows nightly" = n.rust-analyzer-src.original.ref or null == "nightly";
  } // builtins.mapAttrs (name: e: n.${name}.locked or null == e.locked) expected;
in
builtins.attrNames (builtins.removeAttrs checks (builtins.filter (k: checks.${k}) (builtins.attrNames checks)))
NIX
if out=$(nix-instantiate --eval --strict --json --expr "import $WORK/lock-test.nix $FLAKE/flake.lock" 2>&1); then
  if [ "$out" = "[]" ]; then pass "flake.lock holds exactly the pinned revisions and narHashes"; else fail "flake.lock: failed checks $out"; fi
else
  fail "flake.lock test: $out"
fi
cp "$FLAKE/flake.lock" "$WORK/flake.lock.before"
if "${NIX[@]}" flake metadata --no-write-lock-file "$REF" >"$WORK/meta.out" 2>&1 && cmp -s "$FLAKE/flake.lock" "$WORK/flake.lock.before"; then
  pass "Nix $(nix --version | awk '{print $3}') accepts flake.lock as it is (nix flake metadata --offline)"
else
  fail "nix flake metadata: $(head -c 600 "$WORK/meta.out")"
fi

# --- 6. output names (listed without fetching nixpkgs) ---------------------
names() { "${NIX[@]}" eval --json "$REF#$1" --apply builtins.attrNames 2>"$WORK/names.err"; }
has_names() { # label, output, expression over `n` (list of names) that must be true
  local label=$1 out
  if ! out=$(names "$2"); then
    fail "$label: $(head -c 400 "$WORK/names.err")"
    return
  fi
  if [ "$(nix-instantiate --eval --expr "let n = builtins.fromJSON ''$out''; in $3" 2>&1)" = true ]; then
    pass "$label"
  else
    fail "$label: names were $out"
  fi
}
for sys in x86_64-linux aarch64-linux; do
  out=$("${NIX[@]}" eval --json --impure --expr "let f = builtins.getFlake \"$REF\"; in
    builtins.sort builtins.lessThan (builtins.concatLists (builtins.attrValues f.lib.variantNames))
    == builtins.filter (n: builtins.match \"cup-.*\" n != null && builtins.match \".*-gcc[0-9]+\" n == null)
         (builtins.attrNames f.packages.$sys)" 2>&1)
  [ "$out" = true ] && pass "packages.$sys: cup-<t>[-variant] are exactly lib.variantNames" || fail "packages.$sys variants: $out"
done
has_names "no emulated windows, no cross darwin" packages.x86_64-linux \
  '!(builtins.elem "cup-windows-emulated" n) && !(builtins.elem "cup-darwin-cross" n) && builtins.elem "cup-darwin-purego" n && builtins.elem "cup-riscv64-cross-gcc14" n'
has_names "packages: cup, crossplan, default" packages.aarch64-linux \
  'builtins.all (x: builtins.elem x n) [ "cup" "crossplan" "default" "cup-riscv64" ]'
has_names "legacyPackages: cross, emulated, hybrid, gcc<N>" legacyPackages.x86_64-linux \
  'builtins.all (x: builtins.elem x n) [ "cross" "emulated" "hybrid" "gcc14" ]'
for sys in x86_64-linux aarch64-linux; do
  has_names "legacyPackages.$sys.hybrid: every target with a native system and a pkgsCross attr" \
    legacyPackages.$sys.hybrid \
    'let t = builtins.fromJSON (builtins.readFile '"$FLAKE"'/nix/targets.json); in
     n == builtins.filter (x: t.${x}.system != null && t.${x}.pkgsCross != null) (builtins.attrNames t)
     && builtins.elem "riscv64" n && !(builtins.elem "windows" n) && !(builtins.elem "darwin" n)'
done
for sys in x86_64-linux aarch64-linux; do
  has_names "legacyPackages.$sys.hybridSpecs: the boards and the hybrid targets (crossplan hybrid's keys)" \
    legacyPackages.$sys.hybridSpecs \
    'let t = builtins.fromJSON (builtins.readFile '"$FLAKE"'/nix/targets.json);
         b = builtins.attrNames (import '"$FLAKE"'/nix/lib { }).boards; in
     n == builtins.sort builtins.lessThan (b ++ builtins.filter (x: t.${x}.system != null && t.${x}.pkgsCross != null) (builtins.attrNames t))
     && builtins.elem "visionfive2" n && builtins.elem "raspberrypi4" n && builtins.elem "riscv64" n && !(builtins.elem "windows" n)'
done
# legacyPackages.*.hybridSpecs.<board>.native/cross.linuxPackages are the
# configuration's boot.kernelPackages, which a board would change by setting
# it (nix/hybrid-specs.nix): then its candidate is another attribute path.
if grep -ln 'kernelPackages' nix/boards/*.nix >"$WORK/kp.out"; then
  fail "nix/boards sets boot.kernelPackages ($(tr '\n' ' ' <"$WORK/kp.out")): nix/hybrid-specs.nix assumes pkgs.linuxPackages; adapt its candidates and swaps"
else
  pass "no board sets boot.kernelPackages (hybridSpecs' default candidate linuxPackages.kernel is the board's kernel)"
fi
has_names "nixosModules: default, binfmt, cup, builder, hybrid" nixosModules \
  'n == [ "binfmt" "builder" "cup" "default" "hybrid" ]'
has_names "overlays: default and gcc" overlays 'builtins.elem "default" n && builtins.elem "gcc14" n'
has_names "nixosConfigurations: boards, cross, emulated and hybrid" nixosConfigurations \
  'n == [ "raspberrypi4-cross" "raspberrypi4-emulated" "raspberrypi4-hybrid" "visionfive2-cross" "visionfive2-emulated" "visionfive2-hybrid" ]'

# --- 7. nix/targets.json is the only copy of the table ---------------------
# A file that names most pkgsCross attributes of the table hard-codes it.
# Markdown (docs, design notes) and the test fixtures are exempt.
attrs=$(nix-instantiate --eval --json --expr \
  "builtins.filter (x: x != null) (map (t: t.pkgsCross) (builtins.attrValues (builtins.fromJSON (builtins.readFile ./nix/targets.json))))" |
  tr -d '[]"' | tr ',' ' ')
copies=()
while read -r f; do
  case "$f" in nix/targets.json | *.md | nix/tests/* | Cargo.lock) continue ;; esac
  [ -f "$f" ] || continue
  hits=0
  for a in $attrs; do grep -qF -- "\"$a\"" "$f" && hits=$((hits + 1)); done
  [ $hits -ge 4 ] && copies+=("$f ($hits)")
done < <(files)
if [ ${#copies[@]} -eq 0 ]; then
  pass "no file besides nix/targets.json hard-codes the target table"
else
  fail "target table copied in: ${copies[*]}"
fi
for reader in scripts/cross-matrix.sh; do
  if [ -f "$reader" ]; then
    grep -q 'targets.json' "$reader" && pass "$reader reads nix/targets.json" || fail "$reader does not read nix/targets.json"
  else
    skip "$reader not written yet"
  fi
done
rust_files=$(files | grep '^crates/.*\.rs$' || true)
if [ -n "$rust_files" ]; then
  # shellcheck disable=SC2086
  if grep -l 'targets.json' $rust_files >/dev/null 2>&1; then
    pass "crossplan reads nix/targets.json"
  else
    skip "crossplan does not read nix/targets.json yet"
  fi
fi

# --- 8. nixpkgs-facing logic under nixpkgs' own lib ------------------------
# nix/tests/modules-eval.nix evaluates each of nixosModules with the real
# nixpkgs lib (lib.evalModules); nix/tests/systems-eval.nix checks the gcc
# variants against lib.systems; nix/tests/hybrid-specs-eval.nix evaluates
# legacyPackages.*.hybridSpecs over nixosConfigurations made by
# nix/nixos-configurations.nix with a stand-in lib.nixosSystem. CI cannot fetch nixpkgs: point NIXPKGS_LIB at
# the lib/ directory of nix-community/nixpkgs.lib. Without it these are
# skipped, never passed. Uses only nix-instantiate --eval --strict --json
# with -A/--arg, which every Nix from 2.8 on has.
nixpkgs_lib_test() { # label, test file under nix/tests
  local label=$1 test=$FLAKE/nix/tests/$2
  if [ -z "${NIXPKGS_LIB:-}" ]; then
    skip "$label: NIXPKGS_LIB not set"
    return
  fi
  case "$NIXPKGS_LIB" in
  /*) ;;
  *)
    fail "$label: NIXPKGS_LIB=$NIXPKGS_LIB is not an absolute path"
    return
    ;;
  esac
  if [ ! -f "$NIXPKGS_LIB/modules.nix" ] || [ ! -f "$NIXPKGS_LIB/default.nix" ]; then
    fail "$label: NIXPKGS_LIB=$NIXPKGS_LIB is not nixpkgs' lib/ directory (no modules.nix); point it at <nixpkgs.lib>/lib"
    return
  fi
  local args=(--eval --strict --json "$test" --arg lib "import $NIXPKGS_LIB")
  local version count failures nfail names n w missing
  version=$(nix-instantiate --eval --expr "(import $NIXPKGS_LIB).version or \"unknown\"" 2>/dev/null | tr -d '"')
  if ! count=$(nix-instantiate "${args[@]}" -A count 2>"$WORK/nixpkgs-lib.err") ||
    ! failures=$(nix-instantiate "${args[@]}" -A failures 2>"$WORK/nixpkgs-lib.err"); then
    fail "$label: evaluation failed: $(head -c 800 "$WORK/nixpkgs-lib.err")"
    return
  fi
  nfail=$(nix-instantiate --eval --expr "builtins.length (builtins.fromJSON ''$failures'')")
  passed=$((passed + count - nfail))
  failed=$((failed + nfail))
  if [ "$nfail" -eq 0 ]; then
    echo "ok   - $label: $count tests with nixpkgs lib $version"
  else
    echo "FAIL - $label: $nfail of $count failed (nixpkgs lib $version):"
    echo "$failures"
  fi
  # Bad values: each must stop evaluation with a message naming the option
  # (or output) and the value.
  names=$(nix-instantiate "${args[@]}" -A errorNames 2>/dev/null | tr -d '[]"' | tr ',' ' ')
  [ -n "$names" ] || fail "$label: no error cases found"
  for n in $names; do
    if nix-instantiate "${args[@]}" -A "errors.$n.value" >/dev/null 2>"$WORK/nixpkgs-lib.err"; then
      fail "$label: $n: expected an error, evaluation succeeded"
      continue
    fi
    missing=""
    for w in $(nix-instantiate "${args[@]}" -A "errors.$n.mentions" | tr -d '[]"' | tr ',' ' '); do
      grep -qF -- "$w" "$WORK/nixpkgs-lib.err" || missing="$missing $w"
    done
    if [ -n "$missing" ]; then
      fail "$label: $n: error does not mention$missing: $(grep -m1 'error' "$WORK/nixpkgs-lib.err")"
    else
      pass "$label: $n fails: $(grep -m1 -o 'error: .*' "$WORK/nixpkgs-lib.err" | cut -c1-150)"
    fi
  done
}
nixpkgs_lib_test modules-eval modules-eval.nix
nixpkgs_lib_test systems-eval systems-eval.nix
nixpkgs_lib_test hybrid-specs-eval hybrid-specs-eval.nix

# The gcc variants each build host gets (names only, no nixpkgs needed): cup
# in every gcc version on both hosts; no gccN set for a target whose
# pkgsCross set is native on the host (aarch64 on aarch64-linux).
gcc_names() {
  local out
  out=$("${NIX[@]}" eval --json --impure --expr "let f = builtins.getFlake \"$REF\"; in {
      armSets = builtins.attrNames f.legacyPackages.aarch64-linux.gcc13.cross;
      x86Sets = builtins.attrNames f.legacyPackages.x86_64-linux.gcc13.cross;
      armCup = builtins.filter (n: builtins.match \"cup-aarch64-cross-gcc[0-9]+\" n != null) (builtins.attrNames f.packages.aarch64-linux);
    }" 2>"$WORK/gcc.err") || {
    fail "gcc variant names: $(head -c 400 "$WORK/gcc.err")"
    return
  }
  if [ "$(nix-instantiate --eval --expr "let o = builtins.fromJSON ''$out''; in
      !(builtins.elem \"aarch64\" o.armSets) && builtins.elem \"riscv64\" o.armSets
      && builtins.elem \"aarch64\" o.x86Sets
      && o.armCup == [ \"cup-aarch64-cross-gcc13\" \"cup-aarch64-cross-gcc14\" \"cup-aarch64-cross-gcc15\" ]")" = true ]; then
    pass "gcc variants: cup-aarch64-cross-gcc13/14/15 on aarch64-linux; no legacyPackages gccN set for a target native on the host"
  else
    fail "gcc variant names: $out"
  fi
}
gcc_names

# nix/lib under two Nix versions: the values of nix/tests/lib-snapshot.nix
# (every function of nix/lib over every input the repository has). Run this
# script under one Nix with LIB_SNAPSHOT_TO=<file>, then under the other with
# LIB_SNAPSHOT_FROM=<that file>; without LIB_SNAPSHOT_FROM it is skipped.
lib_snapshot() {
  local label="lib-snapshot" v
  v=$(nix --version | awk '{print $3}')
  if ! nix-instantiate --eval --strict --json "$FLAKE/nix/tests/lib-snapshot.nix" >"$WORK/snapshot.json" 2>"$WORK/snapshot.err"; then
    fail "$label: evaluation under Nix $v failed: $(head -c 400 "$WORK/snapshot.err")"
    return
  fi
  if [ -n "${LIB_SNAPSHOT_TO:-}" ]; then
    cp "$WORK/snapshot.json" "$LIB_SNAPSHOT_TO" && echo "     $label: wrote nix/lib's values under Nix $v to $LIB_SNAPSHOT_TO"
  fi
  if [ -z "${LIB_SNAPSHOT_FROM:-}" ]; then
    skip "$label: LIB_SNAPSHOT_FROM not set (nothing from another Nix to compare with)"
    return
  fi
  if [ ! -r "$LIB_SNAPSHOT_FROM" ]; then
    fail "$label: LIB_SNAPSHOT_FROM=$LIB_SNAPSHOT_FROM is not readable; write it with LIB_SNAPSHOT_TO under the other Nix"
    return
  fi
  if [ "$(nix-instantiate --eval --expr "builtins.fromJSON (builtins.readFile $LIB_SNAPSHOT_FROM) == builtins.fromJSON (builtins.readFile $WORK/snapshot.json)" 2>&1)" = true ]; then
    pass "$label: nix/lib gives Nix $v the same values as $LIB_SNAPSHOT_FROM"
  else
    cp "$WORK/snapshot.json" "${LIB_SNAPSHOT_FROM}.nix-$v"
    fail "$label: nix/lib's values under Nix $v differ from $LIB_SNAPSHOT_FROM (this Nix's values: ${LIB_SNAPSHOT_FROM}.nix-$v)"
  fi
}
lib_snapshot

echo
echo "${passed} passed, ${failed} failed, ${skipped} skipped"
[ "$failed" -eq 0 ]
