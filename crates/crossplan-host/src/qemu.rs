//! QEMU user-mode binaries for a Nix system.

use std::path::{Path, PathBuf};

use crate::binfmt::SYSTEMS_BY_QEMU;

/// The QEMU arch that runs `system` (`armv7l-linux` → `arm`).
pub fn qemu_arch(system: &str) -> Option<&'static str> {
    SYSTEMS_BY_QEMU
        .iter()
        .find(|(_, systems)| systems.contains(&system))
        .map(|(arch, _)| *arch)
}

/// `qemu-<arch>-static`, else `qemu-<arch>`, on `path` (a `PATH` value).
pub fn find_qemu(arch: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path = path?;
    for name in [format!("qemu-{arch}-static"), format!("qemu-{arch}")] {
        for dir in std::env::split_paths(path) {
            let candidate = dir.join(&name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Go's `GOARCH` (and `GOARM`) for a Nix system, for the calibration workload.
pub fn go_arch(system: &str) -> Option<(&'static str, &'static str)> {
    Some(match system {
        "x86_64-linux" => ("amd64", ""),
        "i686-linux" => ("386", ""),
        "aarch64-linux" => ("arm64", ""),
        "armv7l-linux" => ("arm", "7"),
        "armv6l-linux" => ("arm", "6"),
        "riscv64-linux" => ("riscv64", ""),
        "powerpc64le-linux" => ("ppc64le", ""),
        "s390x-linux" => ("s390x", ""),
        "loongarch64-linux" => ("loong64", ""),
        "mips64el-linux" => ("mips64le", ""),
        _ => return None,
    })
}
