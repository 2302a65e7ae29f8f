//! The local store: reading derivations and asking which paths are valid.

use std::collections::{HashSet, VecDeque};
use std::sync::{Condvar, Mutex};

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::PathBuf;
use std::sync::Arc;

use nix_derivation::{StoreDir, StorePath};

use crate::closure_cache::ClosureCache;
use crate::drv::DrvInfo;
use crate::error::StoreError;
use crate::settings::{parallel_map, run_nix};

/// How many paths one `nix-store --check-validity` call gets. Paths are ~60
/// bytes, so this stays far below the kernel's argument limit (ARG_MAX, 2 MiB
/// on Linux) while keeping the number of processes small.
const VALIDITY_CHUNK: usize = 4000;

/// How many paths one SQL query asks about (SQLite allows 32766 parameters).
const SQL_CHUNK: usize = 1000;

/// How many threads read `.drv` files. Reading is cheap, parsing a little
/// less so; more threads than cores buys nothing.
fn reader_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(8))
}

/// The local Nix store (logical directory = physical directory).
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: StoreDir,
    nix_store: PathBuf,
    /// Nix's database, read directly (read-only) when we may open it; opened
    /// once, shared by clones.
    db: Option<Arc<NixDb>>,
    /// Parsed closures kept between runs, if wanted.
    closures: Option<ClosureCache>,
    /// Closures being written on threads of their own; shared by clones.
    saves: Arc<PendingSaves>,
}

/// Threads writing closure files. Encoding a closure is CPU work (~70 ms for
/// 18,000 derivations, ~400 ms for 100,000) that nothing waits for: it runs
/// beside the walk. Joined by [`LocalStore::wait_for_saves`], or when the last
/// clone of the store is dropped, so a finished command has written its file.
#[derive(Debug, Default)]
struct PendingSaves(std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>);

impl PendingSaves {
    fn join_all(&self) {
        let handles = std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for handle in handles {
            let _ = handle.join();
        }
    }
}

impl Drop for PendingSaves {
    fn drop(&mut self) {
        self.join_all();
    }
}

/// Read-only connections to Nix's database, opened on first use and kept for
/// the next query (one per part of a query asked in parallel).
#[derive(Debug)]
struct NixDb {
    path: PathBuf,
    conns: Mutex<Vec<rusqlite::Connection>>,
}

impl NixDb {
    fn take(&self) -> Result<rusqlite::Connection, rusqlite::Error> {
        use rusqlite::OpenFlags;
        let kept = self
            .conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        if let Some(conn) = kept {
            return Ok(conn);
        }
        let conn = rusqlite::Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Nix holds write locks only briefly; wait rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Ok(conn)
    }

    fn keep(&self, conn: rusqlite::Connection) {
        self.conns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(conn);
    }
}

/// Paths per part of a validity query asked in parallel, at least: below
/// this, a thread and a connection of its own cost more than they save.
const VALIDITY_PART: usize = 4096;

/// The derivations reachable from the roots, read from the store.
#[derive(Debug, Default)]
pub struct DrvGraph {
    /// Every derivation that could be read.
    pub drvs: FxHashMap<StorePath, Arc<DrvInfo>>,
    /// The roots whose `.drv` was read, in the order given (duplicates removed).
    pub roots: Vec<StorePath>,
    /// Roots whose `.drv` file does not exist in the store.
    pub missing: Vec<StorePath>,
}

impl DrvGraph {
    /// The derivations in breadth-first order from the roots, each input in
    /// the order its dependant lists it: the order lookups are worth making
    /// in. Computed on demand (a warm `status` never needs it).
    pub fn order(&self) -> Vec<StorePath> {
        breadth_first(&self.roots, &self.drvs)
    }
}

impl LocalStore {
    /// A store at `dir`, asked about validity through `nix-store` on PATH.
    pub fn new(dir: &str) -> Result<Self, StoreError> {
        let dir = StoreDir::new(dir).map_err(|e| StoreError::BadSetting {
            name: "store directory".into(),
            value: dir.into(),
            origin: "NIX_STORE_DIR".into(),
            reason: e.to_string(),
        })?;
        Ok(Self {
            dir,
            nix_store: PathBuf::from("nix-store"),
            db: local_db().map(|path| {
                Arc::new(NixDb {
                    path,
                    conns: Mutex::new(Vec::new()),
                })
            }),
            closures: None,
            saves: Arc::default(),
        })
    }

    /// Keep parsed closures in `cache` between runs (see [`crate::closure_cache`]).
    pub fn with_closure_cache(mut self, cache: ClosureCache) -> Self {
        self.closures = Some(cache);
        self
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
    /// on a few worker threads that share one queue (a thread per level would
    /// start hundreds of threads on a deep graph). A root whose file does not
    /// exist is recorded in [`DrvGraph::missing`]; any other failure is an
    /// error (a valid derivation's inputs are valid, so their files exist).
    pub fn load_closure(&self, roots: &[StorePath]) -> Result<DrvGraph, StoreError> {
        let mut graph = DrvGraph::default();
        let mut seen: FxHashSet<StorePath> = FxHashSet::default();
        let mut start: Vec<StorePath> = Vec::new();
        for root in roots {
            if seen.insert(root.clone()) {
                let exists = std::path::Path::new(&self.render(root)).exists();
                if exists {
                    start.push(root.clone());
                } else {
                    graph.missing.push(root.clone());
                }
            }
        }
        // The closure of these roots as read before, if it was.
        let mut key: Vec<StorePath> = start.clone();
        key.sort_unstable();
        key.dedup();
        if let Some(cache) = &self.closures {
            let t = std::time::Instant::now();
            match cache.load(&self.dir, &key) {
                Ok(Some(drvs)) => {
                    tracing::debug!(
                        drvs = drvs.len(),
                        elapsed_ms = t.elapsed().as_millis() as u64,
                        "read the closure from {}",
                        cache.file_for(&self.dir, &key).display()
                    );
                    graph.roots = start;
                    graph.drvs = drvs;
                    return Ok(graph);
                }
                Ok(None) => {}
                Err(e) => tracing::debug!("{e}; reading the derivations instead"),
            }
        }
        let queue = ReadQueue {
            state: Mutex::new(QueueState {
                pending: start.iter().cloned().collect(),
                seen,
                busy: 0,
                idle: 0,
                failed: None,
                done: Vec::new(),
            }),
            wake: Condvar::new(),
        };
        let threads = reader_threads();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| queue.work(self));
            }
        });
        let state = queue
            .state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(error) = state.failed {
            return Err(error);
        }
        if state.busy != 0 || !state.pending.is_empty() {
            return Err(StoreError::NixOutput {
                command: "read derivations".into(),
                reason: "a worker thread panicked".into(),
            });
        }
        graph.drvs = state.done.into_iter().collect();
        graph.roots = start;
        if let Some(cache) = &self.closures
            && !key.is_empty()
        {
            // A cache that cannot be written costs the next run time, never an answer.
            let (cache, dir, drvs) = (cache.clone(), self.dir.clone(), graph.drvs.clone());
            let save = move || match cache.save(&dir, &key, &drvs) {
                Ok(file) => tracing::debug!("stored the closure in {}", file.display()),
                Err(e) => {
                    tracing::debug!("cannot store the closure in {}: {e}", cache.dir().display())
                }
            };
            match std::thread::Builder::new()
                .name("closure-save".into())
                .spawn(save)
            {
                Ok(handle) => self
                    .saves
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(handle),
                Err(e) => tracing::debug!("cannot start writing the closure: {e}"),
            }
        }
        Ok(graph)
    }

    /// Wait until the closures read so far are written to the closure cache.
    pub fn wait_for_saves(&self) {
        self.saves.join_all();
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
                        db.path.display()
                    );
                }
            }
        }
        self.valid_paths_from_nix_store(paths)
    }

    /// The same question as Nix's `LocalStore::isValidPathUncached` asks:
    /// `SELECT … FROM ValidPaths WHERE path = ?` (batched into `IN` lists), on
    /// read-only connections. Exact for a local store, also when a daemon owns
    /// it. A large query is cut into contiguous parts of the index's order,
    /// each asked on a thread and connection of its own (25,000 paths against
    /// a database of a million took 50–140 ms on one); each part reads its
    /// own snapshot, as Nix's own `isValidPath` calls, one at a time, do.
    fn valid_paths_from_db(
        &self,
        db: &NixDb,
        paths: &[StorePath],
    ) -> Result<HashSet<StorePath>, rusqlite::Error> {
        let rendered: Vec<String> = paths.iter().map(|p| self.render(p)).collect();
        // Asked in the index's order: each chunk then reads neighbouring pages
        // of the index (on a 600,000-path store, 25,000 paths in random order
        // took twice as long).
        let mut sorted: Vec<&str> = rendered.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let parts = (sorted.len() / VALIDITY_PART).clamp(1, reader_threads());
        let found = query_in_parts(db, &sorted, parts)?;
        Ok(paths
            .iter()
            .zip(&rendered)
            .filter(|(_, text)| found.contains(text.as_str()))
            .map(|(path, _)| path.clone())
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

/// The work shared by the threads of [`LocalStore::load_closure`].
struct ReadQueue {
    state: Mutex<QueueState>,
    wake: Condvar,
}

struct QueueState {
    /// Derivations found but not yet read.
    pending: VecDeque<StorePath>,
    /// Every derivation ever queued.
    seen: FxHashSet<StorePath>,
    /// Threads reading a derivation right now (they may queue more).
    busy: usize,
    /// Threads waiting for work. Waking them is a system call even when none
    /// waits (std's condvar), and it was one per `.drv` read: only called
    /// when somebody waits.
    idle: usize,
    /// The first failure; the other threads stop when they see it.
    failed: Option<StoreError>,
    done: Vec<(StorePath, Arc<DrvInfo>)>,
}

impl ReadQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Take derivations off the queue until there is nothing left to read and
    /// no other thread can add more.
    fn work(&self, store: &LocalStore) {
        let mut state = self.lock();
        loop {
            if state.failed.is_some() {
                break;
            }
            let Some(path) = state.pending.pop_front() else {
                if state.busy == 0 {
                    break;
                }
                state.idle += 1;
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.idle -= 1;
                continue;
            };
            state.busy += 1;
            drop(state);
            let read = store.read_drv(&path);
            state = self.lock();
            state.busy -= 1;
            let mut added = false;
            match read {
                Ok(info) => {
                    for input in info.input_paths() {
                        if !state.seen.contains(input) {
                            state.seen.insert(input.clone());
                            state.pending.push_back(input.clone());
                            added = true;
                        }
                    }
                    state.done.push((path, Arc::new(info)));
                }
                Err(error) => {
                    state.failed.get_or_insert(error);
                }
            }
            // Waiting threads wait for new work, for the end or for a failure.
            let finished = state.busy == 0 && state.pending.is_empty();
            if state.idle > 0 && (added || finished || state.failed.is_some()) {
                self.wake.notify_all();
            }
        }
        if state.idle > 0 {
            self.wake.notify_all();
        }
    }
}

/// Which of `sorted` (rendered store paths, in order) are valid, asked in
/// `parts` contiguous parts, each on a thread of its own (the first on this one).
fn query_in_parts<'p>(
    db: &NixDb,
    sorted: &[&'p str],
    parts: usize,
) -> Result<FxHashSet<&'p str>, rusqlite::Error> {
    if parts <= 1 {
        return query_part(db, sorted);
    }
    let size = sorted.len().div_ceil(parts).max(1);
    std::thread::scope(|scope| {
        let mut pieces = sorted.chunks(size);
        let here = pieces.next().unwrap_or_default();
        let mut found = FxHashSet::default();
        let mut others = Vec::new();
        for piece in pieces {
            // A part whose thread cannot start (a thread limit) is asked here.
            match std::thread::Builder::new().spawn_scoped(scope, move || query_part(db, piece)) {
                Ok(thread) => others.push(thread),
                Err(_) => found.extend(query_part(db, piece)?),
            }
        }
        found.extend(query_part(db, here)?);
        for other in others {
            // A panic in a part is raised again here, as it would have been had
            // the part run on this thread.
            let part = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            found.extend(part);
        }
        Ok(found)
    })
}

/// Which of `sorted` (rendered store paths, in order) are valid, in one read
/// transaction on a connection of `db`'s (kept for the next query unless it
/// failed).
fn query_part<'p>(db: &NixDb, sorted: &[&'p str]) -> Result<FxHashSet<&'p str>, rusqlite::Error> {
    let conn = db.take()?;
    let mut found: FxHashSet<&'p str> = FxHashSet::default();
    {
        let tx = conn.unchecked_transaction()?;
        {
            // Every query has the same shape (a short last chunk repeats its
            // last path, which `IN` ignores), so it is compiled once.
            let mut sql = String::from("SELECT path FROM ValidPaths WHERE path IN (?");
            for _ in 1..SQL_CHUNK {
                sql.push_str(",?");
            }
            sql.push(')');
            let mut stmt = tx.prepare_cached(&sql)?;
            for chunk in sorted.chunks(SQL_CHUNK) {
                let fill = chunk.last().copied();
                let params = chunk
                    .iter()
                    .copied()
                    .chain(std::iter::repeat_n(fill, SQL_CHUNK - chunk.len()).flatten());
                let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
                while let Some(row) = rows.next()? {
                    let path = row.get_ref(0)?.as_str()?;
                    // The row is one of the asked paths: keep the asked text.
                    if let Ok(at) = chunk.binary_search(&path) {
                        found.insert(chunk[at]);
                    }
                }
            }
        }
        tx.finish()?;
    }
    db.keep(conn);
    Ok(found)
}

/// The derivations of `drvs` in breadth-first order from `start`, each input
/// in the order its dependant lists it: the order lookups are worth making in.
fn breadth_first(start: &[StorePath], drvs: &FxHashMap<StorePath, Arc<DrvInfo>>) -> Vec<StorePath> {
    let mut seen: FxHashSet<&StorePath> = FxHashSet::default();
    let mut queue: VecDeque<&StorePath> = VecDeque::new();
    for root in start {
        if seen.insert(root) {
            queue.push_back(root);
        }
    }
    let mut order = Vec::with_capacity(drvs.len());
    while let Some(path) = queue.pop_front() {
        order.push(path.clone());
        if let Some(info) = drvs.get(path) {
            for input in info.input_paths() {
                if seen.insert(input) {
                    queue.push_back(input);
                }
            }
        }
    }
    order
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

    /// A throwaway store directory holding hand-written derivations.
    struct FakeStore {
        dir: tempfile::TempDir,
        store: LocalStore,
    }

    impl FakeStore {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let store = LocalStore::new(dir.path().to_str().unwrap())
                .unwrap()
                .without_direct_db();
            Self { dir, store }
        }

        fn path(&self, n: u32, name: &str) -> String {
            format!("{}/{n:0>32}-{name}", self.dir.path().display())
        }

        /// Write derivation `n` (named `d<n>`) with input derivations `inputs`.
        fn drv(&self, n: u32, inputs: &[u32]) -> StorePath {
            let name = format!("d{n}");
            let out = self.path(n + 1000, &name);
            let mut inputs: Vec<String> = inputs
                .iter()
                .map(|i| format!("(\"{}\",[\"out\"])", self.path(*i, &format!("d{i}.drv"))))
                .collect();
            inputs.sort();
            let text = format!(
                "Derive([(\"out\",\"{out}\",\"\",\"\")],[{}],[],\"x86_64-linux\",\"/bin/sh\",[],\
                 [(\"name\",\"{name}\"),(\"out\",\"{out}\"),(\"system\",\"x86_64-linux\")])",
                inputs.join(",")
            );
            let file = self.path(n, &format!("{name}.drv"));
            std::fs::write(&file, text).unwrap();
            self.store.parse_path(&file).unwrap()
        }
    }

    #[test]
    fn closure_is_read_breadth_first() {
        let fake = FakeStore::new();
        let d4 = fake.drv(4, &[]);
        let d3 = fake.drv(3, &[4]);
        let d2 = fake.drv(2, &[3]);
        let d1 = fake.drv(1, &[2, 3]);
        let gone = fake.store.parse_path(&fake.path(9, "d9.drv")).unwrap();
        let graph = fake
            .store
            .load_closure(&[d1.clone(), gone.clone()])
            .unwrap();
        assert_eq!(graph.order(), [d1, d2, d3, d4]);
        assert_eq!(graph.drvs.len(), 4);
        assert_eq!(graph.missing, [gone]);
    }

    #[test]
    fn a_broken_input_is_an_error_naming_it() {
        let fake = FakeStore::new();
        // A wide graph, so several threads are busy when the broken one is read.
        let leaves: Vec<u32> = (10..200).collect();
        for &leaf in &leaves {
            fake.drv(leaf, &[]);
        }
        fake.drv(2, &leaves);
        let root = fake.drv(1, &[2, 3]);
        let broken = fake.path(3, "d3.drv");
        std::fs::write(&broken, "Derive([(").unwrap();
        match fake.store.load_closure(std::slice::from_ref(&root)) {
            Err(StoreError::MalformedDrv { path, .. }) => {
                assert_eq!(path, PathBuf::from(&broken));
            }
            other => panic!("expected MalformedDrv, got {other:?}"),
        }
        // An input whose file is missing altogether.
        std::fs::remove_file(&broken).unwrap();
        match fake.store.load_closure(&[root]) {
            Err(StoreError::ReadDrv { path, .. }) => assert_eq!(path, PathBuf::from(&broken)),
            other => panic!("expected ReadDrv, got {other:?}"),
        }
    }

    /// A database shaped like Nix's (`ValidPaths`), holding every third of
    /// `n` made-up paths of `store`; returns it and all `n` paths.
    fn made_up_db(store: &LocalStore, dir: &std::path::Path, n: u32) -> (NixDb, Vec<StorePath>) {
        let path = dir.join("db.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE ValidPaths (id integer primary key autoincrement not null, \
             path text unique not null, hash text not null, registrationTime integer not null);",
        )
        .unwrap();
        let paths: Vec<StorePath> = (0..n)
            .map(|i| {
                let text = format!("{}/{i:0>32}-p{i}", store.dir().as_str());
                store.parse_path(&text).unwrap()
            })
            .collect();
        let tx = conn.unchecked_transaction().unwrap();
        for (i, p) in paths.iter().enumerate() {
            if i % 3 == 0 {
                tx.execute(
                    "INSERT INTO ValidPaths (path, hash, registrationTime) VALUES (?1, 'h', 0)",
                    [store.render(p)],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        let db = NixDb {
            path,
            conns: Mutex::new(Vec::new()),
        };
        (db, paths)
    }

    /// Asked in one part or several (each on its own thread and connection),
    /// the answer is the registered paths exactly; connections are kept.
    #[test]
    fn validity_in_parts_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = LocalStore::new("/nix/store").unwrap().without_direct_db();
        // Enough paths for two parts through `valid_paths` on two cores.
        let (db, paths) = made_up_db(&store, dir.path(), 2 * VALIDITY_PART as u32 + 5);
        let rendered: Vec<String> = paths.iter().map(|p| store.render(p)).collect();
        let mut sorted: Vec<&str> = rendered.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let expected: FxHashSet<&str> = rendered.iter().step_by(3).map(String::as_str).collect();
        for parts in [1, 2, 3, 7] {
            let found = query_in_parts(&db, &sorted, parts).unwrap();
            assert_eq!(found, expected, "{parts} parts");
        }
        // Fewer paths than parts asked: as many parts as there are paths.
        let found = query_in_parts(&db, &sorted[..2], 5).unwrap();
        let want: FxHashSet<&str> = sorted[..2]
            .iter()
            .copied()
            .filter(|p| expected.contains(p))
            .collect();
        assert_eq!(found, want);
        assert!(!db.conns.lock().unwrap().is_empty(), "connections are kept");
        store.db = Some(Arc::new(db));
        let valid = store.valid_paths(&paths).unwrap();
        let want: HashSet<StorePath> = paths.iter().step_by(3).cloned().collect();
        assert_eq!(valid, want);
    }

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
            // More than one query's worth, so the padded last chunk is exercised.
            .take(SQL_CHUNK * 2 + 300)
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
