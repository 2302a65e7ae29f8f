//! crossplan status vs Nix's own dry run (`nix-store --realise --dry-run`)
//! on seeded random graphs: identical build/fetch/unknown sets and sizes.
//! Nix reads a view of the caches without the badly signed records (its dry
//! run checks no signatures); crossplan reads the full caches and must reject
//! them. A failure keeps the fixture and prints the exact command.

use crossplan_testkit::fixture::{Target, Trust};
use crossplan_testkit::nix;
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::support::{self, Fx};

/// Several seeds and sizes, file:// caches.
#[test]
fn oracle_file_caches_many_seeds() {
    for (seed, nodes) in [(1, 1000), (2, 1500), (3, 2000), (4, 1200), (5, 2500)] {
        let Some(mut fxw) = Fx::build("oracle-file", nodes, seed, |_| {}) else {
            return;
        };
        let targets = fxw.fx.targets();
        support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::GoodSigs, &[]);
    }
}

/// Several seeds over HTTP (the loopback cache server), with different `--jobs`.
#[test]
fn oracle_http_caches_many_seeds() {
    for (seed, nodes, jobs) in [(11, 1500, "1"), (12, 2000, "8"), (13, 3000, "64")] {
        let Some(mut fxw) = Fx::build("oracle-http", nodes, seed, |_| {}) else {
            return;
        };
        let fx = &fxw.fx;
        let targets = fx.targets();
        let view = fx.view(Trust::GoodSigs).expect("view");
        let nix = support::oracle(fx, &targets, &view, Trust::GoodSigs);
        let hi = CacheServer::start(fx.hi.dir.clone(), FaultConfig::default()).expect("server");
        let lo = CacheServer::start(fx.lo.dir.clone(), FaultConfig::default()).expect("server");
        let urls = [hi.url(), lo.url()];
        let xdg = tempfile::tempdir().expect("xdg");
        let t: Vec<String> = targets.iter().map(Target::crossplan).collect();
        let status = || {
            support::status(
                &t,
                &format!("{} {}", urls[1], urls[0]),
                &fx.trusted_keys(Trust::GoodSigs),
                true,
                &["--jobs", jobs, "-vv"],
                xdg.path(),
            )
        };
        let run = status();
        run.assert_no_panic();
        let mut diffs = support::check_model_against_nix(fx, Trust::GoodSigs, &nix);
        if run.code != 0 {
            diffs.push(format!("exit code {} (expected 0)", run.code));
        } else {
            let cp = support::answer(&run.json());
            diffs.extend(support::compare(fx, Trust::GoodSigs, &nix, &cp, &urls));
            eprintln!(
                "  seed {seed}: nix build {} fetch {} unknown {}; crossplan {:?}, {} + {} requests",
                nix.build.len(),
                nix.fetch.len(),
                nix.unknown.len(),
                run.elapsed,
                hi.requests(),
                lo.requests()
            );
            // The roots are store paths, so their closure was read while Nix's
            // settings loaded; `explain` does the same for its one root.
            if !run.stderr.contains("resolved the roots") || !run.stderr.contains("early=true") {
                diffs.push("status did not read the roots' closure ahead".into());
            }
            let explain = support::crossplan(
                &[
                    "explain".into(),
                    "-v".into(),
                    "--substituters".into(),
                    format!("{} {}", urls[1], urls[0]),
                    "--trusted-public-keys".into(),
                    fx.trusted_keys(Trust::GoodSigs),
                    t[0].clone(),
                ],
                // its own cache directory: the one closure file of `xdg` is
                // damaged on purpose below
                tempfile::tempdir().expect("xdg").path(),
                std::time::Duration::from_secs(120),
            );
            explain.assert_no_panic();
            if explain.code != 0 || !explain.stderr.contains("early=true") {
                diffs.push(format!(
                    "explain {}: exit {}, closure read ahead: {}",
                    t[0],
                    explain.code,
                    explain.stderr.contains("early=true")
                ));
            }
            // Warm: the same answer from the narinfo cache alone, references that
            // no cache holds included, without a single request.
            let sent = hi.requests() + lo.requests();
            let warm = status();
            warm.assert_no_panic();
            if warm.code != 0 {
                diffs.push(format!("warm run: exit code {} (expected 0)", warm.code));
            } else if support::answer(&warm.json()) != cp {
                diffs.push("warm run: a different answer".into());
            }
            let more = hi.requests() + lo.requests() - sent;
            if more != 0 {
                diffs.push(format!("warm run sent {more} requests (expected none)"));
            }
            // The warm run took the parsed closure from the closure cache, not
            // from the .drv files; a damaged closure file is read around (the
            // same answer) and replaced.
            if !warm.stderr.contains("read the closure from") {
                diffs.push("warm run: the closure was not read from the closure cache".into());
            }
            diffs.extend(damaged_closure_is_replaced(xdg.path(), &status, &cp));
        }
        if !diffs.is_empty() {
            support::fail(&mut fxw, &format!("oracle http seed {seed}"), &diffs, &run);
        }
    }
}

/// Damage the one stored closure: the next run must give `expected`, say it
/// read the derivations instead, and store a good closure again.
fn damaged_closure_is_replaced(
    xdg: &std::path::Path,
    status: &dyn Fn() -> support::Run,
    expected: &support::Answer,
) -> Vec<String> {
    let dir = xdg.join("crossplan/closures-v1");
    let files: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "closure"))
                .collect()
        })
        .unwrap_or_default();
    let [file] = files.as_slice() else {
        return vec![format!(
            "expected one closure file in {}, found {files:?}",
            dir.display()
        )];
    };
    let good = std::fs::read(file).expect("read the closure file");
    let mut bad = good.clone();
    let middle = bad.len() / 2;
    bad[middle] ^= 0x5a;
    std::fs::write(file, &bad).expect("damage the closure file");
    let run = status();
    run.assert_no_panic();
    let mut d = Vec::new();
    if run.code != 0 {
        d.push(format!(
            "damaged closure: exit code {} (expected 0)",
            run.code
        ));
    } else if &support::answer(&run.json()) != expected {
        d.push("damaged closure: a different answer".into());
    }
    if !run.stderr.contains("reading the derivations instead") {
        d.push("damaged closure: not reported in the debug log".into());
    }
    if std::fs::read(file).ok().as_deref() != Some(good.as_slice()) {
        d.push("damaged closure: not replaced by the same good file".into());
    }
    d
}

/// Roots asked for specific outputs (`drv^dev`; Nix 2.8 spells it `drv!dev`),
/// plus intermediate nodes asked for `lib` only.
#[test]
fn oracle_specific_outputs() {
    for seed in [21, 22] {
        let Some(mut fxw) = Fx::build("oracle-outputs", 1500, seed, |s| s.graph.multi_output = 0.4)
        else {
            return;
        };
        let targets = fxw.fx.targets_with_outputs(seed);
        assert!(targets.iter().any(|t| t.outputs.is_some()));
        support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::GoodSigs, &[]);
    }
}

/// A graph for a system this host cannot build (only instantiated): nothing
/// is valid locally, everything comes from caches or gets built.
#[test]
fn oracle_foreign_system_graph() {
    let Some(mut fxw) = Fx::build("oracle-riscv", 2000, 31, |s| {
        s.graph.system = Some("riscv64-linux".into());
        s.realise = false;
        s.real_records = 0;
        s.cached = 0.6;
    }) else {
        return;
    };
    assert!(fxw.fx.valid.is_empty());
    let targets = fxw.fx.targets();
    support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::GoodSigs, &[]);
}

/// `--require-sigs false`: every record counts, badly signed or not; Nix
/// reads the full caches too.
#[test]
fn oracle_require_sigs_false() {
    let Some(mut fxw) = Fx::build("oracle-nosigs", 1500, 41, |s| s.bad_sig = 0.3) else {
        return;
    };
    let targets = fxw.fx.targets();
    support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::Everything, &[]);
}

/// Only the low cache's key is trusted: every high-priority record is
/// refused, so the answer equals Nix's with the low cache alone.
#[test]
fn oracle_only_low_key_trusted() {
    let Some(mut fxw) = Fx::build("oracle-lokey", 1500, 51, |_| {}) else {
        return;
    };
    let targets = fxw.fx.targets();
    support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::LoKeyOnly, &[]);
}

/// Store paths as roots (cached, valid, nowhere) and a `.drv` that does not
/// exist: the unknown ones are reported as Nix reports them.
#[test]
fn oracle_store_paths_and_missing_drv() {
    let Some(mut fxw) = Fx::build("oracle-paths", 1000, 61, |_| {}) else {
        return;
    };
    let fx = &fxw.fx;
    let mut paths: Vec<String> = Vec::new();
    // Some cached outputs, some valid ones, some built-only ones.
    paths.extend(fx.hi.records.keys().step_by(7).take(15).cloned());
    paths.extend(fx.lo.records.keys().step_by(5).take(15).cloned());
    paths.extend(fx.valid.iter().take(5).cloned());
    paths.extend(fx.info.iter().rev().take(5).map(|i| i.outs["out"].clone()));
    paths.push(format!("/nix/store/{}-nowhere", "1".repeat(32)));
    paths.sort();
    paths.dedup();
    let mut targets: Vec<Target> = paths
        .into_iter()
        .map(|p| Target {
            drv: p,
            outputs: None,
        })
        .collect();
    targets.push(Target {
        drv: format!("/nix/store/{}-not-instantiated.drv", "2".repeat(32)),
        outputs: None,
    });
    support::oracle_vs_crossplan_file(&mut fxw, &targets, Trust::GoodSigs, &[]);
}

/// The harness itself: Nix's dry run agrees with the fixture's model of
/// priority and sizes (no crossplan involved). If this fails, the fixtures
/// are wrong, not crossplan.
#[test]
fn oracle_harness_matches_nix() {
    let Some(fxw) = Fx::build("oracle-harness", 800, 71, |_| {}) else {
        return;
    };
    let fx = &fxw.fx;
    let view = fx.view(Trust::GoodSigs).expect("view");
    let nix = support::oracle(fx, &fx.targets(), &view, Trust::GoodSigs);
    let diffs = support::check_model_against_nix(fx, Trust::GoodSigs, &nix);
    assert!(diffs.is_empty(), "{diffs:?}");
    assert!(
        !nix.build.is_empty() && !nix.fetch.is_empty() && !nix.unknown.is_empty(),
        "the fixture should exercise build, fetch and unknown: {} / {} / {}",
        nix.build.len(),
        nix.fetch.len(),
        nix.unknown.len()
    );
    // The high cache wins where both hold a path: some fetched path must
    // come from a record present in both caches.
    let both = nix
        .fetch
        .iter()
        .filter(|p| fx.hi.good(p).is_some() && fx.lo.good(p).is_some())
        .count();
    // And a path whose high-priority record is badly signed is fetched from
    // the low cache (the view has only the good one).
    let bad_hi_good_lo = nix
        .fetch
        .iter()
        .filter(|p| {
            fx.hi.records.get(*p).is_some_and(|r| !r.sig.is_good()) && fx.lo.good(p).is_some()
        })
        .count();
    assert!(
        bad_hi_good_lo > 0,
        "no fetched path has a bad high and a good low record; rejection fallback is untested"
    );
    assert!(
        both > 0,
        "no fetched path is in both caches; priority is untested"
    );
}

/// Negative control: the comparison must catch a crossplan that does not
/// check signatures. crossplan runs with `--require-sigs false` against the
/// full caches; Nix reads the well-signed view; they must differ.
#[test]
fn oracle_negative_control_catches_unchecked_signatures() {
    let Some(fxw) = Fx::build("oracle-negctl", 1000, 101, |s| s.bad_sig = 0.3) else {
        return;
    };
    let fx = &fxw.fx;
    let targets = fx.targets();
    let view = fx.view(Trust::GoodSigs).expect("view");
    let nix = support::oracle(fx, &targets, &view, Trust::GoodSigs);
    let full = [fx.hi.dir.clone(), fx.lo.dir.clone()];
    let urls = [
        format!("file://{}", full[0].display()),
        format!("file://{}", full[1].display()),
    ];
    let xdg = tempfile::tempdir().expect("xdg");
    let t: Vec<String> = targets.iter().map(Target::crossplan).collect();
    let run = support::status(
        &t,
        &crossplan_testkit::fixture::Fixture::file_substituters(&full),
        &fx.trusted_keys(Trust::GoodSigs),
        false,
        &[],
        xdg.path(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.command, run.stderr);
    let cp = support::answer(&run.json());
    let diffs = support::compare(fx, Trust::GoodSigs, &nix, &cp, &urls);
    assert!(
        !diffs.is_empty(),
        "the oracle comparison did not notice unchecked signatures"
    );
}

/// An HTTP cache without `nix-cache-info` (a mistyped path, an unlistable bucket):
/// Nix says it "does not appear to be a binary cache" and leaves it out, and so does
/// crossplan, with a warning naming it and exit 3; the answers agree, and no narinfo
/// is asked of that cache.
#[test]
fn oracle_http_cache_without_cache_info_is_left_out() {
    let Some(mut fxw) = Fx::build("oracle-noinfo", 1000, 71, |_| {}) else {
        return;
    };
    let fx = &fxw.fx;
    let targets = fx.targets();
    let view = fx.view(Trust::GoodSigs).expect("view");
    std::fs::remove_file(view[0].join("nix-cache-info")).expect("remove nix-cache-info");
    let hi = CacheServer::start(view[0].clone(), FaultConfig::default()).expect("server");
    let lo = CacheServer::start(view[1].clone(), FaultConfig::default()).expect("server");
    let substituters = format!("{} {}", lo.url(), hi.url());
    let keys = fx.trusted_keys(Trust::GoodSigs);
    let opts = nix::DryRunOpts {
        substituters: substituters.clone(),
        trusted_public_keys: keys.clone(),
        require_sigs: true,
    };
    let nix_targets: Vec<String> = targets.iter().map(Target::nix).collect();
    let nix = nix::dry_run(&nix_targets, &opts).expect("nix-store --realise --dry-run");
    let xdg = tempfile::tempdir().expect("xdg");
    let t: Vec<String> = targets.iter().map(Target::crossplan).collect();
    let asked_before = hi.requests();
    let run = support::status(&t, &substituters, &keys, true, &[], xdg.path());
    run.assert_no_panic();
    let mut diffs = Vec::new();
    if run.code != 3 {
        diffs.push(format!("exit code {} (expected 3)", run.code));
    }
    let warning = format!(
        "warning: binary cache '{}' does not appear to be a binary cache",
        hi.url()
    );
    if !run.stderr.contains(&warning) {
        diffs.push(format!("no '{warning}' on stderr"));
    }
    let asked = hi.requests() - asked_before;
    if asked != 1 {
        diffs.push(format!(
            "crossplan sent {asked} requests to the cache without nix-cache-info (expected 1: that file)"
        ));
    }
    if run.code == 0 || run.code == 3 {
        let cp = support::answer(&run.json());
        diffs.extend(nix::differences(&nix, &cp.core));
        if !cp.errors.iter().any(|(url, _)| url.contains(&hi.url())) {
            diffs.push(format!(
                "`errors` does not name {}: {:?}",
                hi.url(),
                cp.errors
            ));
        }
    }
    if !diffs.is_empty() {
        support::fail(&mut fxw, "cache without nix-cache-info", &diffs, &run);
    }
}
