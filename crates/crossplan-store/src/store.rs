//! The local store: reading derivations and asking which paths are valid.

use std::collections::HashSet;

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::PathBuf;
use std::sync::Arc;

use nix_derivation::{StoreDir, StorePath};

use crate::drv::DrvInfo;
use crate::error::StoreError;
use crate::settings::{parallel_map, run_nix};

/// How many paths one `nix-store --check-validity` call gets. Paths are ~60
/// bytes, so this stays far below the kernel's argument limit (ARG_MAX, 2 MiB
/// on Linux) while keeping the number of processes small.
const VALIDITY_CHUNK: usize = 4000;

/// How many threads read `.drv` files. Reading is cheap, parsing a little
/// less so; more threads than cores buys nothing.
fn reader_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8))
}

/// How many paths one SQL query asks about; SQLite allows 32766 parameters.
const SQL_CHUNK: usize = 2000;

/// The local Nix store (logical directory = physical directory).
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: StoreDir,
    nix_store: PathBuf,
    /// Nix's database, read directly (read-only) when we may open it.
    db: Option<PathBuf>,
}

/// The derivations reachable from the roots, read from the store.
#[derive(Debug, Default)]
pub struct DrvGraph {
    /// Every derivation that could be read.
    pub drvs: FxHashMap<StorePath, Arc<DrvInfo>>,
    /// Breadth-first order from the roots (the order lookups are worth making in).
    pub order: Vec<StorePath>,
    /// Roots whose `.drv` file does not exist in the store.
    pub missing: Vec<StorePath>,
}

impl LocalStore {
    /// A store at `dir`, asked about validity through `nix-store` on PATH.
    pub fn new(dir: &str) -> Result<Self, StoreError> {
        let dir = StoreDir::new(dir).map_err(|e| StoreError::BadSetting {
            name: "store directory".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            dir,
            nix_store: PathBuf::from("nix-store"),
            db: local_db(),
        })
    }

    /// Always ask `nix-store` about validity, never the database directly.
    pub fn without_direct_db(mut self) -> Self {
        self.db = None;
        self
    }

    /// The logical store directory.
    pub fn dir(&self) -> &StoreDir {
        &self.dir
    }

    /// Parse an absolute store path.
    pub fn parse_path(&self, path: &str) -> Result<StorePath, StoreError> {
        self.dir
            .parse_path(path.as_bytes())
            .map_err(|e| StoreError::BadRoot {
                root: path.into(),
                reason: e.to_string(),
            })
    }

    /// The absolute path of a store path.
    pub fn render(&self, path: &StorePath) -> String {
        self.dir.render_path(path)
    }

    /// Read and parse one `.drv` file.
    pub fn read_drv(&self, path: &StorePath) -> Result<DrvInfo, StoreError> {
        let file = PathBuf::from(self.render(path));
        let bytes = std::fs::read(&file).map_err(|source| StoreError::ReadDrv {
            path: file.clone(),
            source,
        })?;
        let name = path
            .name()
            .strip_suffix(".drv")
            .ok_or_else(|| StoreError::MalformedDrv {
                path: file.clone(),
                reason: "the name does not end in .drv".into(),
            })?;
        DrvInfo::parse(&bytes, name, &self.dir).map_err(|e| StoreError::MalformedDrv {
            path: file,
            reason: e.0,
        })
    }

    /// Read every derivation reachable from `roots` through input derivations,
    /// level by level, each level on several threads. A root whose file does
    /// not exist is recorded in [`DrvGraph::missing`]; any other failure is an
    /// error (a valid derivation's inputs are valid, so their files exist).
    pub fn load_closure(&self, roots: &[StorePath]) -> Result<DrvGraph, StoreError> {
        let mut graph = DrvGraph::default();
        let mut seen: FxHashSet<StorePath> = FxHashSet::default();
        let mut level: Vec<StorePath> = Vec::new();
        for root in roots {
            if seen.insert(root.clone()) {
                let exists = std::path::Path::new(&self.render(root)).exists();
                if exists {
                    level.push(root.clone());
                } else {
                    graph.missing.push(root.clone());
                }
            }
        }
        let threads = reader_threads();
        while !level.is_empty() {
            let chunk = level.len().div_ceil(threads).max(1);
            let chunks: Vec<&[StorePath]> = level.chunks(chunk).collect();
            let results = parallel_map(&chunks, "read derivations", |paths| {
                paths
                    .iter()
                    .map(|p| self.read_drv(p).map(|d| (p.clone(), d)))
                    .collect::<Result<Vec<_>, _>>()
            });
            let mut next = Vec::new();
            for result in results {
                for (path, info) in result? {
                    for input in info.input_drvs.keys() {
                        if seen.insert(input.clone()) {
                            next.push(input.clone());
                        }
                    }
                    graph.order.push(path.clone());
                    graph.drvs.insert(path, Arc::new(info));
                }
            }
            level = next;
        }
        Ok(graph)
    }

    /// Which of `paths` are valid in the local store, asked of Nix itself
    /// (`nix-store --check-validity --print-invalid`, in large batches run side
    /// by side), so the answer is exact whether the store is single-user or
    /// behind a daemon.
    pub fn valid_paths(&self, paths: &[StorePath]) -> Result<HashSet<StorePath>, StoreError> {
        if paths.is_empty() {
            return Ok(HashSet::new());
        }
        if let Some(db) = &self.db {
            match self.valid_paths_from_db(db, paths) {
                Ok(valid) => return Ok(valid),
                Err(err) => {
                    tracing::debug!(
                        "reading {} directly failed ({err}); asking nix-store",
                        db.display()
                    );
                }
            }
        }
        self.valid_paths_from_nix_store(paths)
    }

    /// The same question as Nix's `LocalStore::isValidPathUncached` asks:
    /// `SELECT … FROM ValidPaths WHERE path = ?`, in batches, on a read-only
    /// connection. Exact for a local store, also when a daemon owns it.
    fn valid_paths_from_db(
        &self,
        db: &std::path::Path,
        paths: &[StorePath],
    ) -> Result<HashSet<StorePath>, rusqlite::Error> {
        use rusqlite::OpenFlags;
        let conn = rusqlite::Connection::open_with_flags(
            db,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Nix holds write locks only briefly; wait rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let rendered: Vec<String> = paths.iter().map(|p| self.render(p)).collect();
        let mut valid_strings: HashSet<String> = HashSet::with_capacity(rendered.len());
        let tx = conn.unchecked_transaction()?;
        for chunk in rendered.chunks(SQL_CHUNK) {
            let placeholders = vec!["?"; chunk.len()].join(",");
            let sql = format!("SELECT path FROM ValidPaths WHERE path IN ({placeholders})");
            let mut stmt = tx.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(chunk.iter()), |row| {
                row.get::<_, String>(0)
            })?;
            for row in rows {
                valid_strings.insert(row?);
            }
        }
        tx.finish()?;
        Ok(paths
            .iter()
            .zip(&rendered)
            .filter(|(_, r)| valid_strings.contains(*r))
            .map(|(p, _)| p.clone())
            .collect())
    }

    fn valid_paths_from_nix_store(
        &self,
        paths: &[StorePath],
    ) -> Result<HashSet<StorePath>, StoreError> {
        let rendered: Vec<String> = paths.iter().map(|p| self.render(p)).collect();
        let chunks: Vec<&[String]> = rendered.chunks(VALIDITY_CHUNK).collect();
        let threads = reader_threads().min(4);
        let mut invalid: HashSet<String> = HashSet::new();
        for group in chunks.chunks(threads) {
            let results = parallel_map(group, "nix-store --check-validity", |chunk| {
                self.print_invalid(chunk)
            });
            for result in results {
                invalid.extend(result?);
            }
        }
        Ok(paths
            .iter()
            .zip(&rendered)
            .filter(|(_, r)| !invalid.contains(*r))
            .map(|(p, _)| p.clone())
            .collect())
    }

    fn print_invalid(&self, chunk: &[String]) -> Result<Vec<String>, StoreError> {
        if chunk.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec!["--check-validity".to_owned(), "--print-invalid".to_owned()];
        args.extend(chunk.iter().cloned());
        let program = self.nix_store.to_string_lossy();
        Ok(run_nix(&program, &args)?
            .lines()
            .map(str::to_owned)
            .collect())
    }
}

/// Nix's database of the local store, if this process talks to a local store
/// (directly or through a daemon on this machine) and the file exists.
/// `NIX_REMOTE` naming a remote store, or a chroot store, means no.
fn local_db() -> Option<PathBuf> {
    match std::env::var("NIX_REMOTE") {
        Ok(remote) if !matches!(remote.as_str(), "" | "daemon" | "local" | "auto") => return None,
        _ => {}
    }
    let state = std::env::var_os("NIX_STATE_DIR")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/nix/var/nix"), PathBuf::from);
    let db = state.join("db").join("db.sqlite");
    db.is_file().then_some(db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct database read and `nix-store` must agree, path for path.
    /// Runs only where Nix is installed.
    #[test]
    fn nix_direct_db_agrees_with_nix_store() {
        let Ok(store) = LocalStore::new("/nix/store") else {
            return;
        };
        let Some(db) = store.db.clone() else {
            eprintln!("skipped: no local Nix database");
            return;
        };
        let Ok(entries) = std::fs::read_dir("/nix/store") else {
            return;
        };
        let mut paths: Vec<StorePath> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                store
                    .parse_path(&format!("/nix/store/{}", e.file_name().to_string_lossy()))
                    .ok()
            })
            .take(300)
            .collect();
        // Add paths that certainly are not valid.
        for i in 0..20 {
            let name = format!("/nix/store/{i:1>32}-crossplan-test-{i}");
            paths.push(store.parse_path(&name).unwrap());
        }
        let direct = store.valid_paths_from_db(&db, &paths).unwrap();
        let asked = store.valid_paths_from_nix_store(&paths).unwrap();
        assert_eq!(direct, asked);
        assert!(
            direct.len() < paths.len(),
            "the made-up paths are not valid"
        );
    }
}
