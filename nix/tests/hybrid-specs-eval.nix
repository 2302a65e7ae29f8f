# legacyPackages.<system>.hybridSpecs (nix/hybrid-specs.nix), what
# `crossplan hybrid` evaluates, with nixpkgs' real module system and the
# flake's own files: nix/legacy-packages.nix, nix/hybrid-specs.nix,
# nix/nixos-configurations.nix, nix/boards/*, every module of nixosModules
# and nix/hybrid.json. Run by scripts/nix-test.sh with NIXPKGS_LIB, or:
#
#   nix-instantiate --eval --strict --json nix/tests/hybrid-specs-eval.nix \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' -A failures
#
# nixpkgs itself cannot be fetched here, so what stands in for it:
#   - the package sets: `packageSet` below, in nixpkgs' shape, made of
#     builtins.derivation (so drvPaths are real and re-hash as nixpkgs'
#     do): a set for `host` built on `build` (every derivation's `system` is
#     `build`, as in a cross set); linuxPackages is a lib.makeExtensible
#     scope whose kernel is lib.makeOverridable and whose `modules` use it.
#     nixpkgs.legacyPackages.<sys> is the native set of <sys> with
#     pkgsCross.<attr> (host: the target's system, build: <sys>).
#   - lib.nixosSystem: lib.evalModules over the flake's modules and
#     - nixos-stand-ins.nix (the options the flake's modules set);
#     - `nixosStandIn` below: the options the boards set (boot.loader,
#       fileSystems, …; anything), the configuration's `pkgs` made from
#       nixpkgs.hostPlatform/buildPlatform/overlays (nixos/modules/misc/
#       nixpkgs.nix), boot.kernelPackages (default pkgs.linuxPackages, and
#       an `apply` that overrides the kernel inside the scope, as
#       nixos/modules/system/boot/kernel.nix's does: here it adds a feature,
#       so that the configuration's kernel has another drvPath than
#       pkgs.linuxPackages.kernel, which is what the spec must get right),
#       and system.build.toplevel (a derivation of the kernel, the scope's
#       modules, hello and the systemd units; it throws on failed
#       assertions, as nixos/modules/system/activation/top-level.nix does);
#     - the result's `pkgs` and `extendModules` as nixos/lib/eval-config.nix
#       adds them (withExtraAttrs).
# What is real: lib.evalModules, extendModules, types, lib.systems.elaborate,
# lib.fix/extends/makeExtensible/makeOverridable, the flake's files above.
{ lib }:
let
  inherit (lib) mkOption types;
  cupLib = import ../lib { };
  inherit (cupLib) targets;
  inherit (import ./nixos-stand-ins.nix { inherit lib; }) nixosOptions nixpkgsOptions;

  drv = import ./stand-in-drv.nix;

  packageSet =
    {
      host,
      build ? host,
    }:
    self:
    let
      d = drv build;
      tag = if host == build then host else "${host}-on-${build}";
    in
    {
      stdenv.hostPlatform.system = host;
      stdenv.buildPlatform.system = build;
      glibc = d "glibc-${tag}" [ ];
      hello = d "hello-${tag}" [ self.glibc ];
      linuxPackages = lib.recurseIntoAttrs (
        lib.makeExtensible (lp: {
          kernel = lib.makeOverridable (
            {
              features ? { },
            }:
            d "linux-${tag}" [ (builtins.toJSON features) ] // { inherit features; }
          ) { };
          modules = d "kernel-modules-${tag}" [ lp.kernel ];
        })
      );
      # cup/package.nix (the cup module's default package)
      callPackage =
        _file: _args:
        d "cup-${tag}" [ self.glibc ]
        // {
          meta.mainProgram = "cup";
        };
      writeShellScript = name: text: d name [ text ];
    };
  nativeSet = system: lib.fix (packageSet { host = system; });

  crossSetsOn =
    build:
    builtins.listToAttrs (
      map (t: {
        name = t.pkgsCross;
        value = lib.fix (packageSet {
          host = t.system;
          inherit build;
        });
      }) (builtins.filter (t: t.pkgsCross != null && t.system != null) (builtins.attrValues targets))
    );

  nixosStandIn =
    { config, pkgs, ... }:
    let
      anything = description: {
        type = types.lazyAttrsOf types.anything;
        default = { };
        description = "stand-in for ${description}";
      };
    in
    {
      options = {
        boot.loader = mkOption (anything "boot.loader.*");
        boot.kernelParams = mkOption {
          type = types.listOf types.str;
          default = [ ];
          description = "stand-in for boot.kernelParams";
        };
        boot.kernelPackages = mkOption {
          type = types.raw;
          default = pkgs.linuxPackages;
          apply =
            kernelPackages:
            kernelPackages.extend (
              _: super: {
                kernel = super.kernel.override (args: {
                  features = (args.features or { }) // {
                    fromNixos = true;
                  };
                });
              }
            );
          description = "stand-in for boot.kernelPackages (nixos/modules/system/boot/kernel.nix)";
        };
        services.openssh = mkOption (anything "services.openssh");
        system.stateVersion = mkOption {
          type = types.str;
          description = "stand-in for system.stateVersion";
        };
        system.build = mkOption {
          type = types.lazyAttrsOf types.unspecified;
          default = { };
          description = "stand-in for system.build";
        };
      };
      config = {
        _module.args.pkgs = lib.fix (
          lib.foldl' (lib.flip lib.extends) (packageSet {
            host = config.nixpkgs.hostPlatform.system;
            build = config.nixpkgs.buildPlatform.system;
          }) config.nixpkgs.overlays
        );
        system.build.toplevel =
          let
            failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
            kp = config.boot.kernelPackages;
          in
          if failed != [ ] then
            throw "Failed assertions:\n- ${builtins.concatStringsSep "\n- " failed}"
          else
            builtins.derivation {
              name = "nixos-system-${config.networking.hostName}";
              system = pkgs.stdenv.buildPlatform.system;
              builder = "/bin/sh";
              args = [
                "-c"
                "echo $kernel $modules $hello $units > $out"
              ];
              inherit (kp) kernel modules;
              inherit (pkgs) hello;
              units = builtins.toJSON config.systemd.services;
            };
      };
    };

  nixosSystem =
    { modules }:
    let
      withExtraAttrs =
        c:
        c
        // {
          inherit (c._module.args) pkgs;
          extendModules = args: withExtraAttrs (c.extendModules args);
        };
    in
    withExtraAttrs (
      lib.evalModules {
        modules = [
          nixosOptions
          nixpkgsOptions
          nixosStandIn
        ]
        ++ modules;
      }
    );

  inputs = {
    nixpkgs = {
      lib = lib // {
        inherit nixosSystem;
      };
      legacyPackages =
        lib.genAttrs
          [
            "x86_64-linux"
            "aarch64-linux"
          ]
          (system: nativeSet system // { pkgsCross = crossSetsOn system; });
    };
    self = {
      nixosModules = import ../../modules { inherit inputs; };
      nixosConfigurations = import ../nixos-configurations.nix { inherit inputs; };
    };
  };
  configs = inputs.self.nixosConfigurations;
  toplevelOf = name: configs.${name}.config.system.build.toplevel;

  # nix/context.nix's ctx, as far as nix/legacy-packages.nix reads it.
  specsOn =
    system:
    (import ../legacy-packages.nix {
      inherit inputs system cupLib;
      inherit (cupLib) targets;
      pkgs = inputs.nixpkgs.legacyPackages.${system};
      filterAttrs = lib.filterAttrs;
      emulatedSetOf = t: lib.makeExtensible (packageSet { host = t.system; });
      crossSetOf = from: t: from.pkgsCross.${t.pkgsCross};
      crossSets = { };
      emulatedSets = { };
      gccVariants.legacyPackages = { };
    }).hybridSpecs;
  x86 = specsOn "x86_64-linux";
  arm = specsOn "aarch64-linux";
  boardNames = builtins.attrNames cupLib.boards;
  kernel = [ "linuxPackages.kernel" ];

  tests = {
    testKeys = {
      expr = builtins.attrNames x86 == builtins.attrNames arm && lib.all (b: x86 ? ${b}) boardNames;
      expected = true;
    };
    testBoardFields = {
      expr = map (b: {
        system = x86.${b}.system;
        swaps = x86.${b}.swaps;
        candidates = x86.${b}.candidates;
        types = lib.mapAttrs (_: builtins.typeOf) x86.${b};
        derivations = map (f: lib.isDerivation x86.${b}.${f}) [
          "base"
          "allCross"
        ];
      }) boardNames;
      expected =
        map
          (system: {
            inherit system;
            swaps = kernel;
            candidates = kernel;
            types = {
              system = "string";
              base = "set";
              allCross = "set";
              native = "set";
              cross = "set";
              hybrid = "lambda";
              swaps = "list";
              candidates = "list";
              built = "set";
            };
            derivations = [
              true
              true
            ];
          })
          [
            "aarch64-linux"
            "riscv64-linux"
          ];
    };
    # base is the emulated configuration, built natively.
    testBoardBase = {
      expr = map (b: {
        same = x86.${b}.base.drvPath == (toplevelOf "${b}-emulated").drvPath;
        inherit (x86.${b}.base) system;
      }) boardNames;
      expected = [
        {
          same = true;
          system = "aarch64-linux";
        }
        {
          same = true;
          system = "riscv64-linux";
        }
      ];
    };
    # hybrid [ ] is base, derivation for derivation (the module's overlay
    # with no swaps changes nothing), on either build host.
    testBoardNoSwapsIsBase = {
      expr = [
        ((x86.visionfive2.hybrid [ ]).drvPath == x86.visionfive2.base.drvPath)
        ((x86.raspberrypi4.hybrid [ ]).drvPath == x86.raspberrypi4.base.drvPath)
        ((arm.visionfive2.hybrid [ ]).drvPath == arm.visionfive2.base.drvPath)
      ];
      expected = [
        true
        true
        true
      ];
    };
    # The file's swaps give exactly nixosConfigurations.<b>-hybrid, and so
    # does `built` (what `crossplan build --hybrid` builds).
    testBoardFileSwapsAreTheHybridConfiguration = {
      expr = map (b: [
        ((x86.${b}.hybrid x86.${b}.swaps).drvPath == (toplevelOf "${b}-hybrid").drvPath)
        (x86.${b}.built.drvPath == (toplevelOf "${b}-hybrid").drvPath)
      ]) boardNames;
      expected = [
        [
          true
          true
        ]
        [
          true
          true
        ]
      ];
    };
    # allCross is <b>-cross where that is built on this host, else the board
    # cross-built on this host.
    testBoardAllCross = {
      expr = {
        x86 = x86.visionfive2.allCross.drvPath == (toplevelOf "visionfive2-cross").drvPath;
        x86System = x86.visionfive2.allCross.system;
        armSystem = arm.visionfive2.allCross.system;
        armKernel = arm.visionfive2.allCross.kernel.name;
      };
      expected = {
        x86 = true;
        x86System = "x86_64-linux";
        armSystem = "aarch64-linux";
        armKernel = "linux-riscv64-linux-on-aarch64-linux";
      };
    };
    # The kernel in base's closure is native.linuxPackages.kernel — NixOS'
    # override of it, not pkgs.linuxPackages.kernel.
    testBoardNativeKernelIsInBase = {
      expr =
        let
          s = x86.visionfive2;
        in
        {
          inBase = s.base.kernel.drvPath == s.native.linuxPackages.kernel.drvPath;
          modulesInBase = s.base.modules.drvPath == s.native.linuxPackages.modules.drvPath;
          notPkgs = s.base.kernel.drvPath != configs.visionfive2-emulated.pkgs.linuxPackages.kernel.drvPath;
          hello = s.native.hello.drvPath == s.base.hello.drvPath;
        };
      expected = {
        inBase = true;
        modulesInBase = true;
        notPkgs = true;
        hello = true;
      };
    };
    # The kernel the hybrid contains is cross.linuxPackages.kernel: this
    # host's cross kernel with NixOS' override; the scope's modules are
    # rebuilt natively against it.
    testBoardCrossKernelIsInHybrid = {
      expr =
        let
          s = x86.visionfive2;
          h = s.hybrid kernel;
        in
        {
          kernel = h.kernel.drvPath == s.cross.linuxPackages.kernel.drvPath;
          kernelName = h.kernel.name;
          kernelSystem = h.kernel.system;
          overridden = h.kernel.features;
          modules = h.modules.drvPath == s.cross.linuxPackages.modules.drvPath;
          modulesSystem = h.modules.system;
          modulesRebuilt = h.modules.drvPath != s.native.linuxPackages.modules.drvPath;
          helloStays = h.hello.drvPath == s.base.hello.drvPath;
        };
      expected = {
        kernel = true;
        kernelName = "linux-riscv64-linux-on-x86_64-linux";
        kernelSystem = "x86_64-linux";
        overridden.fromNixos = true;
        modules = true;
        modulesSystem = "riscv64-linux";
        modulesRebuilt = true;
        helloStays = true;
      };
    };
    # Other attributes: the cross set is this host's pkgsCross.<attr>.
    testBoardCrossSet = {
      expr = {
        x86 =
          x86.visionfive2.cross.hello.drvPath
          == inputs.nixpkgs.legacyPackages.x86_64-linux.pkgsCross.riscv64.hello.drvPath;
        arm = arm.visionfive2.cross.hello.system;
        rpi = x86.raspberrypi4.cross.hello.name;
        nativeHello = x86.raspberrypi4.native.hello.name;
      };
      expected = {
        x86 = true;
        arm = "aarch64-linux";
        rpi = "hello-aarch64-linux-on-x86_64-linux";
        nativeHello = "hello-aarch64-linux";
      };
    };
    # The hybrid cross-builds on the build host it is evaluated for.
    testBoardHybridOnArm = {
      expr =
        let
          s = arm.visionfive2;
          h = s.hybrid kernel;
        in
        {
          kernel = h.kernel.drvPath == s.cross.linuxPackages.kernel.drvPath;
          inherit (h.kernel) system;
        };
      expected = {
        kernel = true;
        system = "aarch64-linux";
      };
    };
    testBoardOtherSwap = {
      expr =
        let
          s = x86.raspberrypi4;
          h = s.hybrid [ "hello" ];
        in
        {
          hello = h.hello.drvPath == s.cross.hello.drvPath;
          kernelStays = h.kernel.drvPath == s.native.linuxPackages.kernel.drvPath;
          changed = h.drvPath != s.base.drvPath;
        };
      expected = {
        hello = true;
        kernelStays = true;
        changed = true;
      };
    };
    # Targets, through the same files (nix/tests/lib.nix tests them further).
    testTargetNoSwapsIsBase = {
      expr = (x86.riscv64.hybrid [ ]).drvPath == x86.riscv64.base.drvPath;
      expected = true;
    };
  };

  errors = {
    # On a build host of the board's own system nothing is cross-built.
    boardOnItsOwnSystem = {
      value = (arm.raspberrypi4.hybrid kernel).drvPath;
      mentions = [
        "cupcross.hybrid.buildPlatform"
        "aarch64-linux"
      ];
    };
    boardCrossKernelOnItsOwnSystem = {
      value = arm.raspberrypi4.cross.linuxPackages.kernel.drvPath;
      mentions = [ "cupcross.hybrid.buildPlatform" ];
    };
    boardUnknownSwap = {
      value = (x86.visionfive2.hybrid [ "linuxPackages.nope" ]).drvPath;
      mentions = [
        "hybridSpecs.visionfive2.hybrid"
        "linuxPackages.nope"
        "native"
      ];
    };
  };
in
import ./summary.nix {
  inherit tests errors;
  see = "nix-instantiate --eval --strict nix/tests/hybrid-specs-eval.nix --arg lib 'import $NIXPKGS_LIB' -A tests.ATTR.expr";
}
