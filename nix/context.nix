# Everything the per-system outputs share: one nixpkgs package set, the
# target package sets, the Rust toolchain and crane. Imported once per build
# host by flake.nix, then handed to nix/packages.nix, nix/checks.nix, …
#
# Checked against: nixpkgs pkgs/top-level/stage.nix (pkgsCross, pkgsStatic),
# pkgs/stdenv/cross/default.nix (cross cc = buildPackages.gcc), crane
# lib/default.nix @ b8d87f76 (mkLib, overrideToolchain), fenix flake.nix and
# lib/mk-toolchain.nix @ 1635a532 (packages.<system>.stable.withComponents).
{ inputs, system }:
let
  inherit (inputs) nixpkgs crane fenix;
  pkgs = nixpkgs.legacyPackages.${system};
  inherit (pkgs) lib;
  cupLib = import ./lib { };
  inherit (cupLib) targets;

  # Attribute names of every per-system output are computed with builtins
  # only: Nix 2.8 resolves `.#lib.targets` by trying
  # `packages.<system>.lib.targets` and `legacyPackages.<system>.lib.targets`
  # first, and must be able to list those sets without fetching nixpkgs.
  filterAttrs =
    pred: set:
    builtins.removeAttrs set (builtins.filter (n: !pred n set.${n}) (builtins.attrNames set));
  has = strategy: filterAttrs (_: t: builtins.elem strategy t.strategies) targets;

  # pkgsCross.<attr>, or its pkgsStatic where targets.json says `static`
  # (x86_64-musl). Taking the set from `from` lets the gcc-version sets reuse it.
  crossSetOf = from: t: if t.static then from.pkgsCross.${t.pkgsCross}.pkgsStatic else from.pkgsCross.${t.pkgsCross};

  # The native package set of a target's own system. legacyPackages where
  # nixpkgs has it (same evaluation, same derivations as everyone else's),
  # otherwise `import nixpkgs` (s390x and loongarch64 are not flakeExposed;
  # musl needs a config, not a system double).
  emulatedSetOf =
    t:
    let
      localSystem = cupLib.localSystemFor t;
    in
    if localSystem ? system && t.legacyPackages && nixpkgs.legacyPackages ? ${localSystem.system} then
      nixpkgs.legacyPackages.${localSystem.system}
    else
      import nixpkgs { inherit localSystem; };

  # gcc versions of the pinned nixpkgs (all-packages.nix defines gcc13/14/15
  # and gccNStdenv = overrideCC gccStdenv buildPackages.gccN). A literal list,
  # not probed from nixpkgs, so that listing the outputs fetches nothing; when
  # a bump drops a version, remove it here.
  gccVersions = [
    "13"
    "14"
    "15"
  ];

  # A separate nixpkgs per gcc version for legacyPackages.gccN: overlays/gcc.nix
  # swaps the compiler of cross stdenvs only, and only in this set, never in
  # `pkgs`. cup's own gcc variants do not use them (nix/gcc-variants.nix).
  gccSets = builtins.listToAttrs (
    map (v: {
      name = v;
      value = import nixpkgs {
        localSystem = system;
        overlays = [ (import ../overlays/gcc.nix v) ];
      };
    }) gccVersions
  );

  crossTargets = has "cross";
  crossSets = builtins.mapAttrs (_: crossSetOf pkgs) crossTargets;

  craneLib = import ./crane-lib.nix { inherit crane fenix; } pkgs;
  ctx = {
    inherit
      inputs
      system
      pkgs
      lib
      cupLib
      targets
      has
      filterAttrs
      crossSetOf
      emulatedSetOf
      gccVersions
      gccSets
      craneLib
      ;
    inherit crossTargets crossSets;
    emulatedTargets = has "emulated";
    gccVariants = import ./gcc-variants.nix {
      inherit
        cupLib
        system
        crossTargets
        crossSets
        crossSetOf
        gccSets
        filterAttrs
        ;
    };
    emulatedSets = builtins.mapAttrs (_: emulatedSetOf) (has "emulated");
    rustDevToolchain = fenix.packages.${system}.stable.withComponents [
      "cargo"
      "clippy"
      "rust-src"
      "rustc"
      "rustfmt"
      "rust-analyzer"
    ];
    crossplanBuild = import ./crossplan.nix {
      inherit lib craneLib;
      inherit (pkgs) installShellFiles stdenv;
      inherit (inputs) advisory-db;
    };
  };
in
# packages once per system; devShells, apps and checks reuse them.
ctx
// {
  packages = import ./packages.nix ctx;
}
