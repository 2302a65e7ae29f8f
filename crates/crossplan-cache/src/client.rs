//! [`Substituters`]: the set of binary caches and narinfo lookups against them.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use nix_derivation::{StoreDir, StorePath, nixbase32};
use nix_narinfo::NarInfo;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use rustc_hash::FxHashMap;

use crate::cache_info::{CacheInfoFile, DEFAULT_PRIORITY, parse_cache_info};
use crate::disk::{DiskCache, DiskCacheConfig, Entry, Row, now};
use crate::error::CacheError;
use crate::h1;
use crate::keys::TrustedKeys;
use crate::netrc::Netrc;
use crate::retry::{StatusClass, backoff, classify_status, parse_retry_after};
use crate::spec::{Location, SubstituterSpec};
use crate::window::Window;

/// Largest narinfo or `nix-cache-info` we accept: the narinfo parser's own limit (1 MiB).
/// Real narinfos are well under 10 KiB; anything bigger is not a narinfo.
pub const MAX_BODY_SIZE: usize = nix_narinfo::MAX_NARINFO_SIZE;

/// Default for [`ClientConfig::jobs`]: enough requests in flight to hide a 20 ms round trip.
/// A cold run over a 20 ms link to two caches makes ~2 requests per lookup (a miss asks
/// every cache), so 18,000 lookups are ~36,000 requests: ÷ 1024 × 20 ms ≈ 0.7 s of
/// waiting (at 512 it was ≈ 1.4 s, and measured 2.0 s against 1.5 s at 1024). Over HTTP/2
/// (cache.nixos.org) these are streams on a few connections; over HTTP/1.1 they are
/// sockets, and [`Substituters::open`] raises the open-file limit for them. The window
/// shrinks to what the round trip needs (see `window.rs`), so a fast cache gets far fewer.
pub const DEFAULT_JOBS: usize = 1024;
/// Default for [`ClientConfig::timeout`]: a narinfo is tiny, so 20 s means the cache is stuck.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Default for [`ClientConfig::max_attempts`]: Nix's `download-attempts` is 5; one more
/// keeps a flaky run from turning a fetch into a spurious "will be built".
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

/// Default for [`ClientConfig::streams_per_connection`]: the fewest concurrent streams an
/// HTTP/2 server should allow (RFC 9113 §6.5.2 recommends no fewer than 100; nginx allows
/// 128, hyper 200).
pub const DEFAULT_STREAMS_PER_CONNECTION: usize = 100;

/// How idle pooled connections are kept: longer than one run's gaps between lookups.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// What the client calls itself in `User-Agent`.
const USER_AGENT: &str = concat!("crossplan/", env!("CARGO_PKG_VERSION"));

/// Settings of the client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Our store directory; every cache's `StoreDir` must equal it.
    pub store_dir: StoreDir,
    /// `trusted-public-keys`.
    pub trusted_keys: TrustedKeys,
    /// `require-sigs`.
    pub require_sigs: bool,
    /// Most HTTP requests in flight at once.
    pub jobs: usize,
    /// How many of the `jobs` requests one HTTP/2 connection is expected to carry at once;
    /// it only sets how many connection pools there are: `jobs ÷ streams_per_connection`,
    /// rounded up (1024 ÷ 100: 11 pools of up to 94 requests; 0 counts as 1). Over HTTP/2 a
    /// pool keeps one connection per host, and a server caps its concurrent streams (100
    /// to 256 is usual): with a single pool, `jobs` above the server's cap would only
    /// queue. Over HTTP/1.1 this changes nothing (a connection carries one request at a
    /// time, and the pools together keep as many connections as one would).
    pub streams_per_connection: usize,
    /// Speak only HTTP/2, without negotiating it: to `http://` caches as h2c with prior
    /// knowledge, and `https://` caches must then accept `h2` in TLS. Off by default, as in
    /// Nix, where HTTP/2 is used only when TLS negotiates it; only tests set it (against
    /// the h2c test server), no command-line option does.
    pub http2_prior_knowledge: bool,
    /// Time limit of one request, body included.
    pub timeout: Duration,
    /// Tries per file before giving up on that cache.
    pub max_attempts: u32,
    /// Nix's `netrc-file`; a missing file means no credentials.
    pub netrc_file: Option<PathBuf>,
    /// The persistent narinfo cache; `None` = none.
    pub disk_cache: Option<DiskCacheConfig>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            store_dir: StoreDir::default(),
            trusted_keys: TrustedKeys::default(),
            require_sigs: true,
            jobs: DEFAULT_JOBS,
            streams_per_connection: DEFAULT_STREAMS_PER_CONNECTION,
            http2_prior_knowledge: false,
            timeout: DEFAULT_TIMEOUT,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            netrc_file: None,
            disk_cache: None,
        }
    }
}

/// One opened cache as the user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheInfo {
    /// Redacted URL without store parameters.
    pub url: String,
    /// Effective priority (URL `?priority=` over `nix-cache-info`, default 50); lower first.
    pub priority: i64,
    /// `WantMassQuery` of its `nix-cache-info`.
    pub want_mass_query: bool,
    /// `?trusted=1`: its narinfos need no signature.
    pub trusted: bool,
}

/// The answer for one store path.
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    /// The first acceptable narinfo in priority order.
    pub hit: Option<Hit>,
    /// Narinfos found but not accepted (bad signature, wrong path), in cache order.
    pub rejected: Vec<Rejection>,
    /// Caches that could not answer (after retries).
    pub errors: Vec<LookupError>,
}

/// An accepted narinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Index into [`Substituters::caches`].
    pub cache_index: usize,
    /// Redacted URL of that cache.
    pub cache_url: String,
    /// `References`.
    pub references: Vec<StorePath>,
    /// `FileSize` (0 when absent).
    pub file_size: u64,
    /// `NarSize`.
    pub nar_size: u64,
    /// `Deriver`.
    pub deriver: Option<StorePath>,
    /// Whether `CA` is present and really yields this path.
    pub content_addressed: bool,
}

/// A narinfo that was found but not accepted; the path counts as absent from that cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Redacted URL of the cache.
    pub cache_url: String,
    /// The requested store path.
    pub path: String,
    /// Why, e.g. "no signature by a trusted key (signed by: foo-1)".
    pub reason: String,
}

/// A cache that could not answer for a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupError {
    /// Redacted URL of the narinfo file that failed (`<cache>/<hash>.narinfo`).
    pub url: String,
    /// What went wrong, naming the file and the number of attempts.
    pub reason: String,
}

/// Counters for progress and the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls of [`Substituters::lookup`].
    pub lookups: u64,
    /// HTTP requests sent (retries included).
    pub requests: u64,
    /// Retries after transient failures.
    pub retries: u64,
    /// Per-cache answers served by the disk cache.
    pub disk_hits: u64,
    /// Per-cache answers served from this run's memory.
    pub memory_hits: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Lookups with a hit.
    pub hits: u64,
    /// Rejected narinfos.
    pub rejected: u64,
    /// Per-cache lookup errors.
    pub errors: u64,
    /// HTTP requests allowed in flight now: `jobs`, or fewer once the caches proved fast.
    pub window: u64,
}

#[derive(Default)]
struct Counters {
    lookups: AtomicU64,
    requests: AtomicU64,
    retries: AtomicU64,
    disk_hits: AtomicU64,
    memory_hits: AtomicU64,
    bytes: AtomicU64,
    hits: AtomicU64,
    rejected: AtomicU64,
    errors: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

struct Cache {
    info: CacheInfo,
    location: Location,
    /// The disk-cache key (redacted URL); `None` for `file://` caches, which are not cached.
    disk_key: Option<Arc<str>>,
    /// `?priority=` of the URL, which beats `Priority` of `nix-cache-info`.
    priority_override: Option<i64>,
    authorization: Option<HeaderValue>,
    /// The base URL, parsed once: parsing each request's URL (host, IDNA)
    /// was about 6 % of a cold run's CPU.
    base_url: Option<reqwest::Url>,
    /// The lean HTTP/1.1 path for a plain `http://` cache (see `h1.rs`); `None`: every
    /// request goes through `reqwest`.
    plain: Option<h1::Plain>,
    /// The disk cache held no row of this cache when [`Substituters::preload`] looked
    /// (a cold run): a path missing from memory is then not looked for on disk, and the
    /// preload made no empty slot for each of the run's paths (280,000 on a
    /// 100,000-derivation graph with two caches). A row that another run writes
    /// meanwhile is missed, which costs one request, never an answer.
    nothing_on_disk: AtomicBool,
}

/// A store path's hash part (32 nixbase32 characters), kept inline: the memo
/// holds tens of thousands of them, and a `String` each was a visible cost.
type HashKey = [u8; 32];
/// (cache index, hash part).
type MemoKey = (usize, HashKey);
type Memo = FxHashMap<MemoKey, Slot>;

/// The memo key of `hash` in cache `index`. Hash parts of store paths are always
/// 32 characters; anything else (never produced here) is cut or zero-padded, which
/// can only cost a memo miss.
fn memo_key(index: usize, hash: &str) -> MemoKey {
    let mut key = [0_u8; 32];
    let bytes = hash.as_bytes();
    let n = bytes.len().min(32);
    key[..n].copy_from_slice(&bytes[..n]);
    (index, key)
}

/// A cache's memo slots read by [`Substituters::preload`].
type Slots = Vec<(MemoKey, Slot)>;

/// A memoised per-cache answer.
struct Slot {
    /// `None`: known not to be in the disk cache (or expired there).
    entry: Option<Entry>,
    /// `entry`'s narinfo, parsed, when it already was (by [`Substituters::preload`] or
    /// the fetch): a lookup then needs no parse. `None` for a record not parsed yet or
    /// that does not parse (which a lookup finds out again and reports).
    parsed: Option<Arc<NarInfo>>,
    from_disk: bool,
    /// Not yet written to the disk cache; the time it was fetched.
    dirty: Option<i64>,
}

/// Outcome of fetching one file from one cache.
enum Fetch<T> {
    Found(T),
    Absent,
    Failed(String),
}

/// What one cache says about a path.
enum Answer {
    Present {
        info: Arc<NarInfo>,
        verified_key: Option<Arc<str>>,
    },
    Absent,
    Failed(String),
}

struct Inner {
    caches: Vec<Cache>,
    infos: Vec<CacheInfo>,
    config: ClientConfig,
    /// One client (one connection pool) per `streams_per_connection` requests of the
    /// window; requests take them in turn.
    clients: Vec<reqwest::Client>,
    next_client: AtomicUsize,
    window: Window,
    disk: Option<Arc<DiskCache>>,
    memo: Mutex<Memo>,
    /// Held by a [`Substituters::flush`] from taking its rows until they are written, so
    /// a flush waits for the one before it (a run cancelled while the cache is saved in
    /// the background must not exit before those rows are written).
    flushing: tokio::sync::Mutex<()>,
    counters: Counters,
}

/// The configured binary caches, in priority order.
#[derive(Clone)]
pub struct Substituters {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Substituters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Substituters")
            .field("caches", &self.inner.infos)
            .finish_non_exhaustive()
    }
}

impl Substituters {
    /// Read each cache's `nix-cache-info` (a `StoreDir` other than ours is an error naming
    /// both; a cache unreachable after retries is an error naming it), apply `Priority`
    /// (overridden by `?priority=`), and stable-sort by priority, lower first. The
    /// process's soft open-file limit is raised as far as `jobs` requests to these caches
    /// need and the hard limit allows; where it cannot be, fewer requests are let in flight
    /// (said at `info` level).
    pub async fn open(
        specs: Vec<SubstituterSpec>,
        config: ClientConfig,
    ) -> Result<Self, CacheError> {
        let netrc = match &config.netrc_file {
            Some(path) => Netrc::load(path)?,
            None => Netrc::default(),
        };
        let http_caches = specs
            .iter()
            .filter(|spec| matches!(spec.location, Location::Http(_)))
            .count();
        let jobs = crate::fdlimit::fit(config.jobs, http_caches);
        let pools = jobs.div_ceil(config.streams_per_connection.max(1));
        let per_pool = jobs.div_ceil(pools);
        let clients = (0..pools)
            .map(|_| {
                let builder = reqwest::Client::builder()
                    .pool_max_idle_per_host(per_pool)
                    .pool_idle_timeout(POOL_IDLE_TIMEOUT)
                    .tcp_nodelay(true)
                    .connect_timeout(config.timeout)
                    .user_agent(USER_AGENT);
                if config.http2_prior_knowledge {
                    builder.http2_prior_knowledge()
                } else {
                    builder
                }
                .build()
                .map_err(|error| CacheError::Client(error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let disk = match &config.disk_cache {
            Some(disk_config) => {
                let disk_config = disk_config.clone();
                tokio::task::spawn_blocking(move || DiskCache::open(&disk_config))
                    .await
                    .ok()
                    .flatten()
                    .map(Arc::new)
            }
            None => None,
        };
        // Through a proxy, or with HTTP/2 only, every request goes through reqwest.
        let lean = !config.http2_prior_knowledge && !h1::proxy_configured();
        let mut caches = Vec::with_capacity(specs.len());
        for spec in specs {
            let authorization = authorization(&spec, &netrc);
            let base_url = match &spec.location {
                Location::Http(base) => reqwest::Url::parse(&format!("{base}/")).ok(),
                Location::File(_) => None,
            };
            let plain = base_url.as_ref().filter(|_| lean).and_then(|url| {
                h1::Plain::new(url, USER_AGENT, config.timeout, jobs, POOL_IDLE_TIMEOUT)
            });
            let disk_key = match spec.location {
                Location::Http(_) => Some(Arc::from(spec.url())),
                Location::File(_) => None,
            };
            caches.push(Cache {
                info: CacheInfo {
                    url: spec.url().to_owned(),
                    priority: DEFAULT_PRIORITY,
                    want_mass_query: false,
                    trusted: spec.trusted,
                },
                location: spec.location.clone(),
                disk_key,
                priority_override: spec.priority,
                authorization,
                base_url,
                plain,
                nothing_on_disk: AtomicBool::new(false),
            });
        }
        let inner = Inner {
            infos: Vec::new(),
            caches,
            clients,
            next_client: AtomicUsize::new(0),
            window: Window::new(jobs),
            disk,
            memo: Mutex::new(Memo::default()),
            flushing: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
            config,
        };
        let infos = futures::future::join_all(
            (0..inner.caches.len()).map(|index| inner.read_cache_info(index)),
        )
        .await;
        let mut inner = inner;
        for (cache, info) in inner.caches.iter_mut().zip(infos) {
            let info = info?;
            if let Some(dir) = &info.store_dir
                && dir != inner.config.store_dir.as_str()
            {
                return Err(CacheError::StoreDirMismatch {
                    url: cache.info.url.clone(),
                    cache_store_dir: dir.clone(),
                    our_store_dir: inner.config.store_dir.as_str().to_owned(),
                });
            }
            cache.info.want_mass_query = info.want_mass_query;
            cache.info.priority = cache
                .priority_override
                .or(info.priority)
                .unwrap_or(DEFAULT_PRIORITY);
        }
        // Stable: equal priorities keep the order of the substituters list, as in Nix.
        inner.caches.sort_by_key(|cache| cache.info.priority);
        inner.infos = inner
            .caches
            .iter()
            .map(|cache| cache.info.clone())
            .collect();
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// The caches in priority order.
    #[must_use]
    pub fn caches(&self) -> &[CacheInfo] {
        &self.inner.infos
    }

    /// Load the disk-cache entries of these paths into memory in a few SQL queries, so
    /// later lookups of them need no I/O. No-op without a disk cache or with `refresh`.
    ///
    /// Each cache is read, and its records parsed, on a blocking thread of its own, so
    /// the caches load in parallel and the walk's lookups find the records parsed.
    pub async fn preload(&self, paths: &[StorePath]) {
        let Some(disk) = self.inner.disk.clone() else {
            return;
        };
        if disk.refresh || paths.is_empty() {
            return;
        }
        let mut all: Vec<String> = paths.iter().map(hash_part).collect();
        all.sort_unstable();
        all.dedup();
        let mut wanted: Vec<(usize, Arc<str>, Vec<String>)> = Vec::new();
        {
            let memo = self.inner.lock_memo();
            for (index, cache) in self.inner.caches.iter().enumerate() {
                let Some(key) = &cache.disk_key else { continue };
                let hashes: Vec<String> = all
                    .iter()
                    .filter(|hash| !memo.contains_key(&memo_key(index, hash)))
                    .cloned()
                    .collect();
                if !hashes.is_empty() {
                    wanted.push((index, key.clone(), hashes));
                }
            }
        }
        drop(all);
        let tasks: Vec<_> = wanted
            .into_iter()
            .map(|(index, key, hashes)| {
                let disk = disk.clone();
                let store_dir = self.inner.config.store_dir.clone();
                tokio::task::spawn_blocking(move || {
                    let slots = disk
                        .has_rows(&key)
                        .then(|| load_slots(&disk, &store_dir, index, &key, &hashes));
                    (index, slots)
                })
            })
            .collect();
        let loaded: Vec<(usize, Option<Slots>)> = futures::future::join_all(tasks)
            .await
            .into_iter()
            .flatten()
            .collect();
        let mut memo = self.inner.lock_memo();
        memo.reserve(
            loaded
                .iter()
                .filter_map(|(_, s)| s.as_ref())
                .map(Vec::len)
                .sum(),
        );
        for (index, slots) in loaded {
            let Some(slots) = slots else {
                self.inner.caches[index]
                    .nothing_on_disk
                    .store(true, Ordering::Relaxed);
                continue;
            };
            for (key, slot) in slots {
                memo.entry(key).or_insert(slot);
            }
        }
    }

    /// Ask the caches in priority order; the first acceptable narinfo wins. Safe to call
    /// from many tasks at once; HTTP requests are bounded by `jobs`.
    pub async fn lookup(&self, path: &StorePath) -> Lookup {
        let inner = &self.inner;
        bump(&inner.counters.lookups);
        let hash = hash_part(path);
        let mut result = Lookup::default();
        for index in 0..inner.caches.len() {
            let answer = inner.answer(index, &hash).await;
            if inner.fold(&mut result, index, path, &hash, answer) {
                break;
            }
        }
        result
    }

    /// [`Substituters::lookup`] answered without waiting: from memory (what this run or
    /// [`Substituters::preload`] already holds) or a row of the disk cache, without a task
    /// switch; `None` when some cache on the way would have to be asked over the network.
    pub fn lookup_memoized(&self, path: &StorePath) -> Option<Lookup> {
        let inner = &self.inner;
        let hash = hash_part(path);
        let mut result = Lookup::default();
        for index in 0..inner.caches.len() {
            let answer = inner.memoized_answer(index, &hash)?;
            if index == 0 {
                bump(&inner.counters.lookups);
            }
            if inner.fold(&mut result, index, path, &hash, answer) {
                break;
            }
        }
        if inner.caches.is_empty() {
            bump(&inner.counters.lookups);
        }
        Some(result)
    }

    /// Whether [`Substituters::lookup_memoized`] would answer `path`, as far as a quick
    /// look tells: memory holds every cache's answer up to the first that has the path.
    /// (That record may still be refused, e.g. for its signature, and the next cache
    /// asked over the network; this says `true` then.)
    pub fn is_memoized(&self, path: &StorePath) -> bool {
        let hash = hash_part(path);
        let memo = self.inner.lock_memo();
        for index in 0..self.inner.caches.len() {
            match memo.get(&memo_key(index, &hash)).map(|slot| &slot.entry) {
                Some(Some(Entry::Present { .. })) => return true,
                Some(Some(Entry::Absent)) => {}
                Some(None) | None => return false,
            }
        }
        true
    }

    /// Write this run's new results to the disk cache in one transaction. Fine to call
    /// more than once, also concurrently; each call writes only what is new since the
    /// last, and returns once what the calls before it took is written too.
    pub async fn flush(&self) -> Result<(), CacheError> {
        let Some(disk) = self.inner.disk.clone() else {
            return Ok(());
        };
        let _flushing = self.inner.flushing.lock().await;
        let mut rows: Vec<Row> = {
            let mut memo = self.inner.lock_memo();
            memo.iter_mut()
                .filter_map(|((index, hash), slot)| {
                    let timestamp = slot.dirty.take()?;
                    Some(Row {
                        cache: self.inner.caches[*index].disk_key.clone()?,
                        hash_part: String::from_utf8_lossy(hash).into_owned(),
                        entry: slot.entry.clone()?,
                        timestamp,
                    })
                })
                .collect()
        };
        if rows.is_empty() {
            return Ok(());
        }
        // In key order, the rows go into the table's B-tree left to right: each page is
        // filled once instead of being split and rewritten at random (the memo's order),
        // which made saving a cold run's ~38,000 rows take a quarter of a second.
        let path = disk.path().to_owned();
        tokio::task::spawn_blocking(move || {
            rows.sort_unstable_by(|a, b| (&a.cache, &a.hash_part).cmp(&(&b.cache, &b.hash_part)));
            disk.put_many(&rows)
        })
        .await
        .map_err(|error| CacheError::DiskCache {
            path,
            reason: error.to_string(),
        })?
    }

    /// HTTP requests allowed in flight now: `jobs`, or fewer once the caches answered
    /// fast (see the `window` module).
    #[must_use]
    pub fn window(&self) -> usize {
        self.inner.window.size()
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        Stats {
            lookups: load(&c.lookups),
            requests: load(&c.requests),
            retries: load(&c.retries),
            disk_hits: load(&c.disk_hits),
            memory_hits: load(&c.memory_hits),
            bytes: load(&c.bytes),
            hits: load(&c.hits),
            rejected: load(&c.rejected),
            errors: load(&c.errors),
            window: self.inner.window.size() as u64,
        }
    }

    /// Whether a disk cache is in use (false if none was configured or it was unusable).
    #[must_use]
    pub fn has_disk_cache(&self) -> bool {
        self.inner.disk.is_some()
    }
}

/// The memo slots of cache `index` for `hashes`, from the disk cache:
/// each stored record parsed (one that does not parse is kept unparsed, for the lookup
/// to report and forget as before), and a hash without a fresh row known to be absent
/// from the disk cache.
fn load_slots(
    disk: &DiskCache,
    store_dir: &StoreDir,
    index: usize,
    cache: &str,
    hashes: &[String],
) -> Vec<(MemoKey, Slot)> {
    let mut found: Vec<(MemoKey, Entry)> = Vec::new();
    disk.get_many_with(cache, hashes, |hash, entry| {
        found.push((memo_key(index, hash), entry));
    });
    found.sort_unstable_by_key(|a| a.0);
    let mut found = found.into_iter().peekable();
    // Both in key order, for one merging pass.
    let mut keys: Vec<MemoKey> = hashes.iter().map(|hash| memo_key(index, hash)).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|key| {
            let entry = loop {
                match found.peek() {
                    Some((next, _)) if *next < key => {
                        found.next();
                    }
                    Some((next, _)) if *next == key => break found.next().map(|(_, e)| e),
                    _ => break None,
                }
            };
            let parsed = match &entry {
                Some(Entry::Present { text, .. }) => NarInfo::parse_in(store_dir, text.as_bytes())
                    .ok()
                    .map(Arc::new),
                _ => None,
            };
            let slot = Slot {
                from_disk: entry.is_some(),
                entry,
                parsed,
                dirty: None,
            };
            (key, slot)
        })
        .collect()
}

/// The `<hash>` of `/nix/store/<hash>-<name>`.
#[must_use]
pub fn hash_part(path: &StorePath) -> String {
    nixbase32::encode(path.digest())
}

fn authorization(spec: &SubstituterSpec, netrc: &Netrc) -> Option<HeaderValue> {
    let Location::Http(base) = &spec.location else {
        return None;
    };
    let (login, password) = match &spec.userinfo {
        Some((login, password)) => (login.clone(), password.clone()),
        None => {
            let host = url::Url::parse(base).ok()?.host_str()?.to_owned();
            let creds = netrc.lookup(&host)?;
            (creds.login.clone(), creds.password.clone())
        }
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A reqwest error with its causes ("error sending request: connection reset by peer").
/// `<base>/<name>`: the parsed base with `name`'s segments appended, or,
/// without a parsed base, the whole text parsed.
fn request_url(
    parsed: Option<&reqwest::Url>,
    base: &str,
    name: &str,
) -> Result<reqwest::Url, String> {
    if let Some(parsed) = parsed {
        let mut url = parsed.clone();
        let appended = match url.path_segments_mut() {
            Ok(mut segments) => {
                segments.pop_if_empty().extend(name.split('/'));
                true
            }
            Err(()) => false,
        };
        if appended {
            return Ok(url);
        }
    }
    reqwest::Url::parse(&format!("{base}/{name}")).map_err(|e| e.to_string())
}

fn describe(error: &reqwest::Error) -> String {
    let text = if error.is_timeout() {
        "timed out".to_owned()
    } else {
        error.to_string()
    };
    crate::error::with_causes(text, error)
}

impl Inner {
    fn lock_memo(&self) -> std::sync::MutexGuard<'_, Memo> {
        // Every critical section leaves the map consistent, so a poisoned lock is usable.
        self.memo
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn read_cache_info(&self, index: usize) -> Result<CacheInfoFile, CacheError> {
        let cache = &self.caches[index];
        if let (Some(disk), Some(key)) = (&self.disk, &cache.disk_key)
            && !disk.refresh
        {
            let (disk, key) = (disk.clone(), key.clone());
            if let Ok(Some(info)) =
                tokio::task::spawn_blocking(move || disk.get_cache_info(&key)).await
            {
                return Ok(info);
            }
        }
        let text = match self
            .fetch(index, "nix-cache-info", |bytes| {
                Ok(String::from_utf8_lossy(bytes).into_owned())
            })
            .await
        {
            Fetch::Found(text) => text,
            // Nix writes a missing nix-cache-info into a local cache and uses the
            // defaults; over HTTP it cannot, and leaves the cache out ("does not appear
            // to be a binary cache", http-binary-cache-store.cc, `init`).
            Fetch::Absent => match cache.location {
                Location::File(_) => String::new(),
                Location::Http(_) => {
                    return Err(CacheError::NotABinaryCache {
                        url: cache.info.url.clone(),
                    });
                }
            },
            Fetch::Failed(reason) => {
                return Err(CacheError::Unreachable {
                    url: cache.info.url.clone(),
                    reason,
                });
            }
        };
        let info = parse_cache_info(&text).map_err(|reason| CacheError::InvalidCacheInfo {
            url: cache.info.url.clone(),
            reason,
        })?;
        if let (Some(disk), Some(key)) = (&self.disk, &cache.disk_key) {
            let (disk, key, info) = (disk.clone(), key.clone(), info.clone());
            // Best effort: a failure is logged by the disk cache.
            let _ = tokio::task::spawn_blocking(move || disk.put_cache_info(&key, &info)).await;
        }
        Ok(info)
    }

    /// Add cache `index`'s answer to `result`; true when it is the winning hit.
    fn fold(
        &self,
        result: &mut Lookup,
        index: usize,
        path: &StorePath,
        hash: &str,
        answer: Answer,
    ) -> bool {
        match answer {
            Answer::Absent => false,
            Answer::Failed(reason) => {
                bump(&self.counters.errors);
                result.errors.push(LookupError {
                    // The file that failed, not just its cache (the URL is already redacted).
                    url: format!(
                        "{}/{hash}.narinfo",
                        self.caches[index].info.url.trim_end_matches('/')
                    ),
                    reason,
                });
                false
            }
            Answer::Present { info, verified_key } => {
                match self.accept(index, path, hash, &info, verified_key) {
                    Ok(hit) => {
                        bump(&self.counters.hits);
                        result.hit = Some(hit);
                        true
                    }
                    Err(reason) => {
                        bump(&self.counters.rejected);
                        result.rejected.push(Rejection {
                            cache_url: self.caches[index].info.url.clone(),
                            path: self.config.store_dir.render_path(path),
                            reason,
                        });
                        false
                    }
                }
            }
        }
    }

    /// Cache `index`'s answer for `hash` if memory or the disk cache holds it.
    ///
    /// A path memory knows nothing about (not preloaded: e.g. a reference of a fetched
    /// path) is read from the disk cache right here: one indexed row of a local SQLite
    /// file takes microseconds, less than handing it to a blocking thread.
    fn memoized_answer(&self, index: usize, hash: &str) -> Option<Answer> {
        let key = memo_key(index, hash);
        let known = {
            let memo = self.lock_memo();
            match memo.get(&key) {
                Some(slot) => {
                    let entry = slot.entry.as_ref()?;
                    bump(if slot.from_disk {
                        &self.counters.disk_hits
                    } else {
                        &self.counters.memory_hits
                    });
                    match (entry, &slot.parsed) {
                        (Entry::Present { verified_key, .. }, Some(info)) => {
                            return Some(Answer::Present {
                                info: info.clone(),
                                verified_key: verified_key.clone(),
                            });
                        }
                        _ => Some(entry.clone()),
                    }
                }
                None => None,
            }
        };
        let entry = match known {
            Some(entry) => entry,
            None => {
                let disk = self.disk.as_ref().filter(|disk| !disk.refresh)?;
                let cache = &self.caches[index];
                if cache.nothing_on_disk.load(Ordering::Relaxed) {
                    return None;
                }
                let disk_key = cache.disk_key.as_ref()?;
                let stored = disk.get(disk_key, hash);
                let mut memo = self.lock_memo();
                let slot = memo.entry(key).or_insert(Slot {
                    entry: stored,
                    parsed: None,
                    from_disk: true,
                    dirty: None,
                });
                let entry = slot.entry.clone()?;
                bump(&self.counters.disk_hits);
                entry
            }
        };
        Some(self.answer_from_entry(index, hash, entry))
    }

    /// What cache `index` says about `hash`: memory or disk, else the network.
    async fn answer(&self, index: usize, hash: &str) -> Answer {
        if let Some(answer) = self.memoized_answer(index, hash) {
            return answer;
        }
        let key = memo_key(index, hash);
        let store_dir = self.config.store_dir.clone();
        let fetched = self
            .fetch(index, &format!("{hash}.narinfo"), move |bytes| {
                let info = NarInfo::parse_in(&store_dir, bytes).map_err(|e| e.to_string())?;
                let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
                Ok((Arc::<str>::from(text), Arc::new(info)))
            })
            .await;
        match fetched {
            Fetch::Found((text, info)) => {
                self.remember(
                    key,
                    Entry::Present {
                        text,
                        verified_key: None,
                    },
                    Some(info.clone()),
                );
                Answer::Present {
                    info,
                    verified_key: None,
                }
            }
            Fetch::Absent => {
                self.remember(key, Entry::Absent, None);
                Answer::Absent
            }
            Fetch::Failed(reason) => Answer::Failed(reason),
        }
    }

    fn remember(&self, key: MemoKey, entry: Entry, parsed: Option<Arc<NarInfo>>) {
        if self.caches[key.0].disk_key.is_none() {
            return;
        }
        self.lock_memo().insert(
            key,
            Slot {
                entry: Some(entry),
                parsed,
                from_disk: false,
                dirty: Some(now()),
            },
        );
    }

    fn answer_from_entry(&self, index: usize, hash: &str, entry: Entry) -> Answer {
        match entry {
            Entry::Absent => Answer::Absent,
            Entry::Present { text, verified_key } => {
                match NarInfo::parse_in(&self.config.store_dir, text.as_bytes()) {
                    Ok(info) => Answer::Present {
                        info: Arc::new(info),
                        verified_key,
                    },
                    Err(error) => {
                        // A stored record that no longer parses (e.g. a newer parser is
                        // stricter): forget it so the next run fetches it again.
                        self.lock_memo().remove(&memo_key(index, hash));
                        Answer::Failed(format!("stored narinfo for '{hash}' is invalid: {error}"))
                    }
                }
            }
        }
    }

    /// Accept or reject a narinfo from cache `index` for `path`.
    fn accept(
        &self,
        index: usize,
        path: &StorePath,
        hash: &str,
        info: &NarInfo,
        verified_key: Option<Arc<str>>,
    ) -> Result<Hit, String> {
        let config = &self.config;
        let cache = &self.caches[index];
        if info.store_path() != path {
            return Err(format!(
                "narinfo is for '{}', not for the requested path",
                config.store_dir.render_path(info.store_path())
            ));
        }
        let content_addressed = info.is_content_addressed(&config.store_dir);
        let needs_signature = config.require_sigs && !cache.info.trusted && !content_addressed;
        if needs_signature {
            let still_trusted = verified_key
                .as_deref()
                .is_some_and(|key| config.trusted_keys.contains_text(key));
            if !still_trusted {
                match config.trusted_keys.verifying_key(&config.store_dir, info) {
                    Some(key) => {
                        let key: Arc<str> = Arc::from(key);
                        let mut memo = self.lock_memo();
                        if let Some(slot) = memo.get_mut(&memo_key(index, hash))
                            && let Some(Entry::Present { verified_key, .. }) = &mut slot.entry
                        {
                            *verified_key = Some(key);
                            if slot.dirty.is_none() {
                                slot.dirty = Some(now());
                            }
                        }
                    }
                    None => {
                        let names: Vec<&str> = info
                            .signatures()
                            .iter()
                            .map(|sig| sig.key_name.as_str())
                            .collect();
                        return Err(if names.is_empty() {
                            "no signature by a trusted key (unsigned)".to_owned()
                        } else {
                            format!(
                                "no signature by a trusted key (signed by: {})",
                                names.join(", ")
                            )
                        });
                    }
                }
            }
        }
        Ok(Hit {
            cache_index: index,
            cache_url: cache.info.url.clone(),
            references: info.references().iter().cloned().collect(),
            file_size: info.file_size().unwrap_or(0),
            nar_size: info.nar_size(),
            deriver: info.deriver().cloned(),
            content_addressed,
        })
    }

    /// Fetch `<cache>/<name>` with retries; `parse` turns the body into the answer, and a
    /// body it refuses counts as a transient failure (a truncated or garbled response).
    async fn fetch<T>(
        &self,
        index: usize,
        name: &str,
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Fetch<T> {
        let cache = &self.caches[index];
        let base = match &cache.location {
            Location::File(dir) => return self.fetch_file(&dir.join(name), name, &parse).await,
            Location::Http(base) => base,
        };
        let shown = || format!("{}/{name}", cache.info.url);
        let attempts = self.config.max_attempts.max(1);
        let mut last = String::new();
        for attempt in 1..=attempts {
            let mut retry_after = None;
            let outcome = {
                let Some(_in_flight) = self.window.acquire().await else {
                    return Fetch::Failed("client is shutting down".to_owned());
                };
                let sent = tokio::time::Instant::now();
                // One time limit for the attempt, a hand-off to reqwest included.
                let deadline = sent + self.config.timeout;
                let reply = match &cache.plain {
                    Some(plain) if plain.is_on() => {
                        let authorization = cache.authorization.as_ref();
                        let count = || bump(&self.counters.requests);
                        plain
                            .get(name, authorization, deadline, MAX_BODY_SIZE, count)
                            .await
                    }
                    _ => Ok(None),
                };
                let reply = match reply {
                    Ok(Some(reply)) => Ok(reply),
                    Ok(None) => match request_url(cache.base_url.as_ref(), base, name) {
                        Ok(url) => self.send(cache, url, deadline).await,
                        Err(reason) => return Fetch::Failed(format!("{base}/{name}: {reason}")),
                    },
                    Err(reason) => Err(reason),
                };
                match reply {
                    Err(reason) => Err(reason),
                    Ok(reply) => {
                        self.window.observe(sent.elapsed());
                        let status = reply.status;
                        match classify_status(status) {
                            StatusClass::Absent => return Fetch::Absent,
                            StatusClass::Permanent => {
                                let hint = if status == 401 {
                                    " (credentials missing or wrong; see 'netrc-file')"
                                } else {
                                    ""
                                };
                                return Fetch::Failed(format!(
                                    "GET {}: HTTP {status}{hint}",
                                    shown()
                                ));
                            }
                            StatusClass::Transient => {
                                retry_after = reply
                                    .retry_after
                                    .as_ref()
                                    .and_then(|v| v.to_str().ok())
                                    .and_then(parse_retry_after);
                                Err(format!("HTTP {status}"))
                            }
                            StatusClass::Success => match reply.body {
                                Err(None) => {
                                    return Fetch::Failed(format!(
                                        "GET {}: response is larger than {MAX_BODY_SIZE} bytes",
                                        shown()
                                    ));
                                }
                                Err(Some(reason)) => Err(reason),
                                Ok(body) => {
                                    self.counters
                                        .bytes
                                        .fetch_add(body.len() as u64, Ordering::Relaxed);
                                    parse(&body).map_err(|e| format!("invalid response: {e}"))
                                }
                            },
                        }
                    }
                }
            };
            match outcome {
                Ok(value) => return Fetch::Found(value),
                Err(reason) => last = reason,
            }
            if attempt < attempts {
                bump(&self.counters.retries);
                tracing::debug!(
                    "GET {}: {last}; retrying (attempt {attempt} of {attempts})",
                    shown()
                );
                tokio::time::sleep(backoff(attempt, retry_after)).await;
            }
        }
        Fetch::Failed(format!(
            "GET {}: {last} (after {attempts} attempts)",
            shown()
        ))
    }

    /// One GET through `reqwest` (one of the pools in turn), done by `deadline`; the body
    /// is read only for a success status.
    async fn send(
        &self,
        cache: &Cache,
        url: reqwest::Url,
        deadline: tokio::time::Instant,
    ) -> Result<h1::Reply, String> {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return Err("timed out".to_owned());
        }
        bump(&self.counters.requests);
        let turn = self.next_client.fetch_add(1, Ordering::Relaxed);
        let client = &self.clients[turn % self.clients.len()];
        let mut request = client.get(url).timeout(left);
        if let Some(value) = &cache.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        let response = request.send().await.map_err(|error| describe(&error))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get(RETRY_AFTER).cloned();
        let body = if classify_status(status) == StatusClass::Success {
            read_body(response).await
        } else {
            Ok(Vec::new())
        };
        Ok(h1::Reply {
            status,
            retry_after,
            body,
        })
    }

    async fn fetch_file<T>(
        &self,
        file: &std::path::Path,
        name: &str,
        parse: &impl Fn(&[u8]) -> Result<T, String>,
    ) -> Fetch<T> {
        match tokio::fs::read(file).await {
            Ok(bytes) if bytes.len() > MAX_BODY_SIZE => Fetch::Failed(format!(
                "'{}' is larger than {MAX_BODY_SIZE} bytes",
                file.display()
            )),
            Ok(bytes) => {
                self.counters
                    .bytes
                    .fetch_add(bytes.len() as u64, Ordering::Relaxed);
                match parse(&bytes) {
                    Ok(value) => Fetch::Found(value),
                    Err(reason) => {
                        Fetch::Failed(format!("invalid {name} '{}': {reason}", file.display()))
                    }
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Fetch::Absent,
            Err(error) => Fetch::Failed(format!("cannot read '{}': {error}", file.display())),
        }
    }
}

/// A success's body, up to [`MAX_BODY_SIZE`]; `Err(None)`: larger than that.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, Option<String>> {
    if response
        .content_length()
        .is_some_and(|len| len > MAX_BODY_SIZE as u64)
    {
        return Err(None);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_BODY_SIZE {
                    return Err(None);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(error) => return Err(Some(describe(&error))),
        }
    }
}

#[cfg(test)]
mod url_tests {
    use super::request_url;

    /// The parsed base gives the same URL as parsing the whole text.
    #[test]
    fn request_urls_equal_parsing_the_whole_text() {
        for base in [
            "http://127.0.0.1:8080",
            "https://cache.example.org/sub",
            "https://cache.example.org/a/b",
            "http://[::1]:5000/x",
        ] {
            let parsed = reqwest::Url::parse(&format!("{base}/")).expect("base");
            for name in ["nix-cache-info", "0123abcd.narinfo", "nar/xyz.nar.xz"] {
                let fast = request_url(Some(&parsed), base, name).expect("fast");
                let slow = request_url(None, base, name).expect("slow");
                assert_eq!(fast, slow, "{base} {name}");
                assert_eq!(fast.as_str(), format!("{base}/{name}"));
            }
        }
    }
}
