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

/// The package name without the host suffix nixpkgs' `mkDerivation` adds to
/// a cross-built package (`-${hostPlatform.config}`, before the version):
/// `linux-riscv64-unknown-linux-gnu` → `linux`,
/// `zlib-x86_64-w64-mingw32` → `zlib`. Names without one are returned as
/// they are (`riscv64-unknown-linux-gnu-gcc`, a cross *compiler*, keeps its
/// target prefix: that is not a host suffix).
///
/// ```
/// use crossplan_plan::name::strip_host_suffix;
/// assert_eq!(strip_host_suffix("linux-riscv64-unknown-linux-gnu"), "linux");
/// assert_eq!(strip_host_suffix("zlib-x86_64-w64-mingw32"), "zlib");
/// assert_eq!(strip_host_suffix("hello-aarch64-apple-darwin"), "hello");
/// assert_eq!(strip_host_suffix("riscv64-unknown-linux-gnu-gcc"), "riscv64-unknown-linux-gnu-gcc");
/// assert_eq!(strip_host_suffix("util-linux"), "util-linux");
/// ```
pub fn strip_host_suffix(pname: &str) -> &str {
    const VENDORS: [&str; 4] = [
        "-unknown-linux",
        "-w64-mingw32",
        "-apple-darwin",
        "-pc-linux",
    ];
    for v in VENDORS {
        if let Some(at) = pname.find(v) {
            // back up over the architecture before the vendor
            let before = &pname[..at];
            if let Some(dash) = before.rfind('-')
                && dash > 0
            {
                return &pname[..dash];
            }
        }
    }
    pname
}
