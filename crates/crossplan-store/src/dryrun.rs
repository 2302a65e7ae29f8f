//! What Nix's dry run (`nix-store --realise --dry-run`, `nix build
//! --dry-run`) prints, parsed: the derivations it would build, the paths it
//! would fetch with their sizes, and those it does not know how to get. The
//! oracle of the tests, and the `--check` of `crossplan hybrid`.

use std::collections::BTreeSet;

/// A line of a dry run's output that is not in the shape Nix prints.
#[derive(Debug, thiserror::Error)]
#[error("unexpected line in Nix's dry-run output: {line}")]
pub struct DryRunError {
    pub line: String,
}

/// Nix's `printMissing`, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DryRun {
    pub build: BTreeSet<String>,
    pub fetch: BTreeSet<String>,
    pub unknown: BTreeSet<String>,
    /// `X` of `(X download, Y unpacked)`, as printed with its unit: Nix 2.8
    /// prints `119.11 MiB` (`%.2f MiB`), Nix 2.34 `119.1 MiB` or `1.5 GiB`
    /// (`renderSize`: `%.1f` in the largest unit that keeps the number above
    /// 1, KiB at least). Empty when nothing is fetched.
    pub download: String,
    pub unpacked: String,
    /// Everything Nix printed on stderr.
    pub stderr: String,
}

impl DryRun {
    /// `N build, N fetch, N unknown, X MiB` (the size as Nix printed it).
    pub fn counts(&self) -> String {
        format!(
            "{} build, {} fetch, {} unknown, {}",
            self.build.len(),
            self.fetch.len(),
            self.unknown.len(),
            if self.download.is_empty() {
                "0.00 MiB"
            } else {
                &self.download
            }
        )
    }
}

/// Parse the stderr of a dry run (Nix 2.8 and 2.34 print the same shape). Sections start with `these N
/// derivations will be built:` / `this derivation will be built:`, `these N
/// paths will be fetched (X MiB download, Y MiB unpacked):` / `this path will
/// be fetched (…):`, `don't know how to build these paths:` / `… this path:`;
/// their entries are indented by two spaces.
pub fn parse(stderr: &str) -> Result<DryRun, DryRunError> {
    #[derive(Clone, Copy)]
    enum Section {
        None,
        Build,
        Fetch,
        Unknown,
    }
    let mut dr = DryRun {
        stderr: stderr.to_owned(),
        ..DryRun::default()
    };
    let mut section = Section::None;
    for line in stderr.lines() {
        if let Some(path) = line.strip_prefix("  ") {
            let set = match section {
                Section::Build => &mut dr.build,
                Section::Fetch => &mut dr.fetch,
                Section::Unknown => &mut dr.unknown,
                Section::None => continue,
            };
            set.insert(path.trim().to_owned());
            continue;
        }
        section = Section::None;
        let head = line.starts_with("these ") || line.starts_with("this ");
        if head && line.contains(" will be built:") {
            section = Section::Build;
        } else if head && line.contains(" will be fetched") {
            section = Section::Fetch;
            let inner = line
                .split_once('(')
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(i, _)| i)
                .ok_or_else(|| DryRunError {
                    line: line.to_owned(),
                })?;
            let (dl, un) = inner
                .split_once(" download, ")
                .and_then(|(d, u)| Some((d, u.strip_suffix(" unpacked")?)))
                .filter(|(d, u)| parse_size(d).is_some() && parse_size(u).is_some())
                .ok_or_else(|| DryRunError {
                    line: line.to_owned(),
                })?;
            dr.download = dl.to_owned();
            dr.unpacked = un.to_owned();
        } else if line.starts_with("don't know how to build") {
            section = Section::Unknown;
        }
    }
    Ok(dr)
}

/// Format bytes the way Nix 2.8's `printMissing` does: `%.2f` of MiB,
/// computed in single precision (libmain/shared.cc:
/// `const float downloadSizeMiB = downloadSize / (1024.f * 1024.f)`).
/// The `float` matters: 474905326 bytes are 452.905012 MiB, which prints
/// as 452.91 in double precision but as 452.90 from the nearest `float`.
pub fn mib(bytes: u64) -> String {
    format!("{:.2}", nix28_mib(bytes))
}

/// The exact value Nix 2.8 hands to `%.2f`: the byte count rounded to the
/// nearest `f32`, divided by 2^20 (exact in binary), widened to `f64`.
fn nix28_mib(bytes: u64) -> f64 {
    f64::from(bytes as f32 / (1024.0 * 1024.0))
}

/// `"119.11 MiB"` → `(119.11, 2 decimals, 'M')`.
fn parse_size(printed: &str) -> Option<(f64, usize, char)> {
    let (num, unit) = printed.trim().split_once(' ')?;
    let mut u = unit.chars();
    let prefix = u.next()?;
    if u.as_str() != "iB" || !"KMGTPEZY".contains(prefix) {
        return None;
    }
    let decimals = num.split_once('.').map_or(0, |(_, f)| f.len());
    Some((num.parse().ok()?, decimals, prefix))
}

/// The unit Nix 2.34's `renderSize` picks (libutil/util.cc `getSizeUnit`:
/// divide by 1024 while the value is above 1024; bytes print as KiB) and
/// the value in it.
fn nix_size_unit(bytes: u64) -> (f64, char) {
    const UNITS: [char; 9] = ['K', 'K', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
    let (mut n, mut i) = (bytes, 0usize);
    while n > 1024 && i < UNITS.len() - 1 {
        n /= 1024;
        i += 1;
    }
    (bytes as f64 / 1024f64.powi(i.max(1) as i32), UNITS[i])
}

/// Whether `bytes` prints as `printed`, in either Nix's format: 2.8's
/// `%.2f MiB`, or 2.34's `renderSize` (`%.1f` in a unit of its choosing).
/// Only an exact tie may round either way. Nothing printed means 0 bytes.
pub fn size_matches(bytes: u64, printed: &str) -> bool {
    if printed.is_empty() {
        return bytes == 0;
    }
    let Some((value, decimals, prefix)) = parse_size(printed) else {
        return false;
    };
    if decimals == 2 && prefix == 'M' {
        // Nix 2.8: printMissing's `%.2f MiB`
        if format!("{} MiB", mib(bytes)) == printed {
            return true;
        }
        // An exact tie (x.xx5) may round either way. The f32 value times
        // 200 is exact in f64 (a 24-bit mantissa times 200).
        let exact = nix28_mib(bytes);
        let twice = exact * 200.0;
        let tie = twice.fract() == 0.0 && twice % 2.0 == 1.0;
        return tie && (value - exact).abs() <= 0.0050001;
    }
    let (exact, unit) = nix_size_unit(bytes);
    decimals == 1 && unit == prefix && (value - exact).abs() <= 0.0500001
}

/// The part of `crossplan status --json` that Nix's dry run also answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    pub build: BTreeSet<String>,
    pub fetch: BTreeSet<String>,
    pub unknown: BTreeSet<String>,
    pub download_bytes: u64,
    pub nar_bytes: u64,
}

impl Answer {
    /// Read the fields of a `status --json` object; names the field that is
    /// missing or of the wrong type.
    pub fn from_json(v: &serde_json::Value) -> Result<Answer, String> {
        let set = |key: &str| -> Result<BTreeSet<String>, String> {
            v.get(key)
                .and_then(serde_json::Value::as_array)
                .ok_or_else(|| format!("`{key}` is missing or not a list"))?
                .iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("`{key}` holds a non-string: {x}"))
                })
                .collect()
        };
        let num = |key: &str| -> Result<u64, String> {
            v.get(key)
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| format!("`{key}` is missing or not a number"))
        };
        Ok(Answer {
            build: set("build")?,
            fetch: set("fetch")?,
            unknown: set("unknown")?,
            download_bytes: num("download_bytes")?,
            nar_bytes: num("nar_bytes")?,
        })
    }

    /// `N build, N fetch, N unknown, X MiB`
    pub fn counts(&self) -> String {
        format!(
            "{} build, {} fetch, {} unknown, {} MiB",
            self.build.len(),
            self.fetch.len(),
            self.unknown.len(),
            mib(self.download_bytes)
        )
    }
}

fn diff_set(what: &str, nix: &BTreeSet<String>, cp: &BTreeSet<String>, out: &mut Vec<String>) {
    let only_nix: Vec<&String> = nix.difference(cp).collect();
    let only_cp: Vec<&String> = cp.difference(nix).collect();
    if !only_nix.is_empty() || !only_cp.is_empty() {
        out.push(format!(
            "{what}: nix {} vs crossplan {}; only Nix ({}): {:?}; only crossplan ({}): {:?}",
            nix.len(),
            cp.len(),
            only_nix.len(),
            only_nix.iter().take(8).collect::<Vec<_>>(),
            only_cp.len(),
            only_cp.iter().take(8).collect::<Vec<_>>()
        ));
    }
}

/// Where crossplan's answer and Nix's dry run differ: the three sets, and the
/// sizes as Nix prints them (two decimals of MiB). Empty when they agree.
pub fn differences(nix: &DryRun, cp: &Answer) -> Vec<String> {
    let mut d = Vec::new();
    diff_set("build", &nix.build, &cp.build, &mut d);
    diff_set("fetch", &nix.fetch, &cp.fetch, &mut d);
    diff_set("unknown", &nix.unknown, &cp.unknown, &mut d);
    if !size_matches(cp.download_bytes, &nix.download) {
        d.push(format!(
            "download: nix {:?}, crossplan {} bytes = {} MiB",
            nix.download,
            cp.download_bytes,
            mib(cp.download_bytes)
        ));
    }
    if !size_matches(cp.nar_bytes, &nix.unpacked) {
        d.push(format!(
            "unpacked: nix {:?}, crossplan {} bytes = {} MiB",
            nix.unpacked,
            cp.nar_bytes,
            mib(cp.nar_bytes)
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plural_and_singular() {
        let text = "warning: foo\nthese 2 derivations will be built:\n  /nix/store/a-x.drv\n  /nix/store/b-y.drv\nthis path will be fetched (1.50 MiB download, 3.25 MiB unpacked):\n  /nix/store/c-z\ndon't know how to build these paths:\n  /nix/store/d-w.drv\n";
        let dr = parse(text).expect("parse");
        assert_eq!(dr.build.len(), 2);
        assert_eq!(dr.fetch.len(), 1);
        assert_eq!(dr.unknown.len(), 1);
        assert_eq!(dr.download, "1.50 MiB");
        assert_eq!(dr.unpacked, "3.25 MiB");
    }

    #[test]
    fn sizes_in_both_nix_formats() {
        // Nix 2.34 (renderSize) prints `(119.1 MiB download, 1.5 GiB unpacked)`.
        let text = "these 2 paths will be fetched (119.1 MiB download, 1.5 GiB unpacked):\n  /nix/store/a-x\n  /nix/store/b-y\n";
        let dr = parse(text).expect("parse");
        assert_eq!(
            (dr.download.as_str(), dr.unpacked.as_str()),
            ("119.1 MiB", "1.5 GiB")
        );
        let mib = 1024 * 1024;
        let cases: &[(u64, &str, bool)] = &[
            (119_110_000, "113.59 MiB", true),
            (119_110_000, "113.6 MiB", true),
            (119_110_000, "113.5 MiB", false),
            (119_110_000, "0.1 GiB", false), // 2.34 keeps MiB below 1 GiB
            (1_610_612_736, "1.5 GiB", true),
            (1_610_612_736, "1536.00 MiB", true),
            (1_610_612_736, "1536.0 MiB", false),
            (100, "0.1 KiB", true),           // bytes print as KiB
            (1024 * mib, "1024.0 MiB", true), // exactly 1024: not above it
            (0, "", true),
            (1, "", false),
            (mib, "1.00 MB", false),
        ];
        for &(bytes, printed, want) in cases {
            assert_eq!(
                size_matches(bytes, printed),
                want,
                "{bytes} bytes as {printed:?}"
            );
        }
        assert!(parse("these 2 paths will be fetched (lots):\n").is_err());
    }

    #[test]
    fn mib_formatting() {
        assert_eq!(mib(0), "0.00");
        assert_eq!(mib(3 * 1024 * 1024 / 2), "1.50");
        // 0.125 MiB is an exact tie: either rounding is Nix-compatible.
        assert!(size_matches(131072, "0.12 MiB"));
        assert!(size_matches(131072, "0.13 MiB"));
        assert!(!size_matches(131073, "0.12 MiB"));
        assert!(!size_matches(2 * 1024 * 1024, "2.01 MiB"));
    }

    /// Nix 2.8 computes the MiB in `float`: seen in CI, Nix 2.8 printed
    /// 452.90 for 474905326 bytes (452.905012 in double precision).
    #[test]
    fn mib_follows_nix_single_precision() {
        assert_eq!(mib(474_905_326), "452.90");
        assert!(size_matches(474_905_326, "452.90 MiB"));
        assert!(!size_matches(474_905_326, "452.91 MiB"));
        // Where f32 and f64 agree nothing changes.
        assert_eq!(mib(1_000_000), "0.95");
        // The largest sizes still round through f32 (ulp 64 above 2^30).
        assert_eq!(mib(1 << 40), "1048576.00");
    }
    #[test]
    fn singular_build_and_differences() {
        let text = "this derivation will be built:\n  /nix/store/a-x.drv\n";
        let dr = parse(text).expect("parse");
        assert_eq!(dr.build.len(), 1, "the singular heading starts a section");
        let mut cp = Answer {
            build: ["/nix/store/a-x.drv".to_owned()].into(),
            ..Answer::default()
        };
        assert!(differences(&dr, &cp).is_empty());
        cp.build.insert("/nix/store/b-y.drv".to_owned());
        cp.download_bytes = 3 * 1024 * 1024;
        let d = differences(&dr, &cp);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("only crossplan (1)"), "{d:?}");
        assert!(d[1].contains("download: nix \"\""), "{d:?}");
    }

    #[test]
    fn answer_from_json_names_the_bad_field() {
        let v = serde_json::json!({"build": [], "fetch": [], "unknown": [1], "download_bytes": 0, "nar_bytes": 0});
        let e = Answer::from_json(&v).expect_err("a number in `unknown`");
        assert!(e.contains("`unknown`"), "{e}");
        let v = serde_json::json!({"build": [], "fetch": [], "unknown": []});
        assert!(
            Answer::from_json(&v)
                .expect_err("no sizes")
                .contains("download_bytes")
        );
    }
}
