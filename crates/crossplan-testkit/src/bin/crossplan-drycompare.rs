//! Compare `crossplan status --json` with Nix's dry run of the same roots,
//! using the testkit's tested dry-run parser (the one the oracle suites use),
//! so scripts need no parser of their own.
//!
//! `crossplan-drycompare --nix NIX_STDERR_FILE --crossplan JSON_FILE [--seconds NIX_SECONDS]`
//!
//! Prints Nix's counts, crossplan's counts and either `the answers agree` or
//! `THE ANSWERS DIFFER` with the differences. Exit 0 when they agree, 1 when
//! they differ, 2 on bad arguments or unreadable input.

use std::path::PathBuf;
use std::process::ExitCode;

use crossplan_testkit::nix::{Answer, differences, parse_dry_run};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crossplan-drycompare: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, String> {
    let mut nix_file: Option<PathBuf> = None;
    let mut cp_file: Option<PathBuf> = None;
    let mut seconds: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--nix" => nix_file = Some(PathBuf::from(val()?)),
            "--crossplan" => cp_file = Some(PathBuf::from(val()?)),
            "--seconds" => seconds = Some(val()?),
            _ => {
                return Err(format!(
                    "unknown argument `{a}`; usage: crossplan-drycompare --nix FILE --crossplan FILE [--seconds S]"
                ));
            }
        }
    }
    let nix_file = nix_file.ok_or("--nix FILE (Nix's dry-run stderr) is required")?;
    let cp_file = cp_file.ok_or("--crossplan FILE (crossplan status --json) is required")?;
    let stderr = std::fs::read_to_string(&nix_file)
        .map_err(|e| format!("reading {}: {e}", nix_file.display()))?;
    let nix = parse_dry_run(&stderr).map_err(|e| format!("{}: {e}", nix_file.display()))?;
    let text = std::fs::read_to_string(&cp_file)
        .map_err(|e| format!("reading {}: {e}", cp_file.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not crossplan's JSON: {e}", cp_file.display()))?;
    let cp = Answer::from_json(&json).map_err(|e| format!("{}: {e}", cp_file.display()))?;
    let took = seconds.map(|s| format!(" ({s} s)")).unwrap_or_default();
    println!("   Nix{took}: {}", nix.counts());
    println!("   crossplan: {}", cp.counts());
    let diffs = differences(&nix, &cp);
    if diffs.is_empty() {
        println!("   the answers agree");
        return Ok(true);
    }
    println!("   THE ANSWERS DIFFER");
    for d in &diffs {
        println!("   - {d}");
    }
    Ok(false)
}
