//! binfmt_misc registrations, read from `/proc/sys/fs/binfmt_misc` (or a
//! prepared copy). Each registration file looks like:
//!
//! ```text
//! enabled
//! interpreter /run/binfmt/riscv64-linux
//! flags: PF
//! offset 0
//! magic 7f454c460201010000000000000000000200f300
//! mask ffffffffffffff00fffffffffffffffffeffffff
//! ```

use std::path::{Path, PathBuf};

use crate::error::HostError;

/// One registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// File name (`riscv64-linux`, `qemu-riscv64`).
    pub name: String,
    /// First line `enabled`.
    pub enabled: bool,
    /// `interpreter` path.
    pub interpreter: PathBuf,
    /// `flags:` letters (`P`, `O`, `C`, `F`).
    pub flags: String,
    /// `offset`.
    pub offset: usize,
    /// `magic` bytes (magic registrations).
    pub magic: Option<Vec<u8>>,
    /// `mask` bytes.
    pub mask: Option<Vec<u8>>,
    /// `extension` (extension registrations).
    pub extension: Option<String>,
}

impl Registration {
    /// The `F` flag: the kernel opened the interpreter at registration time,
    /// so it works inside the Nix sandbox without extra-sandbox-paths.
    pub fn fix_binary(&self) -> bool {
        self.flags.contains('F')
    }

    /// Nix systems whose ELF binaries this registration catches, from its
    /// magic (ELF class, byte order, `e_machine`), else from its name.
    pub fn systems(&self) -> Vec<&'static str> {
        if let Some(magic) = &self.magic
            && self.offset == 0
            && magic.len() >= 20
            && magic.starts_with(b"\x7fELF")
        {
            let class = magic[4];
            let little = magic[5] == 1;
            let machine = if little {
                u16::from_le_bytes([magic[18], magic[19]])
            } else {
                u16::from_be_bytes([magic[18], magic[19]])
            };
            let s = elf_systems(class, little, machine);
            if !s.is_empty() {
                return s.to_vec();
            }
        }
        // fall back to the name: `riscv64-linux`, `qemu-riscv64`, `aarch64`
        let n = self.name.trim_start_matches("qemu-");
        let n = n.strip_suffix("-linux").unwrap_or(n);
        SYSTEMS_BY_QEMU
            .iter()
            .filter(|(arch, _)| *arch == n)
            .flat_map(|(_, systems)| systems.iter().copied())
            .chain(
                SYSTEMS_BY_QEMU
                    .iter()
                    .flat_map(|(_, s)| s.iter().copied())
                    .filter(|s| s.strip_suffix("-linux") == Some(n)),
            )
            .fold(Vec::new(), |mut acc, s| {
                if !acc.contains(&s) {
                    acc.push(s);
                }
                acc
            })
    }
}

/// QEMU arch names and the Nix systems they run.
pub const SYSTEMS_BY_QEMU: &[(&str, &[&str])] = &[
    ("aarch64", &["aarch64-linux"]),
    ("arm", &["armv7l-linux", "armv6l-linux"]),
    ("riscv64", &["riscv64-linux"]),
    ("riscv32", &["riscv32-linux"]),
    ("ppc64le", &["powerpc64le-linux"]),
    ("ppc64", &["powerpc64-linux"]),
    ("s390x", &["s390x-linux"]),
    ("loongarch64", &["loongarch64-linux"]),
    ("x86_64", &["x86_64-linux"]),
    ("i386", &["i686-linux"]),
    ("mips64el", &["mips64el-linux"]),
    ("mipsel", &["mipsel-linux"]),
];

/// Systems for an ELF header (class 1 = 32-bit, 2 = 64-bit), from the
/// `e_machine` numbers of the ELF spec.
fn elf_systems(class: u8, little: bool, machine: u16) -> &'static [&'static str] {
    match (class, little, machine) {
        (2, true, 0xb7) => &["aarch64-linux"],
        (1, true, 0x28) => &["armv7l-linux", "armv6l-linux"],
        (2, true, 0xf3) => &["riscv64-linux"],
        (1, true, 0xf3) => &["riscv32-linux"],
        (2, true, 0x15) => &["powerpc64le-linux"],
        (2, false, 0x15) => &["powerpc64-linux"],
        (2, false, 0x16) => &["s390x-linux"],
        (2, true, 0x102) => &["loongarch64-linux"],
        (2, true, 0x3e) => &["x86_64-linux"],
        (1, true, 0x03) => &["i686-linux"],
        (2, true, 0x08) => &["mips64el-linux"],
        (1, true, 0x08) => &["mipsel-linux"],
        _ => &[],
    }
}

/// The state of binfmt_misc.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binfmt {
    /// The directory read.
    pub dir: PathBuf,
    /// binfmt_misc is mounted there (it has a `register` or `status` file).
    pub mounted: bool,
    /// `status` says `enabled`.
    pub enabled: bool,
    /// Registrations, sorted by name.
    pub registrations: Vec<Registration>,
}

impl Binfmt {
    /// Read `dir` (normally `/proc/sys/fs/binfmt_misc`). A missing or
    /// unmounted directory is not an error: `mounted` is false.
    pub fn read(dir: &Path) -> Result<Self, HostError> {
        let mut b = Binfmt {
            dir: dir.to_path_buf(),
            ..Default::default()
        };
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(b);
        };
        let mut names = Vec::new();
        for e in entries.flatten() {
            names.push(e.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        b.mounted = names.iter().any(|n| n == "register" || n == "status");
        for name in names {
            let path = dir.join(&name);
            if name == "register" {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|source| HostError::Read {
                path: path.clone(),
                source,
            })?;
            if name == "status" {
                b.enabled = text.trim() == "enabled";
                continue;
            }
            b.registrations.push(parse_registration(&name, &text));
        }
        Ok(b)
    }

    /// The enabled registrations that run `system`.
    pub fn for_system(&self, system: &str) -> Vec<&Registration> {
        self.registrations
            .iter()
            .filter(|r| r.systems().contains(&system))
            .collect()
    }
}

/// Parse the text of one registration file.
pub fn parse_registration(name: &str, text: &str) -> Registration {
    let mut r = Registration {
        name: name.to_string(),
        enabled: false,
        interpreter: PathBuf::new(),
        flags: String::new(),
        offset: 0,
        magic: None,
        mask: None,
        extension: None,
    };
    for line in text.lines() {
        let line = line.trim();
        if line == "enabled" {
            r.enabled = true;
        } else if let Some(v) = line.strip_prefix("interpreter ") {
            r.interpreter = PathBuf::from(v.trim());
        } else if let Some(v) = line.strip_prefix("flags:") {
            r.flags = v.trim().to_string();
        } else if let Some(v) = line.strip_prefix("offset ") {
            r.offset = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("magic ") {
            r.magic = hex(v.trim());
        } else if let Some(v) = line.strip_prefix("mask ") {
            r.mask = hex(v.trim());
        } else if let Some(v) = line.strip_prefix("extension ") {
            r.extension = Some(v.trim().to_string());
        }
    }
    r
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
