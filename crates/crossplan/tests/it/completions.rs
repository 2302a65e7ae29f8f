//! `crossplan completions SHELL` and `crossplan man`, generated from the
//! clap definitions.

use std::io::Write as _;
use std::process::{Command, Stdio};

fn crossplan(args: &[&str]) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = crate::support::output(&args, std::time::Duration::from_secs(60), |_| {});
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn completions_cover_every_command_and_option() {
    let cases = [
        ("bash", "complete -F _crossplan"),
        ("zsh", "#compdef crossplan"),
        ("fish", "complete -c crossplan"),
    ];
    for (shell, marker) in cases {
        let (code, text) = crossplan(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(text.contains(marker), "{shell}: no {marker:?}");
        for word in [
            "status",
            "explain",
            "doctor",
            "hybrid",
            "strict-caches",
            "nix-conf",
        ] {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
    let (code, _) = crossplan(&["completions", "tcsh"]);
    assert_ne!(code, 0, "an unknown shell is refused");
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let (_, text) = crossplan(&["completions", "bash"]);
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash is needed to check the completion script");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = bash.wait_with_output().expect("bash -n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn man_page_has_every_command_and_its_options() {
    let (code, text) = crossplan(&["man"]);
    assert_eq!(code, 0);
    assert!(
        text.starts_with(".ie") || text.contains(".TH crossplan"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains(".TH crossplan"), "a roff page");
    for section in ["STATUS", "PLAN", "BUILD", "CALIBRATE", "DOCTOR", "EXPLAIN"] {
        assert!(
            text.contains(&format!(".SH \"CROSSPLAN {section}\"")),
            "no section for {section}"
        );
    }
    assert!(text.contains("strict\\-caches"), "options are listed");
}
