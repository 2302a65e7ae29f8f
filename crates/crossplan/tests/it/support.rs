//! Helpers shared by the oracle, fault and CLI-error tests.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crossplan_testkit::fixture::{Fixture, FixtureSpec, Target, Trust, fresh_salt};
use crossplan_testkit::graph::GraphSpec;
use crossplan_testkit::nix::{self, DryRun, DryRunOpts};
use serde_json::Value;

/// The binary under test.
pub fn crossplan_bin() -> &'static str {
    env!("CARGO_BIN_EXE_crossplan")
}

/// Whether a test that needs Nix can run: the suite's one skip rule
/// ([`crossplan_testkit::skip`]): skipped outside CI, a failure in CI.
#[must_use]
pub fn require_nix() -> bool {
    crossplan_testkit::skip::nix()
}

/// One finished `crossplan` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The exact command, for reproducers.
    pub command: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "crossplan did not print JSON ({e}); exit {}\ncommand: {}\nstdout: {}\nstderr: {}",
                self.code,
                self.command,
                truncate(&self.stdout, 2000),
                truncate(&self.stderr, 2000)
            )
        })
    }

    pub fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked at") && self.code != 101,
            "crossplan panicked\ncommand: {}\nstderr: {}",
            self.command,
            truncate(&self.stderr, 4000)
        );
    }
}

pub fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        s.to_owned()
    } else {
        let mut end = n;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes)", &s[..end], s.len())
    }
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+=:^,@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The suite's one way to run the binary: `crossplan ARGS` without the
/// caller's `CROSSPLAN_LOG` and `NIX_CONFIG`, stdin closed, output drained on
/// threads (a big answer cannot block it), killed after `limit`. `setup`
/// adds a working directory or environment.
pub fn output(args: &[String], limit: Duration, setup: impl FnOnce(&mut Command)) -> Output {
    let start = Instant::now();
    let mut cmd = Command::new(crossplan_bin());
    cmd.args(args)
        .env_remove("CROSSPLAN_LOG")
        .env_remove("NIX_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    setup(&mut cmd);
    let mut child = cmd.spawn().expect("spawn crossplan");
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "crossplan ran longer than {limit:?}: crossplan {}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// Run `crossplan ARGS` with `XDG_CACHE_HOME=xdg`, killing it after `limit`.
pub fn crossplan(args: &[String], xdg: &Path, limit: Duration) -> Run {
    let command = format!(
        "XDG_CACHE_HOME={} {} {}",
        xdg.display(),
        crossplan_bin(),
        args.iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let start = Instant::now();
    let out = output(args, limit, |c| {
        c.env("XDG_CACHE_HOME", xdg);
    });
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: start.elapsed(),
        command,
    }
}

/// `crossplan status --json` with explicit caches and keys.
pub fn status(
    targets: &[String],
    substituters: &str,
    keys: &str,
    require_sigs: bool,
    extra: &[&str],
    xdg: &Path,
) -> Run {
    let mut args: Vec<String> = vec![
        "status".into(),
        "--json".into(),
        "--substituters".into(),
        substituters.into(),
        "--trusted-public-keys".into(),
        keys.into(),
        "--require-sigs".into(),
        require_sigs.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(targets.iter().cloned());
    crossplan(&args, xdg, Duration::from_secs(300))
}

/// crossplan's JSON answer: the part Nix's dry run also answers
/// (`crossplan_testkit::nix::Answer`, reached through `Deref`: `a.build`),
/// and what only crossplan says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub core: nix::Answer,
    pub substituter_of: BTreeMap<String, String>,
    /// `(url, reason)`
    pub errors: Vec<(String, String)>,
    /// `(path, substituter, reason)`
    pub rejected: Vec<(String, String, String)>,
}

impl std::ops::Deref for Answer {
    type Target = nix::Answer;
    fn deref(&self) -> &nix::Answer {
        &self.core
    }
}

pub fn answer(v: &Value) -> Answer {
    for key in ["build", "fetch", "unknown"] {
        let list: Vec<&str> = v
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut sorted = list.clone();
        sorted.sort_unstable();
        assert_eq!(list, sorted, "`{key}` is not sorted");
    }
    let core = nix::Answer::from_json(v)
        .unwrap_or_else(|e| panic!("{e} in {}", truncate(&v.to_string(), 500)));
    let field = |obj: &Value, k: &str| -> String {
        obj.get(k)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("`{k}` missing in {obj}"))
            .to_owned()
    };
    Answer {
        core,
        substituter_of: v["substituter_of"]
            .as_object()
            .expect("substituter_of")
            .iter()
            .map(|(k, u)| (k.clone(), u.as_str().expect("url").to_owned()))
            .collect(),
        errors: v["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| (field(e, "url"), field(e, "reason")))
            .collect(),
        rejected: v["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .map(|e| {
                (
                    field(e, "path"),
                    field(e, "substituter"),
                    field(e, "reason"),
                )
            })
            .collect(),
    }
}

/// A fixture in a temp dir that is kept if the test fails (its path is in
/// the failure message).
pub struct Fx {
    pub dir: Option<tempfile::TempDir>,
    pub fx: Fixture,
}

impl Fx {
    /// `None` when Nix is missing (and the test is skipped; see [`require_nix`]).
    pub fn build(
        tag: &str,
        nodes: usize,
        seed: u64,
        tweak: impl FnOnce(&mut FixtureSpec),
    ) -> Option<Fx> {
        if !require_nix() {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("crossplan-{tag}-"))
            .tempdir()
            .expect("tempdir");
        let mut spec = FixtureSpec::new(GraphSpec::new(nodes, seed, fresh_salt(tag)));
        tweak(&mut spec);
        let fx = match Fixture::build(spec, dir.path()) {
            Ok(fx) => fx,
            Err(e) => {
                let kept = dir.keep();
                panic!(
                    "building fixture {tag} seed {seed} in {} failed: {e}",
                    kept.display()
                )
            }
        };
        eprintln!("[{tag} seed {seed}] {}", fx.summary());
        Some(Fx { dir: Some(dir), fx })
    }

    /// Keep the fixture directory (call before panicking with a reproducer).
    pub fn keep(&mut self) -> PathBuf {
        match self.dir.take() {
            Some(d) => d.keep(),
            None => self.fx.dir.clone(),
        }
    }
}

/// Run the oracle with `targets` against `dirs` (`[hi, lo]`).
pub fn oracle(fx: &Fixture, targets: &[Target], dirs: &[PathBuf; 2], trust: Trust) -> DryRun {
    let opts = DryRunOpts {
        substituters: Fixture::file_substituters(dirs),
        trusted_public_keys: fx.trusted_keys(trust),
        require_sigs: trust != Trust::Everything,
    };
    let t: Vec<String> = targets.iter().map(Target::nix).collect();
    nix::dry_run(&t, &opts).expect("nix-store --realise --dry-run")
}

fn norm_url(u: &str) -> &str {
    u.trim_end_matches('/')
}

/// Compare crossplan's answer with the oracle's and with the fixture's model
/// (priority winner, sizes, rejections). `urls` are crossplan's `[hi, lo]`
/// substituter URLs. Returns the list of differences.
pub fn compare(
    fx: &Fixture,
    trust: Trust,
    nix: &DryRun,
    cp: &Answer,
    urls: &[String; 2],
) -> Vec<String> {
    let mut d = nix::differences(nix, &cp.core);
    // The model: exact bytes of the priority winners of what crossplan fetches.
    let (dl, nar) = fx.expected_sizes(trust, &cp.fetch);
    if (dl, nar) != (cp.download_bytes, cp.nar_bytes) {
        d.push(format!(
            "sizes: the priority winners of crossplan's fetch set add up to {dl}/{nar} bytes, crossplan says {}/{}",
            cp.download_bytes, cp.nar_bytes
        ));
    }
    let mut wrong_sub = Vec::new();
    for p in &cp.fetch {
        let expected = fx
            .winner(trust, p)
            .map(|(is_hi, _)| if is_hi { &urls[0] } else { &urls[1] });
        let got = cp.substituter_of.get(p);
        if expected.map(|u| norm_url(u)) != got.map(|u| norm_url(u)) {
            wrong_sub.push(format!("{p}: expected {expected:?}, got {got:?}"));
        }
    }
    if !wrong_sub.is_empty() {
        d.push(format!(
            "substituter_of wrong for {} paths: {:?}",
            wrong_sub.len(),
            wrong_sub.iter().take(5).collect::<Vec<_>>()
        ));
    }
    if cp.substituter_of.len() != cp.fetch.len() {
        d.push(format!(
            "substituter_of has {} entries for {} fetched paths",
            cp.substituter_of.len(),
            cp.fetch.len()
        ));
    }
    // No false rejections; every refused record is one the fixture broke (or
    // one from an untrusted cache).
    for (path, sub, reason) in &cp.rejected {
        let (cache, is_hi) = if norm_url(sub) == norm_url(&urls[0]) {
            (&fx.hi, true)
        } else if norm_url(sub) == norm_url(&urls[1]) {
            (&fx.lo, false)
        } else {
            d.push(format!("rejected names an unknown substituter {sub}"));
            continue;
        };
        let rec = cache.records.get(path);
        let should_reject = match (trust, rec) {
            (_, None) => false,
            (Trust::Everything, _) => false,
            (Trust::GoodSigs, Some(r)) => !r.sig.is_good(),
            (Trust::LoKeyOnly, Some(r)) => is_hi || !r.sig.is_good(),
        };
        if !should_reject {
            d.push(format!(
                "wrongly rejected {path} from {sub}: {reason} (record {:?})",
                rec.map(|r| r.sig)
            ));
        }
    }
    // A fetched path whose high-priority record is bad must show that rejection.
    if trust == Trust::GoodSigs {
        let rejected: BTreeSet<(&str, &str)> = cp
            .rejected
            .iter()
            .map(|(p, s, _)| (p.as_str(), norm_url(s)))
            .collect();
        let missing: Vec<&String> = cp
            .fetch
            .iter()
            .filter(|p| fx.hi.records.get(*p).is_some_and(|r| !r.sig.is_good()))
            .filter(|p| !rejected.contains(&(p.as_str(), norm_url(&urls[0]))))
            .collect();
        if !missing.is_empty() {
            d.push(format!(
                "{} fetched paths have a badly signed high-priority record that `rejected` does not list: {:?}",
                missing.len(),
                missing.iter().take(5).collect::<Vec<_>>()
            ));
        }
    }
    d
}

/// Harness self-check: Nix's printed sizes must equal the model's winners.
pub fn check_model_against_nix(fx: &Fixture, trust: Trust, nix: &DryRun) -> Vec<String> {
    let (dl, nar) = fx.expected_sizes(trust, &nix.fetch);
    let mut d = Vec::new();
    if !nix::size_matches(dl, &nix.download) || !nix::size_matches(nar, &nix.unpacked) {
        d.push(format!(
            "HARNESS: Nix printed {}/{}, the fixture's priority winners of Nix's fetch set give {}/{} MiB",
            nix.download,
            nix.unpacked,
            nix::mib(dl),
            nix::mib(nar)
        ));
    }
    d
}

/// Panic with everything needed to reproduce, keeping the fixture.
pub fn fail(fxw: &mut Fx, what: &str, diffs: &[String], run: &Run) -> ! {
    let kept = fxw.keep();
    panic!(
        "{what}: {} differences (fixture kept in {}):\n  {}\ncrossplan exit {} in {:?}\nreproduce: {}\nstderr: {}",
        diffs.len(),
        kept.display(),
        diffs.join("\n  "),
        run.code,
        run.elapsed,
        truncate(&run.command, 3000),
        truncate(&run.stderr, 2000)
    );
}

/// Oracle vs crossplan on file:// caches, for one trust setting.
pub fn oracle_vs_crossplan_file(fxw: &mut Fx, targets: &[Target], trust: Trust, extra: &[&str]) {
    let fx = &fxw.fx;
    let view = fx.view(trust).expect("view");
    let nix = oracle(fx, targets, &view, trust);
    let full = [fx.hi.dir.clone(), fx.lo.dir.clone()];
    let urls = [
        format!("file://{}", full[0].display()),
        format!("file://{}", full[1].display()),
    ];
    let xdg = tempfile::tempdir().expect("xdg");
    let t: Vec<String> = targets.iter().map(Target::crossplan).collect();
    let run = status(
        &t,
        &Fixture::file_substituters(&full),
        &fx.trusted_keys(trust),
        trust != Trust::Everything,
        extra,
        xdg.path(),
    );
    run.assert_no_panic();
    let mut diffs = check_model_against_nix(fx, trust, &nix);
    if run.code != 0 {
        diffs.push(format!("exit code {} (expected 0)", run.code));
    }
    if run.code == 0 || run.code == 3 {
        let cp = answer(&run.json());
        if !cp.errors.is_empty() {
            diffs.push(format!(
                "errors: {:?}",
                cp.errors.iter().take(5).collect::<Vec<_>>()
            ));
        }
        diffs.extend(compare(fx, trust, &nix, &cp, &urls));
        eprintln!(
            "  nix: build {} fetch {} unknown {} ({} / {}); crossplan {:?}",
            nix.build.len(),
            nix.fetch.len(),
            nix.unknown.len(),
            nix.download,
            nix.unpacked,
            run.elapsed
        );
    }
    if !diffs.is_empty() {
        fail(fxw, &format!("oracle ({trust:?}, file://)"), &diffs, &run);
    }
}
