# nixosModules: each file is a NixOS module applied to this flake's inputs
# (the way nixpkgs' lib.modules.importApply does it), so that its package
# defaults resolve in a configuration outside this repository:
#
#   imports = [ cupcross.nixosModules.binfmt ];
#
# The `key` lets a module be imported twice (builder imports binfmt) without
# declaring its options twice.
{ inputs }:
let
  cupLib = import ../nix/lib { };
  apply = file: {
    key = "cupcross:${toString file}";
    _file = file;
    imports = [ (import file { inherit inputs cupLib; }) ];
  };
  modules = {
    binfmt = apply ./binfmt.nix;
    cup = apply ./cup.nix;
    builder = apply ./builder.nix;
    hybrid = apply ./hybrid.nix;
  };
in
modules
// {
  default = {
    key = "cupcross:modules/default.nix";
    imports = builtins.attrValues modules;
  };
}
