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
# It changes nothing in a pkgsCross set that is native on the build host
# (nixpkgs makes a crossSystem that lib.systems.equals the local system
# native, pkgs/top-level/default.nix): pkgsCross.aarch64-multiplatform on
# aarch64-linux keeps the default gcc. legacyPackages.<system>.gccN leaves
# such targets out, and cup's own gcc variants use gccNStdenv instead
# (nix/gcc-variants.nix); checks.<system>.gcc-variants proves both.
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
