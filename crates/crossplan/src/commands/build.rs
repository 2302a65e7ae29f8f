//! `crossplan build`: plan, then `nix build` the chosen variant, showing
//! progress from `--log-format internal-json`, and record how long each
//! derivation took in the history database so later estimates improve.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead as _, BufReader, IsTerminal, Write as _};
use std::process::Stdio;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use crossplan_host::history::HistoryDb;
use crossplan_plan::PlanOptions;
use crossplan_plan::format::duration;

use crate::cli::GlobalArgs;
use crate::commands::plan::{Context, PlanCommon, host_err, nix, select_targets};
use crate::exit::{self, Hinted};

/// Log lines kept per build for the failure report.
const LOG_TAIL: usize = 25;

/// Arguments of `crossplan build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Targets to build (names in the flake's `lib.targets`).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub common: PlanCommon,
    /// Plan and print the `nix build` command, but do not run it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Nix's activity types (src/libutil/logging.hh).
const ACT_BUILD: u64 = 105;
const ACT_SUBSTITUTE: u64 = 108;
/// Nix's result types.
const RES_BUILD_LOG_LINE: u64 = 101;

#[derive(Default)]
struct State {
    builds_done: usize,
    downloads_done: usize,
    running: HashMap<u64, (String, Instant)>,
    substituting: HashMap<u64, ()>,
    logs: HashMap<String, VecDeque<String>>,
    errors: Vec<String>,
    durations: Vec<(String, f64)>,
}

pub async fn run(args: BuildArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let flake = args.common.flake.clone();
    let targets = args.targets.clone();
    let sets = tokio::task::spawn_blocking(move || select_targets(&flake, &targets))
        .await
        .context("reading lib.targets")??;
    let ctx = Context::load(&args.common).await?;
    let options = PlanOptions {
        allow_purego: args.common.allow_purego,
    };
    for (name, variants) in sets {
        let plan = ctx.plan(&name, variants, &options).await?;
        let Some(choice) = plan.decision.choice.clone() else {
            return Err(Hinted::new(
                format!(
                    "no variant of {name} can be built here: {}",
                    plan.decision.reason
                ),
                "run `crossplan doctor`, or pass --allow-purego",
            )
            .into());
        };
        let idx = plan
            .variants
            .iter()
            .position(|v| v.label == choice)
            .context("chosen variant")?;
        let installable = plan.variants[idx].installable.clone();
        let est = &plan.estimates[idx];
        eprintln!("{name}: {choice} ({})", plan.decision.reason);
        if args.dry_run {
            println!(
                "nix build {installable}   # {} builds, ~{}",
                est.builds,
                duration(est.total_seconds)
            );
            continue;
        }
        // drv path → (name, system) for recording
        let graph: BTreeMap<String, (String, String)> = plan.missing[idx]
            .build
            .iter()
            .map(|(p, b)| (p.clone(), (b.name.clone(), b.system.clone())))
            .collect();
        let history_path = ctx.history_path.clone();
        let host = ctx.host.clone();
        let options = nix_options(&args.common.cache);
        let expected = Expected {
            builds: est.builds,
            fetches: est.fetches,
            seconds: est.total_seconds,
        };
        let result = tokio::task::spawn_blocking(move || {
            run_nix_build(
                &installable,
                &options,
                &graph,
                &expected,
                &history_path,
                &host,
            )
        })
        .await
        .context("nix build thread")??;
        if result != exit::OK {
            return Ok(result);
        }
    }
    Ok(exit::OK)
}

/// The cache settings overridden on crossplan's command line, as
/// `nix build --option` pairs: the build must use the caches the plan was
/// made against.
fn nix_options(cache: &crate::commands::status::CacheArgs) -> Vec<(&'static str, String)> {
    let mut options = Vec::new();
    if let Some(subs) = &cache.substituters {
        options.push(("substituters", subs.clone()));
    }
    if let Some(keys) = &cache.trusted_public_keys {
        options.push(("trusted-public-keys", keys.clone()));
    }
    if let Some(require) = cache.require_sigs {
        options.push(("require-sigs", require.to_string()));
    }
    options
}

/// What the plan expects a build to do, for the progress display.
struct Expected {
    builds: usize,
    fetches: usize,
    seconds: f64,
}

fn run_nix_build(
    installable: &str,
    options: &[(&str, String)],
    graph: &BTreeMap<String, (String, String)>,
    expected: &Expected,
    history_path: &std::path::Path,
    host: &crossplan_plan::HostView,
) -> anyhow::Result<u8> {
    let start = Instant::now();
    let mut cmd = nix();
    cmd.args(["build", "--no-link", "-L", "--log-format", "internal-json"]);
    for (name, value) in options {
        cmd.args(["--option", name, value]);
    }
    let mut child = cmd
        .arg(installable)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running `nix build {installable}`"))?;
    let stderr = child.stderr.take().context("nix build stderr")?;
    let tty = std::io::stderr().is_terminal();
    let mut st = State::default();
    for line in BufReader::new(stderr).lines() {
        let line = line.context("reading nix build output")?;
        let Some(json) = line.strip_prefix("@nix ") else {
            st.errors.push(line);
            continue;
        };
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        handle(&v, &mut st);
        if tty {
            let current = st
                .running
                .values()
                .next()
                .map(|(d, _)| graph.get(d).map_or(d.as_str(), |(n, _)| n.as_str()))
                .unwrap_or("");
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[K[{}/{} built, {} running, {} left | {}/{} fetched] {} | {} / ~{}",
                st.builds_done,
                expected.builds,
                st.running.len(),
                expected
                    .builds
                    .saturating_sub(st.builds_done + st.running.len()),
                st.downloads_done,
                expected.fetches,
                current,
                duration(start.elapsed().as_secs_f64()),
                duration(expected.seconds)
            );
            let _ = err.flush();
        }
    }
    let status = child.wait().context("waiting for nix build")?;
    if tty {
        eprint!("\r\x1b[K");
    }
    // record what finished, even on failure
    match HistoryDb::open(history_path) {
        Ok(db) => {
            for (drv, secs) in &st.durations {
                if let Some((name, system)) = graph.get(drv) {
                    let emulated = !host.runs_natively(system);
                    db.record(name, system, emulated, *secs).map_err(host_err)?;
                }
            }
        }
        Err(e) => tracing::warn!("cannot record build times: {e}"),
    }
    let elapsed = start.elapsed().as_secs_f64();
    if status.success() {
        eprintln!(
            "built {} derivations, fetched {} paths in {} (estimated ~{})",
            st.builds_done,
            st.downloads_done,
            duration(elapsed),
            duration(expected.seconds)
        );
        return Ok(exit::OK);
    }
    let failed = st.errors.iter().find_map(|e| {
        e.split('\'')
            .find(|p| p.ends_with(".drv"))
            .map(str::to_string)
    });
    eprintln!("nix build {installable} failed after {}", duration(elapsed));
    for e in st
        .errors
        .iter()
        .rev()
        .take(10)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        eprintln!("  {e}");
    }
    if let Some(drv) = failed {
        eprintln!("failing derivation: {drv}");
        if let Some(tail) = st.logs.get(&drv) {
            eprintln!("last {} log lines:", tail.len());
            for l in tail {
                eprintln!("  | {l}");
            }
        }
    }
    Ok(exit::ERROR)
}

fn handle(v: &serde_json::Value, st: &mut State) {
    let action = v["action"].as_str().unwrap_or("");
    let id = v["id"].as_u64().unwrap_or(0);
    match action {
        "start" => match v["type"].as_u64() {
            Some(ACT_BUILD) => {
                let drv = v["fields"][0].as_str().unwrap_or("").to_string();
                st.running.insert(id, (drv, Instant::now()));
            }
            Some(ACT_SUBSTITUTE) => {
                st.substituting.insert(id, ());
            }
            _ => {}
        },
        "stop" => {
            if let Some((drv, t)) = st.running.remove(&id) {
                st.builds_done += 1;
                st.durations.push((drv, t.elapsed().as_secs_f64()));
            } else if st.substituting.remove(&id).is_some() {
                st.downloads_done += 1;
            }
        }
        "result" if v["type"].as_u64() == Some(RES_BUILD_LOG_LINE) => {
            if let (Some((drv, _)), Some(line)) = (st.running.get(&id), v["fields"][0].as_str()) {
                let tail = st.logs.entry(drv.clone()).or_default();
                if tail.len() == LOG_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line.to_string());
            }
        }
        "msg" if v["level"].as_u64() == Some(0) => {
            st.errors.push(strip_ansi(v["msg"].as_str().unwrap_or("")));
        }
        _ => {}
    }
}

/// Nix colours its messages even in `internal-json` (`'\x1b[35;1m/nix/store/…drv\x1b[0m'`);
/// remove the escape sequences (CSI `ESC [ … final-byte`) so paths can be found
/// in them and they print cleanly when not on a terminal.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to the final byte (@ to ~).
            for d in chars.by_ref() {
                if ('@'..='~').contains(&d) {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod ansi_tests {
    use super::strip_ansi;

    #[test]
    fn strips_nix_colours() {
        let cases = [
            (
                "\x1b[31;1merror:\x1b[0m builder for '\x1b[35;1m/nix/store/x-a.drv\x1b[0m' failed",
                "error: builder for '/nix/store/x-a.drv' failed",
            ),
            ("plain", "plain"),
            ("", ""),
            ("dangling \x1b[", "dangling "),
        ];
        for (input, want) in cases {
            assert_eq!(strip_ansi(input), want, "{input:?}");
        }
    }
}
