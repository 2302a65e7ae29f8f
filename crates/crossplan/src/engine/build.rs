//! Running `nix build` for a plan: the exact command (shown by
//! `build --dry-run`, run otherwise), its progress from
//! `--log-format internal-json`, cancellation (see [`super::cancel`]), and the
//! time of every derivation recorded in the history database so later
//! estimates improve.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead as _, BufReader, IsTerminal, Write as _};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context as _;
use crossplan_host::history::HistoryDb;
use crossplan_plan::format::duration;
use crossplan_store::settings::NIX_FEATURES;

use super::Engine;
use super::cancel::{self, GroupChild};
use crate::cli::CacheArgs;
use crate::exit;

/// Log lines kept per build for the failure report.
const LOG_TAIL: usize = 25;

/// The settings the plan was made against, as `nix build --option` pairs:
/// the cache overrides of crossplan's command line, and with `--nix-conf`
/// (a file Nix itself would not read) its caches and keys and the host
/// facts the routes came from (`extra-platforms`, `builders`, `max-jobs`,
/// `system-features`), so Nix builds where the plan said.
pub fn nix_options(cache: &CacheArgs, engine: &Engine) -> Vec<(&'static str, String)> {
    let from_file = cache.nix.nix_conf.is_some();
    let s = &engine.settings;
    let mut options = Vec::new();
    if let Some(subs) = &cache.substituters {
        options.push(("substituters", subs.clone()));
    } else if from_file {
        options.push(("substituters", s.substituters().join(" ")));
    }
    if let Some(keys) = &cache.trusted_public_keys {
        options.push(("trusted-public-keys", keys.clone()));
    } else if from_file {
        options.push(("trusted-public-keys", s.trusted_public_keys().join(" ")));
    }
    if let Some(require) = cache.require_sigs {
        options.push(("require-sigs", require.to_string()));
    } else if from_file {
        options.push(("require-sigs", s.require_sigs().to_string()));
    }
    if from_file {
        options.push(("extra-platforms", s.extra_platforms().join(" ")));
        options.push(("builders", s.builders().to_owned()));
        options.push(("max-jobs", s.max_jobs().to_string()));
        // Nix computes its default features (kvm where /dev/kvm exists, …):
        // pass the file's only when it names some.
        let features = s.system_features();
        if !features.is_empty() {
            options.push(("system-features", features.join(" ")));
        }
    }
    options
}

/// The arguments of `nix` that build `installable` with `options`, exactly
/// as run (`--dry-run` prints these).
pub fn nix_build_args(installable: &str, options: &[(&str, String)]) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "--extra-experimental-features".into(),
        NIX_FEATURES.into(),
        "build".into(),
        "--no-link".into(),
        "-L".into(),
        "--log-format".into(),
        "internal-json".into(),
    ];
    for (name, value) in options {
        args.extend(["--option".into(), (*name).to_owned(), value.clone()]);
    }
    args.push(installable.to_owned());
    args
}

/// `nix ARGS` as a shell command line.
pub fn shell_line(args: &[String]) -> String {
    let mut line = String::from("nix");
    for a in args {
        line.push(' ');
        line.push_str(&shell_quote(a));
    }
    line
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:^,@#".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
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

/// What the plan expects a build to do, for the progress display.
pub struct Expected {
    pub builds: usize,
    pub fetches: usize,
    pub seconds: f64,
}

/// Run `nix ARGS` (from [`nix_build_args`]) with a live progress line;
/// record each finished derivation's time. `graph`: drv path → (name, system).
pub fn run_nix_build(
    installable: &str,
    args: &[String],
    graph: &BTreeMap<String, (String, String)>,
    expected: &Expected,
    history_path: &std::path::Path,
    host: &crossplan_plan::HostView,
    done: &Arc<AtomicUsize>,
) -> anyhow::Result<u8> {
    let start = Instant::now();
    let mut cmd = std::process::Command::new("nix");
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child =
        GroupChild::spawn(&mut cmd).map_err(|source| crossplan_store::StoreError::NixMissing {
            command: format!("nix build {installable}"),
            source,
        })?;
    let stderr = child.child.stderr.take().context("nix build stderr")?;
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
        if cancel::cancelled() {
            // What stops now was interrupted, not finished: neither counted
            // nor recorded. The pipe is still drained until nix exits.
            continue;
        }
        handle(&v, &mut st);
        done.store(st.builds_done, Ordering::Relaxed);
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
    if tty && !cancel::cancelled() {
        eprint!("\r\x1b[K");
    }
    // record what finished, even on failure
    match HistoryDb::open(history_path) {
        Ok(db) => {
            for (drv, secs) in &st.durations {
                if let Some((name, system)) = graph.get(drv) {
                    let emulated = !host.runs_natively(system);
                    db.record(name, system, emulated, *secs)?;
                }
            }
        }
        Err(e) => tracing::warn!("cannot record build times: {e}"),
    }
    let elapsed = start.elapsed().as_secs_f64();
    if cancel::cancelled() {
        // The cancel line says what was left undone.
        return Ok(exit::ERROR);
    }
    if status.success() {
        eprintln!(
            "built {}, fetched {} in {} (estimated ~{})",
            super::plural(st.builds_done, "derivation", "derivations"),
            super::plural(st.downloads_done, "path", "paths"),
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
