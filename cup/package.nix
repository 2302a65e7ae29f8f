# cup, callPackage-able: `pkgs.callPackage ./cup/package.nix { }` builds it for
# pkgs' host platform; `pkgsCross.riscv64.callPackage` cross-compiles it
# (buildGoModule takes GOOS/GOARCH/GOARM from the spliced Go toolchain).
#
# Checked against nixpkgs pkgs/build-support/go/module.nix (vendorHash = null
# means "no module to download"; `env.CGO_ENABLED`, never a top-level
# CGO_ENABLED next to `env`; subPackages; meta.platforms defaults to
# go.meta.platforms, which leaves Windows out on Go 1.25).
{
  lib,
  buildGoModule,
  # cup has a cgo part; false gives the pure-Go fallbacks.
  cgoEnabled ? true,
}:
let
  inherit (lib) fileset;
  versionFile = ./internal/version/version.go;
in
buildGoModule {
  pname = "cup";
  version = import ../nix/lib/cup-version.nix (builtins.readFile versionFile);

  # Go and C sources only: editing package.nix or a README does not rebuild.
  src = fileset.toSource {
    root = ./.;
    fileset = fileset.difference ./. (
      fileset.unions [
        (fileset.fileFilter (f: f.hasExt "nix" || f.hasExt "md") ./.)
        (fileset.maybeMissing ./cup)
      ]
    );
  };

  # cup has no module dependencies (or vendors them): nothing to download.
  vendorHash = null;

  subPackages = [ "cmd/cup" ];

  env.CGO_ENABLED = if cgoEnabled then "1" else "0";

  ldflags = [
    "-s"
    "-w"
  ];

  meta = {
    description = "cup: a small service with a cgo hot path, built for many targets";
    mainProgram = "cup";
    # Go's own meta.platforms may leave Windows out; cup builds for all of these.
    platforms = lib.platforms.linux ++ lib.platforms.darwin ++ lib.platforms.windows;
  };
}
