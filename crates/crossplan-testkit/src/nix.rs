//! Driving Debian's Nix 2.8 (single-user, no sandbox): instantiate graphs,
//! realise some outputs, copy and sign paths, and run the oracle
//! `nix-store --realise --dry-run`, parsing what it prints.

use std::collections::{BTreeMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Options every Nix invocation gets: no substituters (no internet here),
/// and `nix-command` for the `nix` CLI.
const EXPERIMENTAL: [&str; 2] = ["--extra-experimental-features", "nix-command"];

/// Whether Nix is usable here (binaries present and the store writable).
pub fn available() -> bool {
    Command::new("nix-store")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(mut cmd: Command, what: &str) -> io::Result<Output> {
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(out)
}

/// A Nix command with a private `XDG_CACHE_HOME` and no substituters.
fn nix_command(program: &str, xdg_cache: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("XDG_CACHE_HOME", xdg_cache)
        .env_remove("NIX_CONFIG")
        .args(["--option", "substituters", ""]);
    cmd
}

/// Per-node store paths of an instantiated graph.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NodeInfo {
    pub drv: String,
    pub outs: BTreeMap<String, String>,
}

/// Instantiate `attr` of the expression file and return every node's `.drv`
/// and output paths (the expression's `info` attribute). Writes the `.drv`s.
pub fn instantiate_info(expr: &Path, xdg_cache: &Path) -> io::Result<Vec<NodeInfo>> {
    let mut cmd = nix_command("nix-instantiate", xdg_cache);
    cmd.args([
        "--eval",
        "--strict",
        "--json",
        "--read-write-mode",
        "-A",
        "info",
    ])
    .arg(expr);
    let out = run(cmd, "nix-instantiate --eval info")?;
    serde_json::from_slice(&out.stdout).map_err(io::Error::other)
}

/// `nix-instantiate EXPR -A ATTR`: the `.drv` paths, one per list element.
pub fn instantiate(expr: &Path, attr: &str, xdg_cache: &Path) -> io::Result<Vec<String>> {
    let mut cmd = nix_command("nix-instantiate", xdg_cache);
    cmd.arg(expr).args(["-A", attr]);
    let out = run(cmd, "nix-instantiate")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect())
}

/// Build derivations (all their outputs) without substituters.
pub fn realise(drvs: &[String], xdg_cache: &Path) -> io::Result<()> {
    for chunk in drvs.chunks(2000) {
        let mut cmd = nix_command("nix-store", xdg_cache);
        cmd.args(["--realise", "--max-jobs", "4", "--quiet"])
            .args(chunk);
        run(cmd, "nix-store --realise")?;
    }
    Ok(())
}

/// Which of `paths` are valid in the local store.
pub fn valid_paths(paths: &[String], xdg_cache: &Path) -> io::Result<HashSet<String>> {
    let mut valid = HashSet::new();
    for chunk in paths.chunks(2000) {
        let mut cmd = nix_command("nix-store", xdg_cache);
        cmd.args(["--check-validity", "--print-invalid"])
            .args(chunk);
        let out = run(cmd, "nix-store --check-validity")?;
        let invalid: HashSet<&str> = std::str::from_utf8(&out.stdout)
            .map_err(io::Error::other)?
            .lines()
            .collect();
        valid.extend(
            chunk
                .iter()
                .filter(|p| !invalid.contains(p.as_str()))
                .cloned(),
        );
    }
    Ok(valid)
}

/// `nix-store --generate-binary-cache-key NAME SK PK`; returns the public key.
pub fn generate_key(name: &str, secret: &Path, public: &Path) -> io::Result<String> {
    let mut cmd = Command::new("nix-store");
    cmd.arg("--generate-binary-cache-key")
        .arg(name)
        .arg(secret)
        .arg(public);
    run(cmd, "nix-store --generate-binary-cache-key")?;
    Ok(std::fs::read_to_string(public)?.trim().to_owned())
}

/// Sign local paths with a secret key file, then `nix copy` them (and their
/// closure) to `file://DIR`.
pub fn sign_and_copy(paths: &[String], key: &Path, dir: &Path, xdg: &Path) -> io::Result<()> {
    let mut cmd = nix_command("nix", xdg);
    cmd.args(EXPERIMENTAL)
        .args(["store", "sign", "--key-file"])
        .arg(key)
        .args(paths);
    run(cmd, "nix store sign")?;
    let mut cmd = nix_command("nix", xdg);
    cmd.args(EXPERIMENTAL)
        .args(["copy", "--to"])
        .arg(format!("file://{}", dir.display()))
        .args(paths);
    run(cmd, "nix copy")?;
    Ok(())
}

/// `nix-store --delete PATHS` (fails if something still references them).
pub fn delete(paths: &[String], xdg: &Path) -> io::Result<()> {
    let mut cmd = nix_command("nix-store", xdg);
    cmd.arg("--delete").args(paths);
    run(cmd, "nix-store --delete")?;
    Ok(())
}

pub use crossplan_store::dryrun::{Answer, DryRun, differences, mib, size_matches};

/// [`crossplan_store::dryrun::parse`], with its error as an `io::Error`.
pub fn parse_dry_run(stderr: &str) -> io::Result<DryRun> {
    crossplan_store::dryrun::parse(stderr).map_err(io::Error::other)
}

/// How to run the oracle.
#[derive(Debug, Clone)]
pub struct DryRunOpts {
    /// Space-separated, as in nix.conf.
    pub substituters: String,
    pub trusted_public_keys: String,
    pub require_sigs: bool,
}

/// `nix-store --realise --dry-run TARGETS` (targets: `drv`, `drv!out,dev` or
/// store paths) with a fresh `XDG_CACHE_HOME`.
pub fn dry_run(targets: &[String], opts: &DryRunOpts) -> io::Result<DryRun> {
    let xdg = tempfile::tempdir()?;
    let mut cmd = Command::new("nix-store");
    cmd.env("XDG_CACHE_HOME", xdg.path())
        .env_remove("NIX_CONFIG")
        .args(["--realise", "--dry-run"])
        .args(["--option", "substituters", &opts.substituters])
        .args(["--option", "trusted-public-keys", &opts.trusted_public_keys])
        .args([
            "--option",
            "require-sigs",
            if opts.require_sigs { "true" } else { "false" },
        ])
        .args(targets);
    let out = run(cmd, "nix-store --realise --dry-run")?;
    parse_dry_run(&String::from_utf8_lossy(&out.stderr))
}

/// A fresh directory for `XDG_CACHE_HOME`.
pub fn fresh_xdg() -> io::Result<tempfile::TempDir> {
    tempfile::tempdir()
}

/// The store directory (`/nix/store`).
pub fn store_dir() -> PathBuf {
    PathBuf::from("/nix/store")
}
