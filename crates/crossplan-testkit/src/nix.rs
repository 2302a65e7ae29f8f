//! Driving Debian's Nix 2.8 (single-user, no sandbox): instantiate graphs,
//! realise some outputs, copy and sign paths, and run the oracle
//! `nix-store --realise --dry-run`, parsing what it prints.

use std::collections::{BTreeMap, BTreeSet, HashSet};
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

/// Nix's `printMissing`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DryRun {
    pub build: BTreeSet<String>,
    pub fetch: BTreeSet<String>,
    pub unknown: BTreeSet<String>,
    /// `X` of `(X MiB download, Y MiB unpacked)`, as printed (`"0.00"` when
    /// nothing is fetched).
    pub download_mib: String,
    pub unpacked_mib: String,
    /// Everything Nix printed on stderr.
    pub stderr: String,
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

/// Parse the stderr of a 2.8 dry run. Sections start with `these N
/// derivations will be built:` / `this derivation will be built:`, `these N
/// paths will be fetched (X MiB download, Y MiB unpacked):` / `this path will
/// be fetched (…):`, `don't know how to build these paths:` / `… this path:`;
/// their entries are indented by two spaces.
pub fn parse_dry_run(stderr: &str) -> io::Result<DryRun> {
    #[derive(Clone, Copy)]
    enum Section {
        None,
        Build,
        Fetch,
        Unknown,
    }
    let mut dr = DryRun {
        download_mib: "0.00".into(),
        unpacked_mib: "0.00".into(),
        stderr: stderr.to_owned(),
        ..DryRun::default()
    };
    let mut section = Section::None;
    for line in stderr.lines() {
        if let Some(path) = line.strip_prefix("  ") {
            let set = match section {
                Section::Build => &mut dr.build,
                Section::Fetch => &mut dr.fetch,
                Section::Unknown => &mut dr.unknown,
                Section::None => continue,
            };
            set.insert(path.trim().to_owned());
            continue;
        }
        section = Section::None;
        let head = line.starts_with("these ") || line.starts_with("this ");
        if head && line.contains(" will be built:") {
            section = Section::Build;
        } else if head && line.contains(" will be fetched") {
            section = Section::Fetch;
            let inner = line
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(i, _)| i)
                .ok_or_else(|| io::Error::other(format!("unexpected fetch line: {line}")))?;
            let nums: Vec<&str> = inner
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter(|s| !s.is_empty())
                .collect();
            if nums.len() != 2 || !inner.contains("MiB download") {
                return Err(io::Error::other(format!("unexpected fetch line: {line}")));
            }
            dr.download_mib = nums[0].to_owned();
            dr.unpacked_mib = nums[1].to_owned();
        } else if line.starts_with("don't know how to build") {
            section = Section::Unknown;
        }
    }
    Ok(dr)
}

/// Format bytes the way `printMissing` does (`%.2f` of MiB).
pub fn mib(bytes: u64) -> String {
    format!("{:.2}", bytes as f64 / (1024.0 * 1024.0))
}

/// Whether `bytes` prints as `printed` MiB with two decimals, as Nix's
/// `%.2f` does. Only an exact tie (`x.xx5` MiB) may round either way.
pub fn mib_matches(bytes: u64, printed: &str) -> bool {
    if mib(bytes) == printed {
        return true;
    }
    let tie = (bytes as u128 * 200).is_multiple_of(1024 * 1024)
        && (bytes as u128 * 200 / (1024 * 1024)) % 2 == 1;
    tie && printed
        .parse::<f64>()
        .is_ok_and(|p| (p - bytes as f64 / 1048576.0).abs() <= 0.0050001)
}

/// A fresh directory for `XDG_CACHE_HOME`.
pub fn fresh_xdg() -> io::Result<tempfile::TempDir> {
    tempfile::tempdir()
}

/// The store directory (`/nix/store`).
pub fn store_dir() -> PathBuf {
    PathBuf::from("/nix/store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plural_and_singular() {
        let text = "warning: foo\nthese 2 derivations will be built:\n  /nix/store/a-x.drv\n  /nix/store/b-y.drv\nthis path will be fetched (1.50 MiB download, 3.25 MiB unpacked):\n  /nix/store/c-z\ndon't know how to build these paths:\n  /nix/store/d-w.drv\n";
        let dr = parse_dry_run(text).expect("parse");
        assert_eq!(dr.build.len(), 2);
        assert_eq!(dr.fetch.len(), 1);
        assert_eq!(dr.unknown.len(), 1);
        assert_eq!(dr.download_mib, "1.50");
        assert_eq!(dr.unpacked_mib, "3.25");
    }

    #[test]
    fn mib_formatting() {
        assert_eq!(mib(0), "0.00");
        assert_eq!(mib(3 * 1024 * 1024 / 2), "1.50");
        // 0.125 MiB is an exact tie: either rounding is Nix-compatible.
        assert!(mib_matches(131072, "0.12"));
        assert!(mib_matches(131072, "0.13"));
        assert!(!mib_matches(131073, "0.12"));
        assert!(!mib_matches(2 * 1024 * 1024, "2.01"));
    }
}
