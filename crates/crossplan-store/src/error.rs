//! Errors of the store layer. Messages are lower case and name the file,
//! command or option involved; [`StoreError::hint`] gives a fix where one exists.

use std::path::PathBuf;

/// Anything that can go wrong reading the local store or asking Nix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A Nix command could not be started at all.
    #[error("cannot run `{command}`: {source}")]
    NixMissing {
        command: String,
        #[source]
        source: std::io::Error,
    },
    /// A Nix command ran and failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    NixFailed {
        command: String,
        status: String,
        stderr: String,
    },
    /// A Nix command printed something we could not understand.
    #[error("cannot understand the output of `{command}`: {reason}")]
    NixOutput { command: String, reason: String },
    /// A `.drv` file could not be read.
    #[error("cannot read derivation {path}: {source}")]
    ReadDrv {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A `.drv` file is not a valid derivation.
    #[error("malformed derivation {path}: {reason}")]
    MalformedDrv { path: PathBuf, reason: String },
    /// A command-line root is not a store path, a `.drv` or an installable.
    #[error("bad root '{root}': {reason}")]
    BadRoot { root: String, reason: String },
    /// An installable did not evaluate.
    #[error("installable '{installable}' does not evaluate: {stderr}")]
    Eval { installable: String, stderr: String },
    /// A setting has a value we cannot use.
    #[error("bad value `{value}` for Nix setting '{name}' (from {origin}): {reason}")]
    BadSetting {
        name: String,
        value: String,
        origin: String,
        reason: String,
    },
    /// A nix.conf given with `--nix-conf` (or one it includes) cannot be read.
    #[error("cannot read nix.conf {path}")]
    ConfRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A nix.conf line is not `name = value` or an include.
    #[error("{path}:{line}: {reason}")]
    ConfSyntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

impl StoreError {
    /// How to fix it, where we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::NixMissing { .. } => Some(
                "install Nix (Debian/Ubuntu: `apt-get install nix-bin`) and make sure `nix` and `nix-store` are on PATH"
                    .into(),
            ),
            Self::Eval { installable, .. } if installable.ends_with(".nix") => Some(format!(
                "a .nix file is not an installable: run `nix-instantiate {installable}` and pass the .drv it prints"
            )),
            Self::Eval { installable, .. } => Some(format!(
                "check it with `nix eval --apply 'x: x.drvPath' -- {installable}`; an installable is a flake reference with an attribute, such as .#cup-riscv64"
            )),
            Self::BadRoot { .. } => Some(
                "pass a derivation path (/nix/store/…-x.drv, optionally ^out,dev), a store path, or a flake installable such as .#cup-riscv64"
                    .into(),
            ),
            Self::MalformedDrv { .. } => Some(
                "the store may be damaged: check it with `nix-store --verify --check-contents`".into(),
            ),
            Self::BadSetting { origin, .. } if origin == "NIX_STORE_DIR" => Some(
                "set NIX_STORE_DIR (or NIX_STORE) to an absolute directory, or unset it for Nix's default /nix/store"
                    .into(),
            ),
            Self::BadSetting { name, .. } => Some(format!(
                "fix `{name}` in nix.conf (see `man nix.conf`), or leave it out for Nix's default"
            )),
            Self::NixFailed { command, .. }
                if command.starts_with("nix show-config") || command.starts_with("nix config show") =>
            {
                Some(
                    "Nix could not report its settings: fix what its message names (nix.conf, NIX_CONFIG, NIX_STORE_DIR, …), or pass --nix-conf FILE to read a nix.conf instead"
                        .into(),
                )
            }
            Self::ConfRead { .. } => Some(
                "pass an existing nix.conf to --nix-conf, or leave the option out to use Nix's own settings".into(),
            ),
            Self::ConfSyntax { .. } => Some(
                "nix.conf lines are `name = value`, `include FILE` or `!include FILE` (see `man nix.conf`)".into(),
            ),
            _ => None,
        }
    }
}
