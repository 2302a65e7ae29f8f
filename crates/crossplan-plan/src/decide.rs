//! Choosing a variant and saying why in one line.

use serde::Serialize;

use crate::estimate::VariantEstimate;
use crate::format::{duration, plural};

/// Options of the decision.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--allow-purego`: purego competes on time like the others. Without it,
    /// purego (which drops cgo) is chosen only when nothing else is possible.
    pub allow_purego: bool,
}

/// The label of the variant that drops cgo.
pub const PUREGO: &str = "purego";

/// The outcome for one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The chosen label; `None` when no variant is possible here.
    pub choice: Option<String>,
    /// One line: why this one (or why none).
    pub reason: String,
    /// Set when purego was chosen or left out, to say so in the table.
    pub purego_note: Option<String>,
}

/// Choose the cheapest possible variant. Ties keep the order of `estimates`
/// (cross, emulated, purego for targets).
pub fn decide(estimates: &[VariantEstimate], options: &PlanOptions) -> Decision {
    let possible = |e: &&VariantEstimate| e.possible;
    let non_purego: Vec<&VariantEstimate> = estimates
        .iter()
        .filter(possible)
        .filter(|e| e.label != PUREGO || options.allow_purego)
        .collect();
    let purego = estimates.iter().find(|e| e.label == PUREGO);
    let (chosen, purego_note) = match cheapest(non_purego) {
        Some(c) => {
            let note = if c.label == PUREGO {
                Some("purego (no cgo) chosen because --allow-purego was given".to_string())
            } else if purego.is_some_and(|p| p.possible) && !options.allow_purego {
                Some("purego (no cgo) not considered: pass --allow-purego".to_string())
            } else {
                None
            };
            (Some(c), note)
        }
        None => match purego.filter(|p| p.possible) {
            Some(p) => (
                Some(p),
                Some("purego (no cgo) chosen: it is the only variant possible here".to_string()),
            ),
            None => (None, None),
        },
    };

    let Some(chosen) = chosen else {
        let why: Vec<String> = estimates
            .iter()
            .map(|e| {
                format!(
                    "{}: {}",
                    e.label,
                    e.impossible_reason.as_deref().unwrap_or("not considered")
                )
            })
            .collect();
        return Decision {
            choice: None,
            reason: if why.is_empty() {
                "no variants to compare".into()
            } else {
                format!("no variant is possible here ({})", why.join("; "))
            },
            purego_note: None,
        };
    };

    let mut first = phrase(chosen, true);
    if chosen.label == PUREGO {
        first.push_str(" without cgo");
    }
    let mut parts = vec![first];
    for e in estimates.iter().filter(|e| e.label != chosen.label) {
        if e.label == PUREGO && !options.allow_purego && e.possible {
            continue;
        }
        parts.push(phrase(e, false));
    }
    let reason = parts.join("; ");
    Decision {
        choice: Some(chosen.label.clone()),
        reason,
        purego_note,
    }
}

/// `emulated needs 812 builds under QEMU (~9 h)`; later ones shorter:
/// `cross needs 37 (~25 min)`.
fn phrase(e: &VariantEstimate, first: bool) -> String {
    if !e.possible {
        return format!(
            "{} impossible here: {}",
            e.label,
            e.impossible_reason.as_deref().unwrap_or("unknown reason")
        );
    }
    let mut where_ = String::new();
    if e.emulated_builds > 0 && e.emulated_builds * 2 >= e.builds {
        where_.push_str(" under QEMU");
    } else if e.remote_builds > 0 && e.remote_builds * 2 >= e.builds {
        where_.push_str(&format!(" on {}", e.remote_machines.join(", ")));
    }
    let count = if first {
        plural(e.builds, "build")
    } else {
        e.builds.to_string()
    };
    let fetch = if e.builds == 0 && e.fetches > 0 {
        format!(", {} to fetch", plural(e.fetches, "path"))
    } else {
        String::new()
    };
    format!(
        "{} needs {count}{where_}{fetch} (~{})",
        e.label,
        duration(e.total_seconds)
    )
}

fn cheapest(pool: Vec<&VariantEstimate>) -> Option<&VariantEstimate> {
    pool.into_iter().reduce(|best, e| {
        if e.total_seconds < best.total_seconds {
            e
        } else {
            best
        }
    })
}
