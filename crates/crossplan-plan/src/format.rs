//! Human-readable durations and sizes for tables and reasons.

/// `42 s`, `25 min`, `1.5 h`, `9 h`.
///
/// ```
/// use crossplan_plan::format::duration;
/// assert_eq!(duration(42.0), "42 s");
/// assert_eq!(duration(1500.0), "25 min");
/// assert_eq!(duration(5400.0), "1.5 h");
/// assert_eq!(duration(32400.0), "9 h");
/// ```
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0);
    if s < 90.0 {
        format!("{} s", s.round() as u64)
    } else if s < 90.0 * 60.0 - 0.5 {
        format!("{} min", (s / 60.0).round() as u64)
    } else {
        let h = s / 3600.0;
        if h < 10.0 {
            let r = (h * 10.0).round() / 10.0;
            if r.fract() == 0.0 {
                format!("{} h", r as u64)
            } else {
                format!("{r:.1} h")
            }
        } else {
            format!("{} h", h.round() as u64)
        }
    }
}

/// `0 B`, `512 B`, `3.2 MiB`, `1.1 GiB`.
///
/// ```
/// use crossplan_plan::format::bytes;
/// assert_eq!(bytes(512), "512 B");
/// assert_eq!(bytes(3 * 1024 * 1024 + 200 * 1024), "3.2 MiB");
/// ```
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `1 build`, `2 builds`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
