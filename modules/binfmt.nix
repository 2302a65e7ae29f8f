# Run the binaries of cup's targets (and build their emulated variants) on
# this host, through binfmt_misc and QEMU user mode.
#
#   imports = [ cupcross.nixosModules.binfmt ];
#   cupcross.binfmt.enable = true;
#
# This only chooses systems and flags; registrations, extra-platforms and the
# sandbox paths are wired by nixpkgs' own module,
# nixos/modules/system/boot/binfmt.nix (read at 001fdd68): it asserts that no
# emulated system is the host's own, sets `nix.settings.extra-platforms`
# (plus i686-linux on x86_64) and `extra-sandbox-paths`, and with
# preferStaticEmulators registers pkgsStatic's qemu with the F flag.
{ cupLib, ... }:
{
  config,
  lib,
  pkgs,
  ...
}:
let
  inherit (lib)
    mkDefault
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    types
    ;
  cfg = config.cupcross.binfmt;
  hostSystem = pkgs.stdenv.hostPlatform.system;
  targetNames = builtins.attrNames cupLib.targets;
in
{
  options.cupcross.binfmt = {
    enable = mkEnableOption "binfmt_misc emulation of cup's target systems (QEMU user mode)";

    targets = mkOption {
      type = types.listOf (types.enum targetNames);
      default = targetNames;
      defaultText = lib.literalMD "every target in cupcross' `nix/targets.json`";
      example = [
        "riscv64"
        "armv7l"
      ];
      description = ''
        Targets (names from cupcross' `nix/targets.json`) whose system this
        host should emulate. Their Linux systems are passed to
        {option}`boot.binfmt.emulatedSystems`, leaving out the host's own
        system and, on x86_64, i686-linux (the CPU runs it natively).
        Targets without a Linux system (windows, darwin) are ignored.
      '';
    };

    extraSystems = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "x86_64-windows" ];
      description = ''
        More systems for {option}`boot.binfmt.emulatedSystems`, e.g.
        `x86_64-windows` to run Windows binaries under wine.
      '';
    };

    preferStaticEmulators = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Register statically linked emulators with the kernel's F flag
        (sets {option}`boot.binfmt.preferStaticEmulators`). The kernel then
        opens the emulator once, when the registration is loaded, so it also
        works inside the Nix build sandbox and other chroots without the
        emulator's store path in them. The static QEMU is built from
        `pkgsStatic` (expect a build: Hydra does not cache it).
      '';
    };

    # Read-only, so no `default`: nixpkgs' lib/modules.nix counts a default
    # as one definition (and a `mkIf` as one even when its condition is
    # false), and a read-only option must have exactly one. The single
    # definition is below, outside `mkIf`, so the value is [ ] when off.
    systems = mkOption {
      type = types.listOf types.str;
      readOnly = true;
      description = "The systems this module emulates (computed from the options above; [ ] when disabled).";
    };
  };

  config = mkMerge [
    {
      cupcross.binfmt.systems =
        if cfg.enable then
          cupLib.binfmtSystemsFor hostSystem cfg.targets
          ++ builtins.filter (s: s != hostSystem) cfg.extraSystems
        else
          [ ];
    }
    (mkIf cfg.enable {
      boot.binfmt.emulatedSystems = cfg.systems;
      boot.binfmt.preferStaticEmulators = mkDefault cfg.preferStaticEmulators;
    })
  ];
}
