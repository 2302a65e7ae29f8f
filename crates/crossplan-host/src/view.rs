//! Assemble the [`HostView`] the cost model takes.

use std::collections::BTreeMap;

use crossplan_plan::HostView;

use crate::error::HostError;
use crate::machines::parse_builders;
use crate::nixconf::NixSettings;

/// Build the view from Nix settings (`builders` resolved, `@file` included)
/// and calibrated factors.
pub fn host_view(
    settings: &NixSettings,
    calibrated: BTreeMap<String, f64>,
) -> Result<HostView, HostError> {
    let system = settings.system();
    let builders = settings.get("builders").unwrap_or("@/etc/nix/machines");
    let machines = parse_builders(builders, &system)?;
    let mut system_features = settings.list("system-features");
    if settings.get("system-features").is_none() {
        // Nix's default (globals.cc): benchmark big-parallel, plus kvm where /dev/kvm exists.
        system_features = vec![
            "benchmark".into(),
            "big-parallel".into(),
            "nixos-test".into(),
        ];
    }
    let extra_platforms =
        if settings.get("extra-platforms").is_some() || settings.get("system").is_some() {
            settings.list("extra-platforms")
        } else {
            Vec::new()
        };
    Ok(HostView {
        system,
        extra_platforms,
        max_jobs: settings.max_jobs(),
        system_features,
        machines,
        emulation_factors: calibrated,
    })
}
