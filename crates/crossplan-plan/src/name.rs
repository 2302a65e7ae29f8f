//! Derivation names: `gcc-14.2.0` → (`gcc`, `14.2.0`), as Nix's `parseDrvName`.

/// Split a derivation name into its package name and version, like
/// `builtins.parseDrvName`: the version starts at the first `-` that is
/// followed by something other than a letter.
///
/// ```
/// use crossplan_plan::parse_drv_name;
/// assert_eq!(parse_drv_name("gcc-14.2.0"), ("gcc", "14.2.0"));
/// assert_eq!(parse_drv_name("riscv64-unknown-linux-gnu-gcc-14.2.0"), ("riscv64-unknown-linux-gnu-gcc", "14.2.0"));
/// assert_eq!(parse_drv_name("stdenv-linux"), ("stdenv-linux", ""));
/// ```
pub fn parse_drv_name(name: &str) -> (&str, &str) {
    let bytes = name.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'-'
            && let Some(&next) = bytes.get(i + 1)
            && !next.is_ascii_alphabetic()
        {
            return (&name[..i], &name[i + 1..]);
        }
    }
    (name, "")
}
