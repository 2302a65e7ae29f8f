//! Which failures are worth retrying, and how long to wait between tries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// First backoff ceiling. Nix's `FileTransfer` starts at 250 ms; a narinfo is tiny and a
/// loopback or CDN hiccup is usually gone within a few hundred milliseconds.
pub const BASE_DELAY: Duration = Duration::from_millis(100);

/// Largest backoff ceiling: with 6 attempts (100, 200, 400, 800, 1600 ms ceilings) a run never
/// sleeps more than ~3 s per path in total, yet a cache that 500s for seconds gets time to heal.
pub const MAX_DELAY: Duration = Duration::from_secs(5);

/// Largest `Retry-After` we honour on a 429/503: a cache asking for minutes would stall the
/// whole dry run, so we wait at most this long and let the attempt limit decide.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// How one HTTP status is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusClass {
    /// 2xx: the body is the answer.
    Success,
    /// 404 and 403: the cache does not have the file (S3-backed caches answer 403).
    Absent,
    /// 5xx and 429: try again.
    Transient,
    /// Anything else (401, 400, …): retrying will not help.
    Permanent,
}

/// Classify an HTTP status code.
#[must_use]
pub fn classify_status(status: u16) -> StatusClass {
    match status {
        200..=299 => StatusClass::Success,
        403 | 404 | 410 => StatusClass::Absent,
        // 408 Request Timeout and 429 Too Many Requests are load signals, like 5xx.
        408 | 429 | 500..=599 => StatusClass::Transient,
        _ => StatusClass::Permanent,
    }
}

/// Parse a `Retry-After` header given in seconds (the HTTP-date form is ignored), capped at
/// [`MAX_RETRY_AFTER`].
#[must_use]
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds = value.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Delay before attempt `attempt + 1` (`attempt` counts from 1 for the first retry): "full
/// jitter", a uniform draw from zero to `min(MAX_DELAY, BASE_DELAY * 2^(attempt-1))`, so many
/// tasks failing together do not retry in lockstep. A server's `Retry-After` is a floor.
#[must_use]
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    let exponent = attempt.saturating_sub(1).min(16);
    let ceiling = BASE_DELAY.saturating_mul(1 << exponent).min(MAX_DELAY);
    let jittered = ceiling.mul_f64(unit_random());
    match retry_after {
        Some(after) => jittered.max(after),
        None => jittered,
    }
}

/// A cheap uniform draw in [0, 1): splitmix64 over a global counter seeded from the clock.
/// Jitter needs no cryptographic quality, only different values in different tasks.
fn unit_random() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut seed = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    if seed == 0 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| {
                u64::try_from(d.as_nanos() & u128::from(u64::MAX)).unwrap_or(1)
            });
        STATE.store(now, Ordering::Relaxed);
        seed = now;
    }
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    // The top 53 bits fill an f64 mantissa exactly.
    (z >> 11) as f64 / (1_u64 << 53) as f64
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statuses() {
        assert_eq!(classify_status(200), StatusClass::Success);
        assert_eq!(classify_status(404), StatusClass::Absent);
        assert_eq!(classify_status(403), StatusClass::Absent);
        assert_eq!(classify_status(500), StatusClass::Transient);
        assert_eq!(classify_status(503), StatusClass::Transient);
        assert_eq!(classify_status(429), StatusClass::Transient);
        assert_eq!(classify_status(401), StatusClass::Permanent);
        assert_eq!(classify_status(400), StatusClass::Permanent);
    }

    #[test]
    fn backoff_is_capped_and_jittered() {
        for attempt in 1..40 {
            let delay = backoff(attempt, None);
            assert!(delay <= MAX_DELAY);
            let exponent = (attempt - 1).min(16);
            assert!(delay <= BASE_DELAY.saturating_mul(1 << exponent));
        }
        let draws: Vec<_> = (0..20).map(|_| backoff(3, None)).collect();
        assert!(draws.iter().any(|d| *d != draws[0]), "no jitter: {draws:?}");
        assert!(backoff(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
    }

    #[test]
    fn retry_after_is_capped() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("3600"), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }
}
