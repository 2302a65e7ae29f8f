//! `crossplan calibrate` for real: the built-in Go workload natively and
//! under qemu-user (needs `go` and `qemu-riscv64-static` on PATH; the
//! suite's skip rule, `crossplan_testkit::skip`, applies otherwise).

fn have(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

#[test]
fn calibrate_riscv64_under_qemu_user() {
    if !crossplan_testkit::skip::require(
        "go and qemu-riscv64(-static) on PATH",
        have("go") && (have("qemu-riscv64-static") || have("qemu-riscv64")),
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("history.sqlite");
    let out = crate::support::output(&[], std::time::Duration::from_secs(600), |c| {
        c.args([
            "calibrate",
            "riscv64-linux",
            "--repeats",
            "1",
            "--rounds",
            "2",
            "--json",
            "--binfmt-dir",
        ])
        .arg(dir.path().join("no-binfmt"))
        .arg("--history")
        .arg(&db);
    });
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let r = &v[0];
    assert_eq!(r["system"], "riscv64-linux");
    assert!(
        r["runner"].as_str().unwrap_or("").contains("qemu-riscv64"),
        "{r}"
    );
    let f = r["factor"].as_f64().unwrap_or(0.0);
    assert!(f > 1.5, "QEMU should be slower than native: {r}");
    // stored: a later plan uses it
    assert!(db.exists());
}

#[test]
fn calibrate_user_workload_needs_a_host_binary() {
    let out = crate::support::output(&[], std::time::Duration::from_secs(600), |c| {
        c.args([
            "calibrate",
            "riscv64-linux",
            "--no-store",
            "--workload",
            "riscv64-linux=/nonexistent",
        ]);
    });
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--workload gives no binary for this host's system"),
        "{err}"
    );
    assert!(err.contains("hint: add --workload"), "{err}");
}
