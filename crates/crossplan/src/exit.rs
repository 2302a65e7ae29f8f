//! Exit codes of `crossplan`. They are part of its interface: scripts and CI
//! branch on them. Keep this list, `--help` and the README in sync.

/// The command completed and its answer is complete.
pub const OK: u8 = 0;
/// An error: bad input or settings, Nix failed, a cache is unusable.
pub const ERROR: u8 = 1;
/// Wrong command-line usage.
pub const USAGE: u8 = 2;
/// The answer was printed, but some lookups failed for good (they are listed
/// under `errors`), so the answer may overstate the work.
pub const PARTIAL: u8 = 3;

/// The text `--help` shows about exit codes.
pub const HELP: &str = "Exit codes:
  0  complete answer
  1  error (bad input or settings, Nix failed, a cache is unusable)
  2  usage error
  3  answer printed, but some lookups failed for good (see `errors`); it may overstate the work";

/// A fix to print after the error chain, for errors that carry one.
pub fn hint_of(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Hinted>())
        .map(|h| h.hint.clone())
}

/// An error message with a `hint:` line that tells how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Hinted {
    pub message: String,
    pub hint: String,
}

impl Hinted {
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }
}
