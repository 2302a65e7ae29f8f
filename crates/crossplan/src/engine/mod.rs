//! The engine under every command: Nix's settings (one [`NixSettings`]) →
//! substituters and keys → the missing-set walk → host view → plan. Command
//! files parse their arguments, call the engine, and render its answer; they
//! never import each other.
//!
//! A module of the binary, not a crate of its own: it is the glue between the
//! library crates (`crossplan-store`, `-cache`, `-missing`, `-host`, `-plan`),
//! which are the reusable layers, and it has no user besides the commands. A
//! crate would add a public API and a lock-file entry without a second user.

pub mod build;
pub mod cancel;
pub mod error;
pub mod hybrid;
pub mod hybrid_spec;
pub mod plan;
pub mod progress;
pub mod targets;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossplan_cache::{
    ClientConfig, DiskCacheConfig, Substituters, TrustedKeys, parse_substituters,
};
use crossplan_missing::{
    LookupFailure, Missing, Options, Progress, RootClosure, Stage, query_missing_in,
};
use crossplan_store::closure_cache::ClosureCache;
use crossplan_store::request::{Request, Root, parse_root, resolve_roots};
use crossplan_store::settings::{NixSettings, store_dir_from_env};
use crossplan_store::store::LocalStore;

pub use error::EngineError;

use crate::cli::{CacheArgs, NixConfArgs};

/// Read Nix's settings once: from `--nix-conf FILE` (over Nix's defaults)
/// when given, else from Nix itself.
pub async fn load_settings(args: &NixConfArgs) -> anyhow::Result<NixSettings> {
    let settings = match args.nix_conf.clone() {
        Some(path) => tokio::task::spawn_blocking(move || NixSettings::from_file(&path))
            .await
            .context("reading nix.conf")??,
        None => tokio::task::spawn_blocking(NixSettings::load)
            .await
            .context("reading Nix's settings")??,
    };
    tracing::info!(origin = %settings.origin(), "read Nix's settings");
    Ok(settings)
}

/// A substituter left out because it could not be reached or is not a binary cache.
#[derive(Debug, Clone)]
pub struct Unreachable {
    pub url: String,
    pub reason: String,
}

/// Everything a command needs to ask "what is missing?" more than once.
pub struct Engine {
    pub settings: NixSettings,
    pub store: LocalStore,
    pub substituters: Substituters,
    pub options: Options,
    /// Substituters left out because they were unreachable (Nix's policy).
    pub unreachable: Vec<Unreachable>,
    /// The roots' closure, read while the settings loaded (see [`Engine::open_for`]).
    prefetched: std::sync::Mutex<Option<Prefetched>>,
}

/// Roots resolved and their closure read before Nix's settings were in, in
/// the store directory Nix will name (`NIX_STORE_DIR`, else `/nix/store`).
struct Prefetched {
    /// The command line's spellings of the roots.
    args: Vec<String>,
    /// Their closure (which holds them resolved).
    closure: RootClosure,
}

/// The local store in `dir`, with the closure cache unless `args` turn it off.
fn open_store(dir: &str, args: &CacheArgs) -> anyhow::Result<LocalStore> {
    let mut store = LocalStore::new(dir)?;
    if !args.no_disk_cache
        && let Some(dir) = cache_dir()
    {
        let mut closures = ClosureCache::new(dir.join("closures-v1"));
        closures.read = !args.refresh;
        store = store.with_closure_cache(closures);
    }
    Ok(store)
}

/// Resolve `roots` and read their closure, if that needs no evaluation (every
/// root is a store path): `None` when it would, or when anything fails (the
/// engine then does it again and reports the failure).
fn prefetch(roots: Vec<String>, args: &CacheArgs) -> Option<(LocalStore, Prefetched)> {
    let store = open_store(&store_dir_from_env(), args).ok()?;
    for root in &roots {
        if !matches!(parse_root(root, &store), Ok(Root::Store(_))) {
            return None;
        }
    }
    let requests = resolve_roots(&roots, &store).ok()?;
    check_outputs(&requests, &store).ok()?;
    let closure = RootClosure::load(&store, &requests).ok()?;
    Some((
        store,
        Prefetched {
            args: roots,
            closure,
        },
    ))
}

impl Engine {
    /// Read Nix's settings, apply the overrides, open the substituters.
    pub async fn open(args: &CacheArgs) -> anyhow::Result<Self> {
        let settings = load_settings(&args.nix).await?;
        Self::with_settings(settings, args).await
    }

    /// [`Engine::open`] for a command about to ask what `roots` need: their
    /// derivation closure is read while Nix's settings load (`nix show-config`
    /// takes ~30 ms, reading an 18,000-derivation closure ~50 ms, even from the
    /// closure cache), then [`Engine::missing`] of the same roots starts from it.
    pub async fn open_for(args: &CacheArgs, roots: &[String]) -> anyhow::Result<Self> {
        let early = {
            let args = args.clone();
            let roots = roots.to_vec();
            tokio::task::spawn_blocking(move || prefetch(roots, &args))
        };
        let mut engine = Self::open(args).await?;
        if let Ok(Some((store, prefetched))) = early.await
            && store.dir() == engine.store.dir()
        {
            engine.store = store;
            *engine.lock_prefetched() = Some(prefetched);
        }
        Ok(engine)
    }

    fn lock_prefetched(&self) -> std::sync::MutexGuard<'_, Option<Prefetched>> {
        self.prefetched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Open the caches of `settings` (with the command line's overrides).
    pub async fn with_settings(settings: NixSettings, args: &CacheArgs) -> anyhow::Result<Self> {
        let store = open_store(settings.store_dir(), args)?;
        let substituters_text = args
            .substituters
            .clone()
            .unwrap_or_else(|| settings.substituters().join(" "));
        let keys_text = args
            .trusted_public_keys
            .clone()
            .unwrap_or_else(|| settings.trusted_public_keys().join(" "));
        let mut specs = if settings.substitute() {
            parse_substituters(&substituters_text)?
        } else {
            Vec::new()
        };
        let trusted_keys = TrustedKeys::parse(&keys_text)?;
        let jobs = usize::try_from(args.jobs).unwrap_or(usize::MAX).max(1);
        let disk_cache = if args.no_disk_cache {
            None
        } else {
            cache_dir().map(|dir| DiskCacheConfig {
                path: dir.join("narinfo-v1.sqlite"),
                positive_ttl: Duration::from_secs(settings.narinfo_cache_positive_ttl()),
                negative_ttl: Duration::from_secs(settings.narinfo_cache_negative_ttl()),
                refresh: args.refresh,
            })
        };
        let config = ClientConfig {
            store_dir: store.dir().clone(),
            trusted_keys,
            require_sigs: args.require_sigs.unwrap_or(settings.require_sigs()),
            jobs,
            timeout: Duration::from_secs(args.timeout.max(1)),
            max_attempts: crossplan_cache::DEFAULT_MAX_ATTEMPTS,
            netrc_file: settings.netrc_file(),
            disk_cache,
            ..ClientConfig::default()
        };
        let mut unreachable = Vec::new();
        let substituters = loop {
            match Substituters::open(specs.clone(), config.clone()).await {
                Ok(s) => break s,
                // Nix's policy: a cache that cannot be reached, or that is
                // not a binary cache, is warned about and left out; the
                // answer then says so (exit 3). --strict-caches makes it an
                // error.
                Err(error) if !args.strict_caches && error.unusable_cache().is_some() => {
                    let Some((url, what)) = error.unusable_cache() else {
                        return Err(error.into());
                    };
                    let before = specs.len();
                    specs.retain(|s| s.url() != url);
                    if specs.len() == before {
                        return Err(error.into());
                    }
                    eprintln!("warning: binary cache '{url}' {what}; treating it as absent");
                    unreachable.push(Unreachable {
                        url: url.to_owned(),
                        reason: what,
                    });
                }
                Err(e) => return Err(e.into()),
            }
        };
        cancel::save_on_cancel(substituters.clone());
        let options = Options {
            use_substitutes: settings.substitute(),
            always_allow_substitutes: settings.always_allow_substitutes(),
            jobs,
            speculate: true,
        };
        Ok(Self {
            settings,
            store,
            substituters,
            options,
            unreachable,
            prefetched: std::sync::Mutex::new(None),
        })
    }

    /// What realising `roots` (command-line spellings) needs.
    pub async fn missing(
        &self,
        roots: &[String],
        progress: &Arc<Progress>,
    ) -> anyhow::Result<Missing> {
        undone_walk(roots, progress);
        let prefetched = self.lock_prefetched().take().filter(|p| p.args == roots);
        let early = prefetched.is_some();
        let closure = match prefetched {
            Some(p) => p.closure,
            None => {
                let store = self.store.clone();
                let args = roots.to_vec();
                let progress = progress.clone();
                progress.set_stage(Stage::Evaluating);
                tokio::task::spawn_blocking(move || {
                    let requests = resolve_roots(&args, &store)?;
                    check_outputs(&requests, &store)?;
                    progress.set_stage(Stage::Reading);
                    let closure = RootClosure::load(&store, &requests)?;
                    anyhow::Ok(closure)
                })
                .await
                .context("instantiating the roots")??
            }
        };
        tracing::info!(roots = closure.roots().len(), early, "resolved the roots");
        let adapter = crossplan_missing::cache::CacheLookups(&self.substituters);
        // The narinfo cache is saved beside the walk, a batch at a time, so that only the
        // last batch is left to save once it ends (a cold 18k-derivation run's ~36,000
        // rows took ~80 ms after the walk when saved at once).
        let stop = Arc::new(tokio::sync::Notify::new());
        let saver = tokio::spawn(save_while_walking(self.substituters.clone(), stop.clone()));
        let walked =
            query_missing_in(&self.store, closure, &adapter, &self.options, progress).await;
        stop.notify_one();
        // Never aborted: a batch being written finishes, so no row is lost.
        let _ = saver.await;
        let mut missing = walked?;
        let stats = self.substituters.stats();
        tracing::info!(
            requests = stats.requests,
            retries = stats.retries,
            disk_hits = stats.disk_hits,
            window = stats.window,
            "lookups done"
        );
        let t = Instant::now();
        progress.set_stage(Stage::Saving);
        if let Err(err) = self.substituters.flush().await {
            tracing::warn!("could not save the narinfo cache: {err}");
        }
        // Written beside the walk; long done by now in all but tiny runs.
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.wait_for_saves()).await;
        tracing::info!(
            elapsed_ms = t.elapsed().as_millis() as u64,
            "saved the narinfo cache"
        );
        missing
            .errors
            .extend(self.unreachable.iter().map(|u| LookupFailure {
                url: u.url.clone(),
                reason: format!("treated as absent: it {}", u.reason),
            }));
        Ok(missing)
    }
}

/// How often the narinfo cache is saved while the walk runs.
const SAVE_EVERY: Duration = Duration::from_millis(400);

/// Save the narinfo cache every [`SAVE_EVERY`] until `stop` is notified (between saves,
/// never in the middle of one).
async fn save_while_walking(substituters: Substituters, stop: Arc<tokio::sync::Notify>) {
    loop {
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(SAVE_EVERY) => {}
        }
        if let Err(err) = substituters.flush().await {
            tracing::debug!("could not save the narinfo cache during the walk: {err}");
        }
    }
}

/// What a cancelled walk leaves undone.
fn undone_walk(roots: &[String], progress: &Arc<Progress>) {
    let p = progress.clone();
    let what = match roots {
        [one] => one.clone(),
        _ => plural(roots.len(), "root", "roots"),
    };
    cancel::set_undone(move || {
        format!(
            "the answer for {what} was not finished ({} of {} lookups answered, {} read)",
            p.lookups_done.load(Ordering::Relaxed),
            p.lookups_queued.load(Ordering::Relaxed),
            plural(
                p.drvs_read.load(Ordering::Relaxed) as usize,
                "derivation",
                "derivations"
            )
        )
    });
}

/// Named outputs a derivation does not have are an error naming the ones it
/// has (Nix: "does not have wanted outputs"). A `.drv` that does not exist is
/// left to the walk, which reports it as unknown, as Nix does.
fn check_outputs(requests: &[Request], store: &LocalStore) -> Result<(), EngineError> {
    for request in requests {
        let Request::Built {
            drv,
            outputs: crossplan_store::request::Outputs::Names(names),
        } = request
        else {
            continue;
        };
        let Ok(info) = store.read_drv(drv) else {
            continue;
        };
        for name in names {
            if !info.outputs.iter().any(|(n, _)| n == name) {
                let known: Vec<&str> = info.outputs.iter().map(|(n, _)| n.as_str()).collect();
                return Err(EngineError::NoSuchOutput {
                    drv: store.render(drv),
                    output: name.clone(),
                    known: known.join(", "),
                });
            }
        }
    }
    Ok(())
}

/// `$XDG_CACHE_HOME/crossplan`, or `~/.cache/crossplan`.
pub fn cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("crossplan"))
}

/// `1 path`, `2 paths`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The line that ends a cut list: `… and N more`.
pub fn and_more(shown: usize, total: usize) -> Option<String> {
    (total > shown).then(|| format!("… and {} more", total - shown))
}
