# crossplan with crane: one `buildDepsOnly`, reused by the package and by
# every check (clippy, nextest), so dependencies build once.
#
# Checked against crane @ b8d87f76: lib/buildDepsOnly.nix, lib/buildPackage.nix,
# lib/cargoClippy.nix (cargoClippyExtraArgs, default "--all-targets"),
# lib/cargoFmt.nix, lib/cargoNextest.nix (cargoNextestExtraArgs),
# lib/cargoAudit.nix (advisory-db, src; runs `cargo audit -n -d <db>`).
{
  lib,
  craneLib,
  installShellFiles,
  stdenv,
  advisory-db,
}:
let
  inherit (lib) fileset;
  root = ../.;
  workspace = (builtins.fromTOML (builtins.readFile ../Cargo.toml)).workspace.package;

  # The Rust workspace and what its tests read; docs and Nix files stay out,
  # so editing them does not rebuild the crates.
  src = fileset.toSource {
    inherit root;
    fileset = fileset.difference (fileset.unions [
      ../Cargo.toml
      ../Cargo.lock
      ../crates
      (fileset.maybeMissing ../.config)
      (fileset.maybeMissing ../deny.toml)
      ../nix/targets.json
      ../nix/hybrid.json
    ]) (fileset.fileFilter (f: f.hasExt "md") root);
  };

  commonArgs = {
    inherit src;
    pname = "crossplan";
    inherit (workspace) version;
    strictDeps = true;
  };

  cargoArtifacts = craneLib.buildDepsOnly commonArgs;
  withArtifacts = commonArgs // {
    inherit cargoArtifacts;
  };
in
{
  inherit src commonArgs cargoArtifacts;

  crossplan = craneLib.buildPackage (
    withArtifacts
    // {
      cargoExtraArgs = "--locked --package crossplan";
      # Tests run in checks.crossplan-nextest, so a lint never blocks a build.
      doCheck = false;
      # Completions and the man page come from the clap definitions
      # (`crossplan completions SHELL`, `crossplan man`); a binary built for
      # another platform cannot run here to print them.
      nativeBuildInputs = [ installShellFiles ];
      postInstall = lib.optionalString (stdenv.buildPlatform.canExecute stdenv.hostPlatform) ''
        installShellCompletion --cmd crossplan \
          --bash <($out/bin/crossplan completions bash) \
          --zsh <($out/bin/crossplan completions zsh) \
          --fish <($out/bin/crossplan completions fish)
        $out/bin/crossplan man > crossplan.1
        installManPage crossplan.1
      '';
      meta = {
        description = "Plan and run cup builds: cross, emulated or pure Go, whichever is cheapest";
        mainProgram = "crossplan";
      };
    }
  );

  checks = {
    crossplan-clippy = craneLib.cargoClippy (
      withArtifacts // { cargoClippyExtraArgs = "--all-targets -- --deny warnings"; }
    );
    crossplan-fmt = craneLib.cargoFmt { inherit src; inherit (commonArgs) pname version; };
    # Tests that talk to a Nix daemon (crates/crossplan/tests/*oracle*, nix_*)
    # cannot run inside the build sandbox; .ci/run runs them outside.
    crossplan-nextest = craneLib.cargoNextest (
      withArtifacts
      // {
        cargoNextestExtraArgs = "-E 'not test(/oracle|nix_/)'";
      }
    );
    crossplan-audit = craneLib.cargoAudit {
      inherit src advisory-db;
      inherit (commonArgs) pname version;
    };
  };
}
