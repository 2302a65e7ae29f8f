//! Generate an oracle fixture (graph, local validity, two signed caches) and
//! print a JSON description of it: what `bench/status.sh` serves and times.
//!
//! `crossplan-gengraph --dir D [--nodes N] [--seed S] [--cached F] [--valid F] [--valid-layers F] [--bad-sig F]`

use std::path::PathBuf;
use std::process::ExitCode;

use crossplan_testkit::fixture::{Fixture, FixtureSpec, fresh_salt};
use crossplan_testkit::graph::GraphSpec;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crossplan-gengraph: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut dir: Option<PathBuf> = None;
    let mut nodes = 18_000usize;
    let mut seed = 1u64;
    let mut cached = 0.3;
    let mut valid = 0.02;
    let mut bad_sig = 0.0;
    let mut valid_layers = 0.1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--dir" => dir = Some(PathBuf::from(val()?)),
            "--nodes" => nodes = val()?.parse().map_err(|e| format!("--nodes: {e}"))?,
            "--seed" => seed = val()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--cached" => cached = val()?.parse().map_err(|e| format!("--cached: {e}"))?,
            "--valid" => valid = val()?.parse().map_err(|e| format!("--valid: {e}"))?,
            "--valid-layers" => {
                valid_layers = val()?.parse().map_err(|e| format!("--valid-layers: {e}"))?
            }
            "--bad-sig" => bad_sig = val()?.parse().map_err(|e| format!("--bad-sig: {e}"))?,
            "-h" | "--help" => {
                println!(
                    "crossplan-gengraph --dir D [--nodes N] [--seed S] [--cached F] [--valid F] [--valid-layers F] [--bad-sig F]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let dir = dir.ok_or("--dir is required")?;
    let mut spec = FixtureSpec::new(GraphSpec::new(nodes, seed, fresh_salt("bench")));
    spec.cached = cached;
    spec.valid_seeds = valid;
    spec.bad_sig = bad_sig;
    spec.valid_layers = valid_layers;
    let fixture = Fixture::build(spec, &dir).map_err(|e| e.to_string())?;
    let desc = fixture.describe();
    let text = serde_json::to_string_pretty(&desc).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("fixture.json"), &text).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}
