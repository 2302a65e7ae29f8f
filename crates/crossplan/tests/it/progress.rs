//! The progress line: on a terminal, work that takes more than a second
//! shows lookups done / queued and derivations read; never with `--json`,
//! never when stderr is not a terminal. The terminal is a real pty
//! (util-linux `script`); the slow work is a cache that answers after 1.5 s.

use std::process::Command;
use std::time::Duration;

use crossplan_testkit::cache::phantom_path;
use crossplan_testkit::rng::Rng;
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::support;

/// The part only the progress line prints.
const MARK: &str = "drvs read";

fn slow_cache(dir: &std::path::Path) -> CacheServer {
    std::fs::write(
        dir.join("nix-cache-info"),
        format!(
            "StoreDir: {}\nWantMassQuery: 1\nPriority: 40\n",
            crossplan_testkit::nix::store_dir().display()
        ),
    )
    .expect("nix-cache-info");
    let faults = FaultConfig {
        latency: Duration::from_millis(1500),
        ..FaultConfig::default()
    };
    CacheServer::start(dir.to_path_buf(), faults).expect("server")
}

/// `crossplan ARGS` on a pty; everything it wrote to the terminal.
fn on_terminal(args: &[String], xdg: &std::path::Path) -> String {
    let line = std::iter::once(support::crossplan_bin().to_owned())
        .chain(args.iter().cloned())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    // A terminal a person uses: the line is not drawn for TERM=dumb or no
    // TERM at all (it could not be redrawn in place), which is what CI and
    // the test chroots have.
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env("XDG_CACHE_HOME", xdg)
        .output()
        .expect("util-linux `script` is needed to give crossplan a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_oracle_line_on_a_terminal_only_and_never_for_json() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let cache_dir = dir.path().join("cache");
    std::fs::create_dir_all(&cache_dir).expect("mkdir");
    let server = slow_cache(&cache_dir);
    let mut rng = Rng::new(std::process::id() as u64 ^ 0x77);
    let roots: Vec<String> = (0..3).map(|_| phantom_path(&mut rng, "slow")).collect();
    let mut args: Vec<String> = [
        "status",
        "--substituters",
        &server.url(),
        "--trusted-public-keys",
        "",
        "--no-disk-cache",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(roots.iter().cloned());
    let xdg = dir.path().join("xdg");

    let text = on_terminal(&args, &xdg);
    assert!(
        text.contains(MARK),
        "no progress line on a terminal:\n{text}"
    );
    assert!(text.contains("status: "), "{text}");
    // It says what the work is doing: here, waiting on the slow cache.
    assert!(
        text.contains("looking up; "),
        "the line does not say what the work does:\n{text}"
    );
    assert!(
        text.contains("unknown       3 paths"),
        "the summary follows:\n{text}"
    );

    let mut json = args.clone();
    json.insert(1, "--json".into());
    let text = on_terminal(&json, &xdg);
    assert!(!text.contains(MARK), "a progress line with --json:\n{text}");

    let run = support::crossplan(&args, &xdg, Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains(MARK),
        "a progress line on a pipe: {}",
        run.stderr
    );
}
