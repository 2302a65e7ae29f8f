//! Regression tests for the ten bugs of issue 9 ("one engine under every
//! command"), one or more per bug, named after it. Each failed on the code
//! before the engine extraction. Tests that need Nix have `oracle` in their
//! names.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crossplan_testkit::cache::phantom_path;
use crossplan_testkit::fixture::fresh_salt;
use crossplan_testkit::rng::Rng;

use crate::support::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    support::crossplan(&args, &dir.join("xdg"), LIMIT)
}

fn phantom(tag: &str) -> String {
    let mut rng = Rng::new(std::process::id() as u64 ^ 0x9);
    phantom_path(&mut rng, tag)
}

/// A derivation for `system` with outputs `out` and `dev`, instantiated by Nix.
fn instantiate(dir: &Path, system: &str) -> String {
    let expr = dir.join("x.nix");
    std::fs::write(
        &expr,
        format!(
            r#"{{ d = builtins.derivation {{
                 name = "issue9-x"; system = "{system}"; builder = "/bin/sh";
                 args = [ "-c" "echo > $out; echo > $dev" ]; outputs = [ "out" "dev" ];
                 salt = "{}"; }}; }}"#,
            fresh_salt("issue9")
        ),
    )
    .expect("write x.nix");
    let drvs =
        crossplan_testkit::nix::instantiate(&expr, "d", &dir.join("xdg")).expect("nix-instantiate");
    drvs.into_iter().next().expect("one drv")
}

fn conf(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("nix.conf");
    std::fs::write(&path, text).expect("nix.conf");
    path
}

/// Bug 2: `plan --nix-conf FILE` with only `sandbox = false` keeps Nix's
/// default `extra-platforms` (i686-linux on x86_64-linux), as Nix does.
#[test]
fn bug2_plan_oracle_nix_conf_keeps_default_extra_platforms() {
    if !support::require_nix() {
        return;
    }
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipped: i686-linux is a default extra platform on x86_64-linux only");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let drv = instantiate(dir.path(), "i686-linux");
    let conf = conf(dir.path(), "sandbox = false\n");
    let history = dir.path().join("history.sqlite");
    let r = run_in(
        dir.path(),
        &[
            "plan",
            "--json",
            "--substituters",
            "",
            "--no-disk-cache",
            "--nix-conf",
            &conf.display().to_string(),
            "--history",
            &history.display().to_string(),
            "--variant",
            &format!("emulated={drv}"),
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.command, r.stderr);
    let j = r.json();
    let platforms = j["host"]["extra_platforms"].to_string();
    assert!(platforms.contains("i686-linux"), "{platforms}");
    assert_eq!(
        j["targets"]["variants"]["variants"][0]["possible"], true,
        "{j:#}"
    );
}

/// Bug 2 (second half) and bug 9 (`status` has no `--nix-conf`): the file's
/// substituters are the ones asked.
#[test]
fn bug2_status_oracle_nix_conf_decides_the_caches() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let cache = dir.path().join("cache");
    std::fs::create_dir_all(&cache).expect("mkdir");
    std::fs::write(
        cache.join("nix-cache-info"),
        format!(
            "StoreDir: {}\nWantMassQuery: 1\nPriority: 30\n",
            crossplan_testkit::nix::store_dir().display()
        ),
    )
    .expect("cache info");
    let url = format!("file://{}", cache.display());
    let conf = conf(dir.path(), &format!("substituters = {url}\n"));
    let r = run_in(
        dir.path(),
        &[
            "status",
            "--json",
            "--nix-conf",
            &conf.display().to_string(),
            &phantom("fromconf"),
        ],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.command, r.stderr);
    let caches = r.json()["caches"].clone();
    assert_eq!(caches.as_array().map(Vec::len), Some(1), "{caches}");
    assert_eq!(caches[0]["url"].as_str(), Some(url.as_str()), "{caches}");
}

/// Bug 3: `explain` of a `.drv` that does not exist says nobody can provide
/// it instead of "nothing to build (0 paths to fetch)".
#[test]
fn bug3_explain_oracle_shows_what_nobody_provides() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let drv = format!("{}.drv", phantom("explain"));
    let r = run_in(
        dir.path(),
        &["explain", "--substituters", "", "--no-disk-cache", &drv],
    );
    r.assert_no_panic();
    assert!(
        r.stdout
            .contains("nothing to build, but 1 path cannot be had (0 paths to fetch)"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(
        r.stdout.contains("don't know how to get 1 path"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&drv), "{}", r.stdout);
}

/// Bug 4: two `--variant`s with one label are a usage error (exit 2).
#[test]
fn bug4_duplicate_variant_labels_are_a_usage_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let r = run_in(
        dir.path(),
        &["plan", "--variant", "cross=.#a", "--variant", "cross=.#b"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("`cross` is given twice"), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
}

/// A flake with one target whose only variant is a trivial derivation.
fn one_target_flake(dir: &Path) {
    std::fs::write(
        dir.join("flake.nix"),
        format!(
            r#"{{ outputs = {{ self }}: {{
                lib.targets.t = {{ system = "x86_64-linux"; strategies = [ "cross" ]; }};
                packages.x86_64-linux.cup-t-cross = builtins.derivation {{
                  name = "cup-t-0.1.0"; system = "x86_64-linux"; builder = "/bin/sh";
                  args = [ "-c" "echo > $out" ]; salt = "{}"; }};
              }}; }}"#,
            fresh_salt("dryrun")
        ),
    )
    .expect("flake");
}

/// Bug 5: `build --dry-run` prints the command `build` runs, with the cache
/// options and feature flags it passes.
#[test]
fn bug5_build_dry_run_oracle_prints_the_command_it_runs() {
    if !support::require_nix() {
        return;
    }
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipped: the test flake is for x86_64-linux");
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    one_target_flake(dir.path());
    let conf = conf(dir.path(), "system = x86_64-linux\nbuilders =\n");
    let flake = dir.path().display().to_string();
    let r = run_in(
        dir.path(),
        &[
            "build",
            "t",
            "--dry-run",
            "--flake",
            &flake,
            "--substituters",
            "",
            "--trusted-public-keys",
            "",
            "--require-sigs",
            "false",
            "--no-disk-cache",
            "--nix-conf",
            &conf.display().to_string(),
            "--history",
            &dir.path().join("h.sqlite").display().to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.stdout.lines().next().unwrap_or("");
    for want in [
        "nix --extra-experimental-features 'nix-command flakes' build",
        "--option substituters ''",
        "--option trusted-public-keys ''",
        "--option require-sigs false",
        &format!("{flake}#cup-t-cross"),
        "# 1 build,",
    ] {
        assert!(line.contains(want), "missing {want:?} in {line}");
    }
}

/// Bug 6: `status --json | head -1` is not an error (a closed pipe exits 0).
/// The answer is larger than crossplan's 64 KiB output buffer, so the pipe
/// breaks while the JSON is being written, as with `head`.
#[test]
fn bug6_broken_pipe_oracle_json_exits_zero() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let mut rng = Rng::new(std::process::id() as u64 ^ 0x6);
    let roots: Vec<String> = (0..2000).map(|_| phantom_path(&mut rng, "pipe")).collect();
    let mut child = Command::new(support::crossplan_bin())
        .args(["status", "--json", "--substituters", "", "--no-disk-cache"])
        .args(&roots)
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Close the reading end before crossplan writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// Bug 7: a wrong output name is an error naming the outputs that exist.
#[test]
fn bug7_wrong_output_name_oracle_lists_the_outputs() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let drv = instantiate(dir.path(), "x86_64-linux");
    let r = run_in(
        dir.path(),
        &["status", "--substituters", "", &format!("{drv}^bogus")],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("has no output `bogus`; its outputs: dev, out"),
        "{}",
        r.stderr
    );
    let r = run_in(
        dir.path(),
        &["status", "--substituters", "", &format!("{drv}^dev")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// Bug 8: installable errors show the input as given, and a malformed store
/// path says what is wrong with it.
#[test]
fn bug8_installable_errors_oracle_show_the_input() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("file.nix");
    std::fs::write(&file, "{ }").expect("file.nix");
    let f = file.display().to_string();
    let r = run_in(dir.path(), &["status", "--substituters", "", &f]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&f), "{}", r.stderr);
    assert!(!r.stderr.contains(".drvPath'"), "mangled: {}", r.stderr);
    assert!(r.stderr.contains("hint: a .nix file"), "{}", r.stderr);
    let store = crossplan_testkit::nix::store_dir();
    let bad = format!("{}/zzzz-nope.drv", store.display());
    let r = run_in(dir.path(), &["status", "--substituters", "", &bad]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("the digest 'zzzz' has 4 characters"),
        "{}",
        r.stderr
    );
}

/// Bug 9: a missing `--nix-conf` says so once, with a hint, for every
/// command that reads Nix's settings (`status` and `explain` included).
#[test]
fn bug9_missing_nix_conf_is_one_cause_and_a_hint() {
    let dir = tempfile::tempdir().expect("tmp");
    let missing = "/nonexistent/crossplan-test/nix.conf";
    for cmd in [
        vec!["status", "--nix-conf", missing, "/nix/store/x.drv"],
        vec!["explain", "--nix-conf", missing, "/nix/store/x.drv"],
        vec![
            "doctor",
            "--offline",
            "--nix-conf",
            missing,
            "riscv64-linux",
        ],
    ] {
        let r = run_in(dir.path(), &cmd);
        assert_eq!(r.code, 1, "{}\n{}", r.command, r.stderr);
        assert!(r.stderr.contains(missing), "{}", r.stderr);
        assert_eq!(
            r.stderr.matches("No such file").count(),
            1,
            "the cause once: {}",
            r.stderr
        );
        assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
    }
}

/// Bug 9: `max-jobs = banana` is refused, naming the file.
#[test]
fn bug9_bad_max_jobs_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = conf(dir.path(), "max-jobs = banana\n");
    let c = conf.display().to_string();
    let r = run_in(
        dir.path(),
        &["doctor", "--offline", "--nix-conf", &c, "riscv64-linux"],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("max-jobs") && r.stderr.contains("banana") && r.stderr.contains(&c),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("\nhint: "), "{}", r.stderr);
}

/// Bug 9: `doctor --targets-file` missing or corrupt is an error, not a
/// silent fallback to two systems.
#[test]
fn bug9_doctor_targets_file_missing_or_corrupt_is_an_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let conf = conf(dir.path(), "system = x86_64-linux\n");
    let targets = dir.path().join("targets.json");
    for content in [None, Some("{\"riscv64\": ")] {
        if let Some(c) = content {
            std::fs::write(&targets, c).expect("targets");
        }
        let r = run_in(
            dir.path(),
            &[
                "doctor",
                "--offline",
                "--json",
                "--nix-conf",
                &conf.display().to_string(),
                "--targets-file",
                &targets.display().to_string(),
            ],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "cannot use the target table {}",
                targets.display()
            )),
            "{}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "no checks printed: {}", r.stdout);
    }
}

/// Bug 10: `--jobs 0`, `--timeout 0` and `--variant` without `=` are usage
/// errors (exit 2).
#[test]
fn bug10_meaningless_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    for args in [
        vec!["status", "--jobs", "0", "/nix/store/x.drv"],
        vec!["status", "--timeout", "0", "/nix/store/x.drv"],
        vec!["explain", "--jobs", "0", "/nix/store/x.drv"],
        vec!["plan", "--variant", "cross"],
        vec!["plan", "--variant", "=.#a"],
    ] {
        let r = run_in(dir.path(), &args);
        assert_eq!(r.code, 2, "{}\n{}", r.command, r.stderr);
    }
}

/// Unreachable cache, Nix's policy: warn, treat it as absent, answer, exit 3;
/// `--strict-caches` makes it an error (exit 1).
#[test]
fn unreachable_cache_oracle_is_absent_with_exit_3_unless_strict() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let path = phantom("unreach");
    let base = [
        "status",
        "--json",
        "--substituters",
        url.as_str(),
        "--timeout",
        "2",
        "--no-disk-cache",
    ];
    let mut args = base.to_vec();
    args.push(&path);
    let r = run_in(dir.path(), &args);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("warning: binary cache '{url}' is unreachable")),
        "{}",
        r.stderr
    );
    let a = support::answer(&r.json());
    assert!(a.unknown.contains(&path), "{a:?}");
    assert!(a.errors.iter().any(|(u, _)| u == &url), "{a:?}");
    let mut args = base.to_vec();
    args.extend(["--strict-caches", &path]);
    let r = run_in(dir.path(), &args);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot reach binary cache"),
        "{}",
        r.stderr
    );
}
