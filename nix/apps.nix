# apps.<system>.crossplan: `nix run .#crossplan -- plan`
ctx:
let
  inherit (ctx) packages;
in
rec {
  crossplan = {
    type = "app";
    program = ctx.lib.getExe packages.crossplan;
  };
  default = crossplan;
}
