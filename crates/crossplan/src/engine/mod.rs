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
    CacheError, ClientConfig, DiskCacheConfig, Substituters, TrustedKeys, parse_substituters,
};
use crossplan_missing::{LookupFailure, Missing, Options, Progress, query_missing};
use crossplan_store::closure_cache::ClosureCache;
use crossplan_store::request::{Request, resolve_roots};
use crossplan_store::settings::NixSettings;
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

/// A substituter left out because it could not be reached.
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
}

impl Engine {
    /// Read Nix's settings, apply the overrides, open the substituters.
    pub async fn open(args: &CacheArgs) -> anyhow::Result<Self> {
        let settings = load_settings(&args.nix).await?;
        Self::with_settings(settings, args).await
    }

    /// Open the caches of `settings` (with the command line's overrides).
    pub async fn with_settings(settings: NixSettings, args: &CacheArgs) -> anyhow::Result<Self> {
        let mut store = LocalStore::new(settings.store_dir())?;
        if !args.no_disk_cache
            && let Some(dir) = cache_dir()
        {
            let mut closures = ClosureCache::new(dir.join("closures-v1"));
            closures.read = !args.refresh;
            store = store.with_closure_cache(closures);
        }
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
        };
        let mut unreachable = Vec::new();
        let substituters = loop {
            match Substituters::open(specs.clone(), config.clone()).await {
                Ok(s) => break s,
                // Nix's policy: a cache that cannot be reached is warned
                // about and treated as absent; the answer then says so
                // (exit 3). --strict-caches makes it an error.
                Err(CacheError::Unreachable { url, reason }) if !args.strict_caches => {
                    let before = specs.len();
                    specs.retain(|s| s.url() != url);
                    if specs.len() == before {
                        return Err(CacheError::Unreachable { url, reason }.into());
                    }
                    eprintln!(
                        "warning: binary cache '{url}' is unreachable ({reason}); treating it as absent"
                    );
                    unreachable.push(Unreachable { url, reason });
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
        })
    }

    /// What realising `roots` (command-line spellings) needs.
    pub async fn missing(
        &self,
        roots: &[String],
        progress: &Arc<Progress>,
    ) -> anyhow::Result<Missing> {
        undone_walk(roots, progress);
        let store = self.store.clone();
        let args = roots.to_vec();
        let requests = tokio::task::spawn_blocking(move || {
            let requests = resolve_roots(&args, &store)?;
            check_outputs(&requests, &store)?;
            anyhow::Ok(requests)
        })
        .await
        .context("instantiating the roots")??;
        tracing::info!(roots = requests.len(), "resolved the roots");
        let adapter = crossplan_missing::cache::CacheLookups(&self.substituters);
        let mut missing =
            query_missing(&self.store, &requests, &adapter, &self.options, progress).await?;
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
                reason: format!("unreachable, treated as absent: {}", u.reason),
            }));
        Ok(missing)
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
