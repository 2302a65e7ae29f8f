# Tests of the flake's `lib` output, in the style of nixpkgs' lib.runTests
# but with builtins only, so that they run on CI's Nix 2.8 without nixpkgs.
#
# Run (prints [] when everything passes, else the failing tests):
#   nix eval --json --impure --expr 'import ./nix/tests/lib.nix { }'
# or through the flake:
#   nix eval --json --impure --expr \
#     'import ./nix/tests/lib.nix { cupcrossLib = (builtins.getFlake "git+file://'$PWD'").lib; }'
# scripts/nix-test.sh runs both and also checks the text of every `throw`.
{
  cupcrossLib ? import ../lib { },
}:
let
  lib = cupcrossLib;
  sample = f: lib.withFiles { strategyFile = ./strategy + "/${f}"; };
  throws = expr: !(builtins.tryEval (builtins.deepSeq expr expr)).success;

  tests = {
    # --- the table ---
    testTargetsIsTheJsonFile = {
      expr = lib.targets;
      expected = builtins.fromJSON (builtins.readFile ../targets.json);
    };
    testTargetsAreConsistent = {
      expr = lib.validateTargets;
      expected = [ ];
    };
    testTwelveTargets = {
      expr = builtins.length (builtins.attrNames lib.targets);
      expected = 12;
    };
    testValidateFindsProblems = {
      expr = builtins.length (
        (lib.withFiles { targetsFile = ./targets-broken.json; }).validateTargets
      );
      expected = 3;
    };

    # --- variant names ---
    testVariantsRiscv64 = {
      expr = lib.variantNames.riscv64;
      expected = [
        "cup-riscv64"
        "cup-riscv64-cross"
        "cup-riscv64-emulated"
        "cup-riscv64-purego"
      ];
    };
    testNoEmulatedWindows = {
      expr = lib.variantNames.windows;
      expected = [
        "cup-windows"
        "cup-windows-cross"
        "cup-windows-purego"
      ];
    };
    testNoCrossDarwin = {
      expr = lib.variantNames.darwin;
      expected = [
        "cup-darwin"
        "cup-darwin-emulated"
        "cup-darwin-purego"
      ];
    };

    # --- strategy resolution ---
    testShippedStrategyFileResolves = {
      expr = builtins.attrNames lib.strategies == builtins.attrNames lib.targets;
      expected = true;
    };
    testMissingFileFallsBackToCross = {
      expr = (sample "does-not-exist.json").strategies.riscv64;
      expected = {
        strategy = "cross";
        reason = "not in does-not-exist.json: default";
        fromFile = false;
      };
    };
    testMissingFileDarwinIsPurego = {
      expr = (sample "does-not-exist.json").strategies.darwin.strategy;
      expected = "purego";
    };
    testMissingFileAllTargets = {
      expr = builtins.mapAttrs (_: s: s.strategy) (sample "does-not-exist.json").strategies;
      expected = builtins.mapAttrs (_: t: lib.defaultStrategy t) lib.targets;
    };
    testFileEntryWins = {
      expr = (sample "valid.json").strategies.riscv64;
      expected = {
        strategy = "emulated";
        reason = "test: a remote riscv64 builder";
        fromFile = true;
      };
    };
    testFileEntryDarwinEmulated = {
      expr = (sample "valid.json").strategies.darwin.strategy;
      expected = "emulated";
    };
    testMissingTargetFallsBack = {
      expr = (sample "valid.json").strategies.aarch64.strategy;
      expected = "cross";
    };
    testBadVersionThrows = {
      expr = throws (sample "bad-version.json").strategies;
      expected = true;
    };
    testNoVersionThrows = {
      expr = throws (sample "no-version.json").strategies;
      expected = true;
    };
    testUnknownStrategyThrows = {
      expr = throws (sample "unknown-strategy.json").strategies;
      expected = true;
    };
    testUnknownStrategyThrowsForOtherTargetsToo = {
      expr = throws (sample "unknown-strategy.json").strategies.aarch64;
      expected = true;
    };
    testUnavailableStrategyThrows = {
      expr = throws (sample "unavailable-strategy.json").strategies;
      expected = true;
    };
    testUnknownTargetThrows = {
      expr = throws (sample "unknown-target.json").strategies;
      expected = true;
    };
    testMissingStrategyThrows = {
      expr = throws (sample "missing-strategy.json").strategies;
      expected = true;
    };
    testBadTargetsThrows = {
      expr = throws (sample "bad-targets.json").strategies;
      expected = true;
    };

    # --- Go environment ---
    testGoEnvArmv6 = {
      expr = lib.goEnv lib.targets.armv6l;
      expected = {
        GOOS = "linux";
        GOARCH = "arm";
        GOARM = "6";
      };
    };
    testGoEnvRiscv64HasNoGoarm = {
      expr = lib.goEnv lib.targets.riscv64;
      expected = {
        GOOS = "linux";
        GOARCH = "riscv64";
      };
    };
    testGoEnvWindows = {
      expr = lib.goEnv lib.targets.windows;
      expected = {
        GOOS = "windows";
        GOARCH = "amd64";
      };
    };

    # --- emulated package sets ---
    testLocalSystemGlibc = {
      expr = lib.localSystemFor lib.targets.s390x;
      expected = {
        system = "s390x-linux";
      };
    };
    testLocalSystemMusl = {
      expr = lib.localSystemFor lib.targets.aarch64-musl;
      expected = {
        config = "aarch64-unknown-linux-musl";
      };
    };
    testLocalSystemWindows = {
      expr = lib.localSystemFor lib.targets.windows;
      expected = null;
    };

    # --- which pkgsCross sets are native on a build host ---
    testNativeCrossSetsX86 = {
      expr = builtins.filter (n: lib.crossSetIsNativeOn "x86_64-linux" lib.targets.${n}) (
        builtins.attrNames lib.targets
      );
      expected = [ ];
    };
    testNativeCrossSetsAarch64 = {
      expr = builtins.filter (n: lib.crossSetIsNativeOn "aarch64-linux" lib.targets.${n}) (
        builtins.attrNames lib.targets
      );
      expected = [ "aarch64" ];
    };
    testNativeCrossSetsRiscv64Host = {
      expr = builtins.filter (n: lib.crossSetIsNativeOn "riscv64-linux" lib.targets.${n}) (
        builtins.attrNames lib.targets
      );
      expected = [ "riscv64" ];
    };

    # --- binfmt ---
    testBinfmtX86 = {
      expr = lib.binfmtSystemsFor "x86_64-linux" (builtins.attrNames lib.targets);
      expected = [
        "aarch64-linux"
        "armv6l-linux"
        "armv7l-linux"
        "loongarch64-linux"
        "powerpc64le-linux"
        "riscv64-linux"
        "s390x-linux"
      ];
    };
    testBinfmtAarch64 = {
      expr = lib.binfmtSystemsFor "aarch64-linux" (builtins.attrNames lib.targets);
      expected = [
        "armv6l-linux"
        "armv7l-linux"
        "i686-linux"
        "loongarch64-linux"
        "powerpc64le-linux"
        "riscv64-linux"
        "s390x-linux"
        "x86_64-linux"
      ];
    };
    testBinfmtSubset = {
      expr = lib.binfmtSystemsFor "x86_64-linux" [
        "riscv64"
        "windows"
        "darwin"
        "i686"
      ];
      expected = [ "riscv64-linux" ];
    };

    # --- cup's version ---
    testCupVersion = {
      expr = lib.cupVersion ''
        package version

        // Version is cup's release version.
        const Version = "1.2.3-rc.1"
      '';
      expected = "1.2.3-rc.1";
    };
    testCupVersionRealFile = {
      expr =
        let
          f = ../../cup/internal/version/version.go;
        in
        if builtins.pathExists f then
          builtins.match "[0-9]+\\.[0-9]+\\.[0-9]+.*" (lib.cupVersion (builtins.readFile f)) != null
        else
          true;
      expected = true;
    };
    testCupVersionMissingThrows = {
      expr = throws (lib.cupVersion "package version\n");
      expected = true;
    };
    testCupVersionTwiceThrows = {
      expr = throws (lib.cupVersion "const Version = \"1\"\nconst Version = \"2\"\n");
      expected = true;
    };
  };

  failures = builtins.filter (r: r != null) (
    builtins.attrValues (
      builtins.mapAttrs (
        name: t:
        if t.expr == t.expected then
          null
        else
          {
            inherit name;
            inherit (t) expected;
            result = t.expr;
          }
      ) tests
    )
  );
in
{
  inherit failures;
  count = builtins.length (builtins.attrNames tests);
  names = builtins.attrNames tests;
}
