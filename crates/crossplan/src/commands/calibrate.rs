//! `crossplan calibrate`: measure this host's emulation factor per system
//! (the same workload natively and under QEMU) and store it, so `plan` uses
//! it instead of the published defaults. See `crossplan_host::calibrate` for
//! the workload.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use crossplan_host::binfmt::Binfmt;
use crossplan_host::calibrate::{
    self as cal, Runner, Timing, build_go_workload, factor, runner_for, time_builtin, time_user,
};
use crossplan_host::history::{Calibration, HistoryDb, unix_now};
use crossplan_store::settings::default_system;
use serde::Serialize;

use crate::cli::{CalibrateArgs, GlobalArgs};
use crate::engine::EngineError;
use crate::exit;

/// One measured system.
#[derive(Debug, Serialize)]
pub struct Measured {
    pub system: String,
    pub runner: String,
    pub workload: String,
    pub native_cpu_seconds: f64,
    pub native_spawn_seconds: f64,
    pub emulated_cpu_seconds: f64,
    pub emulated_spawn_seconds: f64,
    pub cpu_factor: f64,
    pub spawn_factor: Option<f64>,
    pub factor: f64,
}

pub async fn run(args: CalibrateArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    tokio::task::spawn_blocking(move || run_blocking(args))
        .await
        .context("calibration thread")?
}

fn run_blocking(args: CalibrateArgs) -> anyhow::Result<u8> {
    let host = default_system();
    let systems = if args.systems.is_empty() {
        vec!["riscv64-linux".to_string(), "aarch64-linux".to_string()]
    } else {
        args.systems.clone()
    };
    let mut user: BTreeMap<String, PathBuf> = BTreeMap::new();
    for w in &args.workloads {
        let (s, b) = w
            .split_once('=')
            .ok_or_else(|| EngineError::WorkloadSpec { spec: w.clone() })?;
        user.insert(s.to_string(), PathBuf::from(b));
    }
    if !user.is_empty() && !user.contains_key(&host) {
        return Err(EngineError::WorkloadMissing {
            system: host,
            host: true,
        }
        .into());
    }
    let binfmt = Binfmt::read(&args.binfmt_dir)?;
    let work_dir = args
        .work_dir
        .clone()
        .unwrap_or_else(|| crossplan_host::paths::cache_dir().join("workload"));
    let go = if user.is_empty() {
        Some(cal::find_go().ok_or(EngineError::NoGo)?)
    } else {
        None
    };

    let workload_of = |system: &str| -> anyhow::Result<(PathBuf, String)> {
        if let Some(b) = user.get(system) {
            return Ok((
                b.clone(),
                format!("{} {}", b.display(), args.workload_args.join(" ")),
            ));
        }
        if !user.is_empty() {
            return Err(EngineError::WorkloadMissing {
                system: system.to_owned(),
                host: false,
            }
            .into());
        }
        let go = go.as_deref().context("go")?;
        let b = build_go_workload(go, system, &work_dir)?;
        Ok((
            b,
            format!(
                "built-in Go workload ({} rounds + {} starts)",
                args.rounds,
                cal::SPAWNS
            ),
        ))
    };
    let measure = |runner: &Runner, bin: &std::path::Path| -> anyhow::Result<Timing> {
        if user.is_empty() {
            Ok(time_builtin(runner, bin, args.rounds, args.repeats)?)
        } else {
            Ok(time_user(runner, bin, &args.workload_args, args.repeats)?)
        }
    };

    let (native_bin, _) = workload_of(&host)?;
    let native = measure(&Runner::Direct { via_binfmt: false }, &native_bin)?;
    let mut results = Vec::new();
    for system in &systems {
        if system == &host {
            continue;
        }
        let runner = runner_for(system, &host, &binfmt)?;
        let (bin, workload) = workload_of(system)?;
        eprintln!("calibrating {system} {} …", runner.describe());
        let emulated = measure(&runner, &bin)?;
        if user.is_empty() && emulated.output != native.output {
            return Err(EngineError::Miscomputed {
                emulated: emulated.output.trim().to_owned(),
                native: native.output.trim().to_owned(),
            }
            .into());
        }
        let f = factor(&native, &emulated);
        results.push(Measured {
            system: system.clone(),
            runner: runner.describe(),
            workload,
            native_cpu_seconds: native.cpu_seconds,
            native_spawn_seconds: native.spawn_seconds,
            emulated_cpu_seconds: emulated.cpu_seconds,
            emulated_spawn_seconds: emulated.spawn_seconds,
            cpu_factor: emulated.cpu_seconds / native.cpu_seconds.max(1e-9),
            spawn_factor: (native.spawn_seconds > 0.0)
                .then(|| emulated.spawn_seconds / native.spawn_seconds),
            factor: f,
        });
    }

    if !args.no_store {
        let path = args
            .history
            .clone()
            .unwrap_or_else(crossplan_host::paths::history_db);
        let db = HistoryDb::open(&path)?;
        for r in &results {
            db.set_calibration(&Calibration {
                system: r.system.clone(),
                factor: r.factor,
                native_seconds: r.native_cpu_seconds + r.native_spawn_seconds,
                emulated_seconds: r.emulated_cpu_seconds + r.emulated_spawn_seconds,
                workload: r.workload.clone(),
                measured_at: unix_now(),
            })?;
        }
        eprintln!("stored in {}", path.display());
    }

    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &results).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{:<18} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}  RUNNER",
            "SYSTEM", "NAT CPU", "EMU CPU", "NAT EXEC", "EMU EXEC", "CPU x", "EXEC x", "FACTOR"
        )?;
        for r in &results {
            writeln!(
                out,
                "{:<18} {:>8.3}s {:>8.3}s {:>8.3}s {:>8.3}s {:>7.1} {:>7} {:>7.1}  {}",
                r.system,
                r.native_cpu_seconds,
                r.emulated_cpu_seconds,
                r.native_spawn_seconds,
                r.emulated_spawn_seconds,
                r.cpu_factor,
                r.spawn_factor
                    .map(|f| format!("{f:.1}"))
                    .unwrap_or_else(|| "-".into()),
                r.factor,
                r.runner
            )?;
        }
    }
    Ok(exit::OK)
}
