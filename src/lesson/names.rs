//! The one list of view and stage names a lesson may use.
//!
//! Names are plain lowercase strings so lesson files stay readable; the TUI
//! maps them onto its own `View` and `Stage` enums. Keep this list and the
//! TUI's enums in step (the names are the contract).

/// Views the explorer shows (the names of `tui::View`), then [`LESSON_ONLY_VIEWS`].
pub const VIEWS: &[&str] = &[
    "tokens",
    "embeddings",
    "attention",
    "layernorm",
    "mlp",
    "residual",
    "logits",
    "loss",
    "cost",
    "training",
];

/// The stages of one forward step, in order: the same names as the explorer's
/// `tui::Stage::name()` (a test checks the two lists agree).
pub const STAGES: &[&str] = &[
    "embed",
    "ln1",
    "qkv",
    "scores",
    "mask",
    "softmax",
    "weighted-sum",
    "out-proj",
    "residual1",
    "ln2",
    "mlp-up",
    "gelu",
    "mlp-down",
    "residual2",
    "final-ln",
    "logits",
    "pick",
    "append",
];

/// Views only lessons use (none today: every view has an explorer panel).
pub const LESSON_ONLY_VIEWS: &[&str] = &[];

pub fn is_view(s: &str) -> bool {
    VIEWS.contains(&s)
}

pub fn is_stage(s: &str) -> bool {
    STAGES.contains(&s)
}

/// Levenshtein distance over chars: how "unknown name" errors pick suggestions.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidates closest to `name` (distance at most 3, or a prefix match),
/// closest first.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 3.max(name.chars().count() / 3) || c.starts_with(name))
        .collect();
    scored.sort();
    scored.into_iter().map(|(_, c)| c).collect()
}

/// " (did you mean `x`?)" or "" — the tail of an unknown-name message.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match nearest(name, candidates).first() {
        Some(n) => format!(" (did you mean `{n}`?)"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("attention", "attention"), 0);
        assert_eq!(edit_distance("atention", "attention"), 1);
        assert_eq!(edit_distance("mpl", "mlp"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn nearest_suggests_close_names_first() {
        assert_eq!(nearest("atention", VIEWS.iter().copied())[0], "attention");
        assert_eq!(nearest("logit", VIEWS.iter().copied())[0], "logits");
        assert!(nearest("zzzzzzzzzzzz", VIEWS.iter().copied()).is_empty());
    }
}
