//! The cost model's config file: TOML (`config.toml`) or JSON (`*.json`).

use std::path::{Path, PathBuf};

use crossplan_plan::CostModel;

use crate::error::HostError;

/// Load the cost model: `explicit` (`--config`, must exist) or the default
/// path (used only if it exists). Returns the model and the file it came from.
pub fn load_cost_model(explicit: Option<&Path>) -> Result<(CostModel, Option<PathBuf>), HostError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = crate::paths::config_file();
            if !p.exists() {
                return Ok((CostModel::default(), None));
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| HostError::Read {
        path: path.clone(),
        source,
    })?;
    let model = parse_cost_model(&path, &text)?;
    Ok((model, Some(path)))
}

/// Parse a config text; JSON when the file name ends in `.json`, else TOML.
pub fn parse_cost_model(path: &Path, text: &str) -> Result<CostModel, HostError> {
    let bad = |reason: String| HostError::Config {
        path: path.to_path_buf(),
        reason,
    };
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(text).map_err(|e| bad(e.to_string()))
    } else {
        toml::from_str(text).map_err(|e| bad(e.to_string().trim().to_string()))
    }
}
