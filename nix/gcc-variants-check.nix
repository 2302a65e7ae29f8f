# checks.<system>.gcc-variants (see nix/gcc-variants.nix): fails evaluation,
# naming every output whose stdenv compiler is not the gcc its name says;
# otherwise a small derivation listing what was checked.
#
# claims: { "<output path>" = { version = "14"; stdenv = …; }; }
{ runCommand }:
system: claims:
let
  major = v: builtins.head (builtins.splitVersion v);
  found = builtins.mapAttrs (_: c: {
    inherit (c) version;
    cc = c.stdenv.cc.version or "none (stdenv.cc is ${builtins.typeOf (c.stdenv.cc or null)})";
    isGNU = c.stdenv.cc.isGNU or false;
  }) claims;
  wrong = builtins.filter (
    n: !found.${n}.isGNU || major found.${n}.cc != found.${n}.version
  ) (builtins.attrNames found);
  line = n: "${n}: gcc ${found.${n}.cc}";
in
if wrong != [ ] then
  throw (
    "checks.${system}.gcc-variants: ${toString (builtins.length wrong)} output(s) are not built by the gcc their name says:\n"
    + builtins.concatStringsSep "\n" (
      map (n: "  ${n}: stdenv.cc is ${if found.${n}.isGNU then "gcc" else "not gcc"} ${found.${n}.cc}, expected gcc ${found.${n}.version}") wrong
    )
    + "\nFix nix/gcc-variants.nix (or drop the version from gccVersions in nix/context.nix)."
  )
else
  runCommand "gcc-variants"
    {
      checked = builtins.concatStringsSep "\n" (map line (builtins.attrNames found));
      passAsFile = [ "checked" ];
    }
    ''
      cp "$checkedPath" $out
    ''
