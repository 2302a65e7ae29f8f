# cupVersion :: string -> string
#
# cup's version from the text of cup/internal/version/version.go, which keeps
# it as one `const Version = "x.y.z"` line (that file says so).
#
# Eg: cupVersion ''const Version = "0.1.0"'' == "0.1.0"
text:
let
  lines = builtins.filter builtins.isString (builtins.split "\n" text);
  matches = builtins.filter (m: m != null) (
    map (builtins.match "[[:space:]]*const[[:space:]]+Version[[:space:]]*=[[:space:]]*\"([^\"]+)\".*") lines
  );
in
if builtins.length matches == 1 then
  builtins.head (builtins.head matches)
else
  throw "cupVersion: expected exactly one `const Version = \"x.y.z\"` line in cup/internal/version/version.go, found ${toString (builtins.length matches)}"
