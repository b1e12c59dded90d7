//! The TUI's modules form layers with no dependency circle (ARCHITECTURE.md):
//! each module may use only modules of a lower layer. Read off the sources, so
//! a new `use` that closes a circle fails here, naming the file.

use std::path::Path;

/// Lower layers first; a module may use the modules of earlier layers.
const LAYERS: &[&[&str]] = &[
    &["keymap", "heatmap", "prompt"],
    &["app"],
    &["views"],
    &["present"],
    &["draw", "event", "markdown"],
    &["run"],
    &["player"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The TUI modules `src` names: `crate::tui::m` anywhere, `super::m` from a
/// top-level file.
fn uses(src: &str, top_level: bool) -> Vec<String> {
    let mut out = vec![];
    for (prefix, ok) in [("crate::tui::", true), ("super::", top_level)] {
        if !ok {
            continue;
        }
        for (i, _) in src.match_indices(prefix) {
            let rest = &src[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        // `use super::{a, b}` names several at once.
        for (i, _) in src.match_indices(&format!("{prefix}{{")) {
            let rest = &src[i + prefix.len() + 1..];
            let list = &rest[..rest.find('}').unwrap_or(0)];
            out.extend(
                list.split(',')
                    .map(|s| s.trim().split("::").next().unwrap_or_default().to_string()),
            );
        }
    }
    out
}

#[test]
fn tui_modules_use_only_lower_layers() {
    let tui = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui");
    let mut files = vec![];
    for entry in std::fs::read_dir(&tui).expect("src/tui") {
        let p = entry.expect("entry").path();
        if p.is_file() && p.extension().is_some_and(|e| e == "rs") {
            let m = p
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            files.push((m, p, true));
        } else if p.is_dir() {
            let m = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            for f in std::fs::read_dir(&p).expect("dir") {
                let f = f.expect("entry").path();
                if f.extension().is_some_and(|e| e == "rs") {
                    // `super::` in a folder module's file is the folder itself,
                    // except in its mod.rs.
                    let top = f.file_name().is_some_and(|n| n == "mod.rs");
                    files.push((m.clone(), f, top));
                }
            }
        }
    }
    let mut checked = 0;
    for (module, path, top) in files {
        let Some(own) = layer(&module) else {
            continue; // mod.rs, tests
        };
        let src = std::fs::read_to_string(&path).expect("read");
        // Inline unit tests may reach anything.
        let src = src.split("#[cfg(test)]").next().unwrap_or_default();
        for used in uses(src, top) {
            if used == module {
                continue;
            }
            if let Some(l) = layer(&used) {
                assert!(
                    l < own,
                    "{} uses tui::{used}, which is not in a lower layer than {module}",
                    path.display()
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} files checked");
}
