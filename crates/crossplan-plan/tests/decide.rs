//! The cost model and the decision on generated graphs that imitate real
//! situations (cache-semantics.md, "Implications for crossplan").

use std::collections::BTreeMap;

use crossplan_plan::{
    BuildNode, CostModel, HistoryTable, HostView, Machine, PlanOptions, VariantWork, decide,
    estimate,
};

const HOST: &str = "x86_64-linux";

fn host(extra: &[&str]) -> HostView {
    HostView {
        system: HOST.into(),
        extra_platforms: extra.iter().map(|s| s.to_string()).collect(),
        max_jobs: 2,
        system_features: vec!["big-parallel".into()],
        machines: vec![],
        emulation_factors: BTreeMap::new(),
    }
}

/// A chain-shaped graph: each node depends on all earlier ones listed in `deps`.
fn graph(nodes: &[(&str, &str, &[&str])]) -> VariantWork {
    VariantWork::from_keyed(nodes.iter().map(|(name, system, deps)| {
        (
            *name,
            BuildNode {
                name: name.to_string(),
                system: system.to_string(),
                ..Default::default()
            },
            deps.to_vec(),
        )
    }))
}

/// What `nix build .#cup-<t>-emulated` needs when nothing of `system` is
/// cached: the whole stdenv bootstrap, Go, then cup (riscv64 in practice).
fn full_native_closure(system: &str) -> VariantWork {
    graph(&[
        ("bootstrap-tools", system, &[]),
        ("binutils-2.44", system, &["bootstrap-tools"]),
        ("glibc-2.40", system, &["binutils-2.44"]),
        ("gcc-14.2.0", system, &["glibc-2.40", "binutils-2.44"]),
        ("perl-5.40.0", system, &["gcc-14.2.0"]),
        ("python3-3.12.8", system, &["gcc-14.2.0"]),
        ("coreutils-9.5", system, &["gcc-14.2.0"]),
        ("bash-5.2p37", system, &["gcc-14.2.0"]),
        ("gnum4-1.4.19", system, &["gcc-14.2.0"]),
        ("bison-3.8.2", system, &["gnum4-1.4.19", "perl-5.40.0"]),
        ("openssl-3.3.2", system, &["perl-5.40.0"]),
        (
            "stdenv-linux",
            system,
            &["gcc-14.2.0", "coreutils-9.5", "bash-5.2p37"],
        ),
        ("go-1.24.1", system, &["stdenv-linux"]),
        ("cup-go-modules", system, &["go-1.24.1"]),
        ("cup-0.1.0", system, &["cup-go-modules", "go-1.24.1"]),
    ])
}

/// `pkgsCross.<t>` needs a cross toolchain (x86_64-linux derivations) then
/// the cross Go and cup. With `toolchain_cached` only the last two remain.
fn cross_closure(prefix: &str, toolchain_cached: bool) -> VariantWork {
    let b = format!("{prefix}-binutils-2.44");
    let g = format!("{prefix}-gcc-14.2.0");
    let l = "glibc-riscv64-unknown-linux-gnu-2.40".to_string();
    let go = format!("go-{prefix}-1.24.1");
    let mut nodes: Vec<(&str, &str, Vec<&str>)> = Vec::new();
    if !toolchain_cached {
        nodes.push((&b, HOST, vec![]));
        nodes.push((&l, HOST, vec![&b]));
        nodes.push((&g, HOST, vec![&b, &l]));
    }
    nodes.push((&go, HOST, vec![&g]));
    nodes.push(("cup-go-modules", HOST, vec![]));
    nodes.push((
        "cup-riscv64-unknown-linux-gnu-0.1.0",
        HOST,
        vec![&go, "cup-go-modules"],
    ));
    VariantWork::from_keyed(nodes.into_iter().map(|(k, sys, deps)| {
        (
            k,
            BuildNode {
                name: k.to_string(),
                system: sys.to_string(),
                ..Default::default()
            },
            deps,
        )
    }))
}

fn purego() -> VariantWork {
    let mut w = graph(&[("cup-purego-linux-riscv64-0.1.0", HOST, &[])]);
    w.fetch_count = 3;
    w.download_bytes = 80 << 20;
    w
}

fn run(
    host: &HostView,
    variants: &[(&str, VariantWork)],
    allow_purego: bool,
) -> (
    crossplan_plan::Decision,
    Vec<crossplan_plan::VariantEstimate>,
) {
    let model = CostModel::default();
    let history = HistoryTable::default();
    let est: Vec<_> = variants
        .iter()
        .map(|(l, w)| estimate(l, w, host, &model, &history))
        .collect();
    (decide(&est, &PlanOptions { allow_purego }), est)
}

#[test]
fn aarch64_everything_cached_but_the_leaf_goes_emulated() {
    let h = host(&["aarch64-linux", "i686-linux"]);
    let emulated = graph(&[("cup-0.1.0", "aarch64-linux", &[])]);
    let cross = cross_closure("aarch64-unknown-linux-gnu", false);
    let (d, est) = run(
        &h,
        &[
            ("cross", cross),
            ("emulated", emulated),
            ("purego", purego()),
        ],
        false,
    );
    assert_eq!(d.choice.as_deref(), Some("emulated"), "{}", d.reason);
    assert!(
        d.reason.starts_with("emulated needs 1 build under QEMU (~"),
        "{}",
        d.reason
    );
    assert!(d.reason.contains("; cross needs 6 (~"), "{}", d.reason);
    assert_eq!(est[1].emulated_builds, 1);
    // the default factor for aarch64 and its source are reported
    let f = &est[1].emulation_factors["aarch64-linux"];
    assert_eq!(f.factor, 9.0);
    assert!(f.source.contains("nuts-node"), "{}", f.source);
    assert_eq!(
        d.purego_note.as_deref(),
        Some("purego (no cgo) not considered: pass --allow-purego")
    );
}

#[test]
fn riscv64_nothing_native_cached_but_cross_toolchain_cached_goes_cross() {
    let h = host(&["riscv64-linux"]);
    let (d, est) = run(
        &h,
        &[
            ("cross", cross_closure("riscv64-unknown-linux-gnu", true)),
            ("emulated", full_native_closure("riscv64-linux")),
        ],
        false,
    );
    assert_eq!(d.choice.as_deref(), Some("cross"), "{}", d.reason);
    assert!(
        d.reason.starts_with("cross needs 3 builds (~"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains("; emulated needs 15 under QEMU (~"),
        "{}",
        d.reason
    );
    // bootstrapping gcc under QEMU dominates: hours, not minutes
    assert!(
        est[1].total_seconds > 10.0 * 3600.0,
        "{}",
        est[1].total_seconds
    );
    assert!(est[0].total_seconds < 3600.0, "{}", est[0].total_seconds);
}

#[test]
fn riscv64_fast_remote_builder_goes_emulated() {
    let mut h = host(&[]);
    h.machines.push(Machine {
        uri: "ssh://rv-box".into(),
        systems: vec!["riscv64-linux".into()],
        max_jobs: 4,
        speed_factor: 4.0,
        supported_features: vec!["big-parallel".into()],
        mandatory_features: vec![],
    });
    let emulated = graph(&[
        ("go-1.24.1", "riscv64-linux", &[]),
        ("cup-go-modules", "riscv64-linux", &["go-1.24.1"]),
        (
            "cup-0.1.0",
            "riscv64-linux",
            &["go-1.24.1", "cup-go-modules"],
        ),
    ]);
    let (d, est) = run(
        &h,
        &[
            ("cross", cross_closure("riscv64-unknown-linux-gnu", false)),
            ("emulated", emulated),
        ],
        false,
    );
    assert_eq!(d.choice.as_deref(), Some("emulated"), "{}", d.reason);
    assert!(d.reason.contains("on ssh://rv-box"), "{}", d.reason);
    assert_eq!(est[1].remote_builds, 3);
    assert!(est[1].emulation_factors.is_empty(), "no QEMU involved");
    // the remote builder divides native work by its speed factor
    let model = CostModel::default();
    let native_go = model.prior("go-1.24.1").0 + model.per_build_overhead_seconds;
    assert!(est[1].critical_path_seconds >= native_go / 4.0);
}

#[test]
fn riscv64_without_binfmt_or_builder_is_impossible_with_reason() {
    let h = host(&["i686-linux"]);
    let (d, est) = run(
        &h,
        &[
            ("cross", cross_closure("riscv64-unknown-linux-gnu", false)),
            ("emulated", full_native_closure("riscv64-linux")),
        ],
        false,
    );
    assert_eq!(d.choice.as_deref(), Some("cross"));
    assert!(!est[1].possible);
    let why = est[1].impossible_reason.as_deref().unwrap_or_default();
    assert!(
        why.contains(
            "riscv64-linux is neither this host's system (x86_64-linux) nor in extra-platforms"
        ),
        "{why}"
    );
    assert!(why.contains("no remote builder"), "{why}");
    assert!(
        d.reason.contains("emulated impossible here: riscv64-linux"),
        "{}",
        d.reason
    );
}

#[test]
fn purego_only_when_allowed_or_only_possible() {
    let h = host(&[]);
    let variants = [
        ("cross", cross_closure("riscv64-unknown-linux-gnu", false)),
        ("purego", purego()),
    ];
    let (d, _) = run(&h, &variants, false);
    assert_eq!(
        d.choice.as_deref(),
        Some("cross"),
        "purego is cheaper but not allowed"
    );
    assert!(!d.reason.contains("purego"), "{}", d.reason);
    let (d, _) = run(&h, &variants, true);
    assert_eq!(d.choice.as_deref(), Some("purego"));
    assert!(
        d.reason.starts_with("purego needs 1 build (~"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains(") without cgo; cross needs"),
        "{}",
        d.reason
    );
    assert!(
        d.purego_note
            .as_deref()
            .is_some_and(|n| n.contains("--allow-purego"))
    );

    // darwin on Linux without a darwin builder: purego is all there is
    let darwin = graph(&[("cup-0.1.0", "aarch64-darwin", &[])]);
    let (d, est) = run(&h, &[("emulated", darwin), ("purego", purego())], false);
    assert_eq!(d.choice.as_deref(), Some("purego"));
    assert!(!est[0].possible);
    assert_eq!(
        d.purego_note.as_deref(),
        Some("purego (no cgo) chosen: it is the only variant possible here")
    );
}

#[test]
fn nothing_possible_names_every_reason() {
    let h = host(&[]);
    let mut cross = cross_closure("x", true);
    cross.unknown.push("/nix/store/aaaa-source".into());
    let (d, _) = run(
        &h,
        &[
            ("cross", cross),
            ("emulated", graph(&[("cup-0.1.0", "s390x-linux", &[])])),
        ],
        false,
    );
    assert_eq!(d.choice, None);
    assert!(
        d.reason.starts_with(
            "no variant is possible here (cross: 1 path(s) can be neither built nor fetched"
        ),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains("emulated: s390x-linux is neither"),
        "{}",
        d.reason
    );
}

#[test]
fn history_beats_priors_and_emulated_history_is_not_multiplied() {
    let h = host(&["riscv64-linux"]);
    let model = CostModel::default();
    let w = graph(&[("gcc-14.2.0", "riscv64-linux", &[])]);
    let mut hist = HistoryTable::default();
    let prior = estimate("e", &w, &h, &model, &hist).total_seconds;
    assert_eq!(prior, (1800.0 + 5.0) * 15.6);
    hist.insert("gcc", "x86_64-linux", false, 1000.0);
    let native_seen = estimate("e", &w, &h, &model, &hist).total_seconds;
    assert_eq!(native_seen, (1000.0 + 5.0) * 15.6);
    hist.insert("gcc", "riscv64-linux", true, 7000.0);
    assert_eq!(estimate("e", &w, &h, &model, &hist).total_seconds, 7000.0);
}

#[test]
fn graph_shape_critical_path_versus_work_over_slots() {
    let model = CostModel {
        per_build_overhead_seconds: 0.0,
        default_build_seconds: 100.0,
        ..Default::default()
    };
    let hist = HistoryTable::default();
    // 8 independent builds of 100 s on 2 slots: 400 s; chained: 800 s.
    let wide = VariantWork::from_keyed((0..8).map(|i| {
        let key: &'static str = Box::leak(format!("pkg{i}-1.0").into_boxed_str());
        (
            key,
            BuildNode {
                name: key.into(),
                system: HOST.into(),
                ..Default::default()
            },
            vec![],
        )
    }));
    let e = estimate("w", &wide, &host(&[]), &model, &hist);
    assert_eq!(e.critical_path_seconds, 100.0);
    assert_eq!(e.build_seconds, 400.0);
    let mut chain = wide.clone();
    for i in 1..8 {
        chain.builds[i].deps = vec![i - 1];
    }
    let e = estimate("c", &chain, &host(&[]), &model, &hist);
    assert_eq!(e.critical_path_seconds, 800.0);
    assert_eq!(e.build_seconds, 800.0);
}

#[test]
fn downloads_cost_bytes_over_bandwidth() {
    // 1 Gbit
    let w = VariantWork {
        download_bytes: 125_000_000,
        fetch_count: 10,
        ..Default::default()
    };
    let model = CostModel {
        bandwidth_mbit: 100.0,
        ..Default::default()
    };
    let e = estimate("d", &w, &host(&[]), &model, &HistoryTable::default());
    assert_eq!(e.download_seconds, 10.0);
    assert_eq!(e.total_seconds, 10.0);
}

#[test]
fn priors_match_by_suffix_and_config_overrides() {
    let mut model = CostModel::default();
    assert_eq!(
        model.prior("riscv64-unknown-linux-gnu-gcc-14.2.0").0,
        1800.0
    );
    assert_eq!(
        model
            .prior("riscv64-unknown-linux-gnu-gcc-wrapper-14.2.0")
            .0,
        5.0
    );
    assert_eq!(model.prior("rustc-1.86.0").0, 3600.0);
    assert_eq!(model.prior("hello-2.12").0, 60.0);
    // the kernel: exact name only; cross-built, its host suffix is ignored
    assert_eq!(model.prior("linux-6.12.4").0, 2700.0);
    assert_eq!(
        model.prior("linux-riscv64-unknown-linux-gnu-6.12.4").0,
        2700.0
    );
    assert_eq!(
        model.prior("initrd-linux-6.12.4").0,
        60.0,
        "not the kernel's prior"
    );
    assert_eq!(model.prior("glibc-riscv64-unknown-linux-gnu-2.40").0, 600.0);
    model.priors.insert("hello".into(), 7.0);
    assert_eq!(
        model.prior("hello-2.12"),
        (7.0, "config prior for hello".into())
    );
    // JSON config with an unknown key is refused, a partial one keeps defaults
    assert!(serde_json::from_str::<CostModel>(r#"{"bandwith-mbit": 5}"#).is_err());
    let m: CostModel =
        serde_json::from_str(r#"{"bandwidth-mbit": 5, "emulation-factors": {"riscv64-linux": 3}}"#)
            .expect("valid");
    assert_eq!(m.default_build_seconds, 60.0);
    assert_eq!(m.emulation_factor("riscv64-linux", &BTreeMap::new()).0, 3.0);
}

#[test]
fn calibrated_factor_beats_default() {
    let model = CostModel::default();
    let mut cal = BTreeMap::new();
    cal.insert("riscv64-linux".to_string(), 6.5);
    assert_eq!(
        model.emulation_factor("riscv64-linux", &cal),
        (6.5, "crossplan calibrate on this host".to_string())
    );
    assert!(
        model
            .emulation_factor("s390x-linux", &cal)
            .1
            .starts_with("default:")
    );
}

#[test]
fn i686_on_x86_64_is_native_not_emulated() {
    let h = host(&["i686-linux"]);
    let w = graph(&[("cup-0.1.0", "i686-linux", &[])]);
    let e = estimate(
        "emulated",
        &w,
        &h,
        &CostModel::default(),
        &HistoryTable::default(),
    );
    assert_eq!((e.native_builds, e.emulated_builds), (1, 0));
}

#[test]
fn mandatory_features_keep_builds_off_a_machine() {
    let mut h = host(&[]);
    h.machines.push(Machine {
        uri: "ssh://kvm-only".into(),
        systems: vec!["riscv64-linux".into()],
        max_jobs: 1,
        speed_factor: 1.0,
        supported_features: vec![],
        mandatory_features: vec!["kvm".into()],
    });
    let w = graph(&[("cup-0.1.0", "riscv64-linux", &[])]);
    let e = estimate(
        "emulated",
        &w,
        &h,
        &CostModel::default(),
        &HistoryTable::default(),
    );
    assert!(!e.possible);
}
