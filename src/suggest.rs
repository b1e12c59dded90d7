//! "Did you mean …?": the nearest names to a misspelt one, for error messages.

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
        let views = crate::pass::View::ALL.map(crate::pass::View::name);
        assert_eq!(nearest("atention", views)[0], "attention");
        assert_eq!(nearest("logit", views)[0], "logits");
        assert!(nearest("zzzzzzzzzzzz", views).is_empty());
    }
}
