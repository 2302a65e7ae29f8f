# craneLibFor :: pkgs -> craneLib, with fenix's stable toolchain.
#
# overrideToolchain gets a function so crane can splice it per package set
# (crane lib/default.nix @ b8d87f76 warns when given a plain derivation
# while cross-compiling). fenix toolchains are keyed by the system they run
# on (fenix flake.nix @ 1635a532: packages.<system>.stable.withComponents;
# component names lose their -preview suffix, lib/mk-toolchain.nix).
{ crane, fenix }:
pkgs:
(crane.mkLib pkgs).overrideToolchain (
  p:
  fenix.packages.${p.stdenv.hostPlatform.system}.stable.withComponents [
    "cargo"
    "clippy"
    "rustc"
    "rustfmt"
  ]
)
