//! The open-file limit, and how many requests fit in it.
//!
//! Over HTTP/1.1 each request in flight is a socket, and the connection pools keep idle
//! connections to every cache between requests: with a window of `W` requests and `K`
//! HTTP caches a run holds up to about `W × (K + 1)` sockets (the idle ones of each
//! cache, plus those in use; a plain `http://` cache keeps its idle connections in the
//! lean HTTP/1.1 path's pool, and the first 16 requests it hands to `reqwest` may leave
//! as many there, after which the lean pool is closed and `reqwest`'s alone is used).
//! The usual soft limit on open files is 1024 while the hard
//! limit is far higher (systemd's default is 1024 soft, 524288 hard), so a process that
//! wants more raises its soft limit itself, as Go's runtime does at start. When opening
//! the caches, [`fit`] raises the soft limit as far as the window needs and the hard
//! limit allows, no further (children, such as `nix`, inherit it); when the hard limit
//! is too low, the window is made smaller to fit instead of failing with "too many open
//! files" half-way through a run.

/// Files kept for everything but sockets (the store's database, the narinfo cache,
/// `.drv` files being read, the runtime's own): at most a quarter of the limit.
const RESERVE: u64 = 256;

/// What [`plan`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Raise the soft limit to this.
    pub raise_to: Option<u64>,
    /// Requests in flight at most.
    pub jobs: usize,
}

/// Sockets a window of `jobs` may hold with `http_caches` HTTP caches.
fn sockets(jobs: usize, http_caches: usize) -> u64 {
    let jobs = u64::try_from(jobs).unwrap_or(u64::MAX);
    let per_request = u64::try_from(http_caches)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    jobs.saturating_mul(per_request)
}

/// The decision, apart from the system: `soft` and `hard` are the limits (`None` =
/// unlimited).
pub(crate) fn plan(jobs: usize, http_caches: usize, soft: Option<u64>, hard: Option<u64>) -> Plan {
    let jobs = jobs.max(1);
    if http_caches == 0 {
        return Plan {
            raise_to: None,
            jobs,
        };
    }
    let need = sockets(jobs, http_caches).saturating_add(RESERVE);
    let Some(soft) = soft else {
        return Plan {
            raise_to: None,
            jobs,
        };
    };
    if soft >= need {
        return Plan {
            raise_to: None,
            jobs,
        };
    }
    let reachable = hard.map_or(need, |hard| hard.min(need));
    let raise_to = (reachable > soft).then_some(reachable);
    let limit = reachable.max(soft);
    if limit >= need {
        return Plan { raise_to, jobs };
    }
    let free = limit - RESERVE.min(limit / 4);
    let per_request = sockets(1, http_caches);
    let fitting = usize::try_from(free / per_request).unwrap_or(usize::MAX);
    Plan {
        raise_to,
        jobs: jobs.min(fitting).max(1),
    }
}

/// The open-file limits now (`None` = unlimited), or `None` where they cannot be read.
#[cfg(unix)]
pub(crate) fn limits() -> Option<(Option<u64>, Option<u64>)> {
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
    Some((limit.current, limit.maximum))
}

#[cfg(not(unix))]
pub(crate) fn limits() -> Option<(Option<u64>, Option<u64>)> {
    None
}

/// Set the soft open-file limit, keeping the hard one.
#[cfg(unix)]
fn set_soft(soft: u64, hard: Option<u64>) -> std::io::Result<()> {
    rustix::process::setrlimit(
        rustix::process::Resource::Nofile,
        rustix::process::Rlimit {
            current: Some(soft),
            maximum: hard,
        },
    )
    .map_err(std::io::Error::from)
}

#[cfg(not(unix))]
fn set_soft(_soft: u64, _hard: Option<u64>) -> std::io::Result<()> {
    Ok(())
}

/// Raise the soft open-file limit to what `jobs` requests to `http_caches` caches need,
/// as far as the hard limit allows, and return how many requests fit.
pub(crate) fn fit(jobs: usize, http_caches: usize) -> usize {
    let Some((soft, hard)) = limits() else {
        return jobs.max(1);
    };
    let planned = plan(jobs, http_caches, soft, hard);
    let Some(raise_to) = planned.raise_to else {
        note_fit(jobs, planned.jobs, http_caches, soft, hard);
        return planned.jobs;
    };
    let reached = raise(soft, raise_to, |limit| set_soft(limit, hard));
    let now = reached.or(soft);
    let fitted = plan(jobs, http_caches, now, now).jobs;
    if let Some(reached) = reached {
        tracing::debug!(
            "open-file limit raised from {} to {reached} for {fitted} requests in flight to {http_caches} HTTP cache(s)",
            shown(soft)
        );
    }
    note_fit(jobs, fitted, http_caches, now, hard);
    fitted
}

/// Set the soft limit to `wanted` with `set`, or, where that is refused (macOS refuses
/// more than `kern.maxfilesperproc` while it reports the hard limit as unlimited), to
/// half as much, and so on while that is still above `soft`. The limit set, if any.
fn raise(
    soft: Option<u64>,
    wanted: u64,
    mut set: impl FnMut(u64) -> std::io::Result<()>,
) -> Option<u64> {
    let mut tried = wanted;
    loop {
        match set(tried) {
            Ok(()) => return Some(tried),
            Err(error) => {
                tracing::debug!(
                    "cannot raise the open-file limit from {} to {tried}: {error}",
                    shown(soft)
                );
                tried /= 2;
                if tried == 0 || soft.is_some_and(|soft| tried <= soft) {
                    return None;
                }
            }
        }
    }
}

fn note_fit(asked: usize, jobs: usize, http_caches: usize, soft: Option<u64>, hard: Option<u64>) {
    if jobs < asked {
        tracing::info!(
            "the open-file limit ({} soft, {} hard) leaves room for {jobs} HTTP requests in flight to {http_caches} cache(s), not --jobs {asked}; raise it (`ulimit -Hn`, or LimitNOFILE= in a systemd unit) for more",
            shown(soft),
            shown(hard)
        );
    }
}

fn shown(limit: Option<u64>) -> String {
    limit.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raise_halves_what_is_refused() {
        type Case = (Option<u64>, u64, u64, Option<u64>, &'static [u64]);
        // (soft, wanted, the most the system takes, limit set, limits tried)
        let cases: &[Case] = &[
            (Some(1024), 3328, u64::MAX, Some(3328), &[3328]),
            (Some(256), 3328, 1000, Some(832), &[3328, 1664, 832]),
            (Some(1024), 3328, 1000, None, &[3328, 1664]),
            (Some(0), 3, 0, None, &[3, 1]),
        ];
        for &(soft, wanted, most, expected, expected_tried) in cases {
            let mut tried = Vec::new();
            let reached = raise(soft, wanted, |limit| {
                tried.push(limit);
                if limit <= most {
                    Ok(())
                } else {
                    Err(std::io::Error::from(std::io::ErrorKind::InvalidInput))
                }
            });
            assert_eq!(
                reached, expected,
                "soft {soft:?}, wanted {wanted}, most {most}"
            );
            assert_eq!(
                tried, expected_tried,
                "soft {soft:?}, wanted {wanted}, most {most}"
            );
        }
    }

    #[test]
    fn plan_table() {
        const U: Option<u64> = None;
        type Limit = Option<u64>;
        // (jobs, http caches, soft, hard, raise to, jobs)
        let cases: &[(usize, usize, Limit, Limit, Limit, usize)] = &[
            // Room already: nothing changes.
            (1024, 2, Some(20_000), Some(20_000), None, 1024),
            (1024, 2, U, U, None, 1024),
            // No HTTP cache: no sockets.
            (1024, 0, Some(64), Some(64), None, 1024),
            // The usual 1024 soft limit: raised to exactly what is needed.
            (1024, 2, Some(1024), Some(524_288), Some(3328), 1024),
            (1024, 1, Some(1024), U, Some(2304), 1024),
            (512, 2, Some(1024), Some(524_288), Some(1792), 512),
            // A hard limit below the need: raised to it, and the window fits.
            (1024, 2, Some(1024), Some(2048), Some(2048), 597),
            // Soft equal to hard: not raised, the window fits.
            (1024, 2, Some(1024), Some(1024), None, 256),
            (1024, 1, Some(256), Some(256), None, 96),
            // Tiny limits still leave one request.
            (1024, 2, Some(8), Some(8), None, 2),
            (1024, 2, Some(2), Some(2), None, 1),
            (0, 2, Some(1024), Some(1024), None, 1),
        ];
        for &(jobs, http, soft, hard, raise_to, fitting) in cases {
            assert_eq!(
                plan(jobs, http, soft, hard),
                Plan {
                    raise_to,
                    jobs: fitting
                },
                "jobs {jobs}, {http} caches, soft {soft:?}, hard {hard:?}"
            );
        }
    }
}
