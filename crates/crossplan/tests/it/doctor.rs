//! `crossplan doctor` against prepared binfmt_misc trees (the real file
//! format of /proc/sys/fs/binfmt_misc/<name>) and real nix.conf files.

use std::path::Path;

fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
}

/// A binfmt_misc tree as NixOS leaves it with `preferStaticEmulators`
/// (riscv64, F flag) next to an old-style registration (aarch64, P only,
/// interpreter gone).
fn prepare(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let binfmt = dir.join("binfmt_misc");
    let interp = dir.join("run/binfmt/riscv64-linux");
    write(&interp, "#!/bin/sh\n");
    write(&binfmt.join("register"), "");
    write(&binfmt.join("status"), "enabled\n");
    write(
        &binfmt.join("riscv64-linux"),
        &format!(
            "enabled\ninterpreter {}\nflags: PF\noffset 0\nmagic 7f454c460201010000000000000000000200f300\nmask ffffffffffffff00fffffffffffffffffeffffff\n",
            interp.display()
        ),
    );
    write(
        &binfmt.join("qemu-aarch64"),
        "enabled\ninterpreter /nonexistent/qemu-aarch64-binfmt-P\nflags: P\noffset 0\nmagic 7f454c460201010000000000000000000200b700\nmask ffffffffffffff00fffffffffffffffffeffffff\n",
    );
    let conf = dir.join("etc/nix/nix.conf");
    write(
        &conf,
        "# as NixOS writes it\nsystem = x86_64-linux\nsandbox = true\nextra-platforms = i686-linux\ninclude binfmt.conf\n!include missing.conf\nsubstituters = https://cache.nixos.org/\n",
    );
    write(
        &dir.join("etc/nix/binfmt.conf"),
        "extra-platforms = riscv64-linux aarch64-linux # added by boot.binfmt\nextra-sandbox-paths = /run/binfmt\n",
    );
    let machines = dir.join("etc/nix/machines");
    write(
        &machines,
        "# remote builders\nssh://s390 s390x-linux - 4 2 big-parallel\n",
    );
    (binfmt, conf, machines)
}

fn doctor(
    binfmt: &Path,
    conf: &Path,
    machines: &Path,
    systems: &[&str],
) -> (i32, serde_json::Value) {
    let out = crate::support::output(&[], std::time::Duration::from_secs(600), |c| {
        c.args(["doctor", "--offline", "--json", "--binfmt-dir"])
            .arg(binfmt)
            .arg("--nix-conf")
            .arg(conf)
            .arg("--machines")
            .arg(machines)
            .args(systems);
    });
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), json)
}

fn status<'a>(checks: &'a serde_json::Value, name: &str) -> (&'a str, &'a str, &'a str) {
    let c = checks
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {checks:#}"));
    (
        c["status"].as_str().unwrap_or(""),
        c["detail"].as_str().unwrap_or(""),
        c["fix"].as_str().unwrap_or(""),
    )
}

#[test]
fn doctor_reads_binfmt_nix_conf_includes_and_machines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (binfmt, conf, machines) = prepare(dir.path());
    let (code, checks) = doctor(
        &binfmt,
        &conf,
        &machines,
        &[
            "riscv64-linux",
            "aarch64-linux",
            "s390x-linux",
            "i686-linux",
        ],
    );
    assert_eq!(code, 1, "aarch64 fails: {checks:#}");
    assert_eq!(status(&checks, "binfmt_misc mounted").0, "ok");
    let (s, detail, _) = status(&checks, "riscv64-linux: binfmt registration");
    assert_eq!(s, "ok");
    assert!(detail.contains("flags: PF"), "{detail}");
    assert_eq!(status(&checks, "riscv64-linux: extra-platforms").0, "ok");
    // F flag: no sandbox path needed, so no such check
    assert!(
        checks
            .as_array()
            .expect("array")
            .iter()
            .all(|c| c["name"] != "riscv64-linux: extra-sandbox-paths")
    );
    let (s, detail, fix) = status(&checks, "aarch64-linux: binfmt registration");
    assert_eq!(s, "fail");
    assert!(
        detail.contains("/nonexistent/qemu-aarch64-binfmt-P does not exist"),
        "{detail}"
    );
    assert!(
        fix.contains("boot.binfmt.emulatedSystems = [ \"aarch64-linux\" ];"),
        "{fix}"
    );
    assert!(
        fix.contains("boot.binfmt.preferStaticEmulators = true;"),
        "{fix}"
    );
    // without F, the sandbox must see the interpreter: /run/binfmt does not cover /nonexistent
    assert_eq!(
        status(&checks, "aarch64-linux: extra-sandbox-paths").0,
        "fail"
    );
    // s390x: no binfmt, not in extra-platforms, but a remote builder: warnings only
    let (s, _, _) = status(&checks, "s390x-linux: binfmt registration");
    assert_eq!(s, "warn");
    let (s, detail, _) = status(&checks, "s390x-linux: remote builders");
    assert_eq!(s, "ok");
    assert!(
        detail.contains("ssh://s390 (max-jobs 4, speed 2)"),
        "{detail}"
    );
    assert_eq!(status(&checks, "i686-linux: native").0, "ok");
}

#[test]
fn doctor_without_binfmt_says_how_to_mount_and_register() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, conf, machines) = prepare(dir.path());
    let empty = dir.path().join("no-binfmt");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let (code, checks) = doctor(&empty, &conf, &machines, &["riscv64-linux"]);
    assert_eq!(code, 1);
    let (s, _, fix) = status(&checks, "binfmt_misc mounted");
    assert_eq!(s, "fail");
    assert!(fix.contains("mount -t binfmt_misc"), "{fix}");
    let (s, _, fix) = status(&checks, "riscv64-linux: binfmt registration");
    assert_eq!(s, "fail");
    assert!(
        fix.contains("boot.binfmt.emulatedSystems = [ \"riscv64-linux\" ];"),
        "{fix}"
    );
}

#[test]
fn doctor_all_green_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (binfmt, conf, machines) = prepare(dir.path());
    std::fs::remove_file(binfmt.join("qemu-aarch64")).expect("rm");
    let (code, checks) = doctor(&binfmt, &conf, &machines, &["riscv64-linux"]);
    assert_eq!(code, 0, "{checks:#}");
}
