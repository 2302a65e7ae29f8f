//! Assemble the [`HostView`] the cost model takes.

use std::collections::BTreeMap;

use crossplan_plan::HostView;
use crossplan_store::settings::NixSettings;

use crate::error::HostError;
use crate::machines::parse_builders;

/// Build the view from Nix settings (`builders` resolved, `@file` included)
/// and calibrated factors.
pub fn host_view(
    settings: &NixSettings,
    calibrated: BTreeMap<String, f64>,
) -> Result<HostView, HostError> {
    let system = settings.system();
    let machines = parse_builders(settings.builders(), &system)?;
    Ok(HostView {
        system,
        extra_platforms: settings.extra_platforms(),
        max_jobs: settings.max_jobs(),
        system_features: settings.system_features(),
        machines,
        emulation_factors: calibrated,
    })
}
