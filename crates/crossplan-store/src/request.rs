//! What the user asks about: derivation outputs and store paths, given on the
//! command line as store paths (`/nix/store/…-x.drv^out,dev`, Nix 2.8's
//! `…drv!out` too) or as installables (`.#cup-riscv64`, `path#attr`,
//! `nixpkgs#hello^dev`) that Nix instantiates.

use std::collections::BTreeSet;
use std::fmt;

use nix_derivation::StorePath;

use crate::error::StoreError;
use crate::settings::{NIX_FEATURES, last_lines, parallel_map};
use crate::store::LocalStore;

/// The outputs wanted of a derivation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outputs {
    /// All of them (a bare `.drv`, or `^*`).
    All,
    /// These, by name.
    Names(BTreeSet<String>),
}

impl Outputs {
    /// Whether `name` is wanted (Nix's `wantOutput`).
    pub fn wants(&self, name: &str) -> bool {
        match self {
            Self::All => true,
            Self::Names(names) => names.is_empty() || names.contains(name),
        }
    }

    fn parse(spec: &str) -> Result<Self, String> {
        if spec == "*" {
            return Ok(Self::All);
        }
        let names: BTreeSet<String> = spec.split(',').map(str::to_owned).collect();
        if names
            .iter()
            .any(|n| n.is_empty() || n.contains(['/', ' ', '^', '!']))
        {
            return Err(format!("bad output list '{spec}'"));
        }
        Ok(Self::Names(names))
    }
}

impl fmt::Display for Outputs {
    /// Nix's spelling in `DerivedPath::Built::to_string` (`*` or `a,b`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("*"),
            Self::Names(names) => {
                let joined: Vec<&str> = names.iter().map(String::as_str).collect();
                f.write_str(&joined.join(","))
            }
        }
    }
}

/// One thing to realise, as Nix's `DerivedPath`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Request {
    /// Outputs of a derivation.
    Built { drv: StorePath, outputs: Outputs },
    /// A store path as such.
    Opaque(StorePath),
}

/// A command-line root before instantiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// Already a store path.
    Store(Request),
    /// An installable for Nix to evaluate, with the outputs wanted.
    Installable {
        installable: String,
        outputs: Outputs,
    },
}

/// Parse one command-line root. Anything under the store directory is a store
/// path (and must parse as one); anything else is an installable.
pub fn parse_root(arg: &str, store: &LocalStore) -> Result<Root, StoreError> {
    let bad = |reason: String| StoreError::BadRoot {
        root: arg.into(),
        reason,
    };
    if arg.trim().is_empty() {
        return Err(bad("empty".into()));
    }
    let (base, outputs) = match arg.rfind(['^', '!']) {
        Some(i) => (&arg[..i], Some(Outputs::parse(&arg[i + 1..]).map_err(bad)?)),
        None => (arg, None),
    };
    let store_prefix = format!("{}/", store.dir().as_str());
    if let Some(rest) = base.strip_prefix(&store_prefix) {
        let path = store.parse_path(base.trim_end_matches('/')).map_err(|e| {
            match store_path_problem(rest) {
                Some(reason) => bad(reason),
                None => e,
            }
        })?;
        if path.is_derivation() {
            return Ok(Root::Store(Request::Built {
                drv: path,
                outputs: outputs.unwrap_or(Outputs::All),
            }));
        }
        if outputs.is_some() {
            return Err(bad("only a .drv path can name outputs".into()));
        }
        return Ok(Root::Store(Request::Opaque(path)));
    }
    if base.starts_with('/') && base.ends_with(".drv") {
        return Err(bad(format!(
            "not in the store directory {}",
            store.dir().as_str()
        )));
    }
    Ok(Root::Installable {
        installable: base.into(),
        outputs: outputs.unwrap_or(Outputs::All),
    })
}

/// What is wrong with the part of a store path after the store directory,
/// in terms a user can act on (`<32 base-32 characters>-<name>`).
fn store_path_problem(rest: &str) -> Option<String> {
    let base = rest.split('/').next().unwrap_or(rest);
    let Some((digest, _)) = base.split_once('-') else {
        return Some(format!(
            "'{base}' is not `<digest>-<name>`: no `-` after the 32-character digest"
        ));
    };
    if digest.len() != 32 {
        return Some(format!(
            "the digest '{digest}' has {} characters; a store path's digest has 32",
            digest.chars().count()
        ));
    }
    if let Some(c) = digest
        .chars()
        .find(|c| !"0123456789abcdfghijklmnpqrsvwxyz".contains(*c))
    {
        return Some(format!(
            "the digest '{digest}' has '{c}', which is not in Nix's base-32 alphabet (0-9 and a-z without e, o, u, t)"
        ));
    }
    None
}

/// Instantiate an installable: `nix eval --raw <installable> --apply
/// 'x: x.drvPath'`, which writes the `.drv` closure to the store and prints
/// the root's path. (`--apply` rather than appending `.drvPath`, which would
/// mangle installables without a `#fragment`, such as a path.)
pub fn instantiate(installable: &str, store: &LocalStore) -> Result<StorePath, StoreError> {
    let out = std::process::Command::new("nix")
        .args(["--extra-experimental-features", NIX_FEATURES])
        // `--` first: an installable that starts with `-` is not an option.
        .args([
            "eval",
            "--raw",
            "--apply",
            "x: x.drvPath",
            "--",
            installable,
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| StoreError::NixMissing {
            command: format!("nix eval --raw {installable}"),
            source,
        })?;
    if !out.status.success() {
        return Err(StoreError::Eval {
            installable: installable.into(),
            stderr: last_lines(&String::from_utf8_lossy(&out.stderr), 4),
        });
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let path = store
        .parse_path(text.trim())
        .map_err(|_| StoreError::Eval {
            installable: installable.into(),
            stderr: format!("its drvPath is not a store path: '{}'", text.trim()),
        })?;
    if !path.is_derivation() {
        return Err(StoreError::Eval {
            installable: installable.into(),
            stderr: format!("its drvPath is not a .drv: '{}'", text.trim()),
        });
    }
    Ok(path)
}

/// How many `nix eval` processes run side by side.
const EVAL_PROCESSES: usize = 4;

/// Resolve command-line roots to requests, instantiating installables (one
/// Nix process each, a few side by side). Store paths need no process and no
/// thread.
pub fn resolve_roots(args: &[String], store: &LocalStore) -> Result<Vec<Request>, StoreError> {
    let roots: Vec<Root> = args
        .iter()
        .map(|a| parse_root(a, store))
        .collect::<Result<_, _>>()?;
    let installables: Vec<(&String, &Outputs)> = roots
        .iter()
        .filter_map(|root| match root {
            Root::Installable {
                installable,
                outputs,
            } => Some((installable, outputs)),
            Root::Store(_) => None,
        })
        .collect();
    let mut evaluated = Vec::with_capacity(installables.len());
    for group in installables.chunks(EVAL_PROCESSES) {
        evaluated.extend(parallel_map(group, "nix eval", |(installable, outputs)| {
            instantiate(installable, store).map(|drv| Request::Built {
                drv,
                outputs: (*outputs).clone(),
            })
        }));
    }
    let mut evaluated = evaluated.into_iter();
    roots
        .into_iter()
        .map(|root| match root {
            Root::Store(request) => Ok(request),
            Root::Installable { .. } => evaluated.next().unwrap_or_else(|| {
                Err(StoreError::NixOutput {
                    command: "nix eval".into(),
                    reason: "an installable was not evaluated".into(),
                })
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> LocalStore {
        LocalStore::new("/nix/store").unwrap()
    }

    const DRV: &str = "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t.drv";

    #[test]
    fn roots_table() {
        let cases: &[(&str, &str)] = &[
            (DRV, "built *"),
            (
                "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t.drv^out,dev",
                "built dev,out",
            ),
            (
                "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t.drv!out",
                "built out",
            ),
            (
                "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t.drv^*",
                "built *",
            ),
            ("/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t", "opaque"),
            (".#cup-riscv64", "installable .#cup-riscv64 *"),
            ("nixpkgs#hello^dev", "installable nixpkgs#hello dev"),
        ];
        for (arg, want) in cases {
            let got = match parse_root(arg, &store()).unwrap() {
                Root::Store(Request::Built { outputs, .. }) => format!("built {outputs}"),
                Root::Store(Request::Opaque(_)) => "opaque".into(),
                Root::Installable {
                    installable,
                    outputs,
                } => format!("installable {installable} {outputs}"),
            };
            assert_eq!(&got, want, "{arg}");
        }
    }

    #[test]
    fn bad_roots_name_themselves() {
        for arg in [
            "",
            "/nix/store/not-a-hash.drv",
            "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t^out",
            "/tmp/x.drv",
            "/nix/store/0rm0w4vvprbzrmvr7r2v2xj46z6fabcx-t.drv^",
        ] {
            let err = parse_root(arg, &store()).unwrap_err();
            assert!(err.to_string().contains(arg), "{err}");
        }
    }

    proptest::proptest! {
        /// Any command-line string is either a root or an error naming it; never a panic.
        #[test]
        fn parse_root_never_panics(arg in "\\PC{0,80}") {
            match parse_root(&arg, &store()) {
                Ok(_) => {}
                Err(err) => proptest::prop_assert!(err.to_string().contains(arg.as_str())),
            }
        }

        /// Store-path-shaped input with arbitrary output lists.
        #[test]
        fn parse_root_store_paths(outs in "[a-z,*^!]{0,12}") {
            let arg = format!("{DRV}^{outs}");
            let _ = parse_root(&arg, &store());
        }
    }

    #[test]
    fn wanted_outputs() {
        assert!(Outputs::All.wants("dev"));
        let o = Outputs::parse("out,lib").unwrap();
        assert!(o.wants("lib") && !o.wants("dev"));
        assert_eq!(o.to_string(), "lib,out");
    }
}

#[cfg(test)]
mod problem_tests {
    use super::store_path_problem;

    /// Bug 8 of issue 9: a bad store path says what is wrong with it.
    #[test]
    fn store_path_problems_are_named() {
        let cases = [
            ("zzzz-nope.drv", Some("has 4 characters")),
            ("nope.drv", Some("no `-`")),
            (
                "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x",
                Some("not in Nix's base-32"),
            ),
            ("0123456789abcdfghijklmnpqrsvwxyz-x", None),
        ];
        for (input, want) in cases {
            let got = store_path_problem(input);
            match want {
                Some(w) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(w)),
                    "{input}: {got:?}"
                ),
                None => assert_eq!(got, None, "{input}"),
            }
        }
    }
}
