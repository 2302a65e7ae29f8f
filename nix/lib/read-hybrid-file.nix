self:
# readHybridFileWith :: { keys; } -> path -> { version; entries; }
#
# Reads a hybrid file (nix/hybrid.json, written by `crossplan hybrid
# --write`) and checks every entry:
#
#   { "version": 1,
#     "entries": { "<key>": { "swaps": [ "linuxPackages.kernel" ], "reason": "…" } } }
#
# `keys`: the entry names allowed (the flake's own file: board configuration
# names and target names, `self.hybridKeys`), or null for any name (a
# configuration's own file, keyed by its host names). A missing file reads
# as no entries. Anything malformed throws, naming the file and the entry.
# Each returned entry is { swaps; reason; } ("" when the file has none).
#
# lib.readHybridFile is this with `keys = lib.hybridKeys`.
#
# Eg: (readHybridFile ../hybrid.json).entries.visionfive2.swaps == [ "linuxPackages.kernel" ]
{ keys }:
file:
let
  inherit (builtins)
    all
    concatStringsSep
    filter
    isAttrs
    isList
    isString
    mapAttrs
    match
    toJSON
    ;
  name = toString file;
  data =
    if builtins.pathExists file then
      builtins.fromJSON (builtins.readFile file)
    else
      {
        version = 1;
        entries = { };
      };
  version = data.version or null;
  fix = "fix it or regenerate it with `crossplan hybrid <board-or-target> --write`";
  isPath = s: isString s && match "[^.]+(\\.[^.]+)*" s != null;

  check =
    key: entry:
    let
      where = "${name}: entries.${key}";
      swaps = entry.swaps or null;
      reason = entry.reason or "";
    in
    if keys != null && !builtins.elem key keys then
      throw "${where}: unknown key \"${key}\" (expected a board configuration or a target: ${concatStringsSep ", " keys})"
    else if !isAttrs entry then
      throw "${where}: expected an object { \"swaps\": [ … ], \"reason\": \"…\" }, got ${toJSON entry}"
    else if !isList swaps || !all isString swaps then
      throw "${where}: \"swaps\" must be a list of strings (attribute paths such as \"linuxPackages.kernel\"), got ${toJSON swaps}; ${fix}"
    else if !all isPath swaps then
      throw "${where}: \"swaps\" has ${toJSON (filter (s: !isPath s) swaps)}, which is not an attribute path (dot-separated names such as \"linuxPackages.kernel\"); ${fix}"
    else if !isString reason then
      throw "${where}: \"reason\" must be a string, got ${toJSON reason}"
    else
      { inherit swaps reason; };
in
if !isAttrs data then
  throw "${name}: expected a JSON object with \"version\" and \"entries\""
else if version != 1 then
  throw "${name}: unsupported version ${toJSON version} (this flake reads version 1; ${fix})"
else if !isAttrs (data.entries or null) then
  throw "${name}: \"entries\" must be an object mapping board configurations or targets to { \"swaps\", \"reason\" }"
else
  let
    entries = mapAttrs check data.entries;
  in
  # Force every entry, so that a bad entry nobody asked about still fails.
  builtins.deepSeq entries {
    version = 1;
    inherit entries;
  }
