//! `crossplan status`: what Nix would build, fetch, or not know how to get.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crossplan_missing::{LookupFailure, Missing, Progress, Rejected};
use serde::Serialize;

use crate::cli::{GlobalArgs, StatusArgs};
use crate::engine::progress::{self, ProgressLine};
use crate::engine::{Engine, plural};
use crate::exit;
use crate::render;

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
    let engine = Engine::open_for(&args.cache, &args.roots).await?;
    tracing::info!(
        rss_mib = crossplan_store::rss_mib(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "opened settings and substituters"
    );
    let progress = Arc::new(Progress::default());
    let line = ProgressLine::start(progress.clone(), progress::wanted(args.json), "status");
    let result = engine.missing(&args.roots, &progress).await;
    line.finish();
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
        serde_json::to_writer_pretty(&mut out, &doc)
            .map_err(std::io::Error::from)
            .context("writing JSON to stdout")?;
        writeln!(out).context("writing to stdout")?;
    } else {
        let mut text = summary(&missing, &caches, args.top, started.elapsed(), &progress);
        if !engine.settings.substitute() {
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
        "{} read, {}, {:.2} s",
        plural(
            progress.drvs_read.load(Ordering::Relaxed) as usize,
            "derivation",
            "derivations"
        ),
        plural(
            progress.lookups_done.load(Ordering::Relaxed) as usize,
            "lookup",
            "lookups"
        ),
        elapsed.as_secs_f64()
    );
    let count =
        |n: usize, one: &str, many: &str| format!("{n:>6} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        s,
        "  build    {}",
        count(missing.build.len(), "derivation", "derivations")
    );
    let _ = writeln!(
        s,
        "  fetch    {:<19} {} download, {} unpacked",
        count(missing.fetch.len(), "path", "paths"),
        bytes(missing.download_bytes),
        bytes(missing.nar_bytes)
    );
    let _ = writeln!(
        s,
        "  unknown  {}",
        count(missing.unknown.len(), "path", "paths")
    );
    if !caches.is_empty() {
        let _ = writeln!(s, "\nsubstituters (priority order):");
        for c in caches {
            let _ = writeln!(
                s,
                "  {:>3}  {}{}  serves {}",
                c.priority,
                c.url,
                if c.trusted { " (trusted)" } else { "" },
                plural(c.paths, "path", "paths")
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
        if let Some(more) = crate::engine::and_more(top.min(heavy.len()), heavy.len()) {
            let _ = writeln!(s, "  {more} (--json lists all)");
        }
    }
    s.push_str(&render::problems(missing, top));
    s
}
