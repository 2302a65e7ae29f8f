# Cross-compile with gcc `version` instead of nixpkgs' default.
#
#   import nixpkgs { overlays = [ (import ./overlays/gcc.nix "14") ]; }
#
# A cross stdenv takes its compiler from `buildPackages.gcc`
# (nixpkgs pkgs/stdenv/cross/default.nix), and pkgsCross keeps the overlays
# of the set it comes from (pkgs/top-level/stage.nix). So this replaces `gcc`
# only in the stage whose target differs from its host, i.e. the cross
# compiler; native stdenvs and their cache hits stay as they are.
#
# Apply it to a separate nixpkgs only (nix/context.nix does): in the global
# set every cross package would rebuild.
version: final: prev: {
  gcc =
    if prev.stdenv.hostPlatform.config != prev.stdenv.targetPlatform.config then
      final."gcc${version}"
    else
      prev.gcc;
}
