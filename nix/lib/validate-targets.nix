self:
# validateTargets :: [ string ]
#
# Problems in nix/targets.json, as messages; [ ] when it is consistent. The
# flake's tests assert this is empty; the fields checked are the ones the
# flake relies on.
let
  inherit (self) targets strategyNames;
  required = [
    "pkgsCross"
    "system"
    "config"
    "static"
    "legacyPackages"
    "go"
    "qemu"
    "strategies"
    "pureGoFlags"
    "exeSuffix"
  ];
  problemsOf =
    name: t:
    let
      at = "nix/targets.json: ${name}";
      missing = builtins.filter (f: !(t ? ${f})) required;
    in
    if missing != [ ] then
      [ "${at}: missing fields ${builtins.concatStringsSep ", " missing}" ]
    else
      builtins.filter (m: m != null) [
        (
          if builtins.all (s: builtins.elem s strategyNames) t.strategies then
            null
          else
            "${at}: unknown strategy in ${builtins.toJSON t.strategies}"
        )
        (
          if builtins.elem "cross" t.strategies -> t.pkgsCross != null then
            null
          else
            "${at}: strategy cross needs a pkgsCross attribute"
        )
        (
          if builtins.elem "emulated" t.strategies -> t.system != null then
            null
          else
            "${at}: strategy emulated needs a native system"
        )
        (if builtins.elem "purego" t.strategies then null else "${at}: every target needs purego")
        (
          if builtins.all (k: t.go ? ${k}) [ "GOOS" "GOARCH" "GOARM" ] then
            null
          else
            "${at}: go needs GOOS, GOARCH and GOARM"
        )
      ];
in
builtins.concatLists (builtins.attrValues (builtins.mapAttrs problemsOf targets))
