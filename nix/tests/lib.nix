# Tests of the flake's `lib` output, in the style of nixpkgs' lib.runTests
# but with builtins only, so that they run on CI's Nix 2.8 without nixpkgs.
#
# Run (prints [] when everything passes, else the failing tests):
#   nix eval --json --impure --expr '(import ./nix/tests/lib.nix { }).failures'
# or through the flake:
#   nix eval --json --impure --expr \
#     '(import ./nix/tests/lib.nix { cupcrossLib = (builtins.getFlake "git+file://'$PWD'").lib; }).failures'
# scripts/nix-test.sh runs both and also checks the text of every `throw`
# (the cases in `swapErrors` and `hybridErrors`, which must not be forced
# with the rest: they throw).
{
  cupcrossLib ? import ../lib { },
}:
let
  lib = cupcrossLib;
  sample = f: lib.withFiles { strategyFile = ./strategy + "/${f}"; };
  throws = expr: !(builtins.tryEval (builtins.deepSeq expr expr)).success;
  hybridSample = f: lib.readHybridFile (./hybrid + "/${f}");

  # --- a tiny package set shaped like nixpkgs, for swapOverlay ---
  # fix/extends/makeExtensible the way nixpkgs' lib/fixed-points.nix
  # defines them (written here from their documented meaning).
  fix =
    f:
    let
      x = f x;
    in
    x;
  extends =
    overlay: f: self:
    let
      super = f self;
    in
    super // overlay self super;
  makeExtensible = rattrs: fix rattrs // { extend = o: makeExtensible (extends o rattrs); };
  # lib.makeScope's override, without newScope/callPackage.
  makeScope = f: fix f // { overrideScope = g: makeScope (extends g f); };
  # A derivation whose hash covers its dependencies, as in nixpkgs.
  drv = import ./stand-in-drv.nix;
  # `self: { … }` of one platform; `tag` tells the two sets apart.
  packageSet =
    system: self:
    let
      d = drv system;
    in
    {
      glibc = d "glibc" [ ];
      release = "26.05";
      zlib = d "zlib" [ self.glibc ];
      hello = d "hello" [ self.glibc ];
      openssl = d "openssl" [ self.glibc ];
      app = d "app" [
        self.zlib
        self.openssl
      ];
      linuxPackages = makeExtensible (lp: {
        kernel = d "linux" [ ];
        firmware = d "firmware" [ ];
        modules = d "modules" [ lp.kernel ];
        recurseForDerivations = true;
      });
      initrd = d "initrd" [ self.linuxPackages.modules ];
      # A makeScope scope (overrideScope, no extend).
      xorg = makeScope (x: {
        libX11 = d "libX11" [ self.glibc ];
        xterm = d "xterm" [ x.libX11 ];
        xeyes = d "xeyes" [ ];
      });
      toplevel = d "toplevel" [
        self.initrd
        self.app
        self.hello
      ];
      # pkgs.callPackage, for cup/package.nix only (hybridSpecs' `base`,
      # `allCross` and `hybrid` are cup of a set): a cup that links app.
      callPackage =
        file: _args:
        if baseNameOf (toString file) == "package.nix" then
          d "cup" [
            self.app
            self.glibc
          ]
        else
          throw "packageSet.callPackage: only cup/package.nix, got ${toString file}";
      # Only in native sets (hybridSpecs' check of the cross side).
      ${if builtins.match "cross-.*" system == null then "nativeOnly" else null} = d "native-only" [ ];
      # A plain attribute set (no `extend`), two levels deep.
      tools = {
        a = d "tool-a" [ self.glibc ];
        b = d "tool-b" [ self.glibc ];
        c = d "tool-c" [ self.glibc ];
        deep.x = d "deep-x" [ ];
      };
    };
  nativeSet = fix (packageSet "riscv64-linux");
  crossSet = fix (packageSet "x86_64-linux");
  hybridSet =
    swaps:
    fix (
      extends (lib.swapOverlay {
        cross = crossSet;
        inherit swaps;
      }) (packageSet "riscv64-linux")
    );
  drvs = builtins.mapAttrs (_: v: v.drvPath or v);

  # nix/legacy-packages.nix over a stand-in context: nixpkgs' sets are
  # the little package set above (with `extend`, as pkgs/top-level/stage.nix
  # gives every nixpkgs set), pkgsCross.<attr> one of system "cross-<attr>".
  # hybridSpecs' boards need nixosConfigurations (NixOS' module system):
  # nix/tests/hybrid-specs-eval.nix tests them with nixpkgs' lib; here they
  # throw if anything reaches them.
  legacyWith =
    cupLib:
    import ../legacy-packages.nix {
      inherit cupLib;
      inherit (cupLib) targets;
      system = "x86_64-linux";
      inputs.self.nixosConfigurations = throw "nix/tests/lib.nix has no nixosConfigurations";
      filterAttrs =
        pred: set:
        builtins.removeAttrs set (builtins.filter (n: !pred n set.${n}) (builtins.attrNames set));
      emulatedSetOf = t: makeExtensible (packageSet t.system);
      # pkgsStatic of a cross set: the same set, told apart by its system.
      crossSetOf =
        from: t:
        if t.static then
          fix (packageSet "static-${t.pkgsCross}")
        else
          from.pkgsCross.${t.pkgsCross};
      pkgs.pkgsCross = builtins.listToAttrs (
        map (t: {
          name = t.pkgsCross;
          value = fix (packageSet "cross-${t.pkgsCross}");
        }) (builtins.filter (t: t.pkgsCross != null) (builtins.attrValues cupLib.targets))
      );
      crossSets = { };
      emulatedSets = { };
      gccVariants.legacyPackages = { };
    };
  legacyValid = legacyWith (lib.withFiles { hybridFile = ./hybrid/valid.json; });
  legacyHybrid = legacyValid.hybrid;
  specs = legacyValid.hybridSpecs;
  hybridTargets = builtins.filter (
    n: lib.targets.${n}.system != null && lib.targets.${n}.pkgsCross != null
  ) (builtins.attrNames lib.targets);
  top =
    s:
    drvs (
      builtins.removeAttrs s [
        "linuxPackages"
        "tools"
        "xorg"
        "extend"
        "callPackage"
      ]
    );

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
    # --- swapOverlay ---
    testSwapTopLevel = {
      expr =
        let
          h = hybridSet [ "zlib" ];
        in
        {
          zlib = h.zlib.drvPath == crossSet.zlib.drvPath;
          # app uses zlib: re-hashed, still native.
          app = h.app.drvPath != nativeSet.app.drvPath;
          appSystem = h.app.system;
          toplevel = h.toplevel.drvPath != nativeSet.toplevel.drvPath;
          # hello and glibc do not: unchanged.
          hello = h.hello.drvPath == nativeSet.hello.drvPath;
          glibc = h.glibc.drvPath == nativeSet.glibc.drvPath;
          initrd = h.initrd.drvPath == nativeSet.initrd.drvPath;
        };
      expected = {
        zlib = true;
        app = true;
        appSystem = "riscv64-linux";
        toplevel = true;
        hello = true;
        glibc = true;
        initrd = true;
      };
    };
    testSwapNothingChangesNothing = {
      expr = top (hybridSet [ ]) == top nativeSet;
      expected = true;
    };
    testSwapKernelInScope = {
      expr =
        let
          h = hybridSet [ "linuxPackages.kernel" ];
        in
        {
          kernel = h.linuxPackages.kernel.drvPath == crossSet.linuxPackages.kernel.drvPath;
          # The scope's own member that uses the kernel is re-hashed
          # (that is what `extend` is for), and stays native.
          modules = h.linuxPackages.modules.drvPath != nativeSet.linuxPackages.modules.drvPath;
          modulesSystem = h.linuxPackages.modules.system;
          firmware = h.linuxPackages.firmware.drvPath == nativeSet.linuxPackages.firmware.drvPath;
          initrd = h.initrd.drvPath != nativeSet.initrd.drvPath;
          toplevel = h.toplevel.drvPath != nativeSet.toplevel.drvPath;
          app = h.app.drvPath == nativeSet.app.drvPath;
          stillExtensible = builtins.isFunction h.linuxPackages.extend;
          recurse = h.linuxPackages.recurseForDerivations;
        };
      expected = {
        kernel = true;
        modules = true;
        modulesSystem = "riscv64-linux";
        firmware = true;
        initrd = true;
        toplevel = true;
        app = true;
        stillExtensible = true;
        recurse = true;
      };
    };
    testSwapTwoInOneScope = {
      expr =
        let
          h = hybridSet [
            "linuxPackages.kernel"
            "linuxPackages.firmware"
          ];
        in
        [
          (h.linuxPackages.kernel.drvPath == crossSet.linuxPackages.kernel.drvPath)
          (h.linuxPackages.firmware.drvPath == crossSet.linuxPackages.firmware.drvPath)
          (h.linuxPackages.modules.drvPath == (hybridSet [ "linuxPackages.kernel" ]).linuxPackages.modules.drvPath)
        ];
      expected = [
        true
        true
        true
      ];
    };
    testSwapInMakeScope = {
      expr =
        let
          h = hybridSet [ "xorg.libX11" ];
        in
        {
          libX11 = h.xorg.libX11.drvPath == crossSet.xorg.libX11.drvPath;
          # overrideScope re-hashes the scope's member that uses it.
          xterm = h.xorg.xterm.drvPath != nativeSet.xorg.xterm.drvPath;
          xtermSystem = h.xorg.xterm.system;
          xeyes = h.xorg.xeyes.drvPath == nativeSet.xorg.xeyes.drvPath;
          stillOverridable = builtins.isFunction h.xorg.overrideScope;
        };
      expected = {
        libX11 = true;
        xterm = true;
        xtermSystem = "riscv64-linux";
        xeyes = true;
        stillOverridable = true;
      };
    };
    testSwapTwoInPlainSet = {
      expr =
        let
          h = hybridSet [
            "tools.a"
            "tools.b"
          ];
        in
        {
          a = h.tools.a.drvPath == crossSet.tools.a.drvPath;
          b = h.tools.b.drvPath == crossSet.tools.b.drvPath;
          c = h.tools.c.drvPath == nativeSet.tools.c.drvPath;
          deep = h.tools.deep.x.drvPath == nativeSet.tools.deep.x.drvPath;
          names = builtins.attrNames h.tools;
        };
      expected = {
        a = true;
        b = true;
        c = true;
        deep = true;
        names = [
          "a"
          "b"
          "c"
          "deep"
        ];
      };
    };
    testSwapThreeLevels = {
      expr =
        let
          h = hybridSet [
            "tools.deep.x"
            "hello"
          ];
        in
        [
          (h.tools.deep.x.drvPath == crossSet.tools.deep.x.drvPath)
          (h.tools.a.drvPath == nativeSet.tools.a.drvPath)
          (h.hello.drvPath == crossSet.hello.drvPath)
          (h.toplevel.drvPath != nativeSet.toplevel.drvPath)
        ];
      expected = [
        true
        true
        true
        true
      ];
    };
    testSwapErrorsThrow = {
      expr = builtins.filter (n: !(throws swapErrors.${n}.value)) (builtins.attrNames swapErrors);
      expected = [ ];
    };

    # --- legacyPackages.<system>.hybrid.<t> (nix/legacy-packages.nix) ---
    testLegacyHybridTargets = {
      expr = builtins.attrNames (legacyWith lib).hybrid;
      expected = builtins.filter (
        n: lib.targets.${n}.system != null && lib.targets.${n}.pkgsCross != null
      ) (builtins.attrNames lib.targets);
    };
    testLegacyHybridSwapsFromFile = {
      expr =
        let
          h = legacyHybrid.riscv64;
        in
        {
          kernel = h.linuxPackages.kernel.system;
          modules = h.linuxPackages.modules.system;
          openssl = h.openssl.system;
          app = h.app.system;
          hello = h.hello.drvPath == (fix (packageSet "riscv64-linux")).hello.drvPath;
          appRehashed = h.app.drvPath != (fix (packageSet "riscv64-linux")).app.drvPath;
        };
      expected = {
        kernel = "cross-riscv64";
        modules = "riscv64-linux";
        openssl = "cross-riscv64";
        app = "riscv64-linux";
        hello = true;
        appRehashed = true;
      };
    };
    testLegacyHybridNoEntryNoSwaps = {
      expr = top legacyHybrid.aarch64 == top (fix (packageSet "aarch64-linux"));
      expected = true;
    };
    testLegacyHybridI686Cross = {
      expr =
        (legacyWith (lib.withFiles { hybridFile = ./hybrid/no-reason.json; })).hybrid.i686.hello.system;
      expected = "cross-gnu32";
    };

    # --- legacyPackages.<system>.hybridSpecs.<key> (nix/hybrid-specs.nix) ---
    testHybridSpecKeys = {
      expr = builtins.attrNames specs;
      expected = builtins.sort builtins.lessThan (builtins.attrNames lib.boards ++ hybridTargets);
    };
    # A board named like a target would hide the target's spec.
    testHybridSpecBoardsAreNotTargets = {
      expr = builtins.filter (b: lib.targets ? ${b}) (builtins.attrNames lib.boards);
      expected = [ ];
    };
    testHybridSpecFields = {
      expr = builtins.mapAttrs (_: builtins.attrNames) specs;
      expected = builtins.mapAttrs (_: _: [
        "allCross"
        "base"
        "built"
        "candidates"
        "cross"
        "hybrid"
        "native"
        "swaps"
        "system"
      ]) specs;
    };
    # Everything a board's spec has without evaluating NixOS.
    testHybridSpecBoardSwapsAndCandidates = {
      expr = builtins.mapAttrs (_: s: { inherit (s) swaps candidates; }) {
        inherit (specs) visionfive2 raspberrypi4;
      };
      expected = {
        visionfive2 = {
          swaps = [ ];
          candidates = [ "linuxPackages.kernel" ];
        };
        raspberrypi4 = {
          swaps = [ ];
          candidates = [ "linuxPackages.kernel" ];
        };
      };
    };
    testHybridSpecShippedFileSwaps = {
      expr = builtins.mapAttrs (_: s: s.swaps) (
        builtins.removeAttrs (legacyWith lib).hybridSpecs hybridTargets
      );
      expected = {
        visionfive2 = [ "linuxPackages.kernel" ];
        raspberrypi4 = [ "linuxPackages.kernel" ];
      };
    };
    testHybridSpecTargetTypes = {
      expr = builtins.mapAttrs (_: s: {
        system = builtins.typeOf s.system;
        base = s.base.type or null;
        allCross = s.allCross.type or null;
        native = builtins.typeOf s.native;
        cross = builtins.typeOf s.cross;
        hybrid = builtins.typeOf s.hybrid;
        hybridOfNone = (s.hybrid [ ]).type or null;
        swaps = builtins.typeOf s.swaps;
        candidates = s.candidates;
        builtIsHybridOfSwaps = s.built.drvPath == (s.hybrid s.swaps).drvPath;
      }) (builtins.removeAttrs specs (builtins.attrNames lib.boards));
      expected = builtins.listToAttrs (
        map (n: {
          name = n;
          value = {
            system = "string";
            base = "derivation";
            allCross = "derivation";
            native = "set";
            cross = "set";
            hybrid = "lambda";
            hybridOfNone = "derivation";
            swaps = "list";
            candidates = [ ];
            builtIsHybridOfSwaps = true;
          };
        }) hybridTargets
      );
    };
    testHybridSpecTargetSystemsAndSwaps = {
      expr = builtins.mapAttrs (_: s: { inherit (s) system swaps; }) {
        inherit (specs) riscv64 aarch64 i686;
      };
      expected = {
        riscv64 = {
          system = "riscv64-linux";
          swaps = [
            "linuxPackages.kernel"
            "openssl"
          ];
        };
        aarch64 = {
          system = "aarch64-linux";
          swaps = [ ];
        };
        i686 = {
          system = "i686-linux";
          swaps = [ ];
        };
      };
    };
    # `hybrid [ ]` is base, derivation for derivation, for every target.
    testHybridSpecNoSwapsIsBase = {
      expr = builtins.filter (n: (specs.${n}.hybrid [ ]).drvPath != specs.${n}.base.drvPath) hybridTargets;
      expected = [ ];
    };
    testHybridSpecTargetSets = {
      expr =
        let
          s = specs.riscv64;
          nativeSet = fix (packageSet "riscv64-linux");
        in
        {
          base = s.base.drvPath == (nativeSet.callPackage ../../cup/package.nix { }).drvPath;
          baseSystem = s.base.system;
          allCross = s.allCross.system;
          staticAllCross = specs.x86_64-musl.allCross.system;
          # hybrid swaps from pkgsCross, never from its pkgsStatic
          staticCross = specs.x86_64-musl.cross.glibc.system;
          nativeKernel = s.native.linuxPackages.kernel.drvPath == nativeSet.linuxPackages.kernel.drvPath;
          crossKernel = s.cross.linuxPackages.kernel.system;
        };
      expected = {
        base = true;
        baseSystem = "riscv64-linux";
        allCross = "cross-riscv64";
        staticAllCross = "static-musl64";
        staticCross = "cross-musl64";
        nativeKernel = true;
        crossKernel = "cross-riscv64";
      };
    };
    # The swaps re-hash cup through app; the file's swaps give the
    # legacyPackages.hybrid set's cup; a swap cup does not reach changes nothing.
    testHybridSpecTargetHybrid = {
      expr =
        let
          s = specs.riscv64;
          cupIn = set: (set.callPackage ../../cup/package.nix { }).drvPath;
        in
        {
          openssl = (s.hybrid [ "openssl" ]).drvPath != s.base.drvPath;
          fileSwaps = (s.hybrid s.swaps).drvPath == cupIn legacyHybrid.riscv64;
          kernelOnly = (s.hybrid [ "linuxPackages.kernel" ]).drvPath == s.base.drvPath;
          opensslIsCross = (s.hybrid [ "openssl" ]).drvPath == cupIn (
            fix (
              extends (lib.swapOverlay {
                cross = s.cross;
                swaps = [ "openssl" ];
              }) (packageSet "riscv64-linux")
            )
          );
        };
      expected = {
        openssl = true;
        fileSwaps = true;
        kernelOnly = true;
        opensslIsCross = true;
      };
    };

    # --- nix/hybrid.json ---
    testBoards = {
      expr = builtins.attrNames lib.boards;
      expected = [
        "raspberrypi4"
        "visionfive2"
      ];
    };
    testHybridKeysAreBoardsAndTargets = {
      expr = builtins.sort builtins.lessThan lib.hybridKeys;
      expected = builtins.sort builtins.lessThan (
        [
          "raspberrypi4"
          "visionfive2"
        ]
        ++ builtins.attrNames lib.targets
      );
    };
    testShippedHybridFile = {
      expr = lib.hybrid;
      expected = {
        version = 1;
        entries =
          builtins.mapAttrs
            (_: _: {
              swaps = [ "linuxPackages.kernel" ];
              reason = "default: the kernel (no cache builds it natively for this board)";
            })
            {
              raspberrypi4 = null;
              visionfive2 = null;
            };
      };
    };
    testHybridSwapsFor = {
      expr = [
        (lib.hybridSwapsFor "visionfive2")
        (lib.hybridSwapsFor "riscv64")
        (lib.hybridSwapsFor "no-such-host")
      ];
      expected = [
        [ "linuxPackages.kernel" ]
        [ ]
        [ ]
      ];
    };
    testHybridMissingFileIsEmpty = {
      expr = hybridSample "does-not-exist.json";
      expected = {
        version = 1;
        entries = { };
      };
    };
    testHybridValidSample = {
      expr = (hybridSample "valid.json").entries;
      expected = {
        riscv64 = {
          swaps = [
            "linuxPackages.kernel"
            "openssl"
          ];
          reason = "test: a heavy library";
        };
        visionfive2 = {
          swaps = [ ];
          reason = "test";
        };
      };
    };
    testHybridWithFiles = {
      expr = (lib.withFiles { hybridFile = ./hybrid/valid.json; }).hybridSwapsFor "riscv64";
      expected = [
        "linuxPackages.kernel"
        "openssl"
      ];
    };
    testHybridAnyKeyWithoutKeys = {
      expr = (lib.readHybridFileWith { keys = null; } ./hybrid/unknown-key.json).entries.beaglebone.swaps;
      expected = [ "linuxPackages.kernel" ];
    };
    testHybridReasonDefaultsEmpty = {
      expr = (hybridSample "no-reason.json").entries.i686;
      expected = {
        swaps = [ "hello" ];
        reason = "";
      };
    };
    testHybridBadSamplesThrow = {
      expr = builtins.filter (f: !(throws (hybridSample f))) (builtins.attrNames hybridErrors);
      expected = [ ];
    };

    # --- the cross target of a platform (nixosModules.hybrid) ---
    testCrossTargetFor = {
      expr = map lib.crossTargetFor [
        "riscv64-linux"
        "aarch64-linux"
        "armv7l-linux"
        "armv6l-linux"
        "i686-linux"
        "x86_64-linux"
        "sparc64-linux"
        {
          system = "aarch64-linux";
          config = "aarch64-unknown-linux-musl";
        }
        {
          system = "aarch64-linux";
          config = "aarch64-unknown-linux-gnu";
        }
        {
          system = "x86_64-linux";
          config = "x86_64-unknown-linux-musl";
        }
        # windows' table entry has no system: never a hybrid.
        lib.targets.windows
      ];
      expected = [
        "riscv64"
        "aarch64"
        "armv7l"
        "armv6l"
        "i686"
        null
        null
        "aarch64-musl"
        "aarch64"
        # x86_64-musl is built with pkgsStatic: never a swap source.
        null
        null
      ];
    };

    testCupVersionTwiceThrows = {
      expr = throws (lib.cupVersion "const Version = \"1\"\nconst Version = \"2\"\n");
      expected = true;
    };
  };

  # swapOverlay's errors; `mentions`: words the message must contain
  # (scripts/nix-test.sh forces each and reads the message).
  swapErrors = {
    missingInCross = {
      value =
        (fix (
          extends (lib.swapOverlay {
            cross = { };
            swaps = [ "linuxPackages.kernel" ];
          }) (packageSet "riscv64-linux")
        )).linuxPackages.kernel;
      mentions = [
        "swapOverlay:"
        "\"linuxPackages.kernel\""
        "cross set has no attribute \"linuxPackages\""
      ];
    };
    missingLeafInNative = {
      value = (hybridSet [ "tools.zz" ]).tools.zz;
      mentions = [
        "swapOverlay:"
        "\"tools.zz\""
        "native package set (prev) has no attribute \"tools.zz\""
      ];
    };
    missingInNative = {
      value =
        (fix (
          extends (lib.swapOverlay {
            cross = crossSet // {
              extra = crossSet.hello;
            };
            swaps = [ "extra" ];
          }) (packageSet "riscv64-linux")
        )).extra;
      mentions = [
        "swapOverlay:"
        "native package set (prev) has no attribute \"extra\""
      ];
    };
    missingInCrossOnly = {
      value =
        (fix (
          extends (lib.swapOverlay {
            cross = builtins.removeAttrs crossSet [ "hello" ];
            swaps = [ "hello" ];
          }) (packageSet "riscv64-linux")
        )).hello;
      mentions = [
        "swapOverlay:"
        "\"hello\""
        "the cross set has no attribute"
      ];
    };
    notAnAttrSet = {
      value = (hybridSet [ "release.major" ]).release;
      mentions = [
        "swapOverlay:"
        "\"release.major\""
        "\"release\" of the native package set (prev) is not an attribute set"
      ];
    };
    overlapping = {
      value =
        (hybridSet [
          "tools"
          "tools.a"
        ]).tools;
      mentions = [
        "swapOverlay:"
        "\"tools\" and \"tools.a\" overlap"
      ];
    };
    notAPath = {
      value = (hybridSet [ "tools..a" ]).hello;
      mentions = [
        "swapOverlay:"
        "\"tools..a\" is not an attribute path"
      ];
    };
  };

  # hybridSpecs.<key>.hybrid with a swap one of the sets lacks.
  specErrors = {
    nativeLacks = {
      value = (specs.riscv64.hybrid [ "nope.x" ]).drvPath;
      mentions = [
        "hybridSpecs.riscv64.hybrid"
        "\"nope.x\": the native set has no attribute \"nope\""
      ];
    };
    crossLacks = {
      value = (specs.aarch64.hybrid [
        "hello"
        "nativeOnly"
      ]).drvPath;
      mentions = [
        "hybridSpecs.aarch64.hybrid"
        "\"nativeOnly\": the cross set has no attribute \"nativeOnly\""
      ];
    };
    scopeMemberLacks = {
      value = (specs.riscv64.hybrid [ "linuxPackages.nope" ]).drvPath;
      mentions = [ "\"linuxPackages.nope\": the native set has no attribute \"linuxPackages.nope\"" ];
    };
  };

  # Bad sample hybrid files (nix/tests/hybrid/); `mentions`: besides the
  # file's name.
  hybridErrors = {
    "bad-version.json" = [ "unsupported version 2" ];
    "no-version.json" = [ "unsupported version null" ];
    "bad-entries.json" = [ "\"entries\" must be an object" ];
    "swaps-not-list.json" = [
      "entries.visionfive2"
      "\"swaps\" must be a list of strings"
    ];
    "swaps-not-strings.json" = [
      "entries.raspberrypi4"
      "\"swaps\" must be a list of strings"
    ];
    "bad-path.json" = [
      "entries.riscv64"
      "not an attribute path"
    ];
    "unknown-key.json" = [
      "entries.beaglebone"
      "unknown key"
    ];
    "bad-reason.json" = [
      "entries.aarch64"
      "\"reason\" must be a string"
    ];
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
  inherit failures swapErrors hybridErrors specErrors;
  count = builtins.length (builtins.attrNames tests);
  names = builtins.attrNames tests;
}
