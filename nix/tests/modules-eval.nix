# Every module of `nixosModules`, evaluated by nixpkgs' own module system
# (`lib.evalModules` of the real nixpkgs lib), in the situations users hit.
#
# nixpkgs itself cannot be fetched here, but its `lib` is small. Bring in
# nix-community/nixpkgs.lib (not committed; docs/flake.md says how) and run:
#
#   NIXPKGS_LIB=/path/to/nixpkgs.lib/lib bash scripts/nix-test.sh
#   nix-instantiate --eval --strict --json nix/tests/modules-eval.nix \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' -A failures
#
# What is real: lib.evalModules, lib.types, mkIf/mkDefault/mkMerge, the
# read-only and type checks, the option-path error messages. What is a
# stand-in, kept minimal:
#   - `nixosOptions` (nix/tests/nixos-stand-ins.nix) declares only the NixOS options the modules set,
#     with the types NixOS gives them (nixos/modules/system/boot/binfmt.nix:
#     emulatedSystems is a list of enum over the names of
#     nixos/lib/binfmt-magics.nix; nixos/modules/config/nix.nix: nix.settings
#     is a freeform submodule whose trusted-users is a list of str and which
#     NixOS itself sets to [ "root" ]). Everything else is freeform.
#   - `pkgsFor` is the handful of attributes of `pkgs` the modules read:
#     stdenv.{host,build}Platform.system, callPackage, writeShellScript.
#     Their "derivations" are attribute sets with type = "derivation".
#   - `inputs` is the part of cupcross' own flake inputs the modules read:
#     self.packages.<system>.crossplan, and for the hybrid module
#     nixpkgs.legacyPackages.<system>.pkgsCross.<attr>: little package sets
#     made with the real lib.fix/lib.makeExtensible, in nixpkgs' shape
#     (linuxPackages a scope with `extend`, whose `modules` use `kernel`).
#   - `nixpkgsOptions` (nix/tests/nixos-stand-ins.nix) declares the
#     nixpkgs.* options of nixos/modules/misc/nixpkgs.nix the hybrid module
#     reads and sets:
#     hostPlatform/buildPlatform (str or attrs, applied with the real
#     lib.systems.elaborate; buildPlatform defaults to hostPlatform) and
#     overlays (a list of functions); networking.hostName defaults to
#     "nixos" as in NixOS.
#
# Result: { count; failures; names; } like nix/tests/lib.nix, and `errors`
# (names in `errorNames`):
# configurations that must not evaluate, each with the words its error must
# contain (scripts/nix-test.sh forces each one and reads the message).
{ lib }:
let

  fakeDrv =
    name: extra:
    {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    }
    // extra;

  # The part of `pkgs` the modules read.
  pkgsFor =
    {
      host,
      build ? host,
    }:
    {
      stdenv.hostPlatform.system = host;
      stdenv.buildPlatform.system = build;
      # cup's package default: records which platform it was built for, so
      # a cross configuration can be checked to get a cross cup.
      callPackage =
        file: args:
        fakeDrv "cup-${host}" {
          builtFor = host;
          builtOn = build;
          file = baseNameOf (toString file);
          meta.mainProgram = "cup";
        };
      writeShellScript = name: text: fakeDrv name { inherit text; };
    };

  crossplanX86 = fakeDrv "crossplan-x86_64-linux" { };
  inputs.self.packages = {
    x86_64-linux.crossplan = crossplanX86;
    aarch64-linux.crossplan = fakeDrv "crossplan-aarch64-linux" { };
  };

  # A package set of one platform in nixpkgs' shape; `tag` names it.
  packageSet =
    tag: self:
    {
      glibc = fakeDrv "glibc-${tag}" { };
      hello = fakeDrv "hello-${tag}" { uses = self.glibc.name; };
      linuxPackages = lib.recurseIntoAttrs (
        lib.makeExtensible (lp: {
          kernel = fakeDrv "linux-${tag}" { };
          modules = fakeDrv "modules-${tag}-for-${lp.kernel.name}" { };
        })
      );
      # A lib.makeScope scope (overrideScope; its callPackage is unused here).
      xorg = lib.makeScope (_: throw "newScope is not used by this test") (x: {
        libX11 = fakeDrv "libX11-${tag}" { };
        xterm = fakeDrv "xterm-${tag}-with-${x.libX11.name}" { };
      });
    };
  cupTargets = (import ../lib { }).targets;
  crossSetsOn =
    build:
    builtins.listToAttrs (
      map (t: {
        name = t.pkgsCross;
        value = lib.fix (packageSet "${t.pkgsCross}-on-${build}");
      }) (builtins.filter (t: t.pkgsCross != null) (builtins.attrValues cupTargets))
    );
  inputs.nixpkgs.legacyPackages = {
    x86_64-linux.pkgsCross = crossSetsOn "x86_64-linux";
    aarch64-linux.pkgsCross = crossSetsOn "aarch64-linux";
  };
  # The configuration's pkgs as nixpkgs.nix makes it from nixpkgs.overlays.
  pkgsWithOverlays =
    c: tag: lib.fix (lib.foldl' (lib.flip lib.extends) (packageSet tag) c.nixpkgs.overlays);

  modules = import ../../modules { inherit inputs; } // {
    cupLib = import ../lib { };
  };

  inherit (import ./nixos-stand-ins.nix { inherit lib; }) nixosOptions nixpkgsOptions;

  eval =
    {
      host ? "x86_64-linux",
      build ? host,
      imports,
      config ? { },
    }:
    lib.evalModules {
      modules = [
        nixosOptions
        nixpkgsOptions
        { _module.args.pkgs = pkgsFor { inherit host build; }; }
        {
          nixpkgs = {
            hostPlatform = lib.mkDefault host;
          }
          // lib.optionalAttrs (build != host) { buildPlatform = build; };
        }
        {
          _file = "nix/tests/modules-eval.nix (the scenario's configuration)";
          imports = [ config ];
        }
      ]
      ++ imports;
    };
  cfgOf = args: (eval args).config;

  # The systems every target table entry gives, per host (nix/lib computes
  # them; here the expectation is written out).
  allButX86 = [
    "aarch64-linux"
    "armv6l-linux"
    "armv7l-linux"
    "loongarch64-linux"
    "powerpc64le-linux"
    "riscv64-linux"
    "s390x-linux"
  ];
  allButAarch64 = [
    "armv6l-linux"
    "armv7l-linux"
    "i686-linux"
    "loongarch64-linux"
    "powerpc64le-linux"
    "riscv64-linux"
    "s390x-linux"
    "x86_64-linux"
  ];

  failedAssertions = c: map (a: a.message) (builtins.filter (a: !a.assertion) c.assertions);
  throws = v: !(builtins.tryEval (builtins.deepSeq v v)).success;

  # --- configurations -------------------------------------------------------
  binfmtOn = cfgOf {
    imports = [ modules.binfmt ];
    config.cupcross.binfmt.enable = true;
  };
  binfmtOnAarch64 = cfgOf {
    host = "aarch64-linux";
    imports = [ modules.binfmt ];
    config.cupcross.binfmt.enable = true;
  };
  binfmtList = cfgOf {
    imports = [ modules.binfmt ];
    config.cupcross.binfmt = {
      enable = true;
      targets = [
        "riscv64"
        "armv7l"
        "i686"
        "x86_64-musl"
        "windows"
        "darwin"
        "aarch64"
        "aarch64-musl"
      ];
      extraSystems = [
        "x86_64-windows"
        "x86_64-linux"
      ];
      preferStaticEmulators = false;
    };
  };
  # A riscv64 board configuration built on x86_64 (nixpkgs.buildPlatform ≠
  # hostPlatform): emulation is about the board, not the build machine.
  binfmtCross = cfgOf {
    host = "riscv64-linux";
    build = "x86_64-linux";
    imports = [ modules.binfmt ];
    config.cupcross.binfmt.enable = true;
  };
  binfmtUserOverride = cfgOf {
    imports = [ modules.binfmt ];
    config = {
      cupcross.binfmt.enable = true;
      boot.binfmt.preferStaticEmulators = false;
      boot.binfmt.emulatedSystems = [ "wasm32-wasi" ];
    };
  };

  builderOn = cfgOf {
    imports = [ modules.builder ];
    config.cupcross.builder = {
      enable = true;
      trustedUsers = [ "@wheel" ];
    };
  };
  builderOnAarch64 = cfgOf {
    host = "aarch64-linux";
    imports = [ modules.builder ];
    config.cupcross.builder.enable = true;
  };
  builderUserOverrides = cfgOf {
    imports = [ modules.builder ];
    config = {
      cupcross.builder.enable = true;
      cupcross.binfmt.enable = false;
      nix.settings.keep-outputs = false;
    };
  };

  cupSim = cfgOf {
    imports = [ modules.cup ];
    config.services.cup = {
      enable = true;
      sim = true;
    };
  };
  cupSimService = cupSim.systemd.services.cup;
  cupDevice = cfgOf {
    imports = [ modules.cup ];
    config.services.cup = {
      enable = true;
      device = "/dev/ttyUSB0";
      tokenFile = "/run/secrets/cup-token";
      address = "0.0.0.0:9090";
      openFirewall = true;
    };
  };
  cupDeviceService = cupDevice.systemd.services.cup.serviceConfig;
  cupCross = cfgOf {
    host = "riscv64-linux";
    build = "x86_64-linux";
    imports = [ modules.cup ];
    config.services.cup = {
      enable = true;
      device = "/dev/ttyACM0";
      tokenFile = "/run/secrets/cup-token";
    };
  };
  cupNeither = cfgOf {
    imports = [ modules.cup ];
    config.services.cup.enable = true;
  };
  cupBoth = cfgOf {
    imports = [ modules.cup ];
    config.services.cup = {
      enable = true;
      sim = true;
      device = "/dev/ttyUSB0";
    };
  };

  defaultAll = cfgOf {
    # `default` plus two of its own modules again: the keys dedupe them.
    imports = [
      modules.default
      modules.binfmt
      modules.builder
    ];
    config = {
      cupcross.builder.enable = true;
      services.cup = {
        enable = true;
        sim = true;
      };
    };
  };
  # --- hybrid ---
  hybridOn =
    {
      host ? "riscv64-linux",
      build ? host,
      config ? { },
    }:
    cfgOf {
      inherit host build;
      imports = [ modules.hybrid ];
      config = {
        imports = [ config ];
        cupcross.hybrid.enable = true;
      };
    };
  # The board configurations' way: the board's host name is the entry.
  hybridVisionfive2 = hybridOn { config.networking.hostName = "visionfive2"; };
  hybridRaspberrypi4 = hybridOn {
    host = "aarch64-linux";
    config.networking.hostName = "raspberrypi4";
  };
  # The configuration's pkgs with the module's overlays (native: riscv64).
  hybridPkgs = c: pkgsWithOverlays c "native";

  defaultOffEval = eval { imports = [ modules.default ]; };
  defaultOff = defaultOffEval.config;

  # Documentation as nixos-render-docs would read it: every option of ours,
  # with description and a renderable default.
  ourDocs = builtins.filter (
    o: lib.hasPrefix "cupcross." o.name || lib.hasPrefix "services.cup." o.name
  ) (lib.optionAttrSetToDocList defaultOffEval.options);

  tests = {
    # --- each module imported, nothing enabled ---
    testBinfmtOff = {
      expr =
        let
          c = cfgOf { imports = [ modules.binfmt ]; };
        in
        [
          c.cupcross.binfmt.enable
          c.cupcross.binfmt.systems
          c.boot.binfmt.emulatedSystems
          c.boot.binfmt.preferStaticEmulators
        ];
      expected = [
        false
        [ ]
        [ ]
        false
      ];
    };
    testCupOff = {
      expr =
        let
          c = cfgOf { imports = [ modules.cup ]; };
        in
        [
          c.systemd.services
          c.assertions
          c.networking.firewall.allowedTCPPorts
        ];
      expected = [
        { }
        [ ]
        [ ]
      ];
    };
    testBuilderOff = {
      expr =
        let
          c = cfgOf { imports = [ modules.builder ]; };
        in
        [
          c.cupcross.builder.enable
          c.cupcross.binfmt.enable
          c.environment.systemPackages
          c.nix.settings
          c.boot.binfmt.emulatedSystems
        ];
      expected = [
        false
        false
        [ ]
        { trusted-users = [ "root" ]; }
        [ ]
      ];
    };
    testDefaultOff = {
      expr = [
        defaultOff.cupcross.binfmt.systems
        defaultOff.boot.binfmt.emulatedSystems
        defaultOff.systemd.services
        defaultOff.environment.systemPackages
        defaultOff.nix.settings
      ];
      expected = [
        [ ]
        [ ]
        { }
        [ ]
        { trusted-users = [ "root" ]; }
      ];
    };

    # --- binfmt ---
    testBinfmtDefaultTargetsX86 = {
      expr = {
        inherit (binfmtOn.boot.binfmt) emulatedSystems preferStaticEmulators;
        inherit (binfmtOn.cupcross.binfmt) systems;
      };
      expected = {
        emulatedSystems = allButX86;
        preferStaticEmulators = true;
        systems = allButX86;
      };
    };
    testBinfmtX86LeavesOutX86AndI686 = {
      expr = builtins.filter (
        s: s == "x86_64-linux" || s == "i686-linux"
      ) binfmtOn.boot.binfmt.emulatedSystems;
      expected = [ ];
    };
    testBinfmtDefaultTargetsAarch64 = {
      expr = binfmtOnAarch64.boot.binfmt.emulatedSystems;
      expected = allButAarch64;
    };
    testBinfmtAarch64LeavesOutAarch64 = {
      expr = builtins.elem "aarch64-linux" binfmtOnAarch64.boot.binfmt.emulatedSystems;
      expected = false;
    };
    testBinfmtTargetList = {
      expr = {
        inherit (binfmtList.boot.binfmt) emulatedSystems preferStaticEmulators;
      };
      expected = {
        # i686, x86_64-musl: the host runs them; windows, darwin: no Linux
        # system; aarch64 and aarch64-musl share one; x86_64-linux extra:
        # the host's own.
        emulatedSystems = [
          "riscv64-linux"
          "armv7l-linux"
          "aarch64-linux"
          "x86_64-windows"
        ];
        preferStaticEmulators = false;
      };
    };
    testBinfmtCrossBoardEmulatesForTheBoard = {
      expr = [
        (builtins.elem "riscv64-linux" binfmtCross.boot.binfmt.emulatedSystems)
        (builtins.elem "x86_64-linux" binfmtCross.boot.binfmt.emulatedSystems)
        (builtins.elem "i686-linux" binfmtCross.boot.binfmt.emulatedSystems)
      ];
      expected = [
        false
        true
        true
      ];
    };
    testBinfmtUserSettingsWin = {
      expr = {
        inherit (binfmtUserOverride.boot.binfmt) emulatedSystems preferStaticEmulators;
      };
      expected = {
        # A list option merges: the user's systems come on top of ours.
        emulatedSystems = allButX86 ++ [ "wasm32-wasi" ];
        preferStaticEmulators = false;
      };
    };

    # --- builder ---
    testBuilderOn = {
      expr = {
        binfmt = builderOn.cupcross.binfmt.enable;
        emulated = builderOn.boot.binfmt.emulatedSystems;
        static = builderOn.boot.binfmt.preferStaticEmulators;
        packages = map (p: p.name) builderOn.environment.systemPackages;
        settings = builderOn.nix.settings;
      };
      expected = {
        binfmt = true;
        emulated = allButX86;
        static = true;
        packages = [ "crossplan-x86_64-linux" ];
        settings = {
          experimental-features = [
            "nix-command"
            "flakes"
          ];
          keep-outputs = true;
          keep-derivations = true;
          builders-use-substitutes = true;
          # NixOS' own [ "root" ] stays: a list option merges.
          trusted-users = [
            "root"
            "@wheel"
          ];
        };
      };
    };
    testBuilderKeepsRootTrusted = {
      expr = builderOnAarch64.nix.settings.trusted-users;
      expected = [ "root" ];
    };
    testBuilderOnAarch64 = {
      expr = {
        emulated = builderOnAarch64.boot.binfmt.emulatedSystems;
        packages = map (p: p.name) builderOnAarch64.environment.systemPackages;
      };
      expected = {
        emulated = allButAarch64;
        packages = [ "crossplan-aarch64-linux" ];
      };
    };
    testBuilderDefaultsYield = {
      expr = {
        binfmt = builderUserOverrides.cupcross.binfmt.enable;
        emulated = builderUserOverrides.boot.binfmt.emulatedSystems;
        keep-outputs = builderUserOverrides.nix.settings.keep-outputs;
      };
      expected = {
        binfmt = false;
        emulated = [ ];
        keep-outputs = false;
      };
    };

    # --- cup service ---
    testCupSimNoToken = {
      expr = {
        assertions = failedAssertions cupSim;
        inherit (cupSimService) wantedBy after;
        inherit (cupSimService.serviceConfig)
          LoadCredential
          DeviceAllow
          PrivateDevices
          SupplementaryGroups
          DynamicUser
          DevicePolicy
          ;
        ports = cupSim.networking.firewall.allowedTCPPorts;
        users = cupSim ? users;
        script = lib.hasInfix "args+=(--sim)" cupSimService.serviceConfig.ExecStart.text;
        noDevice = lib.hasInfix "--device" cupSimService.serviceConfig.ExecStart.text;
      };
      expected = {
        assertions = [ ];
        wantedBy = [ "multi-user.target" ];
        after = [ "network-online.target" ];
        LoadCredential = [ ];
        DeviceAllow = [ ];
        PrivateDevices = true;
        SupplementaryGroups = [ ];
        DynamicUser = true;
        DevicePolicy = "closed";
        ports = [ ];
        # DynamicUser: the module declares no user or group.
        users = false;
        script = true;
        noDevice = false;
      };
    };
    testCupDeviceWithToken = {
      expr = {
        assertions = failedAssertions cupDevice;
        inherit (cupDeviceService)
          LoadCredential
          DeviceAllow
          PrivateDevices
          SupplementaryGroups
          ;
        ports = cupDevice.networking.firewall.allowedTCPPorts;
        addr = lib.hasInfix "--addr 0.0.0.0:9090" cupDeviceService.ExecStart.text;
        device = lib.hasInfix "--device /dev/ttyUSB0" cupDeviceService.ExecStart.text;
        tokenFromCredential = lib.hasInfix ''--token-file "$CREDENTIALS_DIRECTORY/token"'' cupDeviceService.ExecStart.text;
        tokenNotInScript = lib.hasInfix "/run/secrets" cupDeviceService.ExecStart.text;
      };
      expected = {
        assertions = [ ];
        LoadCredential = [ "token:/run/secrets/cup-token" ];
        DeviceAllow = [ "/dev/ttyUSB0 rw" ];
        PrivateDevices = false;
        SupplementaryGroups = [ "dialout" ];
        ports = [ 9090 ];
        addr = true;
        device = true;
        tokenFromCredential = true;
        tokenNotInScript = false;
      };
    };
    testCupCrossHostGetsCrossCup = {
      expr = {
        inherit (cupCross.services.cup.package) builtFor builtOn file;
        exec = lib.hasInfix "${cupCross.services.cup.package}/bin/cup" cupCross.systemd.services.cup.serviceConfig.ExecStart.text;
        inherit (cupCross.systemd.services.cup.serviceConfig) LoadCredential DeviceAllow;
        assertions = failedAssertions cupCross;
      };
      expected = {
        builtFor = "riscv64-linux";
        builtOn = "x86_64-linux";
        file = "package.nix";
        exec = true;
        LoadCredential = [ "token:/run/secrets/cup-token" ];
        DeviceAllow = [ "/dev/ttyACM0 rw" ];
        assertions = [ ];
      };
    };
    testCupNeedsDeviceOrSim = {
      expr = failedAssertions cupNeither;
      expected = [
        "services.cup: set services.cup.device (e.g. \"/dev/ttyUSB0\") or services.cup.sim = true."
      ];
    };
    testCupDeviceAndSimExclude = {
      expr = failedAssertions cupBoth;
      expected = [
        "services.cup: services.cup.device and services.cup.sim = true exclude each other; unset one."
      ];
    };

    # --- hybrid ---
    testHybridOff = {
      expr =
        let
          c = cfgOf {
            host = "riscv64-linux";
            imports = [ modules.default ];
            config.networking.hostName = "visionfive2";
          };
        in
        {
          inherit (c.cupcross.hybrid) enable entry swaps;
          overlays = c.nixpkgs.overlays;
          assertions = failedAssertions c;
        };
      expected = {
        enable = false;
        entry = "visionfive2";
        # The default is there (read from the file) but unused.
        swaps = [ "linuxPackages.kernel" ];
        overlays = [ ];
        assertions = [ ];
      };
    };
    testHybridSwapsFromFile = {
      expr = {
        inherit (hybridVisionfive2.cupcross.hybrid) entry swaps buildPlatform;
        overlays = builtins.length hybridVisionfive2.nixpkgs.overlays;
        assertions = failedAssertions hybridVisionfive2;
        rpi = hybridRaspberrypi4.cupcross.hybrid.swaps;
      };
      expected = {
        entry = "visionfive2";
        swaps = [ "linuxPackages.kernel" ];
        buildPlatform = "x86_64-linux";
        overlays = 1;
        assertions = [ ];
        rpi = [ "linuxPackages.kernel" ];
      };
    };
    testHybridOverlaySwapsTheKernel = {
      expr =
        let
          p = hybridPkgs hybridVisionfive2;
        in
        {
          kernel = p.linuxPackages.kernel.name;
          # The scope member that uses the kernel follows it (re-hashed).
          modules = p.linuxPackages.modules.name;
          hello = p.hello.name;
          recurse = p.linuxPackages.recurseForDerivations;
        };
      expected = {
        kernel = "linux-riscv64-on-x86_64-linux";
        modules = "modules-native-for-linux-riscv64-on-x86_64-linux";
        hello = "hello-native";
        recurse = true;
      };
    };
    testHybridRaspberrypi4CrossSet = {
      expr = (hybridPkgs hybridRaspberrypi4).linuxPackages.kernel.name;
      expected = "linux-aarch64-multiplatform-on-x86_64-linux";
    };
    testHybridExplicitSwaps = {
      expr =
        let
          c = hybridOn {
            config = {
              networking.hostName = "visionfive2";
              cupcross.hybrid.swaps = [ "hello" ];
            };
          };
          p = hybridPkgs c;
        in
        {
          inherit (c.cupcross.hybrid) swaps;
          hello = p.hello.name;
          kernel = p.linuxPackages.kernel.name;
        };
      expected = {
        swaps = [ "hello" ];
        hello = "hello-riscv64-on-x86_64-linux";
        kernel = "linux-native";
      };
    };
    testHybridSwapInMakeScope = {
      expr =
        let
          p = hybridPkgs (hybridOn {
            config.cupcross.hybrid.swaps = [ "xorg.libX11" ];
          });
        in
        [
          p.xorg.libX11.name
          p.xorg.xterm.name
          (builtins.isFunction p.xorg.overrideScope)
        ];
      expected = [
        "libX11-riscv64-on-x86_64-linux"
        "xterm-native-with-libX11-riscv64-on-x86_64-linux"
        true
      ];
    };
    testHybridEntryAbsentFromFile = {
      expr =
        let
          c = hybridOn { config.networking.hostName = "myboard"; };
          p = hybridPkgs c;
        in
        {
          inherit (c.cupcross.hybrid) entry swaps;
          kernel = p.linuxPackages.kernel.name;
          assertions = failedAssertions c;
        };
      expected = {
        entry = "myboard";
        swaps = [ ];
        kernel = "linux-native";
        assertions = [ ];
      };
    };
    testHybridEntryNull = {
      expr = (hybridOn { config.cupcross.hybrid.entry = null; }).cupcross.hybrid.swaps;
      expected = [ ];
    };
    testHybridTargetEntry = {
      # An entry may be a target name; i686 is not in the shipped file.
      expr =
        (hybridOn {
          host = "i686-linux";
          config.cupcross.hybrid.entry = "i686";
        }).cupcross.hybrid.swaps;
      expected = [ ];
    };
    testHybridOwnFileAnyKey = {
      expr =
        let
          c = hybridOn {
            config = {
              networking.hostName = "beaglebone";
              cupcross.hybrid.file = ./hybrid/unknown-key.json;
            };
          };
        in
        {
          inherit (c.cupcross.hybrid) swaps;
          kernel = (hybridPkgs c).linuxPackages.kernel.name;
        };
      expected = {
        swaps = [ "linuxPackages.kernel" ];
        kernel = "linux-riscv64-on-x86_64-linux";
      };
    };
    testHybridMuslHost = {
      expr =
        (hybridPkgs (hybridOn {
          host = "aarch64-linux";
          config = {
            nixpkgs.hostPlatform = {
              config = "aarch64-unknown-linux-musl";
            };
            cupcross.hybrid.swaps = [ "linuxPackages.kernel" ];
          };
        })).linuxPackages.kernel.name;
      expected = "linux-aarch64-multiplatform-musl-on-x86_64-linux";
    };
    testHybridBuildPlatform = {
      expr =
        (hybridPkgs (hybridOn {
          config = {
            networking.hostName = "visionfive2";
            cupcross.hybrid.buildPlatform = "aarch64-linux";
          };
        })).linuxPackages.kernel.name;
      expected = "linux-riscv64-on-aarch64-linux";
    };
    # Every target a hybrid can use is found from nixpkgs' own elaborated
    # platform (what nixpkgs.hostPlatform holds) of its config.
    testHybridTargetsFromElaboratedPlatforms = {
      expr = builtins.filter (
        n:
        let
          t = cupTargets.${n};
        in
        t.pkgsCross != null
        && t.system != null
        && !t.static
        && modules.cupLib.crossTargetFor (lib.systems.elaborate { inherit (t) config; }) != n
      ) (builtins.attrNames cupTargets);
      expected = [ ];
    };
    testHybridAssertions = {
      expr = map failedAssertions [
        (hybridOn { host = "x86_64-linux"; })
        (hybridOn {
          host = "aarch64-linux";
          config.cupcross.hybrid.buildPlatform = "aarch64-linux";
        })
        (hybridOn { build = "x86_64-linux"; })
      ];
      expected = [
        [
          "cupcross.hybrid: no target of cupcross' nix/targets.json has a pkgsCross set for this configuration's nixpkgs.hostPlatform (x86_64-unknown-linux-gnu); cupcross.hybrid works for aarch64-linux, armv6l-linux, armv7l-linux, i686-linux, loongarch64-linux, powerpc64le-linux, riscv64-linux, s390x-linux"
        ]
        [
          "cupcross.hybrid: cupcross.hybrid.buildPlatform is aarch64-linux, this configuration's own system (nixpkgs.hostPlatform), so nothing would be cross-built; set it to the system of the machine that builds the swapped attributes (e.g. \"x86_64-linux\")"
        ]
        [
          "cupcross.hybrid: this configuration is cross-compiled already (nixpkgs.buildPlatform = x86_64-linux); a hybrid needs the native set as its base: unset nixpkgs.buildPlatform, or cupcross.hybrid.enable"
        ]
      ];
    };

    # --- default: all three together ---
    testDefaultAllThree = {
      expr = {
        emulated = defaultAll.boot.binfmt.emulatedSystems;
        packages = map (p: p.name) defaultAll.environment.systemPackages;
        services = builtins.attrNames defaultAll.systemd.services;
        assertions = failedAssertions defaultAll;
      };
      expected = {
        emulated = allButX86;
        packages = [ "crossplan-x86_64-linux" ];
        services = [ "cup" ];
        assertions = [ ];
      };
    };
    testOptionsDocumented = {
      expr = builtins.filter (o: o.description or null == null || o.description == "") ourDocs;
      expected = [ ];
    };
    testOptionDocsRender = {
      expr =
        let
          names = map (o: o.name) ourDocs;
        in
        [
          (builtins.length names >= 15)
          (throws ourDocs)
          (builtins.elem "cupcross.binfmt.systems" names)
          (builtins.elem "services.cup.tokenFile" names)
          (builtins.elem "cupcross.builder.trustedUsers" names)
          (builtins.all (o: builtins.elem "cupcross.hybrid.${o}" names) [
            "enable"
            "entry"
            "swaps"
            "buildPlatform"
            "file"
          ])
        ];
      expected = [
        true
        false
        true
        true
        true
        true
      ];
    };

    # --- bad values fail (the message is checked by scripts/nix-test.sh) ---
    testBadValuesThrow = {
      expr = builtins.filter (n: !(throws errors.${n}.value)) (builtins.attrNames errors);
      expected = [ ];
    };
    # nix-test.sh splits the JSON list of mentions on spaces and commas.
    testMentionsAreWords = {
      expr = builtins.filter (w: builtins.match "[^ ,\"]+" w == null) (
        builtins.concatMap (e: e.mentions) (builtins.attrValues errors)
      );
      expected = [ ];
    };
  };

  # Configurations that must not evaluate; `mentions`: words the error has.
  errors = {
    hybridNoCrossTarget = {
      value = (hybridPkgs (hybridOn { host = "x86_64-linux"; })).hello;
      mentions = [
        "cupcross.hybrid:"
        "nixpkgs.hostPlatform"
        "x86_64-unknown-linux-gnu"
      ];
    };
    hybridBuildIsHost = {
      value =
        (hybridPkgs (hybridOn {
          host = "aarch64-linux";
          config.cupcross.hybrid.buildPlatform = "aarch64-linux";
        })).hello;
      mentions = [
        "cupcross.hybrid.buildPlatform"
        "aarch64-linux"
      ];
    };
    hybridSwapsNotList = {
      value = (hybridOn { config.cupcross.hybrid.swaps = "linuxPackages.kernel"; }).cupcross.hybrid.swaps;
      mentions = [
        "cupcross.hybrid.swaps"
        "list"
      ];
    };
    hybridEntryNotString = {
      value = (hybridOn { config.cupcross.hybrid.entry = 3; }).cupcross.hybrid.swaps;
      mentions = [ "cupcross.hybrid.entry" ];
    };
    hybridUnknownSwap = {
      value =
        (hybridPkgs (hybridOn {
          config.cupcross.hybrid.swaps = [ "linuxPackages.nope" ];
        })).linuxPackages.nope;
      mentions = [
        "swapOverlay:"
        "linuxPackages.nope"
      ];
    };
    hybridBadFile = {
      value =
        (hybridOn {
          config = {
            networking.hostName = "visionfive2";
            cupcross.hybrid.file = ./hybrid/bad-version.json;
          };
        }).cupcross.hybrid.swaps;
      mentions = [
        "bad-version.json"
        "unsupported"
      ];
    };
    unknownTarget = {
      value =
        (cfgOf {
          imports = [ modules.binfmt ];
          config.cupcross.binfmt = {
            enable = true;
            targets = [ "sparc64" ];
          };
        }).boot.binfmt.emulatedSystems;
      mentions = [
        "cupcross.binfmt.targets"
        "sparc64"
      ];
    };
    enableNotBool = {
      value =
        (cfgOf {
          imports = [ modules.default ];
          config.cupcross.binfmt.enable = "yes";
        }).boot.binfmt.emulatedSystems;
      mentions = [
        "cupcross.binfmt.enable"
        "boolean"
      ];
    };
    targetsNotList = {
      value =
        (cfgOf {
          imports = [ modules.binfmt ];
          config.cupcross.binfmt = {
            enable = true;
            targets = "riscv64";
          };
        }).boot.binfmt.emulatedSystems;
      mentions = [ "cupcross.binfmt.targets" ];
    };
    systemsIsReadOnly = {
      value =
        (cfgOf {
          imports = [ modules.binfmt ];
          config.cupcross.binfmt.systems = [ "riscv64-linux" ];
        }).cupcross.binfmt.systems;
      mentions = [
        "cupcross.binfmt.systems"
        "read-only"
      ];
    };
    trustedUsersNotList = {
      value =
        (cfgOf {
          imports = [ modules.builder ];
          config.cupcross.builder = {
            enable = true;
            trustedUsers = "@wheel";
          };
        }).nix.settings;
      mentions = [ "cupcross.builder.trustedUsers" ];
    };
    builderWithoutCrossplan = {
      value =
        (cfgOf {
          host = "riscv64-linux";
          imports = [ modules.builder ];
          config.cupcross.builder.enable = true;
        }).environment.systemPackages;
      mentions = [
        "cupcross.builder.package"
        "riscv64-linux"
      ];
    };
    cupAddressWithoutPort = {
      value =
        (cfgOf {
          imports = [ modules.cup ];
          config.services.cup = {
            enable = true;
            sim = true;
            address = "localhost";
          };
        }).systemd.services.cup.serviceConfig.ExecStart.text;
      mentions = [ "services.cup.address" ];
    };
    cupDeviceNotString = {
      value =
        (cfgOf {
          imports = [ modules.cup ];
          config.services.cup = {
            enable = true;
            device = 3;
          };
        }).systemd.services.cup.serviceConfig.DeviceAllow;
      mentions = [ "services.cup.device" ];
    };
  };
in
import ./summary.nix {
  inherit tests errors;
  see = "nix-instantiate --eval --strict nix/tests/modules-eval.nix --arg lib 'import $NIXPKGS_LIB' -A tests.ATTR.expr";
}
