//! Remote builders: the `builders` setting and `/etc/nix/machines`
//! (cache-semantics.md §5; Nix src/libstore/machines.cc).

use std::path::Path;

use crossplan_plan::Machine;

use crate::error::HostError;

/// Parse a `builders` value: entries separated by newlines or `;`, `#`
/// comments, `@FILE` includes another file (a missing file is no builders,
/// as in Nix). `default_system` fills a `-` systems field.
pub fn parse_builders(spec: &str, default_system: &str) -> Result<Vec<Machine>, HostError> {
    let mut out = Vec::new();
    parse_into(spec, default_system, &mut out, 0)?;
    Ok(out)
}

fn parse_into(
    spec: &str,
    default_system: &str,
    out: &mut Vec<Machine>,
    depth: usize,
) -> Result<(), HostError> {
    for line in spec.split(['\n', ';']) {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(file) = line.strip_prefix('@') {
            if depth > 8 {
                return Err(HostError::Machine {
                    entry: line.into(),
                    reason: "@ includes nested too deep".into(),
                });
            }
            match std::fs::read_to_string(file.trim()) {
                Ok(text) => parse_into(&text, default_system, out, depth + 1)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(HostError::Read {
                        path: Path::new(file.trim()).to_path_buf(),
                        source,
                    });
                }
            }
            continue;
        }
        out.push(parse_entry(line, default_system)?);
    }
    Ok(())
}

/// Parse one machine line.
pub fn parse_entry(line: &str, default_system: &str) -> Result<Machine, HostError> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let field = |i: usize| f.get(i).copied().filter(|v| *v != "-" && !v.is_empty());
    let bad = |reason: String| HostError::Machine {
        entry: line.to_string(),
        reason,
    };
    let list = |i: usize| -> Vec<String> {
        field(i)
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let uri = f.first().copied().unwrap_or_default();
    let uri = if uri.contains("://") || uri == "localhost" {
        uri.to_string()
    } else {
        format!("ssh://{uri}")
    };
    let systems = match field(1) {
        Some(_) => list(1),
        None => vec![default_system.to_string()],
    };
    let max_jobs = match field(3) {
        Some(v) => v
            .parse()
            .map_err(|_| bad(format!("max jobs `{v}` is not a number")))?,
        None => 1,
    };
    let speed_factor = match field(4) {
        Some(v) => {
            let s: f64 = v
                .parse()
                .map_err(|_| bad(format!("speed factor `{v}` is not a number")))?;
            if s < 0.0 {
                return Err(bad(format!("speed factor `{v}` is negative")));
            }
            if s == 0.0 { 1.0 } else { s }
        }
        None => 1.0,
    };
    Ok(Machine {
        uri,
        systems,
        max_jobs,
        speed_factor,
        supported_features: list(5),
        mandatory_features: list(6),
    })
}
