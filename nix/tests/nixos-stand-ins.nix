# Stand-ins for the NixOS options cupcross' modules read and set, shared by
# nix/tests/modules-eval.nix and nix/tests/hybrid-specs-eval.nix (which say
# what each stands for). Evaluated with nixpkgs' real lib.
{ lib }:
let
  inherit (lib) mkOption types;

  # nixos/lib/binfmt-magics.nix: the systems boot.binfmt.emulatedSystems accepts.
  binfmtMagicNames = [
    "aarch64-linux"
    "aarch64_be-linux"
    "alpha-linux"
    "armv6l-linux"
    "armv7l-linux"
    "i386-linux"
    "i486-linux"
    "i586-linux"
    "i686-linux"
    "i686-windows"
    "loongarch64-linux"
    "mips-linux"
    "mips64-linux"
    "mips64-linuxabin32"
    "mips64el-linux"
    "mips64el-linuxabin32"
    "mipsel-linux"
    "powerpc-linux"
    "powerpc64-linux"
    "powerpc64le-linux"
    "riscv32-linux"
    "riscv64-linux"
    "s390x-linux"
    "sparc-linux"
    "sparc64-linux"
    "wasm32-wasi"
    "wasm64-wasi"
    "x86_64-linux"
    "x86_64-windows"
  ];

  # Declarations of the NixOS options the modules set (see the header).
  nixosOptions = {
    freeformType = types.lazyAttrsOf types.anything;
    options = {
      assertions = mkOption {
        type = types.listOf types.unspecified;
        default = [ ];
        description = "stand-in for nixos/modules/misc/assertions.nix";
      };
      boot.binfmt.emulatedSystems = mkOption {
        type = types.listOf (types.enum binfmtMagicNames);
        default = [ ];
        description = "stand-in for boot.binfmt.emulatedSystems";
      };
      boot.binfmt.preferStaticEmulators = mkOption {
        type = types.bool;
        default = false;
        description = "stand-in for boot.binfmt.preferStaticEmulators";
      };
      environment.systemPackages = mkOption {
        type = types.listOf types.package;
        default = [ ];
        description = "stand-in for environment.systemPackages";
      };
      networking.firewall.allowedTCPPorts = mkOption {
        type = types.listOf types.port;
        default = [ ];
        description = "stand-in for networking.firewall.allowedTCPPorts";
      };
      nix.settings = mkOption {
        type = types.submodule {
          freeformType =
            let
              atom = types.nullOr (
                types.oneOf [
                  types.bool
                  types.int
                  types.float
                  types.str
                  types.path
                  types.package
                ]
              );
            in
            types.attrsOf (types.either atom (types.listOf atom));
          options.trusted-users = mkOption {
            type = types.listOf types.str;
            description = "stand-in for nix.settings.trusted-users";
          };
        };
        default = { };
        description = "stand-in for nix.settings";
      };
      systemd.services = mkOption {
        type = types.attrsOf (types.submodule { freeformType = types.lazyAttrsOf types.anything; });
        default = { };
        description = "stand-in for systemd.services";
      };
    };
    # What nixos/modules/config/nix.nix defines itself.
    config.nix.settings.trusted-users = [ "root" ];
  };

  nixpkgsOptions =
    { config, ... }:
    {
      options.nixpkgs = {
        hostPlatform = mkOption {
          type = types.either types.str types.attrs;
          apply = lib.systems.elaborate;
          description = "stand-in for nixpkgs.hostPlatform";
        };
        buildPlatform = mkOption {
          type = types.either types.str types.attrs;
          default = config.nixpkgs.hostPlatform;
          apply = lib.systems.elaborate;
          description = "stand-in for nixpkgs.buildPlatform";
        };
        overlays = mkOption {
          type = types.listOf (types.addCheck types.unspecified lib.isFunction);
          default = [ ];
          description = "stand-in for nixpkgs.overlays";
        };
      };
      options.networking.hostName = mkOption {
        type = types.str;
        default = "nixos";
        description = "stand-in for networking.hostName";
      };
    };

in
{
  inherit nixosOptions nixpkgsOptions binfmtMagicNames;
}
