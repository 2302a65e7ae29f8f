//! The one skip rule of the test suites, for tests that need a tool this
//! machine may not have (Nix, QEMU, Go, a pty):
//!
//! - the tool is there: run the test;
//! - it is not, outside CI: print `skipped: needs …` and pass;
//! - it is not, in CI (`CI` set to anything but `false`/`0`, as every CI
//!   service does): **fail**, so a CI job that lost its Nix cannot go green
//!   by skipping everything.
//!
//! Use it as `if !skip::require("…", available) { return; }`.

/// Whether this run is in CI (`CI=true`, or any value but `false`/`0`/empty).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `true` when the test can run; otherwise skip (outside CI) or fail (in CI).
#[must_use]
pub fn require(what: &str, available: bool) -> bool {
    if available {
        return true;
    }
    assert!(
        !in_ci(),
        "this test needs {what}, which is missing, and CI is set: failing instead of skipping"
    );
    eprintln!("skipped: needs {what} (with CI=true this fails instead)");
    false
}

/// [`require`] for Nix: `nix`, `nix-store`, `nix-instantiate` and a writable store.
#[must_use]
pub fn nix() -> bool {
    require(
        "Nix (nix, nix-store, nix-instantiate and a writable store)",
        crate::nix::available(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_available_tool_runs() {
        assert!(require("a tool that is there", true));
    }
}
