//! `crossplan build` end to end: plan, `nix build` the chosen variant of a
//! test flake whose derivations really build here (`/bin/sh` builders), and
//! record every build's time. Names contain `oracle`: they need Nix.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crossplan_host::history::HistoryDb;

/// `good` chooses cross (riscv64 emulation is impossible without binfmt), a
/// chain of three host derivations; `bad`'s only variant fails with a log.
const FLAKE: &str = r#"{
  outputs = { self }:
    let
      host = "x86_64-linux";
      mk = system: name: deps: script: builtins.derivation {
        inherit name system deps;
        salt = "@SALT@";
        builder = "/bin/sh";
        args = [ "-c" script ];
      };
      ok = name: "echo building ${name}; echo ${name} > $out";
      gcc = mk host "riscv64-unknown-linux-gnu-gcc-14.2.0" [ ] (ok "gcc");
      go = mk host "go-1.24.1" [ gcc ] (ok "go");
    in {
      lib.targets = {
        good = { system = "riscv64-linux"; strategies = [ "cross" "emulated" ]; };
        bad = { system = "riscv64-linux"; strategies = [ "cross" ]; };
      };
      packages.${host} = {
        cup-good-cross = mk host "cup-riscv64-0.1.0" [ go ] (ok "cup");
        cup-good-emulated = mk "riscv64-linux" "cup-0.1.0" [ ] (ok "cup");
        cup-bad-cross = mk host "cup-broken-0.1.0" [ ]
          "echo compiling cup; echo 'cmd/cup/main.go:1: syntax error: boom' >&2; exit 1";
      };
    };
}
"#;

/// The test flake is for x86_64-linux; elsewhere the tests do not apply.
/// Nix itself follows the suite's skip rule.
fn host_is_x86_64_linux_with_nix() -> bool {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipped: the test flake is for x86_64-linux");
        return false;
    }
    crate::support::require_nix()
}

fn prepare(dir: &Path) {
    let salt = crossplan_testkit::fixture::fresh_salt("build");
    std::fs::write(dir.join("flake.nix"), FLAKE.replace("@SALT@", &salt)).expect("flake");
    std::fs::write(
        dir.join("nix.conf"),
        "system = x86_64-linux\nmax-jobs = 2\nextra-platforms = i686-linux\nbuilders =\n",
    )
    .expect("nix.conf");
}

fn build(dir: &Path, target: &str) -> Output {
    let mut args: Vec<String> = vec![
        "build".into(),
        target.into(),
        "--flake".into(),
        dir.display().to_string(),
    ];
    for a in ["--substituters", "", "--no-disk-cache", "--nix-conf"] {
        args.push(a.into());
    }
    args.push(dir.join("nix.conf").display().to_string());
    args.push("--history".into());
    args.push(dir.join("history.sqlite").display().to_string());
    crate::support::output(&args, Duration::from_secs(300), |c| {
        c.current_dir(dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"));
    })
}

#[test]
fn build_oracle_builds_the_choice_and_records_times() {
    if !host_is_x86_64_linux_with_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let out = build(dir.path(), "good");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(
        stderr.contains("good: cross"),
        "the choice and its reason are shown: {stderr}"
    );
    // All three derivations were built and recorded, none as emulated.
    let db = HistoryDb::open(&dir.path().join("history.sqlite")).expect("history");
    assert_eq!(db.count().expect("count"), 3, "{stderr}");
    let table = db.table().expect("table");
    assert_eq!(table.0.len(), 3, "one entry per package: {:?}", table.0);
    for ((pname, system, emulated), secs) in &table.0 {
        assert!(*secs >= 0.0 && *secs < 300.0, "{pname}: {secs}");
        assert_eq!(system, "x86_64-linux", "{pname}");
        assert!(!emulated, "a native build is not emulated: {pname}");
    }
    // A second build has nothing left to do and records nothing new.
    let again = build(dir.path(), "good");
    assert!(again.status.success());
    assert_eq!(db.count().expect("count"), 3);
}

#[test]
fn build_oracle_failure_names_the_derivation_and_shows_its_log() {
    if !host_is_x86_64_linux_with_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let out = build(dir.path(), "bad");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("cup-broken-0.1.0.drv"),
        "names the derivation: {stderr}"
    );
    assert!(
        stderr.contains("syntax error: boom"),
        "shows the tail of its log: {stderr}"
    );
}
