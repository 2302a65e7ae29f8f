//! The plan session: host facts, cost model and history, loaded once from
//! the engine's one reading of Nix's settings, then each set of variants
//! estimated and decided.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use crossplan_host::history::HistoryDb;
use crossplan_missing::{BuildInfo, Missing, Progress};
use crossplan_plan::{
    BuildNode, CostModel, Decision, HistoryTable, HostView, PlanOptions, VariantEstimate,
    VariantWork, decide, estimate,
};

use super::Engine;
use super::progress::ProgressLine;
use crate::cli::{PlanCommon, VariantSpec};

/// One planned target: its variants' estimates, the decision, and the work graphs.
#[derive(Debug)]
pub struct TargetPlan {
    pub name: String,
    pub variants: Vec<VariantSpec>,
    pub estimates: Vec<VariantEstimate>,
    pub decision: Decision,
    pub missing: Vec<Missing>,
}

/// Host facts, model and history, loaded once, over one [`Engine`].
pub struct Planner {
    pub host: HostView,
    pub model: CostModel,
    pub model_file: Option<PathBuf>,
    pub history: HistoryTable,
    pub history_path: PathBuf,
    pub engine: Engine,
    /// Draw a progress line while a variant is walked.
    pub progress: bool,
}

impl Planner {
    /// Load everything `plan` and `build` need. Nix's settings are read once
    /// and decide both the caches and the host view.
    pub async fn open(common: &PlanCommon) -> anyhow::Result<Self> {
        let engine = Engine::open(&common.cache).await?;
        let (model, model_file) =
            crossplan_host::config::load_cost_model(common.config.as_deref())?;
        let history_path = common
            .history
            .clone()
            .unwrap_or_else(crossplan_host::paths::history_db);
        let (history, calibrated) = match HistoryDb::open(&history_path) {
            Ok(db) => {
                let t = db.table()?;
                let c = db
                    .calibrations()?
                    .into_iter()
                    .map(|(s, c)| (s, c.factor))
                    .collect();
                (t, c)
            }
            Err(e) => {
                tracing::warn!("no build history ({e}); using priors");
                (HistoryTable::default(), BTreeMap::new())
            }
        };
        let host = crossplan_host::view::host_view(&engine.settings, calibrated)?;
        Ok(Self {
            host,
            model,
            model_file,
            history,
            history_path,
            engine,
            progress: false,
        })
    }

    /// Plan one set of variants.
    pub async fn plan(
        &self,
        name: &str,
        variants: Vec<VariantSpec>,
        options: &PlanOptions,
    ) -> anyhow::Result<TargetPlan> {
        let mut estimates = Vec::new();
        let mut missing = Vec::new();
        for v in &variants {
            let progress = Arc::new(Progress::default());
            let line = ProgressLine::start(
                progress.clone(),
                self.progress,
                &format!("{name} {}", v.label),
            );
            let m = self
                .engine
                .missing(std::slice::from_ref(&v.installable), &progress)
                .await;
            line.finish();
            let m = m.with_context(|| format!("computing what {} needs", v.installable))?;
            let work = work_from_missing(&m);
            estimates.push(estimate(
                &v.label,
                &work,
                &self.host,
                &self.model,
                &self.history,
            ));
            missing.push(m);
        }
        let decision = decide(&estimates, options);
        Ok(TargetPlan {
            name: name.to_string(),
            variants,
            estimates,
            decision,
            missing,
        })
    }
}

/// One derivation the walk says to build, as the cost model sees it (its
/// `deps` are filled in from the keyed edges).
pub fn build_node(info: &BuildInfo) -> BuildNode {
    BuildNode {
        name: info.name.clone(),
        system: info.system.clone(),
        deps: Vec::new(),
        required_features: info.required_features.clone(),
        prefer_local_build: info.prefer_local_build,
    }
}

/// The cost model's input from the walk's answer.
pub fn work_from_missing(m: &Missing) -> VariantWork {
    let mut w = VariantWork::from_keyed(m.build.iter().map(|(path, info)| {
        (
            path.as_str(),
            build_node(info),
            info.input_drvs.iter().map(String::as_str).collect(),
        )
    }));
    w.download_bytes = m.download_bytes;
    w.nar_bytes = m.nar_bytes;
    w.fetch_count = m.fetch.len();
    w.unknown = m.unknown.iter().cloned().collect();
    w
}
