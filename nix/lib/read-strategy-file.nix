self:
# readStrategyFile :: path -> { version; targets; }
#
# Reads nix/strategy.json and checks its shape. A missing file reads as
# `{ version = 1; targets = { }; }`, so every target falls back to its
# default strategy. Anything malformed throws, naming the file.
file:
let
  name = toString file;
  data =
    if builtins.pathExists file then
      builtins.fromJSON (builtins.readFile file)
    else
      {
        version = 1;
        targets = { };
      };
  version = data.version or null;
in
if !builtins.isAttrs data then
  throw "${name}: expected a JSON object with \"version\" and \"targets\""
else if version != 1 then
  throw "${name}: unsupported version ${builtins.toJSON version} (this flake reads version 1; regenerate it with `crossplan plan --write`)"
else if !builtins.isAttrs (data.targets or null) then
  throw "${name}: \"targets\" must be an object mapping target names to { \"strategy\", \"reason\" }"
else
  data
