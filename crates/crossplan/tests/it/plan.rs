//! `crossplan plan` end to end on a test flake that follows the real
//! flake's naming (`lib.targets`, `cup-<t>-cross/-emulated/-purego`), built
//! with `builtins.derivation` so any host instantiates it (riscv64-linux
//! derivations included), evaluated by the real Nix. Names contain `oracle`:
//! they need Nix.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

const FLAKE: &str = r#"{
  description = "crossplan plan test flake";
  outputs = { self }:
    let
      host = "x86_64-linux";
      mk = system: name: deps: builtins.derivation {
        inherit name system deps;
        # Fresh paths every run: outputs built by an earlier run (or by hand)
        # would otherwise be valid and turn "needs 4 builds" into 0.
        salt = "@SALT@";
        builder = "/bin/sh";
        args = [ "-c" "echo ${name} > $out" ];
      };
      chain = system: names: builtins.head (builtins.foldl' (acc: n: [ (mk system n acc) ]) [ ] names);
    in {
      lib.targets = {
        riscv64 = { system = "riscv64-linux"; strategies = [ "cross" "emulated" "purego" ]; };
        aarch64 = { system = "aarch64-linux"; strategies = [ "cross" "emulated" "purego" ]; };
        darwin = { system = "aarch64-darwin"; strategies = [ "emulated" "purego" ]; };
      };
      packages.${host} = {
        cup-riscv64-cross = chain host [ "riscv64-unknown-linux-gnu-binutils-2.44" "riscv64-unknown-linux-gnu-gcc-14.2.0" "go-1.24.1" "cup-riscv64-unknown-linux-gnu-0.1.0" ];
        cup-riscv64-emulated = chain "riscv64-linux" [ "bootstrap-tools" "binutils-2.44" "glibc-2.40" "gcc-14.2.0" "go-1.24.1" "cup-0.1.0" ];
        cup-riscv64-purego = mk host "cup-purego-0.1.0" [ ];
        cup-aarch64-cross = chain host [ "aarch64-unknown-linux-gnu-binutils-2.44" "aarch64-unknown-linux-gnu-gcc-14.2.0" "go-1.24.1" "cup-aarch64-unknown-linux-gnu-0.1.0" ];
        cup-aarch64-emulated = mk "aarch64-linux" "cup-0.1.0" [ ];
        cup-aarch64-purego = mk host "cup-purego-0.1.0" [ ];
        cup-darwin-emulated = mk "aarch64-darwin" "cup-0.1.0" [ ];
        cup-darwin-purego = mk host "cup-purego-darwin-0.1.0" [ ];
      };
    };
}
"#;

/// A flake dir with nix/strategy.json holding a target we do not plan, a
/// nix.conf for the host facts (aarch64 emulated via binfmt, riscv64 not).
fn prepare(dir: &Path) {
    let salt = crossplan_testkit::fixture::fresh_salt("plan");
    std::fs::write(dir.join("flake.nix"), FLAKE.replace("@SALT@", &salt)).expect("flake");
    std::fs::create_dir_all(dir.join("nix")).expect("mkdir");
    std::fs::write(
        dir.join("nix/strategy.json"),
        r#"{"version": 1, "targets": {"windows": {"strategy": "purego", "reason": "kept"}}}"#,
    )
    .expect("strategy");
    std::fs::write(
        dir.join("nix.conf"),
        "system = x86_64-linux\nmax-jobs = 2\nextra-platforms = i686-linux aarch64-linux\nbuilders =\n",
    )
    .expect("conf");
}

fn plan(dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<String> = vec!["plan".into(), "--flake".into(), dir.display().to_string()];
    for a in ["--substituters", "", "--no-disk-cache", "--nix-conf"] {
        args.push(a.into());
    }
    args.push(dir.join("nix.conf").display().to_string());
    args.push("--history".into());
    args.push(dir.join("history.sqlite").display().to_string());
    args.extend(extra.iter().map(|s| s.to_string()));
    crate::support::output(&args, Duration::from_secs(300), |c| {
        c.current_dir(dir)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_CACHE_HOME", dir.join("cache"));
    })
}

#[test]
fn plan_write_oracle_atomic_stable_and_keeps_other_targets() {
    if !crate::support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let out = plan(dir.path(), &["--write"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("TARGET"), "{stdout}");
    let path = dir.path().join("nix/strategy.json");
    let first = std::fs::read_to_string(&path).expect("read");
    let v: serde_json::Value = serde_json::from_str(&first).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["targets"]["windows"]["reason"], "kept");
    assert_eq!(v["targets"]["aarch64"]["strategy"], "emulated", "{first}");
    assert_eq!(v["targets"]["riscv64"]["strategy"], "cross", "{first}");
    assert_eq!(v["targets"]["darwin"]["strategy"], "purego", "{first}");
    let reason = v["targets"]["riscv64"]["reason"].as_str().unwrap_or("");
    assert!(reason.starts_with("cross needs 4 builds (~"), "{reason}");
    assert!(
        reason.contains("emulated impossible here: riscv64-linux is neither"),
        "{reason}"
    );
    assert!(
        v["targets"]["aarch64"]["reason"]
            .as_str()
            .unwrap_or("")
            .starts_with("emulated needs 1 build under QEMU (~"),
        "{first}"
    );
    assert!(first.ends_with("}\n"));
    // sorted keys, one target per line
    let order: Vec<&str> = first
        .lines()
        .filter_map(|l| l.trim().split('"').nth(1))
        .collect();
    assert_eq!(
        order,
        [
            "version", "targets", "aarch64", "darwin", "riscv64", "windows"
        ]
    );

    let mtime = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let out = plan(dir.path(), &["--write"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        first,
        "second run is byte-identical"
    );
    assert_eq!(
        std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        mtime
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nix"))
        .expect("ls")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(leftovers, ["strategy.json"], "no temporary file left");

    // JSON has every number
    let out = plan(dir.path(), &["--json", "riscv64"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let variants = j["targets"]["riscv64"]["variants"]
        .as_array()
        .expect("variants");
    assert_eq!(variants.len(), 3);
    assert_eq!(variants[1]["label"], "emulated");
    assert_eq!(variants[1]["builds"], 6);
    assert_eq!(variants[1]["possible"], false);
    assert!(variants[0]["total_seconds"].as_f64().unwrap_or(0.0) > 0.0);
}

#[test]
fn plan_write_oracle_corrupt_strategy_file_is_a_clear_error() {
    if !crate::support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let path = dir.path().join("nix/strategy.json");
    std::fs::write(&path, "{\"version\": 1, \"targets\": ").expect("corrupt");
    let out = plan(dir.path(), &["--write", "riscv64"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{} is not a valid strategy file", path.display())),
        "{err}"
    );
    assert!(err.contains("hint: fix or delete"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "{\"version\": 1, \"targets\": ",
        "left alone"
    );
}

#[test]
fn plan_oracle_generic_variants_and_allow_purego() {
    if !crate::support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    prepare(dir.path());
    let flake = dir.path().display().to_string();
    let out = plan(
        dir.path(),
        &[
            "--variant",
            &format!("cross={flake}#cup-riscv64-cross"),
            "--variant",
            &format!("purego={flake}#cup-riscv64-purego"),
            "--allow-purego",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("purego *"), "{stdout}");
    assert!(stdout.contains("without cgo"), "{stdout}");
}
