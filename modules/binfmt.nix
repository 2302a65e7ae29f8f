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
    mkOption
    types
    ;
  cfg = config.cupcross.binfmt;
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

    systems = mkOption {
      type = types.listOf types.str;
      readOnly = true;
      default = [ ];
      description = "The systems this module emulates (computed from the options above).";
    };
  };

  config = mkIf cfg.enable {
    cupcross.binfmt.systems =
      cupLib.binfmtSystemsFor pkgs.stdenv.hostPlatform.system cfg.targets
      ++ builtins.filter (s: s != pkgs.stdenv.hostPlatform.system) cfg.extraSystems;
    boot.binfmt.emulatedSystems = cfg.systems;
    boot.binfmt.preferStaticEmulators = mkDefault cfg.preferStaticEmulators;
  };
}
