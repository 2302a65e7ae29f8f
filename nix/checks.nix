# checks.<system> (`nix flake check -L`):
#   crossplan-{clippy,fmt,nextest,audit}  crane, one buildDepsOnly shared
#   cup-go-test                           `go test ./...` of cup (native)
#   cup-<t>-runs                          the cross-built cup's `selftest`
#                                         under its emulator (QEMU; wine for
#                                         Windows; natively for musl64, i686)
#   nixos-binfmt, nixos-cup               NixOS VM tests (nix/tests/*-vm.nix)
#   gcc-variants                          every cup-<t>-cross-gccN and
#                                         legacyPackages gccN set is built by
#                                         gcc N (evaluated, nothing built)
#   package-<name>, devShell-<name>       everything builds
# Emulated variants are left out: they need binfmt or a remote builder of the
# target's system, which `nix flake check` cannot assume.
ctx:
let
  inherit (ctx)
    pkgs
    lib
    packages
    crossSets
    crossTargets
    system
    ;
  devShells = import ./devshells.nix ctx;
  isX86 = pkgs.stdenv.hostPlatform.isx86_64;

  # Off x86_64: Windows binaries need wine, which nixpkgs builds for x86
  # only, and i686 would run under qemu-i386, which crashes Go binaries
  # (nix/targets.json notes). On x86_64 both run (wine; natively).
  runnable = lib.filterAttrs (
    name: t: isX86 || (t.qemu != "wine" && t.system != "i686-linux")
  ) crossTargets;

  runs =
    name: target:
    let
      set = crossSets.${name};
      cup = packages."cup-${name}-cross";
      emulator = set.stdenv.hostPlatform.emulator set.buildPackages;
    in
    pkgs.runCommand "cup-${name}-runs"
      {
        nativeBuildInputs = [ pkgs.jq ];
      }
      ''
        export HOME=$TMPDIR WINEPREFIX=$TMPDIR/wine WINEDEBUG=-all
        ${emulator} ${cup}/bin/cup${target.exeSuffix} selftest > selftest.json
        cat selftest.json
        jq -e . selftest.json > /dev/null
        cp selftest.json $out
      '';

  # Variants this host builds by itself.
  buildable = lib.filterAttrs (
    name: _: !(lib.hasSuffix "-emulated" name) && builtins.match ".*-gcc[0-9]+" name == null
  ) packages;
in
ctx.crossplanBuild.checks
// {
  cup-go-test = packages.cup.overrideAttrs {
    pname = "cup-go-test";
    # All packages, not just cmd/cup, so every test runs.
    subPackages = [ ];
    doCheck = true;
  };

  nixos-binfmt = pkgs.testers.runNixOSTest (
    import ./tests/binfmt-vm.nix {
      inherit (ctx.inputs.self.nixosModules) binfmt;
      riscv64Cup = packages.cup-riscv64-cross;
    }
  );
  gcc-variants = import ./gcc-variants-check.nix { inherit (pkgs) runCommand; } system ctx.gccVariants.claims;

  nixos-cup = pkgs.testers.runNixOSTest (
    import ./tests/cup-service-vm.nix { inherit (ctx.inputs.self.nixosModules) cup; }
  );
}
// lib.mapAttrs' (name: t: lib.nameValuePair "cup-${name}-runs" (runs name t)) runnable
// lib.mapAttrs' (name: p: lib.nameValuePair "package-${name}" p) buildable
// lib.mapAttrs' (name: s: lib.nameValuePair "devShell-${name}" s) devShells
