# devShells.<system>:
#   default      contributors: fenix stable Rust + rust-analyzer, Go, nixfmt,
#                qemu, crossplan
#   cross-<t>    one per target with a cross variant: the target's C cross
#                compiler as CC, GOOS/GOARCH/GOARM, CGO_ENABLED=1, and
#                `run-<t>` to execute a target binary under its emulator
ctx:
let
  inherit (ctx) pkgs lib crossSets crossTargets cupLib;
  inherit (ctx) packages;
in
{
  default = pkgs.mkShell {
    packages = [
      ctx.rustDevToolchain
      pkgs.go
      pkgs.nixfmt
      pkgs.qemu
      packages.crossplan
    ];
  };
}
// lib.mapAttrs' (
  name: target:
  lib.nameValuePair "cross-${name}" (
    crossSets.${name}.callPackage ./cross-shell.nix { inherit cupLib name target; }
  )
) crossTargets
