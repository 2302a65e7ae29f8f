//! Errors of this crate. Messages are lower case and name the file.

use std::path::PathBuf;

/// What can go wrong reading or writing `nix/strategy.json` or
/// `nix/hybrid.json`.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON of its kind (`what`: "strategy" or "hybrid").
    #[error("{path} is not a valid {what} file: {reason}")]
    Corrupt {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },
    /// The file has a `version` this crossplan does not know.
    #[error("{path} has version {found}; this crossplan writes and reads version 1")]
    Version {
        path: PathBuf,
        what: &'static str,
        found: u64,
    },
    /// Writing the temporary file or renaming it over the old one failed.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PlanError {
    /// A fix for the user, shown after `hint:`.
    pub fn hint(&self) -> String {
        match self {
            PlanError::Read { .. } | PlanError::Write { .. } => {
                "check the file's permissions and that its directory exists".into()
            }
            PlanError::Corrupt { path, what, .. } | PlanError::Version { path, what, .. } => {
                if *what == "hybrid" {
                    format!(
                        "fix or delete {} (a missing file means no swaps), then run `crossplan hybrid <board-or-target> --write` again",
                        path.display()
                    )
                } else {
                    format!(
                        "fix or delete {} (a missing file means \"cross everywhere\"), then run `crossplan plan --write` again",
                        path.display()
                    )
                }
            }
        }
    }
}
