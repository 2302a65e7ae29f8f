//! Errors of this crate: lower case, naming the file or command.

use std::path::PathBuf;

/// Anything that goes wrong reading host facts.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file has a syntax error.
    #[error("{path}:{line}: {reason}")]
    Syntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    /// A config file is not valid.
    #[error("{path} is not a valid crossplan config: {reason}")]
    Config { path: PathBuf, reason: String },
    /// A command could not run or failed.
    #[error("`{command}` failed: {reason}")]
    Command { command: String, reason: String },
    /// The history / calibration database failed.
    #[error("history database {path}: {source}")]
    Db {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// A machines entry is invalid.
    #[error("invalid builders entry `{entry}`: {reason}")]
    Machine { entry: String, reason: String },
    /// A calibration could not run.
    #[error("calibration of {system}: {reason}")]
    Calibrate { system: String, reason: String },
}

impl HostError {
    /// A fix for the user, shown after `hint:`.
    pub fn hint(&self) -> Option<String> {
        match self {
            HostError::Syntax { .. } => Some(
                "nix.conf lines are `name = value`, `include FILE` or `!include FILE` (see `man nix.conf`)".into(),
            ),
            HostError::Config { .. } => Some(
                "see docs/cost-model.md for the keys (kebab-case, e.g. bandwidth-mbit = 50)".into(),
            ),
            HostError::Command { command, .. } if command.starts_with("nix") => {
                Some("is Nix installed and on PATH? crossplan needs `nix` 2.8 or newer".into())
            }
            HostError::Machine { .. } => Some(
                "each entry is `URI SYSTEMS SSH-KEY MAX-JOBS SPEED-FACTOR SUPPORTED MANDATORY HOST-KEY`, `-` for a default".into(),
            ),
            HostError::Calibrate { .. } => Some(
                "pass --workload SYSTEM=BINARY for every system (the host's too), or put `go` on PATH".into(),
            ),
            HostError::Read { .. } | HostError::Db { .. } | HostError::Command { .. } => None,
        }
    }
}
