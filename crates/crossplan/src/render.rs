//! Text pieces more than one command prints: the sections of an answer that
//! say what could not be had, and cut lists.

use std::fmt::Write as _;

use crossplan_missing::Missing;

use crate::engine::{and_more, plural};

/// Append up to `top` of `items` as indented lines, then `… and N more`.
pub fn list<I: IntoIterator<Item = String>>(s: &mut String, items: I, total: usize, top: usize) {
    let mut shown = 0;
    for item in items.into_iter().take(top) {
        let _ = writeln!(s, "  {item}");
        shown += 1;
    }
    if let Some(more) = and_more(shown, total) {
        let _ = writeln!(s, "  {more}");
    }
}

/// The sections of an answer that a plain count would hide: paths nobody
/// provides, refused narinfo records, lookups that failed for good.
pub fn problems(missing: &Missing, top: usize) -> String {
    let mut s = String::new();
    if !missing.unknown.is_empty() {
        let them = if missing.unknown.len() == 1 {
            "it"
        } else {
            "them"
        };
        let _ = writeln!(
            s,
            "\ndon't know how to get {} (no substituter has {them}, and no derivation here builds {them}):",
            plural(missing.unknown.len(), "path", "paths"),
        );
        list(
            &mut s,
            missing.unknown.iter().cloned(),
            missing.unknown.len(),
            top,
        );
    }
    if !missing.rejected.is_empty() {
        let _ = writeln!(
            s,
            "\nrefused {} (Nix's dry run would have promised these as fetches):",
            plural(missing.rejected.len(), "narinfo record", "narinfo records"),
        );
        list(
            &mut s,
            missing
                .rejected
                .iter()
                .map(|r| format!("{} from {}: {}", r.path, r.substituter, r.reason)),
            missing.rejected.len(),
            top,
        );
    }
    if !missing.errors.is_empty() {
        let _ = writeln!(
            s,
            "\n{} failed for good; the answer may overstate the work:",
            plural(missing.errors.len(), "lookup", "lookups"),
        );
        list(
            &mut s,
            missing
                .errors
                .iter()
                .map(|e| format!("{}: {}", e.url, e.reason)),
            missing.errors.len(),
            top,
        );
    }
    s
}

/// Rows as aligned columns (two spaces apart, trailing blanks cut); the
/// columns whose index is in `right` are right-aligned.
pub fn columns(rows: &[Vec<String>], right: &[usize]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0usize; n];
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, (c, &w)) in r.iter().zip(&widths).enumerate() {
            if right.contains(&i) {
                let _ = write!(line, "{c:>w$}  ");
            } else {
                let _ = write!(line, "{c:<w$}  ");
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// A variant's build count, with how many run under QEMU or remotely:
/// `12 (9 QEMU)`.
pub fn builds_cell(e: &crossplan_plan::VariantEstimate) -> String {
    if e.emulated_builds > 0 {
        format!("{} ({} QEMU)", e.builds, e.emulated_builds)
    } else if e.remote_builds > 0 {
        format!("{} ({} remote)", e.builds, e.remote_builds)
    } else {
        e.builds.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_lists_say_how_many_more_and_plurals_agree() {
        let mut m = Missing::default();
        m.unknown.insert("/nix/store/a".into());
        let s = problems(&m, 10);
        assert!(
            s.contains(
                "don't know how to get 1 path (no substituter has it, and no derivation here builds it):"
            ),
            "{s}"
        );
        for p in ["b", "c", "d"] {
            m.unknown.insert(format!("/nix/store/{p}"));
        }
        let s = problems(&m, 2);
        assert!(s.contains("get 4 paths"), "{s}");
        assert!(s.contains("  … and 2 more\n"), "{s}");
    }

    #[test]
    fn columns_align_and_cut_trailing_blanks() {
        let rows = vec![
            vec!["A".to_string(), "NUM".into(), "".into()],
            vec!["long".to_string(), "7".into(), "".into()],
        ];
        assert_eq!(super::columns(&rows, &[1]), "A     NUM\nlong    7\n");
    }
}
