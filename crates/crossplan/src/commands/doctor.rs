//! `crossplan doctor`: check what emulated and remote builds need on this
//! host — binfmt_misc, a registration with the F flag per target system,
//! `extra-platforms`, sandbox paths, remote builders, substituters and their
//! keys — and print the fix for each check that fails.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use crossplan_host::binfmt::Binfmt;
use crossplan_host::machines::parse_builders;
use crossplan_host::nixconf::NixSettings;
use crossplan_host::qemu::{find_qemu, qemu_arch};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::commands::plan::host_err;
use crate::exit;

/// Arguments of `crossplan doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Systems to check (default: every emulated target system of the target table).
    #[arg(value_name = "SYSTEM")]
    pub systems: Vec<String>,
    /// The target table whose `system`s are checked when none are given.
    #[arg(long, value_name = "FILE", default_value = "nix/targets.json")]
    pub targets_file: PathBuf,
    /// binfmt_misc directory.
    #[arg(long, value_name = "DIR", default_value = "/proc/sys/fs/binfmt_misc")]
    pub binfmt_dir: PathBuf,
    /// Read this nix.conf (and its includes) instead of asking `nix show-config`.
    #[arg(long, value_name = "FILE")]
    pub nix_conf: Option<PathBuf>,
    /// Read remote builders from this machines file instead of the `builders` setting.
    #[arg(long, value_name = "FILE")]
    pub machines: Option<PathBuf>,
    /// Skip the substituter checks (no network).
    #[arg(long)]
    pub offline: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// `ok`, `warn` or `fail`.
    pub status: &'static str,
    /// What was found.
    pub detail: String,
    /// How to fix it (empty when ok).
    pub fix: String,
}

fn ok(name: impl Into<String>, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        status: "ok",
        detail: detail.into(),
        fix: String::new(),
    }
}

fn bad(
    status: &'static str,
    name: impl Into<String>,
    detail: impl Into<String>,
    fix: impl Into<String>,
) -> Check {
    Check {
        name: name.into(),
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Systems of the target table that need emulation on `host`.
pub fn target_systems(targets_file: &Path, host: &str) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(targets_file) else {
        return vec!["aarch64-linux".into(), "riscv64-linux".into()];
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
        return vec![];
    };
    let mut set = BTreeSet::new();
    if let Some(obj) = v.as_object() {
        for e in obj.values() {
            let emulated = e
                .get("strategies")
                .and_then(|s| s.as_array())
                .is_some_and(|a| a.iter().any(|x| x == "emulated"));
            if let Some(s) = e.get("system").and_then(|s| s.as_str())
                && emulated
                && s != host
                && s.ends_with("-linux")
            {
                set.insert(s.to_string());
            }
        }
    }
    set.into_iter().collect()
}

/// Run every check that needs no network.
pub fn local_checks(
    binfmt: &Binfmt,
    settings: &NixSettings,
    machines_spec: &str,
    systems: &[String],
) -> Vec<Check> {
    let host = settings.system();
    let mut checks = Vec::new();
    let nixos_binfmt = |s: &str| {
        format!(
            "on NixOS: boot.binfmt.emulatedSystems = [ \"{s}\" ]; boot.binfmt.preferStaticEmulators = true; elsewhere: apt-get install qemu-user-static binfmt-support (registers with the F flag)"
        )
    };
    if binfmt.mounted {
        checks.push(ok(
            "binfmt_misc mounted",
            format!(
                "{} ({})",
                binfmt.dir.display(),
                if binfmt.enabled {
                    "enabled"
                } else {
                    "status unknown"
                }
            ),
        ));
    } else {
        checks.push(bad(
            "fail",
            "binfmt_misc mounted",
            format!("{} is not a mounted binfmt_misc", binfmt.dir.display()),
            "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc (NixOS and systemd-binfmt do this when a registration exists)",
        ));
    }
    let extra: Vec<String> = settings.list("extra-platforms");
    let sandbox = settings
        .get("sandbox")
        .is_none_or(|v| v == "true" || v == "relaxed");
    let sandbox_paths = settings.list("sandbox-paths");
    let machines = parse_builders(machines_spec, &host);
    let machines = match machines {
        Ok(m) => m,
        Err(e) => {
            checks.push(bad(
                "fail",
                "remote builders",
                e.to_string(),
                e.hint().unwrap_or_default(),
            ));
            Vec::new()
        }
    };
    for system in systems {
        if system == &host || (host == "x86_64-linux" && system == "i686-linux") {
            checks.push(ok(
                format!("{system}: native"),
                format!("runs natively on {host}: no emulation needed"),
            ));
            continue;
        }
        let builders: Vec<String> = machines
            .iter()
            .filter(|m| m.systems.contains(system))
            .map(|m| {
                format!(
                    "{} (max-jobs {}, speed {})",
                    m.uri, m.max_jobs, m.speed_factor
                )
            })
            .collect();
        let regs = binfmt.for_system(system);
        let name = format!("{system}: binfmt registration");
        match regs.first() {
            None => {
                let qemu = qemu_arch(system)
                    .and_then(|a| find_qemu(a, std::env::var_os("PATH").as_deref()))
                    .map(|p| format!("; {} is on PATH but not registered", p.display()))
                    .unwrap_or_default();
                checks.push(bad(
                    if builders.is_empty() { "fail" } else { "warn" },
                    &name,
                    format!("none{qemu}"),
                    nixos_binfmt(system),
                ));
            }
            Some(r) => {
                if !r.enabled {
                    checks.push(bad(
                        "fail",
                        &name,
                        format!("{} is disabled", r.name),
                        format!("echo 1 > {}", binfmt.dir.join(&r.name).display()),
                    ));
                } else if !r.interpreter.exists() {
                    checks.push(bad(
                        "fail",
                        &name,
                        format!(
                            "{}: interpreter {} does not exist",
                            r.name,
                            r.interpreter.display()
                        ),
                        nixos_binfmt(system),
                    ));
                } else if !r.fix_binary() {
                    checks.push(bad(
                        "warn",
                        &name,
                        format!("{} (flags: {}) has no F flag: the interpreter must be reachable inside the sandbox", r.name, r.flags),
                        "on NixOS: boot.binfmt.preferStaticEmulators = true; elsewhere register a static qemu with flags F (qemu-user-static does)",
                    ));
                } else {
                    checks.push(ok(
                        &name,
                        format!(
                            "{} → {} (flags: {})",
                            r.name,
                            r.interpreter.display(),
                            r.flags
                        ),
                    ));
                }
                if sandbox && !r.fix_binary() {
                    let dir = r
                        .interpreter
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    let covered = sandbox_paths.iter().any(|p| {
                        let src = p
                            .split_once('=')
                            .map_or(p.as_str(), |(_, s)| s)
                            .trim_end_matches('?');
                        !src.is_empty() && r.interpreter.starts_with(src)
                    });
                    if covered {
                        checks.push(ok(
                            format!("{system}: extra-sandbox-paths"),
                            format!("covers {}", r.interpreter.display()),
                        ));
                    } else {
                        checks.push(bad(
                            "fail",
                            format!("{system}: extra-sandbox-paths"),
                            format!("the sandbox cannot see {}", r.interpreter.display()),
                            format!("extra-sandbox-paths = {dir} (NixOS does this with boot.binfmt.emulatedSystems)"),
                        ));
                    }
                }
            }
        }
        if system == &host || extra.contains(system) {
            checks.push(ok(format!("{system}: extra-platforms"), "set"));
        } else {
            checks.push(bad(
                if builders.is_empty() { "fail" } else { "warn" },
                format!("{system}: extra-platforms"),
                format!("{system} is not in extra-platforms ({})", if extra.is_empty() { "empty".into() } else { extra.join(" ") }),
                format!("add `extra-platforms = {system}` to nix.conf (NixOS: boot.binfmt.emulatedSystems does it)"),
            ));
        }
        if builders.is_empty() {
            checks.push(bad(
                "warn",
                format!("{system}: remote builders"),
                "none",
                format!("optional: add `ssh://HOST {system} - JOBS SPEED` to /etc/nix/machines (or `builders`) to build natively"),
            ));
        } else {
            checks.push(ok(
                format!("{system}: remote builders"),
                builders.join(", "),
            ));
        }
    }
    checks
}

/// Substituter reachability and keys: one `nix-cache-info` GET each.
async fn substituter_checks(settings: &NixSettings) -> Vec<Check> {
    let mut checks = Vec::new();
    let keys = settings.list("trusted-public-keys");
    let key_names: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.split_once(':').map(|(n, _)| n))
        .collect();
    for url in settings.list("substituters") {
        let spec = match crossplan_cache::parse_substituters(&url) {
            Ok(s) => s,
            Err(e) => {
                checks.push(bad(
                    "fail",
                    format!("substituter {url}"),
                    e.to_string(),
                    "fix `substituters` in nix.conf",
                ));
                continue;
            }
        };
        let config = crossplan_cache::ClientConfig {
            trusted_keys: crossplan_cache::TrustedKeys::parse(&keys.join(" ")).unwrap_or_default(),
            jobs: 1,
            timeout: std::time::Duration::from_secs(10),
            max_attempts: 1,
            ..Default::default()
        };
        match crossplan_cache::Substituters::open(spec, config).await {
            Ok(_) => checks.push(ok(
                format!("substituter {url}"),
                "reachable (nix-cache-info)",
            )),
            Err(e) => checks.push(bad(
                "fail",
                format!("substituter {url}"),
                format!("unreachable: {e}"),
                "check the network / proxy, or remove it from `substituters`",
            )),
        }
        let host = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split(['/', '?', ':']).next())
            .unwrap_or("");
        let trusted_url = url.contains("trusted=1") || url.contains("trusted=true");
        let has_key = key_names.iter().any(|n| {
            let base = n.rsplit_once('-').map_or(*n, |(b, _)| b);
            !host.is_empty() && (base == host || host.ends_with(base) || base.ends_with(host))
        });
        if trusted_url || has_key || url.starts_with("file://") {
            checks.push(ok(
                format!("substituter {url}: key"),
                "a trusted-public-keys entry matches its name",
            ));
        } else {
            checks.push(bad(
                "warn",
                format!("substituter {url}: key"),
                format!("no key named like {host}-N in trusted-public-keys ({})", key_names.join(" ")),
                "add its public key to `trusted-public-keys` (or extra-trusted-public-keys), else every narinfo is refused",
            ));
        }
    }
    checks
}

pub async fn run(args: DoctorArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let settings = match &args.nix_conf {
        Some(p) => NixSettings::from_file(p).map_err(host_err)?,
        None => tokio::task::spawn_blocking(NixSettings::from_nix)
            .await?
            .map_err(host_err)?,
    };
    let binfmt = Binfmt::read(&args.binfmt_dir).map_err(host_err)?;
    let host = settings.system();
    let systems = if args.systems.is_empty() {
        target_systems(&args.targets_file, &host)
    } else {
        args.systems.clone()
    };
    let machines_spec = match &args.machines {
        Some(p) => format!("@{}", p.display()),
        None => settings
            .get("builders")
            .unwrap_or("@/etc/nix/machines")
            .to_string(),
    };
    let mut checks = local_checks(&binfmt, &settings, &machines_spec, &systems);
    if !args.offline {
        checks.extend(substituter_checks(&settings).await);
    }
    let failed = checks.iter().any(|c| c.status == "fail");
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &checks)?;
        writeln!(out)?;
    } else {
        for c in &checks {
            writeln!(out, "{:<4} {}: {}", c.status, c.name, c.detail)?;
            if !c.fix.is_empty() {
                writeln!(out, "     fix: {}", c.fix)?;
            }
        }
    }
    Ok(if failed { exit::ERROR } else { exit::OK })
}
