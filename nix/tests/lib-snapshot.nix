# Everything nix/lib computes, over every input the repository gives it, as
# one value: the target table, strategies (shipped file and every sample),
# variant names, Go env, local systems, binfmt systems and native cross sets
# for several hosts, cup's version, boards, the hybrid file (shipped and
# samples), the cross target of every target's platform, and which samples
# throw.
#
# To prove two Nix versions (2.8 on CI, 2.34 in the Debian sid chroot) give
# nix/lib the same values, run scripts/nix-test.sh under the first with
# LIB_SNAPSHOT_TO=<file> and under the second with LIB_SNAPSHOT_FROM=<file>:
# the second compares its own value with the first's. By hand:
#
#   nix-instantiate --eval --strict --json nix/tests/lib-snapshot.nix > a.json   # Nix A
#   nix-instantiate --eval --strict --json nix/tests/lib-snapshot.nix > b.json   # Nix B
#   nix-instantiate --eval --expr "builtins.fromJSON (builtins.readFile ./a.json) == builtins.fromJSON (builtins.readFile ./b.json)"
let
  lib = import ../lib { };
  names = builtins.attrNames lib.targets;
  hosts = [
    "x86_64-linux"
    "aarch64-linux"
    "riscv64-linux"
  ];
  perHost = f: builtins.listToAttrs (map (h: { name = h; value = f h; }) hosts);
  samples = [
    "absent.json"
    "bad-targets.json"
    "bad-version.json"
    "missing-strategy.json"
    "no-version.json"
    "unavailable-strategy.json"
    "unknown-strategy.json"
    "unknown-target.json"
    "valid.json"
  ];
  hybridSamples = builtins.attrNames (builtins.readDir ./hybrid) ++ [ "absent.json" ];
  readHybrid =
    f:
    let
      v = lib.readHybridFile (./hybrid + "/${f}");
      r = builtins.tryEval (builtins.deepSeq v v);
    in
    if r.success then r.value else "throws";
  resolve =
    f:
    let
      r = builtins.tryEval (
        builtins.deepSeq (lib.withFiles { strategyFile = ./strategy + "/${f}"; }).strategies (
          lib.withFiles { strategyFile = ./strategy + "/${f}"; }
        ).strategies
      );
    in
    if r.success then
      builtins.mapAttrs (_: s: { inherit (s) strategy fromFile; }) r.value
    else
      "throws";
in
{
  targets = lib.targets;
  strategyNames = lib.strategyNames;
  shippedStrategies = builtins.mapAttrs (_: s: { inherit (s) strategy fromFile; }) lib.strategies;
  sampleStrategies = builtins.listToAttrs (map (f: { name = f; value = resolve f; }) samples);
  variantNames = lib.variantNames;
  defaultStrategy = builtins.mapAttrs (_: lib.defaultStrategy) lib.targets;
  goEnv = builtins.mapAttrs (_: lib.goEnv) lib.targets;
  localSystem = builtins.mapAttrs (_: lib.localSystemFor) lib.targets;
  binfmtSystems = perHost (h: lib.binfmtSystemsFor h names);
  nativeCrossSets = perHost (
    h: builtins.filter (n: lib.crossSetIsNativeOn h lib.targets.${n}) names
  );
  validateTargets = lib.validateTargets;
  boards = builtins.attrNames lib.boards;
  hybridKeys = lib.hybridKeys;
  hybrid = lib.hybrid;
  sampleHybridFiles = builtins.listToAttrs (
    map (f: {
      name = f;
      value = readHybrid f;
    }) hybridSamples
  );
  crossTargetFor = builtins.listToAttrs (
    map (n: {
      name = n;
      value = {
        bySystem =
          if lib.targets.${n}.system == null then null else lib.crossTargetFor lib.targets.${n}.system;
        byPlatform = lib.crossTargetFor lib.targets.${n};
      };
    }) names
  );
  brokenTableProblems = (lib.withFiles { targetsFile = ./targets-broken.json; }).validateTargets;
  cupVersion = lib.cupVersion (builtins.readFile ../../cup/internal/version/version.go);
  cupVersionThrowsOnTwo =
    !(builtins.tryEval (lib.cupVersion ''
      const Version = "1.0.0"
      const Version = "2.0.0"
    '')).success;
}
