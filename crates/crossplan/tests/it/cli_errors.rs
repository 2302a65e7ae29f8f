//! Exit codes and one-line messages for bad input. Tests that touch the Nix
//! store have `oracle` in their names (the flake's sandbox has no Nix).

use std::path::Path;
use std::time::Duration;

use crossplan_testkit::cache::{Cache, Key, NarInfo, SigState, hash_part, phantom_path};
use crossplan_testkit::fixture::fresh_salt;
use crossplan_testkit::nix::{self, DryRunOpts};
use crossplan_testkit::rng::Rng;
use crossplan_testkit::server::{CacheServer, FaultConfig};

use crate::support::{self, Run};

const LIMIT: Duration = Duration::from_secs(120);

fn run(args: &[&str]) -> Run {
    let xdg = tempfile::tempdir().expect("xdg");
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    support::crossplan(&args, xdg.path(), LIMIT)
}

/// The first line of stderr that is an error message (`error: …`).
fn error_line(r: &Run) -> String {
    r.stderr
        .lines()
        .find(|l| l.starts_with("error"))
        .unwrap_or_else(|| {
            panic!(
                "no `error` line on stderr\ncommand: {}\nstderr: {}",
                r.command, r.stderr
            )
        })
        .to_owned()
}

fn assert_exit(r: &Run, codes: &[i32]) {
    r.assert_no_panic();
    assert!(
        codes.contains(&r.code),
        "exit {} (expected one of {codes:?})\ncommand: {}\nstdout: {}\nstderr: {}",
        r.code,
        r.command,
        support::truncate(&r.stdout, 1000),
        support::truncate(&r.stderr, 2000)
    );
}

fn a_key() -> Key {
    Key::generate("test-1", &mut Rng::new(5))
}

#[test]
fn status_without_roots_is_usage_error() {
    let r = run(&["status"]);
    assert_exit(&r, &[2]);
}

#[test]
fn unknown_flag_is_usage_error() {
    let r = run(&["status", "--no-such-flag", "/nix/store/x"]);
    assert_exit(&r, &[2]);
    assert!(r.stderr.contains("--no-such-flag"), "{}", r.stderr);
}

#[test]
fn bad_require_sigs_value_is_usage_error() {
    let r = run(&["status", "--require-sigs", "maybe", "/nix/store/x"]);
    assert_exit(&r, &[2]);
    assert!(r.stderr.contains("require-sigs"), "{}", r.stderr);
}

/// Malformed `--trusted-public-keys`: no colon, bad base64, wrong length.
/// The message names the option or the offending key.
#[test]
fn malformed_trusted_public_keys_oracle() {
    let root = format!("/nix/store/{}-nowhere", "3".repeat(32));
    let good = a_key().public();
    let short = format!("short-1:{}", "QUJD"); // 3 bytes
    for bad in ["no-colon-here", "name:!!!not base64!!!", short.as_str()] {
        let keys = format!("{good} {bad}");
        let r = run(&[
            "status",
            "--json",
            "--substituters",
            "",
            "--trusted-public-keys",
            &keys,
            &root,
        ]);
        assert_exit(&r, &[1, 2]);
        let line = error_line(&r);
        let bad_name = bad.split(':').next().unwrap_or(bad);
        assert!(
            line.contains("trusted-public-keys") || line.contains(bad_name),
            "message should name the option or the key `{bad}`: {line}"
        );
    }
}

/// A `.drv` path that is not in the store: unknown, exactly like Nix.
#[test]
fn missing_drv_is_unknown_like_nix_oracle() {
    if !support::require_nix() {
        return;
    }
    let mut rng = Rng::new(std::process::id() as u64);
    let drv = format!("{}.drv", phantom_path(&mut rng, "missing"));
    let nixr = nix::dry_run(
        std::slice::from_ref(&drv),
        &DryRunOpts {
            substituters: String::new(),
            trusted_public_keys: String::new(),
            require_sigs: true,
        },
    )
    .expect("nix dry run");
    assert!(nixr.unknown.contains(&drv), "{}", nixr.stderr);
    let r = run(&[
        "status",
        "--json",
        "--substituters",
        "",
        "--trusted-public-keys",
        "",
        &drv,
    ]);
    assert_exit(&r, &[0]);
    let a = support::answer(&r.json());
    assert_eq!(a.unknown, nixr.unknown);
    assert!(a.build.is_empty() && a.fetch.is_empty());
}

/// A garbage `.drv` outside the store: input error naming the file. (A
/// garbage `.drv` cannot be registered in the store at all: Nix 2.8's
/// `nix-store --add` parses `.drv` files and refuses with "error parsing
/// derivation", so that case cannot arise from a valid store.)
#[test]
fn garbage_drv_outside_store_is_error_oracle() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("garbage.drv");
    std::fs::write(&file, "Derive(garbage").expect("write");
    let f = file.to_string_lossy().to_string();
    let r = run(&[
        "status",
        "--json",
        "--substituters",
        "",
        "--trusted-public-keys",
        "",
        &f,
    ]);
    assert_exit(&r, &[1, 2]);
    let line = error_line(&r);
    assert!(
        line.contains("garbage.drv"),
        "message should name {f}: {line}"
    );
}

/// Write a one-record cache for `path` into `dir` with a custom narinfo text.
fn one_record_cache(dir: &Path, path: &str, text: &str, store_dir: &str) -> Cache {
    let mut c = Cache::new(dir.to_owned(), 40);
    c.store_dir = store_dir.to_owned();
    c.add_raw(
        format!("StorePath: {path}\nURL: nar/x.nar\nNarSize: 1\n"),
        SigState::Good,
    )
    .expect("raw");
    c.write().expect("write cache");
    std::fs::write(dir.join(format!("{}.narinfo", hash_part(path))), text).expect("narinfo");
    c
}

/// A malformed narinfo served over HTTP: a rejection or an error naming the
/// path or URL — never a panic, never a fetch.
#[test]
fn malformed_narinfo_is_rejected_or_error_oracle() {
    let mut rng = Rng::new(77 ^ std::process::id() as u64);
    let path = phantom_path(&mut rng, "malformed");
    let key = a_key();
    for (i, text) in [
        format!("StorePath: {path}\nURL: nar/x.nar\nNarSize: not-a-number\nNarHash: sha256:zz\n"),
        "\u{0}\u{1}binary garbage\n".to_owned(),
        format!("StorePath: /nix/store/{}-other\nURL: nar/x.nar\nCompression: none\nNarHash: sha256:{}\nNarSize: 10\nReferences: \n", "4".repeat(32), "0".repeat(52)),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = tempfile::tempdir().expect("tmp");
        one_record_cache(dir.path(), &path, &text, "/nix/store");
        let server = CacheServer::start(dir.path().to_owned(), FaultConfig::default()).expect("server");
        let r = run(&[
            "status",
            "--json",
            "--substituters",
            &server.url(),
            "--trusted-public-keys",
            &key.public(),
            &path,
        ]);
        assert_exit(&r, &[0, 1, 3]);
        let hash = hash_part(&path);
        match r.code {
            1 => {
                let line = error_line(&r);
                assert!(line.contains(hash), "case {i}: message should name the narinfo: {line}");
            }
            _ => {
                let a = support::answer(&r.json());
                assert!(!a.fetch.contains(&path), "case {i}: fetches a malformed record");
                let named = a.rejected.iter().any(|(p, _, _)| p.contains(hash))
                    || a.errors.iter().any(|(u, why)| u.contains(hash) || why.contains(hash));
                assert!(named, "case {i}: neither rejected nor errors names {hash}: {}", r.stdout);
                assert!(a.unknown.contains(&path), "case {i}: the path should be unknown");
            }
        }
    }
}

/// `StoreDir: /gnu/store` in nix-cache-info: the cache is unusable, and the
/// message (or `errors`) names its URL.
#[test]
fn store_dir_mismatch_names_the_cache_oracle() {
    let mut rng = Rng::new(99 ^ std::process::id() as u64);
    let path = phantom_path(&mut rng, "gnu");
    let key = a_key();
    let dir = tempfile::tempdir().expect("tmp");
    let mut c = Cache::new(dir.path().to_owned(), 40);
    c.store_dir = "/gnu/store".into();
    let ni = NarInfo::generated(&path, 100, 50, vec![], None, &mut rng);
    c.add_signed(ni, SigState::Good, &key, &key, &key);
    c.write().expect("write");
    let server = CacheServer::start(dir.path().to_owned(), FaultConfig::default()).expect("server");
    let r = run(&[
        "status",
        "--json",
        "--substituters",
        &server.url(),
        "--trusted-public-keys",
        &key.public(),
        &path,
    ]);
    assert_exit(&r, &[1, 3]);
    let port = server.addr().port().to_string();
    if r.code == 1 {
        let line = error_line(&r);
        assert!(
            line.contains(&port) && line.contains("/gnu/store"),
            "{line}"
        );
    } else {
        let a = support::answer(&r.json());
        assert!(
            a.errors
                .iter()
                .any(|(u, why)| u.contains(&port) && why.contains("/gnu/store")),
            "{:?}",
            a.errors
        );
        assert!(!a.fetch.contains(&path));
    }
}

/// A cache on a closed port: exit 3 (or 1) naming the URL, in reasonable time.
#[test]
fn unreachable_cache_names_the_url_oracle() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let mut rng = Rng::new(7 ^ std::process::id() as u64);
    let path = phantom_path(&mut rng, "unreachable");
    let r = run(&[
        "status",
        "--json",
        "--substituters",
        &url,
        "--trusted-public-keys",
        &a_key().public(),
        &path,
    ]);
    assert_exit(&r, &[1, 3]);
    if r.code == 1 {
        assert!(error_line(&r).contains(&port.to_string()), "{}", r.stderr);
    } else {
        let a = support::answer(&r.json());
        assert!(
            a.errors.iter().any(|(u, _)| u.contains(&port.to_string())),
            "{:?}",
            a.errors
        );
        assert!(a.unknown.contains(&path));
    }
    assert!(r.elapsed < Duration::from_secs(60), "took {:?}", r.elapsed);
}

/// An installable that does not evaluate: exit 1, Nix's reason shown.
#[test]
fn installable_that_does_not_evaluate_oracle() {
    if !support::require_nix() {
        return;
    }
    let dir = tempfile::tempdir().expect("tmp");
    let marker = fresh_salt("boom");
    std::fs::write(
        dir.path().join("flake.nix"),
        format!(
            "{{ outputs = {{ self }}: {{ packages.x86_64-linux.bad = throw \"{marker}\"; packages.aarch64-linux.bad = throw \"{marker}\"; }}; }}\n"
        ),
    )
    .expect("flake");
    let inst = format!("path:{}#bad", dir.path().display());
    let r = run(&[
        "status",
        "--json",
        "--substituters",
        "",
        "--trusted-public-keys",
        "",
        &inst,
    ]);
    assert_exit(&r, &[1]);
    assert!(
        r.stderr.contains(&marker) || error_line(&r).contains("#bad"),
        "should show why `{inst}` failed: {}",
        r.stderr
    );
}

/// A root that starts with `-` is an installable, never an option of the
/// `nix eval` crossplan runs (it was: `-- --version` printed Nix's version as
/// the root's "drvPath").
#[test]
fn root_starting_with_a_dash_is_not_an_option_of_nix_eval_oracle() {
    if !support::require_nix() {
        return;
    }
    let r = run(&[
        "status",
        "--substituters",
        "",
        "--trusted-public-keys",
        "",
        "--",
        "--version",
    ]);
    assert_exit(&r, &[1]);
    assert!(
        error_line(&r).contains("installable '--version' does not evaluate"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("nix (Nix)"), "{}", r.stderr);
}

/// A Nix that cannot print its settings: its own complaint is shown (not that
/// of the second spelling tried), without colour codes, with a hint.
#[test]
fn nix_settings_failure_shows_nix_s_reason_oracle() {
    if !support::require_nix() {
        return;
    }
    let xdg = tempfile::tempdir().expect("xdg");
    let args = [
        "status".to_owned(),
        "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-x.drv".to_owned(),
    ];
    let out = support::output(&args, LIMIT, |cmd| {
        cmd.env("NIX_CONFIG", "garbage line")
            .env("XDG_CACHE_HOME", xdg.path());
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`nix show-config --json` failed"),
        "{stderr}"
    );
    assert!(stderr.contains("garbage line"), "{stderr}");
    assert!(
        stderr.contains("hint: Nix could not report its settings"),
        "{stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "colour codes: {stderr}");
}
