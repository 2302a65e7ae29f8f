//! Errors of this crate. Messages are lower case and name the file.

use std::path::PathBuf;

/// What can go wrong reading or writing `nix/strategy.json`.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid strategy JSON.
    #[error("{path} is not a valid strategy file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// The file has a `version` this crossplan does not know.
    #[error("{path} has version {found}; this crossplan writes and reads version 1")]
    Version { path: PathBuf, found: u64 },
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
            PlanError::Corrupt { path, .. } | PlanError::Version { path, .. } => format!(
                "fix or delete {} (a missing file means \"cross everywhere\"), then run `crossplan plan --write` again",
                path.display()
            ),
        }
    }
}
