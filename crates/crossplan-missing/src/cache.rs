//! Bridges the cache client (`crossplan-cache`) to the walk's [`Lookups`].

use crossplan_cache::{StorePath, Substituters};

use crate::{LookupFailure, Lookups, PathHit, PathLookup, Rejected};

/// The substituters, in priority order, as the walk's [`Lookups`].
pub struct CacheLookups<'a>(pub &'a Substituters);

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
