//! Exit codes of `crossplan`. They are part of its interface: scripts and CI
//! branch on them. Keep this list, `--help` and the README in sync.

/// The command completed and its answer is complete.
pub const OK: u8 = 0;
/// An error: bad input or settings, Nix failed, a cache is unusable (or
/// unreachable, with `--strict-caches`).
pub const ERROR: u8 = 1;
/// Wrong command-line usage.
pub const USAGE: u8 = 2;
/// The answer was printed, but some lookups failed for good or a binary cache
/// was unreachable (they are listed under `errors`), so the answer may
/// overstate the work.
pub const PARTIAL: u8 = 3;

/// The text `--help` shows about exit codes.
pub const HELP: &str = "Exit codes:
  0  complete answer
  1  error (bad input or settings, Nix failed, a cache is unusable)
  2  usage error
  3  answer printed, but a lookup failed for good or a cache was unreachable
     (see `errors`); it may overstate the work
  130  interrupted by SIGINT (child nix processes stopped first)
  143  stopped by SIGTERM (child nix processes stopped first)";

/// Interrupted by SIGINT (128 + 2), after stopping child processes.
pub const INTERRUPTED: u8 = 130;
/// Stopped by SIGTERM (128 + 15), after stopping child processes.
pub const TERMINATED: u8 = 143;

/// The fix for an error: the first hint any error in the chain gives. Every
/// library error type knows its own; this is the one place that asks them.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<crate::engine::EngineError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crossplan_store::StoreError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crossplan_cache::CacheError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crossplan_missing::MissingError>() {
            e.hint()
        } else if let Some(e) = cause.downcast_ref::<crossplan_host::HostError>() {
            e.hint()
        } else {
            cause
                .downcast_ref::<crossplan_plan::PlanError>()
                .map(crossplan_plan::PlanError::hint)
        }
    })
}

/// The exit code of a failed command: 2 for wrong usage, else 1.
pub fn code_of(err: &anyhow::Error) -> u8 {
    let usage = err.chain().any(|cause| {
        cause
            .downcast_ref::<crate::engine::EngineError>()
            .is_some_and(crate::engine::EngineError::is_usage)
    });
    if usage { USAGE } else { ERROR }
}

/// The error chain as one line: each cause once (a message that already ends
/// with its cause's text is not followed by it again).
pub fn message_of(err: &anyhow::Error) -> String {
    let mut line = String::new();
    let mut last = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !last.is_empty() && last.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        last = text;
    }
    line
}

/// Whether the error is a closed stdout (`… | head`): not an error for a
/// command line tool.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bug 9 of issue 9: a cause is printed once, and the hint comes from
    /// the typed error however deep it is.
    #[test]
    fn chain_is_printed_once_and_hint_found_in_depth() {
        let Err(store_err) = crossplan_store::settings::NixSettings::from_file(
            std::path::Path::new("/nonexistent/nix.conf"),
        ) else {
            panic!("a missing nix.conf must be an error");
        };
        let err = anyhow::Error::from(store_err).context("loading settings");
        let msg = message_of(&err);
        assert_eq!(
            msg.matches("No such file").count(),
            1,
            "the cause once: {msg}"
        );
        assert!(hint_of(&err).is_some_and(|h| h.contains("--nix-conf")));
        assert_eq!(code_of(&err), ERROR);
    }

    /// Bug 6 of issue 9: a closed pipe under serde_json is recognised.
    #[test]
    fn broken_pipe_under_serde_json_is_recognised() {
        let io = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let err = anyhow::Error::from(serde_json::Error::io(io));
        assert!(is_broken_pipe(&err));
    }
}
