//! How many HTTP requests are in flight at once.
//!
//! Requests in flight hide round trips: with 20 ms to the cache, 1000 of them keep the
//! client busy. When the caches answer within a fraction of a millisecond (a cache on the
//! LAN or on this machine), hundreds of connections only add sockets, context switches and
//! server load: 32 do the same work faster. The window starts at `--jobs` and shrinks to
//! what the fastest round trip seen so far needs: `min_rtt ÷` [`REQUEST_COST`], never below
//! [`MIN_WINDOW`] and never above `--jobs`. It never grows again within a run (the fastest
//! round trip only gets faster), so a run is never slower than one round trip per
//! `MIN_WINDOW` requests.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// Client time one request costs (sending, parsing, checking the signature) with some
/// headroom: a window of `rtt ÷ REQUEST_COST` requests keeps the client busy while the
/// answers travel. A cold run measured ~65 µs of CPU per request on 2 cores (~33 µs of
/// wall time), but its requests wait on the walk too: 40 µs (a window of 500 at 20 ms)
/// left the link idle, 20 µs (1000) gave 1.99 → 1.54 s on the 18k bench graph.
pub(crate) const REQUEST_COST: Duration = Duration::from_micros(20);

/// The smallest window, whatever the round trip.
pub(crate) const MIN_WINDOW: usize = 32;

/// An adaptive limit on requests in flight.
#[derive(Debug)]
pub(crate) struct Window {
    semaphore: Semaphore,
    max: usize,
    min: usize,
    /// Permits in circulation (in flight plus available).
    current: AtomicUsize,
    /// What the window should shrink to.
    target: AtomicUsize,
    /// The fastest round trip seen, in microseconds.
    min_rtt_us: AtomicU64,
}

impl Window {
    /// A window of `max` requests, shrinking to no fewer than [`MIN_WINDOW`] (or `max`).
    pub(crate) fn new(max: usize) -> Self {
        let max = max.max(1);
        Self {
            semaphore: Semaphore::new(max),
            max,
            min: MIN_WINDOW.min(max),
            current: AtomicUsize::new(max),
            target: AtomicUsize::new(max),
            min_rtt_us: AtomicU64::new(u64::MAX),
        }
    }

    /// Wait for room; `None` once the window is closed (never, in practice). The room is
    /// given back (see [`Window::release`]) when the returned guard is dropped.
    pub(crate) async fn acquire(&self) -> Option<InFlight<'_>> {
        let permit = self.semaphore.acquire().await.ok()?;
        Some(InFlight {
            window: self,
            permit: Some(permit),
        })
    }

    /// Record the round trip of one request (until its response headers arrived).
    pub(crate) fn observe(&self, rtt: Duration) {
        let us = u64::try_from(rtt.as_micros()).unwrap_or(u64::MAX).max(1);
        let previous = self.min_rtt_us.fetch_min(us, Ordering::Relaxed);
        if us >= previous {
            return;
        }
        let cost = u64::try_from(REQUEST_COST.as_micros()).unwrap_or(1).max(1);
        let wanted = usize::try_from(us.div_ceil(cost)).unwrap_or(usize::MAX);
        let target = wanted.clamp(self.min, self.max);
        self.target.fetch_min(target, Ordering::Relaxed);
        // Take idle room out at once (room in use goes as requests finish), so a burst
        // of requests right after the first answers does not open `max` connections.
        let current = self.current.load(Ordering::Relaxed);
        if current > target {
            let forgotten = self.semaphore.forget_permits(current - target);
            self.current.fetch_sub(forgotten, Ordering::Relaxed);
        }
    }

    /// Give a permit back, or take it out of circulation while the window is larger
    /// than its target.
    pub(crate) fn release(&self, permit: SemaphorePermit<'_>) {
        let target = self.target.load(Ordering::Relaxed);
        let mut current = self.current.load(Ordering::Relaxed);
        while current > target {
            match self.current.compare_exchange_weak(
                current,
                current - 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    permit.forget();
                    return;
                }
                Err(actual) => current = actual,
            }
        }
        drop(permit);
    }

    /// The number of requests allowed in flight now.
    pub(crate) fn size(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }
}

/// One request's room in the window.
pub(crate) struct InFlight<'a> {
    window: &'a Window,
    permit: Option<SemaphorePermit<'a>>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.window.release(permit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_table() {
        // (max, round trips observed, window after releasing every permit)
        let cases: &[(usize, &[u64], usize)] = &[
            (1024, &[], 1024),
            (1024, &[20_000], 1000),
            (1024, &[30_000], 1024),
            (1024, &[20_000, 25_000], 1000),
            (1024, &[200], 32),
            (1024, &[20_000, 200], 32),
            (1024, &[2_000], 100),
            (512, &[20_000], 512),
            (512, &[5_000], 250),
            (16, &[200], 16),
            (1, &[200], 1),
        ];
        for &(max, rtts, expected) in cases {
            let window = Window::new(max);
            for &us in rtts {
                window.observe(Duration::from_micros(us));
            }
            // Take and release every permit left, as requests do.
            let mut permits = Vec::new();
            while let Ok(permit) = window.semaphore.try_acquire() {
                permits.push(permit);
            }
            for permit in permits {
                window.release(permit);
            }
            assert_eq!(window.size(), expected, "max {max}, rtts {rtts:?}");
            assert_eq!(
                window.semaphore.available_permits(),
                expected,
                "max {max}, rtts {rtts:?}"
            );
        }
    }

    #[tokio::test]
    async fn shrinks_while_requests_are_in_flight() {
        let window = Window::new(100);
        let held: Vec<_> = (0..100)
            .map(|_| window.semaphore.try_acquire().unwrap())
            .collect();
        window.observe(Duration::from_micros(100));
        for permit in held {
            window.release(permit);
        }
        assert_eq!(window.size(), 32);
        // The semaphore now lets exactly 32 through.
        let mut taken = Vec::new();
        while let Ok(permit) = window.semaphore.try_acquire() {
            taken.push(permit);
        }
        assert_eq!(taken.len(), 32);
    }
}
