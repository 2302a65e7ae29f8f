//! The `crossplan hybrid` fixture: two package sets shaped like nixpkgs,
//! instantiated by Nix, and signed `file://` caches for them.
//!
//! - a **native** set of `riscv64-linux` (never built here), written as an
//!   extensible fixpoint `self: { stdenv, glibc, kernel, kernelModules
//!   (kernel), initrd (kernelModules), libfoo, app1…appN (heavy programs
//!   such as rustc and llvm; the even ones use libfoo), toplevel (kernel,
//!   initrd, apps) }` with an `extend` that takes
//!   a nixpkgs overlay (`final: prev: …`), so overriding one attribute
//!   re-hashes its dependents exactly as an overlay does in nixpkgs;
//! - a **cross** set of `x86_64-linux`: a cross compiler (`crossGcc`) and
//!   a counterpart of every native package but `stdenv`, each built with it;
//! - `base = native.toplevel`, `allCross = cross.toplevel` and `hybrid =
//!   swaps: (native.extend
//!   (swapOverlay { inherit cross swaps; })).toplevel`, with a copy of the
//!   repository's `nix/lib/swap-overlay.nix` beside the expression.
//!
//! Two caches of different priority, each signed with its own key, hold
//! every native output except the kernel, its modules, the initrd and the
//! toplevel, and hold the cross compiler and the cross glibc (no other cross
//! package). The
//! records are generated (the outputs never exist); `glibc` is in both
//! caches with different sizes.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cache::{Cache, Key, NarInfo, SigState, base_name};
use crate::fixture::{HI_PRIORITY, LO_PRIORITY};
use crate::graph::nix_string;
use crate::nix::{self, NodeInfo};
use crate::rng::Rng;

/// The native set's system (nothing here builds it without binfmt).
pub const NATIVE_SYSTEM: &str = "riscv64-linux";
/// The cross set's system.
pub const CROSS_SYSTEM: &str = "x86_64-linux";
/// The repository file the fixture applies.
pub const SWAP_OVERLAY: &str = "nix/lib/swap-overlay.nix";

/// Which package set a package is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Set {
    Native,
    Cross,
}

/// One package of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub set: Set,
    /// Attribute name in its set (`kernelModules`).
    pub attr: String,
    /// Derivation name (`linux-6.12.4`).
    pub name: String,
    /// Attribute names (same set) of its inputs.
    pub inputs: Vec<String>,
    /// Whether a cache holds its output.
    pub cached: bool,
    /// `preferLocalBuild`.
    pub prefer_local_build: bool,
    /// Its `.drv` (after [`HybridFixture::build`]).
    pub drv: String,
    /// Its `out` path.
    pub out: String,
}

/// How big the fixture is.
#[derive(Debug, Clone)]
pub struct HybridSpec {
    /// Number of apps (at least 2); the even-numbered ones use libfoo.
    pub apps: usize,
    /// Goes into every derivation: a fresh one per test run keeps store
    /// paths of earlier runs out of the way.
    pub salt: String,
    /// Seed for keys and record sizes.
    pub seed: u64,
    /// The kernel and its modules live in an extensible `linuxPackages`
    /// scope (swapped as `linuxPackages.kernel`, through the scope's
    /// `extend`), not at the top level.
    pub nested_kernel: bool,
}

impl HybridSpec {
    pub fn new(apps: usize, salt: impl Into<String>) -> Self {
        HybridSpec {
            apps: apps.max(2),
            salt: salt.into(),
            seed: 11,
            nested_kernel: false,
        }
    }
}

/// The instantiated fixture.
#[derive(Debug)]
pub struct HybridFixture {
    pub dir: PathBuf,
    /// The expression file (`hybrid.nix`).
    pub expr: PathBuf,
    pub spec: HybridSpec,
    pub packages: Vec<Package>,
    pub hi: Cache,
    pub lo: Cache,
    pub hi_key: Key,
    pub lo_key: Key,
    xdg: PathBuf,
}

fn pkg(set: Set, attr: &str, name: &str, inputs: &[&str], cached: bool) -> Package {
    Package {
        set,
        attr: attr.into(),
        name: name.into(),
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        cached,
        prefer_local_build: false,
        drv: String::new(),
        out: String::new(),
    }
}

/// The attribute paths of the kernel and its modules: top-level, or inside
/// a `linuxPackages` scope of their own (as in nixpkgs).
pub fn kernel_attrs(nested: bool) -> (&'static str, &'static str) {
    if nested {
        ("linuxPackages.kernel", "linuxPackages.kernelModules")
    } else {
        ("kernel", "kernelModules")
    }
}

/// The cross set's host platform, as nixpkgs adds it to names.
pub const CROSS_HOST: &str = "riscv64-unknown-linux-gnu";

/// A cross-built package's name, as nixpkgs forms it: the host platform
/// between the package name and its version (`linux-6.12.4` →
/// `linux-riscv64-unknown-linux-gnu-6.12.4`), or appended.
pub fn cross_name(name: &str) -> String {
    let b = name.as_bytes();
    match (1..b.len()).find(|&i| b[i - 1] == b'-' && b[i].is_ascii_digit()) {
        Some(i) => format!("{}-{CROSS_HOST}-{}", &name[..i - 1], &name[i..]),
        None => format!("{name}-{CROSS_HOST}"),
    }
}

/// Package names (with versions) of the apps: heavy programs, as a real
/// userland has, whose native builds a cache holds; beyond these, `appN-1.0`.
pub const APP_NAMES: [&str; 6] = [
    "rustc-1.86.0",
    "llvm-19.1.7",
    "clang-19.1.7",
    "python3-3.13.3",
    "perl-5.40.0",
    "openssl-3.4.1",
];

/// The name of app `i` (1-based).
pub fn app_name(i: usize) -> String {
    APP_NAMES
        .get(i.wrapping_sub(1))
        .map_or_else(|| format!("app{i}-1.0"), |n| n.to_string())
}

/// Whether app `i` (1-based) uses libfoo.
pub fn uses_libfoo(i: usize) -> bool {
    i.is_multiple_of(2)
}

/// The packages of both sets, in a fixed order (inputs first).
fn packages(apps: usize, nested: bool) -> Vec<Package> {
    use Set::{Cross, Native};
    let (kernel, modules) = kernel_attrs(nested);
    let mut v = vec![
        pkg(Native, "stdenv", "stdenv-linux", &[], true),
        pkg(Native, "glibc", "glibc-2.40", &["stdenv"], true),
        pkg(Native, kernel, "linux-6.12.4", &["stdenv"], false),
        pkg(
            Native,
            modules,
            "kernel-modules-6.12.4",
            &["stdenv", kernel],
            false,
        ),
        pkg(
            Native,
            "initrd",
            "initrd-linux-6.12.4",
            &["stdenv", modules],
            false,
        ),
        pkg(Native, "libfoo", "libfoo-1.0", &["stdenv", "glibc"], true),
    ];
    for i in 1..=apps {
        let mut inputs = vec!["stdenv", "glibc"];
        if uses_libfoo(i) {
            inputs.push("libfoo");
        }
        v.push(pkg(Native, &format!("app{i}"), &app_name(i), &inputs, true));
    }
    let mut top_inputs: Vec<String> = vec![kernel.into(), "initrd".into()];
    top_inputs.extend((1..=apps).map(|i| format!("app{i}")));
    let top_refs: Vec<&str> = top_inputs.iter().map(String::as_str).collect();
    let mut top = pkg(
        Native,
        "toplevel",
        "nixos-system-board-26.05",
        &top_refs,
        false,
    );
    top.prefer_local_build = true;
    v.push(top);

    // The cross set: the cross compiler (cached, with its C library), and a
    // counterpart of every other native package built with it (`stdenv` is
    // the compiler there), none of them cached.
    let mut cross = vec![pkg(
        Cross,
        "crossGcc",
        &format!("{CROSS_HOST}-gcc-14.2.0"),
        &[],
        true,
    )];
    for n in v.iter().filter(|p| p.attr != "stdenv") {
        let mut inputs: Vec<&str> = vec!["crossGcc"];
        inputs.extend(
            n.inputs
                .iter()
                .map(String::as_str)
                .filter(|i| *i != "stdenv"),
        );
        let mut c = pkg(
            Cross,
            &n.attr,
            &cross_name(&n.name),
            &inputs,
            n.attr == "glibc",
        );
        c.prefer_local_build = n.prefer_local_build;
        cross.push(c);
    }
    v.extend(cross);
    v
}

/// The set's variable in the expression.
fn set_var(set: Set) -> &'static str {
    match set {
        Set::Native => "native",
        Set::Cross => "cross",
    }
}

/// `mk SYSTEM NAME [ INPUTS ] ATTRS` for one package; inputs in `scope`
/// are taken from that scope's fixpoint (`scope.kernel`), the rest from
/// the set's (`self.glibc`).
fn mk_call(p: &Package, system: &str, scope: Option<&str>) -> String {
    let inputs: Vec<String> = p
        .inputs
        .iter()
        .map(|i| match (scope, i.split_once('.')) {
            (Some(sc), Some((isc, leaf))) if sc == isc => format!("scope.{leaf}"),
            _ => format!("self.{i}"),
        })
        .collect();
    let attrs = if p.prefer_local_build {
        "{ preferLocalBuild = true; }"
    } else {
        "{ }"
    };
    format!(
        "mk {} {} [ {} ] {attrs}",
        nix_string(system),
        nix_string(&p.name),
        inputs.join(" ")
    )
}

/// The expression: `native`, `cross`, `base`, `hybrid`, `info`.
fn expression(spec: &HybridSpec, pkgs: &[Package]) -> String {
    let mut s = String::new();
    s.push_str("let\n");
    s.push_str(&format!("  salt = {};\n", nix_string(&spec.salt)));
    s.push_str("  swapOverlay = import ./swap-overlay.nix;\n");
    // Every output records the salt and its inputs' paths (so it references
    // them); the builder never runs for the riscv64 set.
    s.push_str(
        "  mk = system: name: inputs: attrs:\n    builtins.derivation (\n      {\n        inherit name system salt;\n        builder = \"/bin/sh\";\n        args = [\n          \"-c\"\n          \"echo ${salt} ${toString inputs} > $out\"\n        ];\n      }\n      // attrs\n    );\n",
    );
    // An extensible fixpoint: `extend` applies a nixpkgs overlay
    // (`final: prev: …`), re-evaluating the set with the overlay's
    // attributes, so every dependent of a replaced attribute changes hash.
    s.push_str(
        "  makeExtensible =\n    rattrs:\n    let\n      self = rattrs self // {\n        extend =\n          overlay:\n          makeExtensible (\n            final:\n            let\n              prev = rattrs final;\n            in\n            prev // overlay final prev\n          );\n      };\n    in\n    self;\n",
    );
    for set in [Set::Native, Set::Cross] {
        let system = match set {
            Set::Native => NATIVE_SYSTEM,
            Set::Cross => CROSS_SYSTEM,
        };
        let var = set_var(set);
        match set {
            Set::Native => s.push_str(&format!("  {var} = makeExtensible (\n    self: {{\n")),
            Set::Cross => s.push_str(&format!("  {var} =\n    let\n      self = {{\n")),
        }
        let members: Vec<&Package> = pkgs.iter().filter(|p| p.set == set).collect();
        let mut scopes_done: Vec<&str> = Vec::new();
        for p in &members {
            match p.attr.split_once('.') {
                None => s.push_str(&format!(
                    "      {} = {};\n",
                    p.attr,
                    mk_call(p, system, None)
                )),
                Some((scope, _)) if scopes_done.contains(&scope) => {}
                Some((scope, _)) => {
                    // A scope of its own (`linuxPackages`): an extensible
                    // fixpoint whose members use each other through it.
                    scopes_done.push(scope);
                    s.push_str(&format!(
                        "      {scope} = makeExtensible (\n        scope: {{\n"
                    ));
                    for m in &members {
                        if let Some((sc, leaf)) = m.attr.split_once('.')
                            && sc == scope
                        {
                            s.push_str(&format!(
                                "          {leaf} = {};\n",
                                mk_call(m, system, Some(scope))
                            ));
                        }
                    }
                    s.push_str("        }\n      );\n");
                }
            }
        }
        match set {
            Set::Native => s.push_str("    }\n  );\n"),
            Set::Cross => s.push_str("      };\n    in\n    self;\n"),
        }
    }
    s.push_str(
        "in\n{\n  inherit native cross;\n  base = native.toplevel;\n  allCross = cross.toplevel;\n",
    );
    s.push_str(
        "  hybrid = swaps: (native.extend (swapOverlay { inherit cross swaps; })).toplevel;\n",
    );
    s.push_str("  info = map (d: { drv = d.drvPath; outs.out = d.outPath; }) [");
    for p in pkgs {
        s.push_str(&format!(" {}.{}", set_var(p.set), p.attr));
    }
    s.push_str(" ];\n}\n");
    s
}

/// The repository's `nix/lib/swap-overlay.nix`: found from the running
/// test's `CARGO_MANIFEST_DIR` (nextest remaps it when run from an
/// archive), else from this crate's.
pub fn swap_overlay_source() -> io::Result<PathBuf> {
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("CARGO_MANIFEST_DIR") {
        starts.push(PathBuf::from(d));
    }
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    for start in &starts {
        for dir in start.ancestors() {
            let f = dir.join(SWAP_OVERLAY);
            if f.is_file() {
                return Ok(f);
            }
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "{SWAP_OVERLAY} not found above {}: run the tests from the cupcross repository (CARGO_MANIFEST_DIR must lie inside it)",
            starts
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    ))
}

impl HybridFixture {
    /// Write the expression (and the overlay) into `dir`, instantiate every
    /// package, and write the signed caches.
    pub fn build(spec: HybridSpec, dir: &Path) -> io::Result<HybridFixture> {
        std::fs::create_dir_all(dir)?;
        let xdg = dir.join("xdg");
        std::fs::create_dir_all(&xdg)?;
        std::fs::copy(swap_overlay_source()?, dir.join("swap-overlay.nix"))?;
        let mut pkgs = packages(spec.apps, spec.nested_kernel);
        let expr = dir.join("hybrid.nix");
        std::fs::write(&expr, expression(&spec, &pkgs))?;
        let info: Vec<NodeInfo> = nix::instantiate_info(&expr, &xdg)?;
        if info.len() != pkgs.len() {
            return Err(io::Error::other(format!(
                "{}: `info` lists {} derivations, expected {}",
                expr.display(),
                info.len(),
                pkgs.len()
            )));
        }
        for (p, i) in pkgs.iter_mut().zip(info) {
            p.out = i
                .outs
                .get("out")
                .cloned()
                .ok_or_else(|| io::Error::other(format!("{}: no out path", p.attr)))?;
            p.drv = i.drv;
        }

        let mut rng = Rng::new(spec.seed);
        let hi_key = Key::generate("cupcross-hybrid-hi-1", &mut rng);
        let lo_key = Key::generate("cupcross-hybrid-lo-1", &mut rng);
        let mut hi = Cache::new(dir.join("cache-hi"), HI_PRIORITY);
        let mut lo = Cache::new(dir.join("cache-lo"), LO_PRIORITY);
        let by_attr: BTreeMap<(Set, &str), &Package> =
            pkgs.iter().map(|p| ((p.set, p.attr.as_str()), p)).collect();
        for (n, p) in pkgs.iter().enumerate().filter(|(_, p)| p.cached) {
            // runtime references: the inputs' outputs (all cached here), and
            // itself for the libraries
            let mut refs: Vec<String> = p
                .inputs
                .iter()
                .filter_map(|i| by_attr.get(&(p.set, i.as_str())))
                .filter(|i| i.cached)
                .map(|i| i.out.clone())
                .collect();
            if p.attr == "glibc" || p.attr == "libfoo" {
                refs.push(p.out.clone());
            }
            refs.sort();
            let nar = rng.log_uniform(64 << 10, 64 << 20);
            let file = (nar * rng.range(20, 70) / 100).max(1);
            let deriver = Some(base_name(&p.drv).to_owned());
            let record = NarInfo::generated(&p.out, nar, file, refs.clone(), deriver, &mut rng);
            // Alternate caches; glibc in both (the high one wins).
            let in_hi = n % 2 == 0 || p.attr == "glibc";
            let in_lo = n % 2 == 1 || p.attr == "glibc";
            if in_hi {
                hi.add_signed(record.clone(), SigState::Good, &hi_key, &lo_key, &lo_key);
            }
            if in_lo {
                let mut r = record;
                if in_hi {
                    r.nar_size += 1 << 20;
                    r.file_size = r.file_size.map(|f| f + (1 << 19));
                }
                lo.add_signed(r, SigState::Good, &lo_key, &hi_key, &hi_key);
            }
        }
        hi.write()?;
        lo.write()?;
        Ok(HybridFixture {
            dir: dir.to_owned(),
            expr,
            spec,
            packages: pkgs,
            hi,
            lo,
            hi_key,
            lo_key,
            xdg,
        })
    }

    /// A package by set and attribute.
    pub fn package(&self, set: Set, attr: &str) -> io::Result<&Package> {
        self.packages
            .iter()
            .find(|p| p.set == set && p.attr == attr)
            .ok_or_else(|| io::Error::other(format!("the fixture has no {set:?} package {attr}")))
    }

    /// The attribute paths of the kernel and of its modules.
    pub fn kernel_attrs(&self) -> (&'static str, &'static str) {
        kernel_attrs(self.spec.nested_kernel)
    }

    /// Attributes of the native apps that use libfoo.
    pub fn libfoo_users(&self) -> Vec<String> {
        (1..=self.spec.apps)
            .filter(|&i| uses_libfoo(i))
            .map(|i| format!("app{i}"))
            .collect()
    }

    /// `substituters`: `file://` URLs, the low-priority cache first.
    pub fn substituters(&self) -> String {
        format!(
            "file://{} file://{}",
            self.lo.dir.display(),
            self.hi.dir.display()
        )
    }

    /// `trusted-public-keys`: both caches' keys.
    pub fn trusted_keys(&self) -> String {
        format!("{} {}", self.hi_key.public(), self.lo_key.public())
    }

    /// Options for Nix's dry run against the fixture's caches.
    pub fn dry_run_opts(&self) -> nix::DryRunOpts {
        nix::DryRunOpts {
            substituters: self.substituters(),
            trusted_public_keys: self.trusted_keys(),
            require_sigs: true,
        }
    }

    /// `nix-instantiate` of an expression over the fixture (`f` is the
    /// imported file): the one `.drv` it prints.
    fn instantiate_expr(&self, expr: &str) -> io::Result<String> {
        let full = format!("(f: {expr}) (import {})", self.expr.display());
        let out = Command::new("nix-instantiate")
            .env("XDG_CACHE_HOME", &self.xdg)
            .env_remove("NIX_CONFIG")
            .args(["--option", "substituters", ""])
            .arg("--expr")
            .arg(&full)
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "nix-instantiate --expr '{full}' failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let drvs: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
        match drvs.as_slice() {
            [one] => Ok(one.trim_end_matches("!out").to_string()),
            _ => Err(io::Error::other(format!(
                "nix-instantiate --expr '{full}' printed {} lines, expected one .drv: {text}",
                drvs.len()
            ))),
        }
    }

    /// The base: the native toplevel, no swaps.
    pub fn instantiate_base(&self) -> io::Result<String> {
        self.instantiate_expr("f.base")
    }

    /// The all-cross variant: the cross set's toplevel.
    pub fn instantiate_all_cross(&self) -> io::Result<String> {
        self.instantiate_expr("f.allCross")
    }

    /// The hybrid toplevel with `swaps` (attribute paths of the native set)
    /// replaced by the cross set's.
    pub fn instantiate_hybrid(&self, swaps: &[&str]) -> io::Result<String> {
        let list: Vec<String> = swaps.iter().map(|s| nix_string(s)).collect();
        self.instantiate_expr(&format!("f.hybrid [ {} ]", list.join(" ")))
    }
}

/// The key of the fixture's hybrid spec in its flake ([`HybridFixture::write_flake`]).
pub const SPEC_KEY: &str = "board";

impl HybridFixture {
    /// Write a flake in `<dir>/flake` that exposes the fixture the way
    /// cupcross' flake exposes a board: a hybrid spec at
    /// `legacyPackages.x86_64-linux.hybridSpecs.board` (docs/hybrid.md) with
    /// the kernel as its default candidate, and `swaps` (and `built`) from
    /// the flake's own `nix/hybrid.json` when it exists. The derivations are
    /// the same as the expression's (nothing in them depends on where the
    /// file is). Returns the flake's directory.
    pub fn write_flake(&self) -> io::Result<PathBuf> {
        let flake = self.dir.join("flake");
        std::fs::create_dir_all(flake.join("nix"))?;
        std::fs::copy(&self.expr, flake.join("hybrid.nix"))?;
        std::fs::copy(
            self.dir.join("swap-overlay.nix"),
            flake.join("swap-overlay.nix"),
        )?;
        let (kernel, _) = self.kernel_attrs();
        let text = format!(
            r#"{{
  outputs =
    {{ self }}:
    let
      f = import ./hybrid.nix;
      file = ./nix/hybrid.json;
      entries = if builtins.pathExists file then (builtins.fromJSON (builtins.readFile file)).entries else {{ }};
      swaps = entries.{SPEC_KEY}.swaps or [ ];
    in
    {{
      legacyPackages.{CROSS_SYSTEM}.hybridSpecs.{SPEC_KEY} = {{
        system = "{NATIVE_SYSTEM}";
        inherit (f) native cross base allCross hybrid;
        inherit swaps;
        candidates = [ {kernel} ];
        built = f.hybrid swaps;
      }};
    }};
}}
"#,
            kernel = nix_string(kernel)
        );
        std::fs::write(flake.join("flake.nix"), text)?;
        Ok(flake)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expression_lists_both_sets_and_the_overlay() {
        let pkgs = packages(4, false);
        let e = expression(&HybridSpec::new(4, "s"), &pkgs);
        assert!(e.contains("kernelModules = mk \"riscv64-linux\" \"kernel-modules-6.12.4\" [ self.stdenv self.kernel ] { };"), "{e}");
        assert!(e.contains("app2 = mk \"riscv64-linux\" \"llvm-19.1.7\" [ self.stdenv self.glibc self.libfoo ] { };"), "{e}");
        assert!(e.contains("app2 = mk \"x86_64-linux\" \"llvm-riscv64-unknown-linux-gnu-19.1.7\" [ self.crossGcc self.glibc self.libfoo ] { };"), "{e}");
        assert!(
            e.contains(
                "app1 = mk \"riscv64-linux\" \"rustc-1.86.0\" [ self.stdenv self.glibc ] { };"
            ),
            "{e}"
        );
        assert!(e.contains("toplevel = mk \"x86_64-linux\" \"nixos-system-board-riscv64-unknown-linux-gnu-26.05\" [ self.crossGcc self.kernel self.initrd self.app1 self.app2 self.app3 self.app4 ] { preferLocalBuild = true; };"), "{e}");
        assert!(e.contains("kernel = mk \"x86_64-linux\" \"linux-riscv64-unknown-linux-gnu-6.12.4\" [ self.crossGcc ] { };"), "{e}");
        assert!(e.contains("(native.extend (swapOverlay { inherit cross swaps; })).toplevel"));
        assert_eq!(
            pkgs.iter()
                .filter(|p| !p.cached && p.set == Set::Native)
                .count(),
            4,
            "kernel, modules, initrd, toplevel are not cached"
        );
        let cached: Vec<&str> = pkgs
            .iter()
            .filter(|p| p.cached && p.set == Set::Cross)
            .map(|p| p.attr.as_str())
            .collect();
        assert_eq!(cached, ["crossGcc", "glibc"]);
    }

    #[test]
    fn a_nested_kernel_lives_in_an_extensible_scope() {
        let pkgs = packages(2, true);
        let e = expression(&HybridSpec::new(2, "s"), &pkgs);
        assert!(
            e.contains("linuxPackages = makeExtensible (\n        scope: {\n          kernel = mk \"riscv64-linux\" \"linux-6.12.4\" [ self.stdenv ] { };\n          kernelModules = mk \"riscv64-linux\" \"kernel-modules-6.12.4\" [ self.stdenv scope.kernel ] { };\n"),
            "{e}"
        );
        assert!(e.contains("initrd = mk \"riscv64-linux\" \"initrd-linux-6.12.4\" [ self.stdenv self.linuxPackages.kernelModules ] { };"), "{e}");
        assert!(e.contains("kernelModules = mk \"x86_64-linux\" \"kernel-modules-riscv64-unknown-linux-gnu-6.12.4\" [ self.crossGcc scope.kernel ] { };"), "{e}");
        assert_eq!(
            e.matches("linuxPackages = makeExtensible").count(),
            2,
            "{e}"
        );
    }

    #[test]
    fn cross_names_put_the_host_before_the_version() {
        assert_eq!(
            cross_name("linux-6.12.4"),
            "linux-riscv64-unknown-linux-gnu-6.12.4"
        );
        assert_eq!(
            cross_name("kernel-modules-6.12.4"),
            "kernel-modules-riscv64-unknown-linux-gnu-6.12.4"
        );
        assert_eq!(
            cross_name("stdenv-linux"),
            "stdenv-linux-riscv64-unknown-linux-gnu"
        );
        assert_eq!(app_name(2), "llvm-19.1.7");
        assert_eq!(app_name(9), "app9-1.0");
    }

    #[test]
    fn the_swap_overlay_is_found_in_the_repository() {
        let f = swap_overlay_source().expect("swap-overlay.nix");
        let text = std::fs::read_to_string(&f).expect("readable");
        assert!(text.contains("swapOverlay"), "{}", f.display());
    }
}
