# overlays.default adds cup and crossplan to any nixpkgs:
#   nixpkgs.overlays = [ cupcross.overlays.default ];
# overlays.gcc<N> are documented in ./gcc.nix; apply them to a separate set.
{ inputs }:
{
  default =
    final: prev:
    let
      craneLib = import ../nix/crane-lib.nix { inherit (inputs) crane fenix; } final;
      crossplanBuild = import ../nix/crossplan.nix {
        inherit (final) lib;
        inherit craneLib;
        inherit (inputs) advisory-db;
      };
    in
    {
      cup = final.callPackage ../cup/package.nix { };
      crossplan = crossplanBuild.crossplan;
    };
  gcc13 = import ./gcc.nix "13";
  gcc14 = import ./gcc.nix "14";
  gcc15 = import ./gcc.nix "15";
}
