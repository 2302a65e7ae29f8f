# The gcc variants: cup built by gcc N, and whole package sets whose cross
# compiler is gcc N, plus the check that each one really is built by gcc N.
#
#   packages.<system>.cup-<t>-cross-gccN
#     cup from the target's cross set, its buildGoModule given that set's
#     `gccNStdenv` (all-packages.nix: gccNStdenv = overrideCC gccStdenv
#     buildPackages.gccN; module.nix takes `stdenv` as a callPackage
#     argument). In a cross set, buildPackages.gccN is the cross gcc N; where
#     the set is native (pkgsCross.aarch64-multiplatform on aarch64-linux) it
#     is the native gcc N. Either way cgo compiles with gcc N, and nothing
#     but cup is rebuilt: every dependency keeps its cache hits.
#   legacyPackages.<system>.gccN.cross.<t>
#     the target's cross set from a separate nixpkgs with overlays/gcc.nix,
#     which swaps the compiler of cross stages only. A set that is native on
#     this host (lib.crossSetIsNativeOn) has no cross stage, so it would keep
#     the default gcc: such targets are left out, never mislabelled.
#   checks.<system>.gcc-variants
#     evaluates `stdenv.cc.version` of every variant (the cc-wrapper's
#     version is its gcc's: build-support/cc-wrapper/default.nix
#     `version = getVersion cc`) and of every gcc set, without building
#     anything, and fails evaluation naming each output whose major version
#     is not N.
#
# builtins only for the names (see nix/context.nix); values are lazy.
{
  cupLib,
  system,
  crossTargets,
  crossSets,
  crossSetOf,
  gccSets,
  filterAttrs,
}:
let
  cupPackage = ../cup/package.nix;
  versions = builtins.attrNames gccSets;

  # Targets whose legacyPackages gcc set is a real cross set on this host.
  setTargets = filterAttrs (_: t: !cupLib.crossSetIsNativeOn system t) crossTargets;

  cupWith =
    v: name:
    let
      set = crossSets.${name};
    in
    set.callPackage cupPackage {
      buildGoModule = set.buildGoModule.override { stdenv = set."gcc${v}Stdenv"; };
    };
in
rec {
  packages = builtins.listToAttrs (
    builtins.concatMap (
      v:
      map (name: {
        name = "cup-${name}-cross-gcc${v}";
        value = cupWith v name;
      }) (builtins.attrNames crossTargets)
    ) versions
  );

  legacyPackages = builtins.listToAttrs (
    map (v: {
      name = "gcc${v}";
      value.cross = builtins.mapAttrs (_: crossSetOf gccSets.${v}) setTargets;
    }) versions
  );

  # What the check compares: output path -> { version = N; stdenv; }.
  claims =
    builtins.listToAttrs (
      builtins.concatMap (
        v:
        map (name: {
          name = "packages.${system}.cup-${name}-cross-gcc${v}";
          value = {
            version = v;
            inherit (packages."cup-${name}-cross-gcc${v}") stdenv;
          };
        }) (builtins.attrNames crossTargets)
      ) versions
    )
    // builtins.listToAttrs (
      builtins.concatMap (
        v:
        map (name: {
          name = "legacyPackages.${system}.gcc${v}.cross.${name}";
          value = {
            version = v;
            inherit (legacyPackages."gcc${v}".cross.${name}) stdenv;
          };
        }) (builtins.attrNames setTargets)
      ) versions
    );
}
