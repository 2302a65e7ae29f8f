# Build this configuration natively (emulated: binfmt/QEMU or a remote
# builder of its system) but take chosen attributes of its package set
# cross-built on another machine: `crossplan hybrid` (docs/hybrid.md).
#
#   imports = [ cupcross.nixosModules.hybrid ];
#   cupcross.hybrid.enable = true;   # swaps from nix/hybrid.json for this host name
#
# The swaps go in as one overlay (lib.swapOverlay) on the configuration's
# nixpkgs, so everything that depends on a swapped attribute is re-hashed
# and built natively. The kernel gets in through boot.kernelPackages
# (nixos/modules/system/boot/kernel.nix): its default is pkgs.linuxPackages,
# to which NixOS applies `extend (self: super: { kernel =
# super.kernel.override … })`; the override of a cross-built kernel is
# still cross-built, and the scope's members follow it. Those members take
# the scope's `stdenv`, which pkgs/top-level/linux-kernels.nix sets to the
# kernel's (`inherit (kernel) stdenv` in packagesFor, a makeExtensible
# scope): out-of-tree modules of a swapped kernel are built with its cross
# stdenv.
#
# Relies on nixpkgs, read at NixOS/nixpkgs 026ffb9e (nixos/modules/misc/
# nixpkgs.nix) and 00098777 (pkgs/top-level/stage.nix); the flake's pin
# 531670d8 was not available to read:
#   - nixos/modules/misc/nixpkgs.nix: `nixpkgs.overlays` (a list of
#     overlays the configuration's pkgs is imported with, or appended to
#     `nixpkgs.pkgs` with appendOverlays); `nixpkgs.hostPlatform` and
#     `nixpkgs.buildPlatform` are elaborated platforms (lib.systems.elaborate,
#     with `system` and `config`), buildPlatform identical to hostPlatform
#     unless the configuration is cross-compiled.
#   - pkgs/top-level/stage.nix: `pkgsCross.<attr>` is
#     `nixpkgsFun { crossSystem = lib.systems.examples.<attr>; }`: the same
#     nixpkgs, built on the set's own platform for the example platform. So
#     `legacyPackages.<buildPlatform>.pkgsCross.<attr>` builds on
#     buildPlatform for this configuration's system.
{ inputs, cupLib }:
{
  config,
  lib,
  options,
  ...
}:
let
  inherit (lib)
    literalExpression
    literalMD
    mkEnableOption
    mkIf
    mkOption
    types
    ;
  cfg = config.cupcross.hybrid;
  inherit (cupLib) targets;
  systemOf = p: if builtins.isString p then p else p.system;

  hostDefined = options.nixpkgs.hostPlatform.isDefined;
  hostPlatform = config.nixpkgs.hostPlatform;
  hostSystem = systemOf hostPlatform;
  target = cupLib.crossTargetFor hostPlatform;
  # The systems a hybrid works for (each once), for the error message.
  hybridSystems = builtins.attrNames (
    builtins.listToAttrs (
      map (n: {
        name = targets.${n}.system;
        value = null;
      }) (builtins.filter (n: cupLib.crossTargetFor targets.${n} == n) (builtins.attrNames targets))
    )
  );

  # Why the overlay cannot be made, or null.
  problem =
    if !hostDefined then
      "cupcross.hybrid: set nixpkgs.hostPlatform (the system this configuration runs on); the hybrid overlay takes its cross set from it"
    else if target == null then
      "cupcross.hybrid: no target of cupcross' nix/targets.json has a pkgsCross set for this configuration's nixpkgs.hostPlatform (${hostPlatform.config or hostSystem}); cupcross.hybrid works for ${builtins.concatStringsSep ", " hybridSystems}"
    else if cfg.buildPlatform == hostSystem then
      "cupcross.hybrid: cupcross.hybrid.buildPlatform is ${hostSystem}, this configuration's own system (nixpkgs.hostPlatform), so nothing would be cross-built; set it to the system of the machine that builds the swapped attributes (e.g. \"x86_64-linux\")"
    else if systemOf config.nixpkgs.buildPlatform != hostSystem then
      "cupcross.hybrid: this configuration is cross-compiled already (nixpkgs.buildPlatform = ${systemOf config.nixpkgs.buildPlatform}); a hybrid needs the native set as its base: unset nixpkgs.buildPlatform, or cupcross.hybrid.enable"
    else if !(inputs.nixpkgs.legacyPackages ? ${cfg.buildPlatform}) then
      "cupcross.hybrid: cupcross.hybrid.buildPlatform = \"${cfg.buildPlatform}\" has no nixpkgs.legacyPackages (flakeExposed systems only)"
    else
      null;

  overlay =
    if problem != null then
      (_: _: throw problem)
    else
      cupLib.swapOverlay {
        cross = inputs.nixpkgs.legacyPackages.${cfg.buildPlatform}.pkgsCross.${targets.${target}.pkgsCross};
        inherit (cfg) swaps;
      };

  # The flake's own file may only name its boards and targets; a file of
  # the configuration's own is keyed by whatever host names it likes.
  readFile =
    if cfg.file == cupLib.hybridFile then
      cupLib.readHybridFile
    else
      cupLib.readHybridFileWith { keys = null; };
in
{
  options.cupcross.hybrid = {
    enable = mkEnableOption "a hybrid build of this configuration: the native package set, with the attributes of {option}`cupcross.hybrid.swaps` cross-built";

    entry = mkOption {
      type = types.nullOr types.str;
      default = config.networking.hostName;
      defaultText = literalExpression "config.networking.hostName";
      example = "visionfive2";
      description = ''
        The entry of {option}`cupcross.hybrid.file` whose swaps this
        configuration takes by default: a board configuration name
        (`visionfive2`, `raspberrypi4`) or a target of cupcross'
        `nix/targets.json`. null: none.
      '';
    };

    swaps = mkOption {
      type = types.listOf types.str;
      default =
        if cfg.entry == null then [ ] else (readFile cfg.file).entries.${cfg.entry}.swaps or [ ];
      defaultText = literalMD ''
        the `swaps` of entry {option}`cupcross.hybrid.entry` in
        {option}`cupcross.hybrid.file`, or `[ ]` when the file has no such entry
      '';
      example = [
        "linuxPackages.kernel"
        "linux-firmware"
      ];
      description = ''
        Attribute paths of the configuration's package set (`pkgs`) to take
        from `pkgsCross` instead: built on
        {option}`cupcross.hybrid.buildPlatform` with a cross compiler.
        Everything that depends on them is rebuilt natively. Swap
        self-contained things (the kernel, firmware, boot loaders);
        libraries that native programs load mix two C runtimes.
      '';
    };

    buildPlatform = mkOption {
      type = types.str;
      default = "x86_64-linux";
      example = "aarch64-linux";
      description = ''
        The system that builds the swapped attributes: their cross set is
        cupcross' `nixpkgs.legacyPackages.<buildPlatform>.pkgsCross.<attr>`,
        `<attr>` being the `pkgsCross` of the target of `nix/targets.json`
        whose system is this configuration's {option}`nixpkgs.hostPlatform`.
        Must differ from that system.
      '';
    };

    file = mkOption {
      type = types.path;
      default = cupLib.hybridFile;
      defaultText = literalMD "cupcross' own `nix/hybrid.json`";
      description = ''
        The hybrid file the default of {option}`cupcross.hybrid.swaps` is
        read from (written by `crossplan hybrid --write`). A missing file
        has no entries. Entries of cupcross' own file must name its boards
        or targets; another file may name any host.
      '';
    };
  };

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = problem == null;
        message = if problem == null then "" else problem;
      }
    ];
    nixpkgs.overlays = [ overlay ];
  };
}
