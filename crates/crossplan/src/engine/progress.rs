//! The progress line of long work: lookups done / queued and derivations
//! read, on stderr, only when stderr is a terminal, never for JSON output,
//! and only once the work has taken more than a second.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crossplan_missing::Progress;

/// How long work runs before the line appears.
const DELAY: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// Whether a progress line may be drawn: stderr is a terminal and the output
/// is not machine-readable.
pub fn wanted(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// A progress line on stderr, drawn by a task while the work runs.
pub struct ProgressLine {
    ticker: Option<tokio::task::JoinHandle<()>>,
    bar: indicatif::ProgressBar,
}

impl ProgressLine {
    /// Start drawing `progress` (after [`DELAY`]) when `enabled`; `what` names the work.
    pub fn start(progress: Arc<Progress>, enabled: bool, what: &str) -> Self {
        let bar = indicatif::ProgressBar::hidden();
        if !enabled {
            return Self { ticker: None, bar };
        }
        let b = bar.clone();
        let what = what.to_owned();
        let ticker = tokio::spawn(async move {
            tokio::time::sleep(DELAY).await;
            b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {elapsed:>4} {prefix}: {pos}/{len} lookups  {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            b.set_prefix(what);
            loop {
                let p = &progress;
                b.set_length(p.lookups_queued.load(Ordering::Relaxed));
                b.set_position(p.lookups_done.load(Ordering::Relaxed));
                b.set_message(message(p));
                b.tick();
                tokio::time::sleep(TICK).await;
            }
        });
        Self {
            ticker: Some(ticker),
            bar,
        }
    }

    /// Stop and clear the line.
    pub fn finish(self) {
        if let Some(t) = self.ticker {
            t.abort();
        }
        self.bar.finish_and_clear();
    }
}

/// The line's words after the lookup count: what the work is doing (after
/// the last lookup, the count stands still while the answer is put together
/// and saved, which must not look like a hang), then the counters. The line
/// is cut at the terminal's width (`wide_msg`), so the stage comes first.
fn message(p: &Progress) -> String {
    format!(
        "{}; {} drvs read, {} to build, {} to fetch",
        p.stage().describe(),
        p.drvs_read.load(Ordering::Relaxed),
        p.builds.load(Ordering::Relaxed),
        p.fetches.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossplan_missing::Stage;

    #[test]
    fn the_message_says_what_the_work_does() {
        let p = Progress::default();
        p.drvs_read.store(18_000, Ordering::Relaxed);
        p.builds.store(3, Ordering::Relaxed);
        p.fetches.store(4, Ordering::Relaxed);
        let cases = [
            (None, "evaluating"),
            (Some(Stage::Reading), "reading derivations"),
            (Some(Stage::Checking), "checking validity"),
            (Some(Stage::LookingUp), "looking up"),
            (Some(Stage::Answering), "assembling the answer"),
            (Some(Stage::Saving), "saving caches"),
            (Some(Stage::Evaluating), "evaluating"),
        ];
        for (stage, words) in cases {
            if let Some(stage) = stage {
                p.set_stage(stage);
            }
            assert_eq!(
                message(&p),
                format!("{words}; 18000 drvs read, 3 to build, 4 to fetch")
            );
        }
    }
}
