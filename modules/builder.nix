# A host that builds cup for every target: binfmt emulation of the target
# systems (static QEMU, F flag, usable in the build sandbox), crossplan to
# choose cross / emulated / purego per target, and Nix settings for it.
#
#   imports = [ cupcross.nixosModules.builder ];
#   cupcross.builder.enable = true;
{ inputs, ... }:
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
  cfg = config.cupcross.builder;
  system = pkgs.stdenv.hostPlatform.system;
in
{
  imports = [ (import ./default.nix { inherit inputs; }).binfmt ];

  options.cupcross.builder = {
    enable = mkEnableOption "a cross-build host for cup (binfmt emulation, crossplan, Nix settings)";

    package = mkOption {
      type = types.package;
      default =
        inputs.self.packages.${system}.crossplan
          or (throw "cupcross.builder.package: cupcross has no crossplan for ${system}; set it, or build it with cupcross.overlays.default");
      defaultText = lib.literalExpression "cupcross.packages.\${system}.crossplan";
      description = "The crossplan package to install.";
    };

    trustedUsers = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "@wheel" ];
      description = ''
        Users allowed to pass substituters and other privileged settings to
        the Nix daemon, e.g. for `crossplan status --substituters …`.
      '';
    };
  };

  config = mkIf cfg.enable {
    cupcross.binfmt.enable = mkDefault true;

    environment.systemPackages = [ cfg.package ];

    nix.settings = {
      experimental-features = [
        "nix-command"
        "flakes"
      ];
      # crossplan estimates from earlier builds: keep their inputs.
      keep-outputs = mkDefault true;
      keep-derivations = mkDefault true;
      # Remote builders fetch from caches themselves instead of over the SSH link.
      builders-use-substitutes = mkDefault true;
      trusted-users = cfg.trustedUsers;
    };
  };
}
