# crossSetIsNativeOn :: string -> target -> bool
#
# Whether the target's `pkgsCross.<attr>` is the native package set of a
# Linux build host `hostSystem` ("<cpu>-linux"). nixpkgs makes a cross
# system that `lib.systems.equals` the local one native
# (pkgs/top-level/default.nix), e.g. `pkgsCross.aarch64-multiplatform` on
# aarch64-linux. In such a set nothing is cross-compiled, so a swap of the
# cross compiler (overlays/gcc.nix) changes nothing there.
#
# builtins only: a target counts as native when its `config` is the host's
# glibc triple and it is not built with pkgsStatic. Equal configs are a
# necessary condition of `lib.systems.equals`, so this never calls a really
# native set cross; nix/tests/systems-eval.nix compares it with nixpkgs'
# own `lib.systems.equals` for every target and both build hosts.
#
# Eg: crossSetIsNativeOn "aarch64-linux" targets.aarch64 == true
#     crossSetIsNativeOn "x86_64-linux" targets.x86_64-musl == false
hostSystem: target:
let
  cpu = builtins.head (builtins.match "([^-]+)-linux" hostSystem);
in
target.pkgsCross != null && !target.static && target.config == "${cpu}-unknown-linux-gnu"
