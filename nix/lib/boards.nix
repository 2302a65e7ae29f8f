# boards :: { <name> = path; }
#
# The example board configurations: every nix/boards/<name>.nix except
# common.nix (which they import). nixosConfigurations has <name>-cross,
# <name>-emulated and <name>-hybrid for each; the names are also keys of
# nix/hybrid.json.
#
# Eg: boards.visionfive2 == ../boards/visionfive2.nix
let
  dir = ../boards;
  files = builtins.filter (
    f: f != "common.nix" && builtins.match ".*\\.nix" f != null
  ) (builtins.attrNames (builtins.readDir dir));
in
builtins.listToAttrs (
  map (f: {
    name = builtins.head (builtins.match "(.*)\\.nix" f);
    value = dir + "/${f}";
  }) files
)
