//! Cancellation (issue 9, bug 1): SIGINT or SIGTERM to `crossplan build`
//! stops its `nix build` (and the builder under it) before crossplan exits
//! 130 / 143 with one line saying what was left undone. Names contain
//! `oracle`: they need Nix.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::support;

/// One target whose only variant builds forever (until stopped).
const FLAKE: &str = r#"{
  outputs = { self }:
    let
      host = "x86_64-linux";
    in {
      lib.targets.slow = { system = "x86_64-linux"; strategies = [ "cross" ]; };
      packages.${host}.cup-slow-cross = builtins.derivation {
        name = "cup-slow-0.1.0";
        system = host;
        builder = "/bin/sh";
        args = [ "-c" "echo started; while true; do sleep 1; done # @SALT@" ];
      };
    };
}
"#;

/// Processes (not zombies) whose command line contains any of `needles`.
fn processes_with(needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        if stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'))
        {
            continue;
        }
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if needles.iter().any(|n| cmdline.contains(n)) {
            found.push(format!("{name}: {cmdline}"));
        }
    }
    found
}

fn interrupt_build(signal: Signal, name: &str, code: i32) {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let salt = crossplan_testkit::fixture::fresh_salt("cancel");
    std::fs::write(dir.path().join("flake.nix"), FLAKE.replace("@SALT@", &salt)).expect("flake");
    std::fs::write(
        dir.path().join("nix.conf"),
        "system = x86_64-linux\nmax-jobs = 1\nbuilders =\n",
    )
    .expect("nix.conf");
    let dir_text = dir.path().display().to_string();
    let mut child = Command::new(support::crossplan_bin())
        .current_dir(dir.path())
        .args(["build", "slow", "--flake", &dir_text])
        .args(["--substituters", "", "--no-disk-cache", "--nix-conf"])
        .arg(dir.path().join("nix.conf"))
        .arg("--history")
        .arg(dir.path().join("history.sqlite"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn crossplan");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    // Wait for the builder to run: then `nix build` is certainly running.
    let start = Instant::now();
    while processes_with(&[&salt]).is_empty() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "crossplan exited ({status}) before the build started: {}",
                reader.join().unwrap_or_default()
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the builder never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    kill_process(Pid::from_child(&child), signal).expect("kill");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("crossplan did not exit within 60 s of {name}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = reader.join().unwrap_or_default();
    let left = processes_with(&[&salt, &dir_text]);
    assert!(
        left.is_empty(),
        "processes left behind after {name}: {left:#?}\nstderr: {stderr}"
    );
    assert_eq!(status.code(), Some(code), "stderr: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("crossplan: interrupted"))
        .collect();
    assert_eq!(lines.len(), 1, "one line on what was left undone: {stderr}");
    assert!(
        lines[0].contains(&format!("interrupted by {name}"))
            && lines[0].contains("building slow was stopped after 0 of 1 build")
            && lines[0].contains("stopped its nix process"),
        "{stderr}"
    );
}

/// Bug 1: `crossplan build` stopped with SIGINT (^C) leaves no nix behind.
#[test]
fn build_oracle_sigint_stops_nix_build_and_exits_130() {
    interrupt_build(Signal::INT, "SIGINT", 130);
}

/// Bug 1: `crossplan build` stopped with SIGTERM (systemctl stop, a cancelled
/// CI job) leaves no nix behind.
#[test]
fn build_oracle_sigterm_stops_nix_build_and_exits_143() {
    interrupt_build(Signal::TERM, "SIGTERM", 143);
}

#[test]
fn processes_with_finds_this_test() {
    let me = std::env::args().next().unwrap_or_default();
    assert!(!processes_with(&[Path::new(&me).to_string_lossy().as_ref()]).is_empty());
}

/// A cache directory with `nix-cache-info` and unsigned records for `paths`.
fn cache_with(dir: &Path, paths: &[String]) {
    use crossplan_testkit::cache::{NarInfo, hash_part};
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(
        dir.join("nix-cache-info"),
        "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 10\n",
    )
    .expect("nix-cache-info");
    for p in paths {
        let info = NarInfo {
            store_path: p.clone(),
            url: format!("nar/{}.nar", hash_part(p)),
            compression: "none".into(),
            file_hash: None,
            file_size: Some(100),
            nar_hash: format!("sha256:{}", "1".repeat(52)),
            nar_size: 100,
            references: Vec::new(),
            deriver: None,
            sigs: Vec::new(),
        };
        std::fs::write(dir.join(format!("{}.narinfo", hash_part(p))), info.render())
            .expect("narinfo");
    }
}

/// SIGINT during `status`: exit 130 at once (not after the slow cache
/// answers), and the lookups already answered are in the narinfo disk cache:
/// the next run does not ask for them again.
#[test]
fn status_oracle_sigint_saves_answered_lookups() {
    interrupt_status(Signal::INT);
}

/// SIGKILL during `status`, which leaves no chance to save anything at the
/// end: the lookups answered a second before are in the narinfo disk cache
/// all the same, since it is saved while the walk runs (every 400 ms).
#[test]
fn status_oracle_sigkill_keeps_lookups_saved_during_the_walk() {
    interrupt_status(Signal::KILL);
}

/// Start `status` on two roots, one answered at once by cache A and one that
/// waits 4 s for cache B; send `signal` a second after A answered; then a
/// run against A alone must find A's answer in the disk cache.
fn interrupt_status(signal: Signal) {
    use crossplan_testkit::cache::phantom_path;
    use crossplan_testkit::server::{CacheServer, FaultConfig};
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut rng = crossplan_testkit::rng::Rng::new(std::process::id() as u64 ^ 0x130);
    let quick = phantom_path(&mut rng, "answered");
    let slow = phantom_path(&mut rng, "pending");
    cache_with(&dir.path().join("a"), std::slice::from_ref(&quick));
    cache_with(&dir.path().join("b"), &[]);
    let a = CacheServer::start(dir.path().join("a"), FaultConfig::default()).expect("a");
    // B answers after 4 s: `slow` (not in A) waits for it.
    let b = CacheServer::start(
        dir.path().join("b"),
        FaultConfig {
            latency: Duration::from_secs(4),
            ..FaultConfig::default()
        },
    )
    .expect("b");
    let xdg = dir.path().join("xdg");
    let args = |subs: &str, roots: &[&String]| -> Vec<String> {
        let mut v: Vec<String> = [
            "status",
            "--json",
            "--substituters",
            subs,
            "--trusted-public-keys",
            "",
            "--require-sigs",
            "false",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(roots.iter().map(|r| r.to_string()));
        v
    };
    let both = format!("{}?priority=10 {}?priority=50", a.url(), b.url());
    let mut child = Command::new(support::crossplan_bin())
        .args(args(&both, &[&quick, &slow]))
        .env("XDG_CACHE_HOME", &xdg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    // A has seen its nix-cache-info and both lookups, and B the lookup of
    // `slow` (asked only after A's 404). Waiting for B alone is not enough:
    // the lookup of `quick` can reach A after the 404 for `slow` (another
    // connection), and then neither run had counted it (CI saw this once).
    let start = Instant::now();
    while a.requests() < 3 || b.requests() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the lookups did not reach the caches: A {}, B {}",
            a.requests(),
            b.requests()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // A's answer for `quick` is on its way; give crossplan time to read it
    // into memory. B answers `slow` only 4 s after it was asked.
    std::thread::sleep(Duration::from_millis(1000));
    let a_before = a.requests();
    kill_process(Pid::from_child(&child), signal).expect("kill");
    let signalled = Instant::now();
    let status = child.wait().expect("wait");
    let stderr = reader.join().unwrap_or_default();
    assert!(
        signalled.elapsed() < Duration::from_secs(3),
        "waited for the slow cache: {:?}",
        signalled.elapsed()
    );
    if signal == Signal::INT {
        assert_eq!(status.code(), Some(130), "{stderr}");
        assert!(
            stderr.contains(
                "crossplan: interrupted by SIGINT: the answer for 2 roots was not finished"
            ) && stderr.contains("lookups already answered are saved"),
            "{stderr}"
        );
    } else {
        assert_eq!(status.code(), None, "not killed: {stderr}");
    }
    // The answer for `quick` comes from the disk cache (as does A's
    // nix-cache-info): A is not asked at all.
    let run = support::crossplan(&args(&a.url(), &[&quick]), &xdg, Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&quick), "{}", run.stdout);
    assert_eq!(
        a.requests() - a_before,
        0,
        "A was asked again for what the cancelled run had answered"
    );
}
