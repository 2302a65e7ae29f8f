//! `crossplan status`: what Nix would build, fetch, or not know how to get.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use crossplan_cache::{
    CacheError, ClientConfig, DiskCacheConfig, StorePath, Substituters, TrustedKeys,
    parse_substituters,
};
use crossplan_missing::{
    LookupFailure, Lookups, Missing, Options, PathHit, PathLookup, Progress, Rejected,
    query_missing,
};
use crossplan_store::request::resolve_roots;
use crossplan_store::settings::NixSettings;
use crossplan_store::store::LocalStore;
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::{self, Hinted};

/// Where lookups go and how: Nix's settings unless overridden here.
#[derive(Debug, Clone, Args)]
pub struct CacheArgs {
    /// Binary caches to ask, space-separated as in nix.conf (`URL?priority=N&trusted=1`);
    /// default: Nix's `substituters`.
    #[arg(long, value_name = "URLS")]
    pub substituters: Option<String>,
    /// Keys whose signatures are accepted, space-separated `name:base64`;
    /// default: Nix's `trusted-public-keys`.
    #[arg(long, value_name = "KEYS")]
    pub trusted_public_keys: Option<String>,
    /// Whether narinfo records must carry a trusted signature; default: Nix's `require-sigs`.
    #[arg(long, value_name = "BOOL")]
    pub require_sigs: Option<bool>,
    /// Narinfo lookups in flight at most; fewer when the caches answer within a
    /// few milliseconds (the window shrinks to round trip ÷ 40 µs, at least 32).
    #[arg(long, value_name = "N", default_value_t = crossplan_cache::DEFAULT_JOBS)]
    pub jobs: usize,
    /// Time limit of one HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = crossplan_cache::DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Ignore the local narinfo cache (results are still stored in it).
    #[arg(long)]
    pub refresh: bool,
    /// Do not read or write the local narinfo cache at all.
    #[arg(long)]
    pub no_disk_cache: bool,
}

/// Arguments of `crossplan status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Derivations (`/nix/store/…-x.drv`, optionally `^out,dev`), store paths, or
    /// flake installables (`.#cup-riscv64`, `path#attr`), instantiated with `nix eval`.
    #[arg(required = true, value_name = "DRV_OR_INSTALLABLE")]
    pub roots: Vec<String>,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// How many of the heaviest builds the summary lists.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub cache: CacheArgs,
}

/// Everything a command needs to ask "what is missing?" more than once.
pub struct Engine {
    pub settings: NixSettings,
    pub store: LocalStore,
    pub substituters: Substituters,
    pub options: Options,
}

impl Engine {
    /// Read Nix's settings, apply the overrides, open the substituters.
    pub async fn open(args: &CacheArgs) -> anyhow::Result<Self> {
        let settings = tokio::task::spawn_blocking(NixSettings::load)
            .await
            .context("reading Nix's settings")?
            .map_err(|e| hinted(e.to_string(), e.hint()))
            .context("reading Nix's settings (nix show-config --json)")?;
        let store =
            LocalStore::new(&settings.store_dir).map_err(|e| hinted(e.to_string(), e.hint()))?;
        let substituters_text = args
            .substituters
            .clone()
            .unwrap_or_else(|| settings.substituters.join(" "));
        let keys_text = args
            .trusted_public_keys
            .clone()
            .unwrap_or_else(|| settings.trusted_public_keys.join(" "));
        let specs = parse_substituters(&substituters_text).map_err(cache_err)?;
        let trusted_keys = TrustedKeys::parse(&keys_text).map_err(cache_err)?;
        let disk_cache = if args.no_disk_cache {
            None
        } else {
            cache_dir().map(|dir| DiskCacheConfig {
                path: dir.join("narinfo-v1.sqlite"),
                positive_ttl: Duration::from_secs(settings.narinfo_cache_positive_ttl),
                negative_ttl: Duration::from_secs(settings.narinfo_cache_negative_ttl),
                refresh: args.refresh,
            })
        };
        let config = ClientConfig {
            store_dir: store.dir().clone(),
            trusted_keys,
            require_sigs: args.require_sigs.unwrap_or(settings.require_sigs),
            jobs: args.jobs.max(1),
            timeout: Duration::from_secs(args.timeout.max(1)),
            max_attempts: crossplan_cache::DEFAULT_MAX_ATTEMPTS,
            netrc_file: settings.netrc_file.clone(),
            disk_cache,
        };
        let substituters = if settings.substitute {
            Substituters::open(specs, config).await.map_err(cache_err)?
        } else {
            Substituters::open(Vec::new(), config)
                .await
                .map_err(cache_err)?
        };
        let options = Options {
            use_substitutes: settings.substitute,
            always_allow_substitutes: settings.always_allow_substitutes,
            jobs: args.jobs.max(1),
            speculate: true,
        };
        Ok(Self {
            settings,
            store,
            substituters,
            options,
        })
    }

    /// What realising `roots` (command-line spellings) needs.
    pub async fn missing(&self, roots: &[String], progress: &Progress) -> anyhow::Result<Missing> {
        let store = self.store.clone();
        let args = roots.to_vec();
        let requests = tokio::task::spawn_blocking(move || resolve_roots(&args, &store))
            .await
            .context("instantiating the roots")?
            .map_err(|e| hinted(e.to_string(), e.hint()))?;
        tracing::info!(roots = requests.len(), "resolved the roots");
        let adapter = CacheLookups(&self.substituters);
        let missing = query_missing(&self.store, &requests, &adapter, &self.options, progress)
            .await
            .map_err(|e| hinted(e.to_string(), e.hint()))?;
        let stats = self.substituters.stats();
        tracing::info!(
            requests = stats.requests,
            retries = stats.retries,
            disk_hits = stats.disk_hits,
            window = stats.window,
            "lookups done"
        );
        let t = Instant::now();
        if let Err(err) = self.substituters.flush().await {
            tracing::warn!("could not save the narinfo cache: {err}");
        }
        tracing::info!(
            elapsed_ms = t.elapsed().as_millis() as u64,
            "saved the narinfo cache"
        );
        Ok(missing)
    }
}

/// `$XDG_CACHE_HOME/crossplan`, or `~/.cache/crossplan`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("crossplan"))
}

fn hinted(message: String, hint: Option<String>) -> anyhow::Error {
    match hint {
        Some(hint) => Hinted::new(message, hint).into(),
        None => anyhow::anyhow!(message),
    }
}

fn cache_err(e: CacheError) -> anyhow::Error {
    hinted(e.to_string(), e.hint())
}

/// Bridges the cache client to the engine's [`Lookups`].
struct CacheLookups<'a>(&'a Substituters);

impl Lookups for CacheLookups<'_> {
    async fn lookup(&self, path: StorePath) -> PathLookup {
        // Answers already in memory (this run's, or preloaded from the disk
        // cache) need no task switch.
        if let Some(found) = self.0.lookup_memoized(&path) {
            return convert(found);
        }
        // A task per lookup, so parsing and signature checks (~50 µs each)
        // spread over every worker thread instead of the walk's own.
        let substituters = self.0.clone();
        let mut task = AbortOnDrop(tokio::spawn(
            async move { substituters.lookup(&path).await },
        ));
        let found = match (&mut task.0).await {
            Ok(found) => found,
            Err(err) => crossplan_cache::Lookup {
                hit: None,
                rejected: Vec::new(),
                errors: vec![crossplan_cache::LookupError {
                    url: "(lookup task)".into(),
                    reason: format!("the lookup task failed: {err}"),
                }],
            },
        };
        convert(found)
    }

    fn lookup_now(&self, path: &StorePath) -> Option<PathLookup> {
        self.0.lookup_memoized(path).map(convert)
    }

    fn capacity(&self) -> Option<usize> {
        Some(self.0.window())
    }

    fn at_hand(&self, path: &StorePath) -> bool {
        self.0.is_memoized(path)
    }

    async fn preload(&self, paths: &[StorePath]) {
        self.0.preload(paths).await;
    }
}

/// The cache client's answer in the engine's terms.
fn convert(found: crossplan_cache::Lookup) -> PathLookup {
    PathLookup {
        hit: found.hit.map(|h| PathHit {
            substituter: h.cache_url,
            references: h.references,
            file_size: h.file_size,
            nar_size: h.nar_size,
        }),
        errors: found
            .errors
            .into_iter()
            .map(|e| LookupFailure {
                url: e.url,
                reason: e.reason,
            })
            .collect(),
        rejected: found
            .rejected
            .into_iter()
            .map(|r| Rejected {
                path: r.path,
                substituter: r.cache_url,
                reason: r.reason,
            })
            .collect(),
    }
}

/// Aborts a spawned lookup when the walk drops it (speculative lookups still in
/// flight when the answer is complete).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A progress bar on stderr, only when both stdout and stderr are terminals.
pub struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl ProgressDisplay {
    pub fn start(progress: Arc<Progress>, enabled: bool) -> Self {
        if !enabled || !std::io::stdout().is_terminal() || !std::io::stderr().is_terminal() {
            return Self {
                bar: None,
                ticker: None,
            };
        }
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {elapsed:>4} [{bar:30}] {pos}/{len} lookups  {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        let b = bar.clone();
        let ticker = tokio::spawn(async move {
            loop {
                let p = &progress;
                b.set_length(p.lookups_queued.load(Ordering::Relaxed));
                b.set_position(p.lookups_done.load(Ordering::Relaxed));
                b.set_message(format!(
                    "{} drvs read, {} to build, {} to fetch",
                    p.drvs_read.load(Ordering::Relaxed),
                    p.builds.load(Ordering::Relaxed),
                    p.fetches.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Self {
            bar: Some(bar),
            ticker: Some(ticker),
        }
    }

    pub fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

/// The JSON document `status --json` prints.
#[derive(Debug, Serialize)]
pub struct StatusJson<'a> {
    pub build: Vec<&'a str>,
    pub fetch: Vec<&'a str>,
    pub unknown: Vec<&'a str>,
    pub download_bytes: u64,
    pub nar_bytes: u64,
    pub substituter_of: BTreeMap<&'a str, &'a str>,
    pub errors: &'a [LookupFailure],
    pub rejected: &'a [Rejected],
    pub builds: &'a BTreeMap<String, crossplan_missing::BuildInfo>,
    pub caches: Vec<CacheJson>,
}

#[derive(Debug, Serialize)]
pub struct CacheJson {
    pub url: String,
    pub priority: i64,
    pub trusted: bool,
    pub paths: usize,
}

pub async fn run(args: StatusArgs, _global: &GlobalArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let engine = Engine::open(&args.cache).await?;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "opened settings and substituters"
    );
    let progress = Arc::new(Progress::default());
    let display = ProgressDisplay::start(progress.clone(), !args.json);
    let result = engine.missing(&args.roots, &progress).await;
    display.finish();
    let missing = result?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "answer ready"
    );
    let mut per_cache: BTreeMap<&str, usize> = BTreeMap::new();
    for info in missing.fetch.values() {
        *per_cache.entry(info.substituter.as_str()).or_default() += 1;
    }
    let caches: Vec<CacheJson> = engine
        .substituters
        .caches()
        .iter()
        .map(|c| CacheJson {
            url: c.url.clone(),
            priority: c.priority,
            trusted: c.trusted,
            paths: per_cache.get(c.url.as_str()).copied().unwrap_or(0),
        })
        .collect();
    // Block-buffered: stdout is line-buffered, and a pretty-printed answer has
    // tens of thousands of lines.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    if args.json {
        let doc = StatusJson {
            build: missing.build.keys().map(String::as_str).collect(),
            fetch: missing.fetch.keys().map(String::as_str).collect(),
            unknown: missing.unknown.iter().map(String::as_str).collect(),
            download_bytes: missing.download_bytes,
            nar_bytes: missing.nar_bytes,
            substituter_of: missing
                .fetch
                .iter()
                .map(|(p, f)| (p.as_str(), f.substituter.as_str()))
                .collect(),
            errors: &missing.errors,
            rejected: &missing.rejected,
            builds: &missing.build,
            caches,
        };
        serde_json::to_writer_pretty(&mut out, &doc).context("writing JSON to stdout")?;
        writeln!(out).context("writing to stdout")?;
    } else {
        let mut text = summary(&missing, &caches, args.top, started.elapsed(), &progress);
        if !engine.settings.substitute {
            text.push_str("\nnote: Nix's setting 'substitute' is false, so nothing is fetched\n");
        }
        out.write_all(text.as_bytes())
            .context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "printed");
    Ok(if missing.errors.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

/// The human-readable summary.
pub fn summary(
    missing: &Missing,
    caches: &[CacheJson],
    top: usize,
    elapsed: Duration,
    progress: &Progress,
) -> String {
    use crossplan_plan::format::{bytes, duration};
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} derivations read, {} lookups, {:.2} s",
        progress.drvs_read.load(Ordering::Relaxed),
        progress.lookups_done.load(Ordering::Relaxed),
        elapsed.as_secs_f64()
    );
    let _ = writeln!(s, "  build    {:>6} derivations", missing.build.len());
    let _ = writeln!(
        s,
        "  fetch    {:>6} paths        {} download, {} unpacked",
        missing.fetch.len(),
        bytes(missing.download_bytes),
        bytes(missing.nar_bytes)
    );
    let _ = writeln!(s, "  unknown  {:>6} paths", missing.unknown.len());
    if !caches.is_empty() {
        let _ = writeln!(s, "\nsubstituters (priority order):");
        for c in caches {
            let _ = writeln!(
                s,
                "  {:>3}  {}{}  serves {} paths",
                c.priority,
                c.url,
                if c.trusted { " (trusted)" } else { "" },
                c.paths
            );
        }
    }
    if !missing.build.is_empty() {
        let model = crossplan_plan::model::CostModel::default();
        let mut heavy: Vec<(f64, &str, &str)> = missing
            .build
            .iter()
            .map(|(p, b)| (model.prior(&b.name).0, b.system.as_str(), p.as_str()))
            .collect();
        heavy.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.cmp(b.2)));
        let _ = writeln!(s, "\nheaviest builds (native-speed prior):");
        for (secs, system, path) in heavy.iter().take(top) {
            let _ = writeln!(s, "  {:>8}  {:<16} {}", duration(*secs), system, path);
        }
        if heavy.len() > top {
            let _ = writeln!(s, "  … and {} more (--json lists all)", heavy.len() - top);
        }
    }
    if !missing.unknown.is_empty() {
        let _ = writeln!(s, "\ndon't know how to get:");
        for p in missing.unknown.iter().take(top) {
            let _ = writeln!(s, "  {p}");
        }
    }
    if !missing.rejected.is_empty() {
        let _ = writeln!(
            s,
            "\nrefused {} narinfo records (Nix's dry run would have promised these as fetches):",
            missing.rejected.len()
        );
        for r in missing.rejected.iter().take(top) {
            let _ = writeln!(s, "  {} from {}: {}", r.path, r.substituter, r.reason);
        }
    }
    if !missing.errors.is_empty() {
        let _ = writeln!(
            s,
            "\n{} lookups failed for good; the answer may overstate the work:",
            missing.errors.len()
        );
        for e in missing.errors.iter().take(top) {
            let _ = writeln!(s, "  {}: {}", e.url, e.reason);
        }
    }
    s
}
