//! `crossplan explain`: why a derivation must be built — for each of the
//! first derivations that are not cached (the leaves of the build set: all
//! their inputs are available), the chain of dependents up to the root.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io::Write as _;
use std::sync::Arc;

use crossplan_missing::{Missing, Progress};

use crate::cli::{ExplainArgs, GlobalArgs};
use crate::engine::progress::{self, ProgressLine};
use crate::engine::{Engine, plural};
use crate::exit;
use crate::render;

/// How many entries of a problem list the text shows.
const TOP: usize = 10;

/// The chains: for each leaf (sorted by name), the path root → … → leaf as drv paths.
pub fn chains(m: &Missing) -> Vec<Vec<String>> {
    let build = &m.build;
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, b) in build {
        for d in &b.input_drvs {
            if build.contains_key(d) {
                dependents.entry(d.as_str()).or_default().push(p.as_str());
            }
        }
    }
    // roots: built derivations nothing else in the set depends on
    let roots: BTreeSet<&str> = build
        .keys()
        .map(String::as_str)
        .filter(|p| !dependents.contains_key(p))
        .collect();
    let leaves: Vec<&str> = build
        .iter()
        .filter(|(_, b)| b.input_drvs.iter().all(|d| !build.contains_key(d)))
        .map(|(p, _)| p.as_str())
        .collect();
    let mut out = Vec::new();
    for leaf in leaves {
        // BFS from the leaf up through dependents to the nearest root.
        let mut prev: HashMap<&str, &str> = HashMap::new();
        let mut queue = VecDeque::from([leaf]);
        let mut found = None;
        while let Some(n) = queue.pop_front() {
            if roots.contains(n) {
                found = Some(n);
                break;
            }
            for &d in dependents.get(n).map(Vec::as_slice).unwrap_or(&[]) {
                if d != leaf && !prev.contains_key(d) {
                    prev.insert(d, n);
                    queue.push_back(d);
                }
            }
        }
        let mut chain = Vec::new();
        let mut cur = found.unwrap_or(leaf);
        chain.push(cur.to_string());
        while let Some(&p) = prev.get(cur) {
            chain.push(p.to_string());
            cur = p;
        }
        out.push(chain);
    }
    out.sort_by_key(|c| c.last().map(|l| name_of(m, l)).unwrap_or_default());
    out
}

fn name_of(m: &Missing, drv: &str) -> String {
    m.build
        .get(drv)
        .map(|b| b.name.clone())
        .unwrap_or_else(|| drv.to_string())
}

/// Graphviz: edges from a derivation to the inputs it waits for.
pub fn dot(m: &Missing) -> String {
    let mut s = String::from("digraph build {\n  rankdir=LR;\n  node [shape=box];\n");
    let ids: BTreeMap<&str, usize> = m
        .build
        .keys()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    for (p, b) in &m.build {
        let leaf = b.input_drvs.iter().all(|d| !m.build.contains_key(d));
        s.push_str(&format!(
            "  n{} [label={}{}];\n",
            ids[p.as_str()],
            serde_json::to_string(&format!("{}\n{}", b.name, b.system)).unwrap_or_default(),
            if leaf {
                ", style=filled, fillcolor=\"#ffd27f\""
            } else {
                ""
            }
        ));
    }
    for (p, b) in &m.build {
        for d in &b.input_drvs {
            if let Some(j) = ids.get(d.as_str()) {
                s.push_str(&format!("  n{} -> n{};\n", ids[p.as_str()], j));
            }
        }
    }
    s.push_str("}\n");
    s
}

pub async fn run(args: ExplainArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    // A store-path root's closure is read while Nix's settings load.
    let engine = Engine::open_for(&args.cache, std::slice::from_ref(&args.root)).await?;
    let progress = Arc::new(Progress::default());
    let line = ProgressLine::start(progress.clone(), progress::wanted(args.dot), "explain");
    let m = engine
        .missing(std::slice::from_ref(&args.root), &progress)
        .await;
    line.finish();
    let m = m?;
    let mut out = std::io::stdout().lock();
    if args.dot {
        write!(out, "{}", dot(&m))?;
        return Ok(code(&m));
    }
    write!(out, "{}", text(&args.root, &m))?;
    Ok(code(&m))
}

/// 3 when lookups failed for good (the answer may overstate the work).
fn code(m: &Missing) -> u8 {
    if m.errors.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    }
}

/// The explanation: the chains of what must be built, then what cannot be
/// had at all (paths nobody provides, refused records, failed lookups).
pub fn text(root: &str, m: &Missing) -> String {
    let mut s = String::new();
    if m.build.is_empty() {
        if m.unknown.is_empty() {
            s.push_str(&format!(
                "{root}: nothing to build ({} to fetch)\n",
                plural(m.fetch.len(), "path", "paths")
            ));
        } else {
            s.push_str(&format!(
                "{root}: nothing to build, but {} cannot be had ({} to fetch)\n",
                plural(m.unknown.len(), "path", "paths"),
                plural(m.fetch.len(), "path", "paths")
            ));
        }
    } else {
        let chains = chains(m);
        s.push_str(&format!(
            "{root} needs {}; the first not cached ({}), each with the chain that needs it:\n",
            plural(m.build.len(), "build", "builds"),
            chains.len()
        ));
        for c in &chains {
            let names: Vec<String> = c.iter().map(|d| name_of(m, d)).collect();
            let leaf = c.last().map(String::as_str).unwrap_or("");
            let system = m.build.get(leaf).map(|b| b.system.as_str()).unwrap_or("");
            s.push_str(&format!("  {}  [{system}]\n", names.join(" -> ")));
            s.push_str(&format!("      {leaf}\n"));
        }
    }
    s.push_str(&render::problems(m, TOP));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossplan_missing::BuildInfo;

    fn node(name: &str, inputs: &[&str]) -> BuildInfo {
        BuildInfo {
            name: name.into(),
            system: "riscv64-linux".into(),
            input_drvs: inputs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn chains_go_from_root_to_each_uncached_leaf() {
        let mut m = Missing::default();
        m.build.insert(
            "/cup.drv".into(),
            node("cup-0.1.0", &["/go.drv", "/mods.drv"]),
        );
        m.build.insert(
            "/go.drv".into(),
            node("go-1.24.1", &["/gcc.drv", "/cached.drv"]),
        );
        m.build.insert("/gcc.drv".into(), node("gcc-14.2.0", &[]));
        m.build
            .insert("/mods.drv".into(), node("cup-go-modules", &[]));
        let c = chains(&m);
        assert_eq!(
            c,
            vec![
                vec!["/cup.drv".to_string(), "/mods.drv".into()],
                vec!["/cup.drv".to_string(), "/go.drv".into(), "/gcc.drv".into()],
            ]
        );
        let d = dot(&m);
        assert!(d.starts_with("digraph build {"));
        assert_eq!(d.matches("fillcolor").count(), 2, "{d}");
        assert_eq!(d.matches(" -> ").count(), 3, "{d}");
    }

    /// Bug 3 of issue 9: what nobody provides, and refused signatures, are
    /// shown, not hidden behind "nothing to build".
    #[test]
    fn explain_shows_unknown_paths_and_refused_records() {
        let mut m = Missing::default();
        m.fetch.insert("/nix/store/f".into(), Default::default());
        m.unknown.insert("/nix/store/u-nobody".into());
        let t = text("/r.drv", &m);
        assert!(
            t.contains("nothing to build, but 1 path cannot be had (1 path to fetch)"),
            "{t}"
        );
        assert!(t.contains("/nix/store/u-nobody"), "{t}");
        let mut m = Missing::default();
        m.build.insert("/cup.drv".into(), node("cup-0.1.0", &[]));
        m.rejected.push(crossplan_missing::Rejected {
            path: "/nix/store/x".into(),
            substituter: "http://c".into(),
            reason: "no trusted signature".into(),
        });
        let t = text("/cup.drv", &m);
        assert!(t.contains("needs 1 build;"), "{t}");
        assert!(t.contains("refused 1 narinfo record "), "{t}");
    }
}
