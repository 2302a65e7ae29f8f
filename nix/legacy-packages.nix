# legacyPackages.<system>: whole package sets, to build anything the way cup
# is built (`nix build .#legacyPackages.x86_64-linux.cross.riscv64.hello`).
#   cross.<t>          pkgsCross.<attr> (pkgsStatic where `static`)
#   emulated.<t>       the target's native package set
#   gcc<N>.cross.<t>   the same cross sets from a separate nixpkgs whose cross
#                      compiler is gcc N (overlays/gcc.nix); the global set keeps
#                      its default gcc and its cache hits. Targets whose
#                      pkgsCross set is native on this host are absent
#                      (nix/gcc-variants.nix).
# Names are built with builtins only (see nix/context.nix).
ctx:
let
  inherit (ctx) crossSets emulatedSets gccVariants;
in
{
  cross = crossSets;
  emulated = emulatedSets;
}
// gccVariants.legacyPackages
