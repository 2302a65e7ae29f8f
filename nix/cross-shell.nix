# devShells.<system>.cross-<t>, called with the target's pkgsCross set, so
# `stdenv` is the cross stdenv (stdenv.cc = the target's gcc) and
# `buildPackages` runs on the build host.
#
#   nix develop .#cross-riscv64
#   go build ./cmd/cup && run-riscv64 ./cup selftest
{
  lib,
  mkShell,
  stdenv,
  buildPackages,
  cupLib,
  name,
  target,
}:
let
  # nixpkgs lib/systems: emulator pkgs = how `pkgs` runs a hostPlatform
  # binary (an exec wrapper when it can natively, wine for Windows, else
  # qemu-user); nix.dev's cross-compilation tutorial uses `buildPackages`.
  emulator = stdenv.hostPlatform.emulator buildPackages;
  runner = buildPackages.writeShellScriptBin "run-${name}" ''
    exec ${emulator} "$@"
  '';
in
mkShell (
  cupLib.goEnv target
  // {
    name = "cup-cross-${name}";
    nativeBuildInputs = [
      buildPackages.go
      runner
    ];
    CGO_ENABLED = "1";
    # cgo honours $CC; the cc-wrapper setup hook sets it too, this makes it explicit.
    CC = "${stdenv.cc.targetPrefix}cc";
    CXX = "${stdenv.cc.targetPrefix}c++";
    shellHook = ''
      echo "cup cross shell for ${name}: GOOS=$GOOS GOARCH=$GOARCH CC=$CC; run binaries with run-${name}"
    '';
  }
)
