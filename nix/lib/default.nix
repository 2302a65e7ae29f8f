# The `lib` output of the cupcross flake: the target table and strategy
# resolution, written with builtins only so that it evaluates without
# fetching nixpkgs (CI runs `nix eval .#lib.targets` offline).
#
# One function per file; this file is the index.
#
#   nix eval --json .#lib.targets
#   nix eval --json .#lib.strategies
#   nix eval --json .#lib.hybrid
{
  # The target table; override only in tests.
  targetsFile ? ../targets.json,
  # Written by `crossplan plan --write`; a missing file means "defaults".
  strategyFile ? ../strategy.json,
  # Written by `crossplan hybrid --write`; a missing file means no swaps.
  hybridFile ? ../hybrid.json,
}:
let
  self = {
    targets = builtins.fromJSON (builtins.readFile targetsFile);

    strategyNames = import ./strategy-names.nix;
    variantNames = import ./variant-names.nix self;
    defaultStrategy = import ./default-strategy.nix;
    readStrategyFile = import ./read-strategy-file.nix self;
    resolveStrategies = import ./resolve-strategies.nix self;
    strategies = self.resolveStrategies strategyFile;
    goEnv = import ./go-env.nix;
    localSystemFor = import ./local-system-for.nix;
    binfmtSystemsFor = import ./binfmt-systems-for.nix self;
    crossSetIsNativeOn = import ./cross-set-is-native-on.nix;
    cupVersion = import ./cup-version.nix;
    validateTargets = import ./validate-targets.nix self;

    # crossplan hybrid: the native set with chosen attributes cross-built.
    boards = import ./boards.nix;
    hybridKeys = builtins.attrNames self.boards ++ builtins.attrNames self.targets;
    swapOverlay = import ./swap-overlay.nix;
    crossTargetFor = import ./cross-target-for.nix self;
    readHybridFileWith = import ./read-hybrid-file.nix self;
    readHybridFile = self.readHybridFileWith { keys = self.hybridKeys; };
    inherit hybridFile;
    hybrid = self.readHybridFile hybridFile;
    # The swaps of one entry of nix/hybrid.json; [ ] when it has none.
    hybridSwapsFor = key: (self.hybrid.entries.${key} or { swaps = [ ]; }).swaps;

    # For tests: the same library over another table or strategy file.
    withFiles = args: import ./. ({ inherit targetsFile strategyFile hybridFile; } // args);
  };
in
self
