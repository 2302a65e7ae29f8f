# The nixpkgs-facing logic of the gcc variants, against nixpkgs' own lib:
#   - lib.crossSetIsNativeOn (builtins only) agrees with nixpkgs'
#     `lib.systems.equals` for every target and both build hosts;
#   - nix/gcc-variants.nix names the outputs each host gets and hands
#     buildGoModule the set's gccNStdenv;
#   - nix/gcc-variants-check.nix accepts honest variants and rejects, by
#     name, a variant whose stdenv compiler is another gcc.
#
#   NIXPKGS_LIB=/path/to/nixpkgs.lib/lib bash scripts/nix-test.sh
#   nix-instantiate --eval --strict --json nix/tests/systems-eval.nix \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' -A failures
#
# Stand-ins (nixpkgs itself cannot be fetched here), kept minimal:
# `fakeSet` has only what nix/gcc-variants.nix reads of a package set
# (callPackage, buildGoModule.override, gccNStdenv, stdenv.cc), and behaves
# as nixpkgs does at the pin: gccNStdenv's cc is gcc N (all-packages.nix
# gccNStdenv = overrideCC gccStdenv buildPackages.gccN); in a gcc-overlay set
# the stdenv cc is gcc N only where the set is really cross (overlays/gcc.nix
# swaps `gcc` where hostPlatform.config != targetPlatform.config).
# Result: { count; failures; names; errors; errorNames; } as in
# nix/tests/modules-eval.nix.
{ lib }:
let
  cupLib = import ../lib { };
  inherit (cupLib) targets;
  hosts = [
    "x86_64-linux"
    "aarch64-linux"
  ];
  withCross = lib.filterAttrs (_: t: t.pkgsCross != null) targets;

  nixpkgsSaysNative =
    host: t:
    !t.static
    && lib.systems.equals (lib.systems.elaborate host) (
      lib.systems.elaborate lib.systems.examples.${t.pkgsCross}
    );

  defaultGcc = "15.2.0";
  gccVersion = v: "${v}.1.0";
  cc = version: {
    inherit version;
    isGNU = true;
  };
  # A package set as nix/gcc-variants.nix sees it.
  fakeSet =
    {
      name,
      stdenvCc ? defaultGcc,
    }:
    {
      inherit name;
      stdenv.cc = cc stdenvCc;
      gcc13Stdenv.cc = cc (gccVersion "13");
      gcc14Stdenv.cc = cc (gccVersion "14");
      gcc15Stdenv.cc = cc (gccVersion "15");
      buildGoModule.override = args: { inherit (args) stdenv; };
      # The derivation's `stdenv` attribute (make-derivation.nix: inherit
      # stdenv) is the one buildGoModule was given.
      callPackage = file: args: {
        inherit (args.buildGoModule) stdenv;
        file = baseNameOf (toString file);
        set = name;
      };
    };
  # A gcc-overlay nixpkgs (legacyPackages gccN): cross sets get gcc N,
  # a set that is native on `host` keeps the default.
  fakeGccSet = host: v: {
    pkgsCross = builtins.mapAttrs (
      attr: _:
      fakeSet {
        name = "gcc${v}/${attr}";
        stdenvCc =
          if builtins.any (t: t.pkgsCross == attr && nixpkgsSaysNative host t) (builtins.attrValues targets) then
            defaultGcc
          else
            gccVersion v;
      }
    ) lib.systems.examples;
  };

  variantsOn =
    host:
    import ../gcc-variants.nix {
      inherit cupLib;
      system = host;
      crossTargets = lib.filterAttrs (_: t: builtins.elem "cross" t.strategies) targets;
      crossSets = builtins.mapAttrs (n: _: fakeSet { name = n; }) (
        lib.filterAttrs (_: t: builtins.elem "cross" t.strategies) targets
      );
      # pkgsStatic does not matter to these names.
      crossSetOf = from: t: from.pkgsCross.${t.pkgsCross};
      gccSets = lib.genAttrs [
        "13"
        "14"
        "15"
      ] (fakeGccSet host);
      filterAttrs = lib.filterAttrs;
    };
  onX86 = variantsOn "x86_64-linux";
  onArm = variantsOn "aarch64-linux";

  runCommand = name: env: script: {
    inherit name env script;
  };
  check = import ../gcc-variants-check.nix { inherit runCommand; };

  throws = v: !(builtins.tryEval (builtins.deepSeq v v)).success;

  # What `stdenv.hostPlatform.emulator buildPackages` (nix/checks.nix,
  # nix/cross-shell.nix) picks for each target, from nixpkgs' own
  # lib/systems/default.nix; `pkgs` has only what selectEmulator reads.
  emulatorOn =
    host: t:
    let
      pkgs = {
        stdenv.hostPlatform = lib.systems.elaborate host;
        qemu-user = "QEMU";
        winePackagesFor = _: { minimal = "WINE"; };
        writeShellScriptBin = name: _: {
          type = "derivation";
          inherit name;
          outPath = "EXEC";
          meta.mainProgram = name;
        };
      };
      platform = lib.systems.elaborate (
        lib.systems.examples.${t.pkgsCross} // lib.optionalAttrs t.static { isStatic = true; }
      );
    in
    {
      "QEMU/bin/qemu-${platform.qemuArch}" = platform.qemuArch;
      "WINE/bin/wine" = "wine";
      "EXEC/bin/exec" = "native";
    }
    .${platform.emulator pkgs};

  tests = {
    testCrossSetIsNativeMatchesNixpkgs = {
      expr = builtins.concatMap (
        host:
        map (n: "${host}/${n}") (
          builtins.filter (n: cupLib.crossSetIsNativeOn host targets.${n} != nixpkgsSaysNative host targets.${n}) (
            builtins.attrNames withCross
          )
        )
      ) hosts;
      expected = [ ];
    };
    testOnlyAarch64IsNativeAnywhere = {
      expr = map (
        host: builtins.filter (n: nixpkgsSaysNative host targets.${n}) (builtins.attrNames withCross)
      ) hosts;
      expected = [
        [ ]
        [ "aarch64" ]
      ];
    };

    # nix/targets.json's `qemu` says how an x86_64 host runs each target.
    testQemuFieldIsNixpkgsEmulatorOnX86 = {
      expr = builtins.filter (n: emulatorOn "x86_64-linux" targets.${n} != targets.${n}.qemu) (
        builtins.attrNames withCross
      );
      expected = [ ];
    };
    testEmulatorsOnAarch64 = {
      expr = builtins.mapAttrs (_: emulatorOn "aarch64-linux") withCross;
      expected = {
        aarch64 = "native";
        aarch64-musl = "native";
        armv6l = "arm";
        armv7l = "arm";
        # nix/checks.nix runs neither off x86_64: qemu-i386 crashes Go
        # binaries, and nixpkgs' wine is x86 only.
        i686 = "i386";
        windows = "wine";
        loongarch64 = "loongarch64";
        ppc64le = "ppc64le";
        riscv64 = "riscv64";
        s390x = "s390x";
        x86_64-musl = "x86_64";
      };
    };

    testCupVariantsOnBothHosts = {
      expr = map (v: builtins.length (builtins.attrNames v.packages)) [
        onX86
        onArm
      ];
      # 11 targets with a cross variant (all but darwin), 3 gcc versions,
      # on either host.
      expected = [
        33
        33
      ];
    };
    testCupVariantUsesGccNStdenv = {
      expr = {
        inherit (onArm.packages.cup-aarch64-cross-gcc13) file set;
        cc = onArm.packages.cup-aarch64-cross-gcc13.stdenv.cc.version;
        riscv = onX86.packages.cup-riscv64-cross-gcc14.stdenv.cc.version;
      };
      expected = {
        file = "package.nix";
        set = "aarch64";
        cc = "13.1.0";
        riscv = "14.1.0";
      };
    };
    testGccSetsLeaveOutNativeTargets = {
      expr = {
        x86 = builtins.elem "aarch64" (builtins.attrNames onX86.legacyPackages.gcc13.cross);
        arm = builtins.elem "aarch64" (builtins.attrNames onArm.legacyPackages.gcc13.cross);
        armRiscv = builtins.elem "riscv64" (builtins.attrNames onArm.legacyPackages.gcc13.cross);
        versions = builtins.attrNames onArm.legacyPackages;
      };
      expected = {
        x86 = true;
        arm = false;
        armRiscv = true;
        versions = [
          "gcc13"
          "gcc14"
          "gcc15"
        ];
      };
    };
    testCheckPassesOnBothHosts = {
      expr = map (
        v:
        let
          r = check "host" v.claims;
        in
        [
          r.name
          (builtins.length (lib.splitString "\n" r.env.checked))
        ]
      ) [
        onX86
        onArm
      ];
      # 33 cup variants + 33 (x86_64) or 30 (aarch64: no gccN.cross.aarch64) sets.
      expected = [
        [
          "gcc-variants"
          66
        ]
        [
          "gcc-variants"
          63
        ]
      ];
    };
    testCheckRejectsWrongGcc = {
      expr = throws errors.checkRejectsWrongGcc.value;
      expected = true;
    };
    testMentionsAreWords = {
      expr = builtins.filter (w: builtins.match "[^ ,\"]+" w == null) (
        builtins.concatMap (e: e.mentions) (builtins.attrValues errors)
      );
      expected = [ ];
    };
  };

  errors = {
    # What the old overlay-only variant was on aarch64-linux: a "gcc13" set
    # that is native and keeps the default gcc.
    checkRejectsWrongGcc = {
      value = check "aarch64-linux" {
        "legacyPackages.aarch64-linux.gcc13.cross.aarch64" = {
          version = "13";
          stdenv.cc = cc defaultGcc;
        };
        "packages.aarch64-linux.cup-riscv64-cross-gcc13" = {
          version = "13";
          stdenv.cc = cc (gccVersion "13");
        };
      };
      mentions = [
        "checks.aarch64-linux.gcc-variants"
        "legacyPackages.aarch64-linux.gcc13.cross.aarch64"
        "15.2.0"
      ];
    };
  };
in
import ./summary.nix {
  inherit tests errors;
  see = "nix-instantiate --eval --strict nix/tests/systems-eval.nix --arg lib 'import $NIXPKGS_LIB' -A tests.ATTR.expr";
}
