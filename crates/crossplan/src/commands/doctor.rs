//! `crossplan doctor`: check what emulated and remote builds need on this
//! host — binfmt_misc, a registration with the F flag per target system,
//! `extra-platforms`, sandbox paths, remote builders, substituters and their
//! keys — and print the fix for each check that fails.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::Path;

use crossplan_host::binfmt::Binfmt;
use crossplan_host::machines::parse_builders;
use crossplan_host::qemu::{find_qemu, qemu_arch};
use crossplan_store::settings::NixSettings;
use serde::Serialize;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::engine::{EngineError, load_settings};
use crate::exit;

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

/// Systems of the target table that need emulation on `host`. A table that
/// is missing or not a JSON object of targets is an error naming the file.
pub fn target_systems(targets_file: &Path, host: &str) -> Result<Vec<String>, EngineError> {
    let bad = |reason: String| EngineError::TargetsFile {
        path: targets_file.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(targets_file).map_err(|e| bad(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("not a JSON object of targets".into()))?;
    let mut set = BTreeSet::new();
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
    Ok(set.into_iter().collect())
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
    let extra: Vec<String> = settings.extra_platforms();
    let sandbox = settings.sandbox();
    let sandbox_paths = settings.sandbox_paths();
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
    let keys = settings.trusted_public_keys();
    let key_names: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.split_once(':').map(|(n, _)| n))
        .collect();
    for url in settings.substituters() {
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
    let settings = load_settings(&args.nix).await?;
    let binfmt = Binfmt::read(&args.binfmt_dir)?;
    let host = settings.system();
    let systems = if args.systems.is_empty() {
        target_systems(&args.targets_file, &host)?
    } else {
        args.systems.clone()
    };
    let machines_spec = match &args.machines {
        Some(p) => format!("@{}", p.display()),
        None => settings.builders().to_string(),
    };
    let mut checks = local_checks(&binfmt, &settings, &machines_spec, &systems);
    if !args.offline {
        checks.extend(substituter_checks(&settings).await);
    }
    let failed = checks.iter().any(|c| c.status == "fail");
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &checks).map_err(std::io::Error::from)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug 9 of issue 9: a missing or corrupt target table is an error
    /// naming the file, not a silent fallback to two systems.
    #[test]
    fn doctor_targets_file_missing_or_corrupt_is_an_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let missing = dir.path().join("targets.json");
        let err = target_systems(&missing, "x86_64-linux").unwrap_err();
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        std::fs::write(&missing, "{\"riscv64\": ").expect("write");
        let err = target_systems(&missing, "x86_64-linux").unwrap_err();
        assert!(
            err.to_string().contains("cannot use the target table"),
            "{err}"
        );
        std::fs::write(
            &missing,
            r#"{"riscv64": {"system": "riscv64-linux", "strategies": ["cross", "emulated"]},
               "i686": {"system": "x86_64-linux", "strategies": ["emulated"]}}"#,
        )
        .expect("write");
        assert_eq!(
            target_systems(&missing, "x86_64-linux").expect("ok"),
            ["riscv64-linux"]
        );
    }
}
