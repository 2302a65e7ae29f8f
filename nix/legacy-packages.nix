# legacyPackages.<system>: whole package sets, to build anything the way cup
# is built (`nix build .#legacyPackages.x86_64-linux.cross.riscv64.hello`).
#   cross.<t>          pkgsCross.<attr> (pkgsStatic where `static`)
#   emulated.<t>       the target's native package set
#   hybrid.<t>         that native set with the attribute paths nix/hybrid.json
#                      lists for <t> taken from this host's pkgsCross.<attr>
#                      (lib.swapOverlay; no entry = no swaps); targets with
#                      both a native system and a pkgsCross attr
#   hybridSpecs.<key>  what `crossplan hybrid <key>` evaluates, for every key
#                      of nix/hybrid.json (boards and the hybrid targets):
#                      { system; base; allCross; native; cross; hybrid;
#                      swaps; candidates; } — the interface is documented in
#                      nix/hybrid-specs.nix
#   gcc<N>.cross.<t>   the same cross sets from a separate nixpkgs whose cross
#                      compiler is gcc N (overlays/gcc.nix); the global set keeps
#                      its default gcc and its cache hits. Targets whose
#                      pkgsCross set is native on this host are absent
#                      (nix/gcc-variants.nix).
# Names are built with builtins only (see nix/context.nix).
ctx:
let
  inherit (ctx)
    cupLib
    crossSets
    emulatedSets
    emulatedSetOf
    filterAttrs
    gccVariants
    pkgs
    targets
    ;
  # A target's native set (emulatedSetOf t) with `swaps` taken from this
  # host's pkgsCross.<attr>. pkgs/top-level/stage.nix: `extend` re-imports
  # nixpkgs with one more overlay (appendOverlays), the same as `import
  # nixpkgs { overlays = …; }`.
  hybridSetOf =
    native: t: swaps:
    native.extend (
      cupLib.swapOverlay {
        cross = pkgs.pkgsCross.${t.pkgsCross};
        inherit swaps;
      }
    );
in
{
  cross = crossSets;
  emulated = emulatedSets;
  hybrid = builtins.mapAttrs (name: t: hybridSetOf (emulatedSetOf t) t (cupLib.hybridSwapsFor name)) (
    filterAttrs (_: t: t.system != null && t.pkgsCross != null) targets
  );
  hybridSpecs = import ./hybrid-specs.nix (ctx // { inherit hybridSetOf; });
}
// gccVariants.legacyPackages
