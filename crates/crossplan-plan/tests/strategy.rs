//! `nix/strategy.json`: merge, stable output, atomic write, clear errors.

use crossplan_plan::{PlanError, StrategyFile};

#[test]
fn write_merge_and_rewrite_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("strategy.json");
    std::fs::write(
        &path,
        r#"{"version":1,"targets":{"darwin":{"strategy":"purego","reason":"by hand","pinned":true}}}"#,
    )
    .expect("write");
    let mut f = StrategyFile::load(&path).expect("load");
    f.set(
        "riscv64",
        "cross",
        "emulated needs 812 builds under QEMU (~9 h); cross needs 37 (~25 min)",
    );
    f.set(
        "aarch64",
        "emulated",
        "emulated needs 1 build under QEMU (~2 min)",
    );
    assert!(f.write_atomic(&path).expect("write"));
    let text = std::fs::read_to_string(&path).expect("read");
    assert_eq!(
        text,
        r#"{
  "version": 1,
  "targets": {
    "aarch64": { "strategy": "emulated", "reason": "emulated needs 1 build under QEMU (~2 min)" },
    "darwin": { "strategy": "purego", "reason": "by hand", "pinned": true },
    "riscv64": { "strategy": "cross", "reason": "emulated needs 812 builds under QEMU (~9 h); cross needs 37 (~25 min)" }
  }
}
"#
    );
    // valid JSON, and a second identical run changes nothing
    let _: serde_json::Value = serde_json::from_str(&text).expect("json");
    let again = StrategyFile::load(&path).expect("reload");
    assert!(!again.write_atomic(&path).expect("rewrite"));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), text);
    // no temporary file left behind
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("strategy.json")]);
}

#[test]
fn corrupt_and_wrong_version_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("strategy.json");
    std::fs::write(&path, "{\"version\": 1, \"targets\": {\"x\": ").expect("write");
    let err = StrategyFile::load(&path).expect_err("corrupt");
    assert!(matches!(err, PlanError::Corrupt { .. }));
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
    assert!(err.hint().contains("crossplan plan --write"));
    std::fs::write(&path, r#"{"version": 2, "targets": {}}"#).expect("write");
    let err = StrategyFile::load(&path).expect_err("version");
    assert!(err.to_string().contains("has version 2"), "{err}");
}

#[test]
fn missing_file_is_empty_and_empty_renders() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = StrategyFile::load(&dir.path().join("nope.json")).expect("missing is fine");
    assert_eq!(f.render(), "{\n  \"version\": 1,\n  \"targets\": {}\n}\n");
}
