//! The persistent narinfo cache: one SQLite file shared by all runs.
//!
//! Rows are keyed by (cache URL, hash part) and hold either the raw narinfo text or a
//! negative marker, with the time they were fetched. Next to a positive row we keep the
//! exact trusted-key text that verified its signature, so a warm run can skip the ~50 µs
//! Ed25519 check as long as that key is still trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params, params_from_iter};

use crate::cache_info::CacheInfoFile;
use crate::error::CacheError;

/// Where the persistent cache lives and how long its entries stay valid.
#[derive(Clone, Debug)]
pub struct DiskCacheConfig {
    /// The SQLite file, e.g. `$XDG_CACHE_HOME/crossplan/narinfo-v1.sqlite`.
    pub path: PathBuf,
    /// How long a found narinfo is reused ([`DEFAULT_POSITIVE_TTL`]).
    pub positive_ttl: Duration,
    /// How long "not in this cache" is reused ([`DEFAULT_NEGATIVE_TTL`]).
    pub negative_ttl: Duration,
    /// Ignore what is stored (but still store new results).
    pub refresh: bool,
}

/// Nix's `narinfo-cache-positive-ttl`: 30 days.
pub const DEFAULT_POSITIVE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Nix's `narinfo-cache-negative-ttl`: 3600 s.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(3600);
/// Nix's `narinfo-cache-meta-ttl` for `nix-cache-info`: 7 days.
pub const META_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl DiskCacheConfig {
    /// A config with Nix's default TTLs.
    #[must_use]
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            positive_ttl: DEFAULT_POSITIVE_TTL,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
            refresh: false,
        }
    }
}

/// How long another run may hold the write lock before we give up: a flush of 20,000 rows
/// takes well under a second, so 10 s means something is stuck.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Tries to open the file while another run holds it locked (see [`DiskCache::open`]):
/// 100 × 20 ms is about two seconds, after which a lock that is still held means
/// running without a disk cache rather than waiting longer.
const OPEN_ATTEMPTS: u32 = 100;
/// Pause between those tries.
const OPEN_RETRY_DELAY: Duration = Duration::from_millis(20);

/// Whether SQLite said "busy" or "locked" (another connection holds a lock).
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// How many keys one `IN (…)` query of [`DiskCache::get_many`] asks about.
pub(crate) const IN_LIST: usize = 1000;

/// How many rows per wanted hash [`DiskCache::get_many_with`] steps over in a range
/// scan before it looks the hashes up one by one instead: stepping to the next row costs
/// a fraction of an indexed lookup, so a scan of a few rows per hash still wins.
pub(crate) const SCAN_BUDGET: usize = 4;

/// `prefix (?,?,…)` with [`IN_LIST`] placeholders.
fn in_list_query(prefix: &str) -> String {
    let mut sql = String::with_capacity(prefix.len() + 3 * IN_LIST);
    sql.push_str(prefix);
    sql.push_str(" (?");
    for _ in 1..IN_LIST {
        sql.push_str(",?");
    }
    sql.push(')');
    sql
}

/// `chunk`'s items, then its last item again until there are [`IN_LIST`].
fn padded(chunk: &[String]) -> impl Iterator<Item = &str> {
    let fill = chunk.last().map(String::as_str);
    chunk
        .iter()
        .map(String::as_str)
        .chain(std::iter::repeat_n(fill, IN_LIST - chunk.len()).flatten())
}

/// The page size of a new disk cache file, in bytes.
const PAGE_SIZE: i64 = 16_384;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS narinfo (
    cache        TEXT    NOT NULL,
    hash_part    TEXT    NOT NULL,
    present      INTEGER NOT NULL,
    narinfo      TEXT,
    verified_key TEXT,
    timestamp    INTEGER NOT NULL,
    PRIMARY KEY (cache, hash_part)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cache_info (
    cache           TEXT PRIMARY KEY NOT NULL,
    store_dir       TEXT,
    want_mass_query INTEGER NOT NULL,
    priority        INTEGER,
    timestamp       INTEGER NOT NULL
);
";

/// One stored lookup result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The cache has the path: its narinfo, and the trusted key text that verified it.
    Present {
        text: Arc<str>,
        verified_key: Option<Arc<str>>,
    },
    /// The cache does not have the path.
    Absent,
}

/// A row to write.
pub(crate) struct Row {
    pub cache: Arc<str>,
    pub hash_part: String,
    pub entry: Entry,
    pub timestamp: i64,
}

/// An open disk cache.
pub(crate) struct DiskCache {
    conn: Mutex<Connection>,
    path: PathBuf,
    positive_ttl: i64,
    negative_ttl: i64,
    /// Reads are skipped (refresh).
    pub refresh: bool,
}

/// Seconds since the epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl DiskCache {
    /// Open (creating if needed). Any failure is logged and gives `None`: the run goes on
    /// without a disk cache.
    pub fn open(config: &DiskCacheConfig) -> Option<Self> {
        let mut attempt = 0;
        let opened = loop {
            match Self::try_open(config) {
                // Two runs creating the file at once: switching it to WAL needs an
                // exclusive lock, and SQLite does not always wait for it (busy_timeout
                // does not cover every path). The other run is done within
                // milliseconds; without a retry this run would silently go without
                // a disk cache and save nothing.
                Err(error) if is_busy(&error) && attempt < OPEN_ATTEMPTS => {
                    attempt += 1;
                    std::thread::sleep(OPEN_RETRY_DELAY);
                }
                other => break other,
            }
        };
        match opened {
            Ok(cache) => Some(cache),
            Err(error) => {
                tracing::warn!(
                    "narinfo disk cache '{}' is unusable, running without it: {error}",
                    config.path.display()
                );
                None
            }
        }
    }

    fn try_open(config: &DiskCacheConfig) -> Result<Self, rusqlite::Error> {
        if let Some(parent) = config.path.parent()
            && !parent.as_os_str().is_empty()
        {
            // If this fails, opening the file reports it.
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = Connection::open(&config.path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Pages of 16 KiB for a new file (an existing one keeps its own; this must come
        // before WAL mode and the first table): a row holds a whole narinfo (~500 bytes),
        // and with SQLite's default 4 KiB a cold run's saves split and rewrote pages all
        // over the table: saving the ~35,800 rows of a cold 18,000-derivation run took
        // 91-107 ms, with 16 KiB 55-67 ms; range reads got no slower (measured apart
        // with SQLite 3.40).
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        // WAL lets one run read while another writes; NORMAL sync is crash-safe in WAL mode
        // (a killed run loses at most its last transaction, never corrupts the file).
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 64 MiB of page cache (used only as needed): a cold run writes tens of thousands
        // of rows in one transaction, and with the default 2 MiB SQLite spills and re-reads
        // pages while inserting.
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.execute_batch(SCHEMA)?;
        // Touch the table so a file that only looks like a database fails here.
        conn.query_row("SELECT count(*) FROM cache_info", [], |_| Ok(()))?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: config.path.clone(),
            positive_ttl: secs(config.positive_ttl),
            negative_ttl: secs(config.negative_ttl),
            refresh: config.refresh,
        })
    }

    fn fresh(&self, present: bool, timestamp: i64, now: i64) -> bool {
        let ttl = if present {
            self.positive_ttl
        } else {
            self.negative_ttl
        };
        now.saturating_sub(timestamp) < ttl
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave the connection inconsistent (each
        // statement is atomic), so a poisoned lock is still usable.
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Fresh entries among `hash_parts` of `cache`, [`IN_LIST`] hashes per query.
    /// See [`DiskCache::get_many_with`].
    #[cfg(test)]
    pub fn get_many(&self, cache: &str, hash_parts: &[String]) -> Vec<(String, Entry)> {
        let mut out = Vec::new();
        self.get_many_with(cache, hash_parts, |hash, entry| {
            out.push((hash.to_owned(), entry));
        });
        out
    }

    /// Call `found` with each fresh entry among `hash_parts` of `cache`, [`IN_LIST`]
    /// hashes at a time.
    ///
    /// A chunk of hashes is first read as one range scan of the table between its
    /// smallest and largest hash: when the hashes wanted are most of what the table holds
    /// for this cache (a warm run asks about nearly every row it saved), stepping through
    /// the rows in order costs a fraction of looking each hash up. When the range holds
    /// more than [`SCAN_BUDGET`] rows per hash wanted (a table with many other paths), the
    /// rest of that chunk and all later chunks are looked up with `IN (…)` instead, so a
    /// sparse request costs at most one chunk's budget more than before. Every `IN` query
    /// has the same shape (a short chunk repeats its last hash, which `IN` ignores), so
    /// the statement is compiled once: compiling a query with a thousand `?` costs more
    /// than running it.
    ///
    /// Several threads may call this at once (one per cache): a call that finds the
    /// connection busy reads through a connection of its own, which WAL mode allows.
    pub fn get_many_with(
        &self,
        cache: &str,
        hash_parts: &[String],
        mut found: impl FnMut(&str, Entry),
    ) {
        if hash_parts.is_empty() {
            return;
        }
        // The scan walks the wanted hashes in the table's order (bytewise, as `str`).
        let sorted: std::borrow::Cow<'_, [String]> = if hash_parts.is_sorted() {
            hash_parts.into()
        } else {
            let mut sorted = hash_parts.to_vec();
            sorted.sort_unstable();
            sorted.into()
        };
        let now = now();
        let result = self.with_reader(|conn| {
            let tx = conn.unchecked_transaction()?;
            {
                let mut scan_first = true;
                let mut in_list = None;
                for chunk in sorted.chunks(IN_LIST) {
                    let mut rest = chunk;
                    if scan_first {
                        match self.scan_range(&tx, cache, chunk, now, &mut found)? {
                            None => rest = &[],
                            Some(unresolved) => {
                                scan_first = false;
                                rest = &chunk[unresolved..];
                            }
                        }
                    }
                    if rest.is_empty() {
                        continue;
                    }
                    let statement = match &mut in_list {
                        Some(statement) => statement,
                        None => in_list.insert(tx.prepare_cached(&in_list_query(
                            "SELECT hash_part, present, narinfo, verified_key, timestamp \
                             FROM narinfo WHERE cache = ? AND hash_part IN",
                        ))?),
                    };
                    let params = std::iter::once(cache).chain(padded(rest));
                    let mut rows = statement.query(params_from_iter(params))?;
                    while let Some(row) = rows.next()? {
                        if let Some(entry) = self.decode_row(row, 1, now)? {
                            found(row.get_ref(0)?.as_str()?, entry);
                        }
                    }
                }
            }
            tx.finish()
        });
        if let Err(error) = result {
            tracing::warn!(
                "cannot read narinfo disk cache '{}': {error}",
                self.path.display()
            );
        }
    }

    /// Step through `cache`'s rows from `chunk`'s first hash to its last (`chunk` sorted),
    /// calling `found` with those `chunk` holds. `None` when done; `Some(i)` when the range
    /// held more than [`SCAN_BUDGET`] rows per hash and the scan stopped with `chunk[i..]`
    /// not yet resolved.
    fn scan_range(
        &self,
        conn: &Connection,
        cache: &str,
        chunk: &[String],
        now: i64,
        found: &mut impl FnMut(&str, Entry),
    ) -> Result<Option<usize>, rusqlite::Error> {
        let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
            return Ok(None);
        };
        let mut statement = conn.prepare_cached(
            "SELECT hash_part, present, narinfo, verified_key, timestamp FROM narinfo \
             WHERE cache = ?1 AND hash_part >= ?2 AND hash_part <= ?3 ORDER BY hash_part",
        )?;
        let mut rows = statement.query(params![cache, first, last])?;
        let budget = chunk.len().saturating_mul(SCAN_BUDGET);
        let mut stepped = 0;
        // chunk[next..] is not resolved yet: every earlier hash was found or passed.
        let mut next = 0;
        while let Some(row) = rows.next()? {
            stepped += 1;
            if stepped > budget {
                return Ok(Some(next));
            }
            let hash = row.get_ref(0)?.as_str()?;
            while chunk.get(next).is_some_and(|wanted| wanted.as_str() < hash) {
                next += 1;
            }
            if chunk.get(next).is_some_and(|wanted| wanted == hash) {
                if let Some(entry) = self.decode_row(row, 1, now)? {
                    found(hash, entry);
                }
                while chunk.get(next).is_some_and(|wanted| wanted == hash) {
                    next += 1;
                }
            }
        }
        Ok(None)
    }

    /// Run `read` on the shared connection, or, while another thread holds it, on a
    /// read-only connection opened for this call (or on the shared one after all, once
    /// free, if that cannot be opened).
    fn with_reader<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, rusqlite::Error> {
        match self.conn.try_lock() {
            Ok(conn) => return read(&conn),
            Err(std::sync::TryLockError::Poisoned(poisoned)) => {
                return read(&poisoned.into_inner());
            }
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        let opened = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .and_then(|conn| {
            // SQLite's default page cache: this connection reads each page about once.
            conn.busy_timeout(BUSY_TIMEOUT)?;
            Ok(conn)
        });
        match opened {
            Ok(conn) => read(&conn),
            Err(_) => read(&self.lock()),
        }
    }

    /// The entry of a row whose columns from `first` on are `present, narinfo,
    /// verified_key, timestamp`; `None` when expired.
    fn decode_row(
        &self,
        row: &rusqlite::Row<'_>,
        first: usize,
        now: i64,
    ) -> Result<Option<Entry>, rusqlite::Error> {
        let present = row.get::<_, i64>(first)? != 0;
        if !self.fresh(present, row.get(first + 3)?, now) {
            return Ok(None);
        }
        if !present {
            return Ok(Some(Entry::Absent));
        }
        // Straight from SQLite's buffer into the `Arc`: one copy, not two.
        let Some(text) = row.get_ref(first + 1)?.as_str_or_null()? else {
            return Ok(None);
        };
        let verified_key = row.get_ref(first + 2)?.as_str_or_null()?.map(Arc::from);
        Ok(Some(Entry::Present {
            text: Arc::from(text),
            verified_key,
        }))
    }

    /// Whether any row of `cache` is stored, fresh or not (`true` when that cannot be
    /// read: the caller then asks row by row, as before).
    pub fn has_rows(&self, cache: &str) -> bool {
        let any = self.with_reader(|conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM narinfo WHERE cache = ?1)",
                params![cache],
                |row| row.get::<_, bool>(0),
            )
        });
        any.unwrap_or(true)
    }

    /// One fresh entry.
    pub fn get(&self, cache: &str, hash_part: &str) -> Option<Entry> {
        let now = now();
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT present, narinfo, verified_key, timestamp FROM narinfo \
                 WHERE cache = ?1 AND hash_part = ?2",
                params![cache, hash_part],
                |row| self.decode_row(row, 0, now),
            )
            .optional();
        match row {
            Ok(entry) => entry.flatten(),
            Err(error) => {
                tracing::warn!(
                    "cannot read narinfo disk cache '{}': {error}",
                    self.path.display()
                );
                None
            }
        }
    }

    /// Write rows in one transaction.
    pub fn put_many(&self, rows: &[Row]) -> Result<(), CacheError> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut conn = self.lock();
        let result = (|| -> Result<(), rusqlite::Error> {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            {
                let mut statement = tx.prepare_cached(
                    "INSERT OR REPLACE INTO narinfo \
                     (cache, hash_part, present, narinfo, verified_key, timestamp) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?;
                for row in rows {
                    let (present, text, key) = match &row.entry {
                        Entry::Present { text, verified_key } => {
                            (1, Some(&**text), verified_key.as_deref())
                        }
                        Entry::Absent => (0, None, None),
                    };
                    statement.execute(params![
                        &*row.cache,
                        row.hash_part,
                        present,
                        text,
                        key,
                        row.timestamp
                    ])?;
                }
            }
            tx.commit()
        })();
        result.map_err(|error| self.error(&error))
    }

    /// A stored `nix-cache-info`, if younger than [`META_TTL`].
    pub fn get_cache_info(&self, cache: &str) -> Option<CacheInfoFile> {
        let conn = self.lock();
        let row = conn
            .query_row(
                "SELECT store_dir, want_mass_query, priority, timestamp FROM cache_info \
                 WHERE cache = ?1",
                params![cache],
                |row| {
                    Ok((
                        row.get::<_, Option<String>>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, Option<i64>>(2)?,
                        row.get::<_, i64>(3)?,
                    ))
                },
            )
            .optional()
            .ok()
            .flatten()?;
        let (store_dir, want_mass_query, priority, timestamp) = row;
        (now().saturating_sub(timestamp) < secs(META_TTL)).then_some(CacheInfoFile {
            store_dir,
            want_mass_query: want_mass_query != 0,
            priority,
        })
    }

    /// Store a `nix-cache-info`. Failures are only logged.
    pub fn put_cache_info(&self, cache: &str, info: &CacheInfoFile) {
        let conn = self.lock();
        if let Err(error) = conn.execute(
            "INSERT OR REPLACE INTO cache_info (cache, store_dir, want_mass_query, priority, timestamp) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                cache,
                info.store_dir,
                i64::from(info.want_mass_query),
                info.priority,
                now()
            ],
        ) {
            tracing::warn!("cannot write narinfo disk cache '{}': {error}", self.path.display());
        }
    }

    fn error(&self, error: &rusqlite::Error) -> CacheError {
        CacheError::DiskCache {
            path: self.path.clone(),
            reason: error.to_string(),
        }
    }

    /// The SQLite file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn config(dir: &Path) -> DiskCacheConfig {
        DiskCacheConfig::new(dir.join("sub/narinfo-v1.sqlite"))
    }

    fn row(hash: &str, entry: Entry, timestamp: i64) -> Row {
        Row {
            cache: Arc::from("https://c"),
            hash_part: hash.to_owned(),
            entry,
            timestamp,
        }
    }

    fn present(text: &str) -> Entry {
        Entry::Present {
            text: Arc::from(text),
            verified_key: Some(Arc::from("k:1")),
        }
    }

    #[test]
    fn stores_and_expires() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config(dir.path());
        config.negative_ttl = Duration::from_secs(100);
        config.positive_ttl = Duration::from_secs(1000);
        let cache = DiskCache::open(&config).unwrap();
        let t = now();
        cache
            .put_many(&[
                row("a", present("A"), t),
                row("b", Entry::Absent, t),
                row("old-neg", Entry::Absent, t - 200),
                row("old-pos", present("P"), t - 2000),
                row("mid-pos", present("M"), t - 200),
            ])
            .unwrap();
        assert_eq!(cache.get("https://c", "a"), Some(present("A")));
        assert_eq!(cache.get("https://c", "b"), Some(Entry::Absent));
        assert_eq!(cache.get("https://c", "old-neg"), None);
        assert_eq!(cache.get("https://c", "old-pos"), None);
        assert_eq!(cache.get("https://c", "mid-pos"), Some(present("M")));
        assert_eq!(cache.get("https://other", "a"), None);
        let hashes: Vec<String> = ["a", "b", "old-neg", "mid-pos", "zzz"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let mut got = cache.get_many("https://c", &hashes);
        got.sort_by(|x, y| x.0.cmp(&y.0));
        let keys: Vec<_> = got.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(keys, ["a", "b", "mid-pos"]);
    }

    fn page_size(path: &Path) -> i64 {
        Connection::open(path)
            .unwrap()
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .unwrap()
    }

    /// A new file gets 16 KiB pages; a file written before keeps its 4 KiB pages
    /// and its rows.
    #[test]
    fn new_files_get_large_pages_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let cache = DiskCache::open(&config).unwrap();
        cache.put_many(&[row("a", present("A"), now())]).unwrap();
        drop(cache);
        assert_eq!(page_size(&config.path), PAGE_SIZE);

        let old = DiskCacheConfig::new(dir.path().join("old.sqlite"));
        {
            let conn = Connection::open(&old.path).unwrap();
            conn.pragma_update(None, "page_size", 4096).unwrap();
            conn.pragma_update(None, "journal_mode", "WAL").unwrap();
            conn.execute_batch(SCHEMA).unwrap();
        }
        let cache = DiskCache::open(&old).unwrap();
        cache.put_many(&[row("b", present("B"), now())]).unwrap();
        assert_eq!(cache.get("https://c", "b"), Some(present("B")));
        drop(cache);
        assert_eq!(page_size(&old.path), 4096);
    }

    #[test]
    fn many_params_are_chunked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(&config(dir.path())).unwrap();
        let rows: Vec<Row> = (0..10_000)
            .map(|i| row(&format!("h{i}"), Entry::Absent, now()))
            .collect();
        cache.put_many(&rows).unwrap();
        let hashes: Vec<String> = (0..10_000).map(|i| format!("h{i}")).collect();
        assert_eq!(cache.get_many("https://c", &hashes).len(), 10_000);
        // A short last chunk (padded with its last hash) and hashes not stored.
        let mut some: Vec<String> = (0..2_345).map(|i| format!("h{}", i * 3)).collect();
        some.extend(["missing-1".to_owned(), "missing-2".to_owned()]);
        let mut got: Vec<String> = cache
            .get_many("https://c", &some)
            .into_iter()
            .map(|(hash, _)| hash)
            .collect();
        got.sort();
        let mut want: Vec<String> = some[..2_345].to_vec();
        want.sort();
        assert_eq!(got, want);
        assert!(cache.get_many("https://c", &[]).is_empty());
    }

    #[test]
    fn sparse_and_unsorted_requests() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(&config(dir.path())).unwrap();
        let t = now();
        let rows: Vec<Row> = (0..20_000)
            .map(|i| {
                let entry = if i % 2 == 0 {
                    present(&format!("N{i}"))
                } else {
                    Entry::Absent
                };
                row(&format!("h{i:05}"), entry, t)
            })
            .collect();
        cache.put_many(&rows).unwrap();
        // Another cache's rows inside the same hash range must not be reported.
        cache
            .put_many(&[Row {
                cache: Arc::from("https://d"),
                ..row("h00001x", present("other"), t)
            }])
            .unwrap();
        for step in [1, 3, 7, 50, 997] {
            // Reversed (unsorted), with duplicates and hashes not stored.
            let mut wanted: Vec<String> = (0..20_000)
                .step_by(step)
                .map(|i| format!("h{i:05}"))
                .collect();
            wanted.extend(["h00000".to_owned(), "h00001x".to_owned(), "zz".to_owned()]);
            wanted.reverse();
            let mut got = cache.get_many("https://c", &wanted);
            got.sort_by(|x, y| x.0.cmp(&y.0));
            let want: Vec<(String, Entry)> = (0..20_000)
                .step_by(step)
                .map(|i| (format!("h{i:05}"), rows[i].entry.clone()))
                .collect();
            assert_eq!(got, want, "every {step}th row");
        }
    }

    #[test]
    fn corrupt_file_disables_cache() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        std::fs::create_dir_all(config.path.parent().unwrap()).unwrap();
        std::fs::write(&config.path, vec![0x42_u8; 8192]).unwrap();
        assert!(DiskCache::open(&config).is_none());
        let config = DiskCacheConfig::new(dir.path().join("a-dir"));
        std::fs::create_dir_all(&config.path).unwrap();
        assert!(DiskCache::open(&config).is_none());
    }

    #[test]
    fn two_writers_share_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let handles: Vec<_> = (0..4)
            .map(|writer| {
                let config = config.clone();
                std::thread::spawn(move || {
                    let cache = DiskCache::open(&config).unwrap();
                    for batch in 0..10 {
                        let rows: Vec<Row> = (0..500)
                            .map(|i| row(&format!("w{writer}-{batch}-{i}"), present("x"), now()))
                            .collect();
                        cache.put_many(&rows).unwrap();
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let cache = DiskCache::open(&config).unwrap();
        let hashes: Vec<String> = (0..4)
            .flat_map(|w| (0..10).flat_map(move |b| (0..500).map(move |i| format!("w{w}-{b}-{i}"))))
            .collect();
        assert_eq!(cache.get_many("https://c", &hashes).len(), 20_000);
    }

    #[test]
    fn cache_info_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DiskCache::open(&config(dir.path())).unwrap();
        assert_eq!(cache.get_cache_info("https://c"), None);
        let info = CacheInfoFile {
            store_dir: Some("/nix/store".to_owned()),
            want_mass_query: true,
            priority: Some(40),
        };
        cache.put_cache_info("https://c", &info);
        assert_eq!(cache.get_cache_info("https://c"), Some(info));
    }
}
