//! Where crossplan keeps its state and reads its config (XDG base dirs).

use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => home().join(fallback),
    }
}

/// `$XDG_STATE_HOME/crossplan` (fallback `~/.local/state/crossplan`).
pub fn state_dir() -> PathBuf {
    xdg("XDG_STATE_HOME", ".local/state").join("crossplan")
}

/// `$XDG_STATE_HOME/crossplan/history.sqlite`: build history and calibration.
pub fn history_db() -> PathBuf {
    state_dir().join("history.sqlite")
}

/// `$XDG_CACHE_HOME/crossplan` (fallback `~/.cache/crossplan`): built workloads.
pub fn cache_dir() -> PathBuf {
    xdg("XDG_CACHE_HOME", ".cache").join("crossplan")
}

/// `$XDG_CONFIG_HOME/crossplan/config.toml` (fallback `~/.config/...`).
pub fn config_file() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config")
        .join("crossplan")
        .join("config.toml")
}
