# packages.<system>: cup for the build host, and per target in nix/targets.json
#   cup-<t>-cross       pkgsCross.<attr>.callPackage (pkgsStatic where `static`)
#   cup-<t>-emulated    the target's own native package set (binfmt/QEMU or a
#                       remote builder of that system does the build)
#   cup-<t>-purego      host Go, CGO_ENABLED=0
#   cup-<t>             whichever nix/strategy.json chooses (lib.strategies)
#   cup-<t>-cross-gccN  cross, cup compiled by gcc N (nix/gcc-variants.nix)
# A variant not listed in the target's `strategies` is absent, never broken.
# Names are built with builtins only (see nix/context.nix); values are lazy.
ctx:
let
  inherit (ctx)
    pkgs
    cupLib
    targets
    crossSets
    emulatedSets
    gccVariants
    ;
  cupPackage = ../cup/package.nix;

  variants = name: target: {
    cross = crossSets.${name}.callPackage cupPackage { };
    emulated = emulatedSets.${name}.callPackage cupPackage { };
    purego = pkgs.callPackage ./purego.nix { inherit cupLib name target; };
  };

  perTarget = builtins.concatMap (
    name:
    let
      target = targets.${name};
      v = variants name target;
    in
    [
      {
        name = "cup-${name}";
        value = v.${cupLib.strategies.${name}.strategy};
      }
    ]
    ++ map (s: {
      name = "cup-${name}-${s}";
      value = v.${s};
    }) target.strategies
  ) (builtins.attrNames targets);
in
builtins.listToAttrs perTarget
// gccVariants.packages
// rec {
  cup = pkgs.callPackage cupPackage { };
  crossplan = ctx.crossplanBuild.crossplan;
  default = cup;
}
