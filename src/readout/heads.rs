//! What a head has become, in two numbers: how much it looks at the previous
//! token, and whether it completes a repeated pattern (an induction head).
//!
//! Both are measured on one probe: `n` random tokens, then the same `n`
//! again (the usual probe of the interpretability literature, e.g. Olsson
//! et al. 2022, "In-context learning and induction heads"). Random tokens
//! carry no meaning, so a head that scores here does so by position or by
//! copying, not by what the words say:
//!
//! - previous-token score: the mean weight query t puts on key t − 1, over
//!   t = 1 … 2n − 1 (or over a real text, when one is given: see [`measure`]);
//! - induction score: in the second copy, query t (token x[t] = x[t − n])
//!   attends to the token that followed that token's first occurrence,
//!   key t − n + 1; the mean weight on it over t = n … 2n − 1.
//!
//! A head that spreads its weight evenly scores about 1/(t + 1) on either.

use crate::model::{Gpt, Interventions, ModelError, Trace};
use crate::rng::Rng;

/// Both scores for every head: `[layer][head]`, each in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct HeadScores {
    pub previous_token: Vec<Vec<f32>>,
    pub induction: Vec<Vec<f32>>,
}

/// The length of one half of the probe for a model with context `n_ctx`.
pub fn probe_period(n_ctx: usize) -> usize {
    (n_ctx / 2).clamp(1, 64)
}

/// `period` tokens drawn from `0..vocab` (never `avoid`, the end-of-text
/// token, which would reset what the model reads), then the same again.
pub fn induction_probe(vocab: usize, period: usize, avoid: Option<u32>, seed: u64) -> Vec<u32> {
    let mut rng = Rng::new(seed ^ 0x1dc7_10f0_5eed_0001);
    let mut first = Vec::with_capacity(period);
    while first.len() < period && vocab > 1 {
        let id = rng.below(vocab) as u32;
        if Some(id) != avoid {
            first.push(id);
        }
    }
    let mut probe = first.clone();
    probe.extend(first);
    probe
}

/// Mean weight on key t − 1 over queries t ≥ 1 of one head's rows
/// (`probs[t]` holds keys 0..=t).
pub fn previous_token_score(probs: &[Vec<f32>]) -> f32 {
    mean((1..probs.len()).filter_map(|t| probs[t].get(t - 1).copied()))
}

/// Mean weight on key t − period + 1 over queries t in the probe's second half.
pub fn induction_score(probs: &[Vec<f32>], period: usize) -> f32 {
    if period == 0 {
        return 0.0;
    }
    mean((period..probs.len()).filter_map(|t| probs[t].get(t + 1 - period).copied()))
}

fn mean(xs: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = xs.fold((0.0f64, 0usize), |(s, n), x| (s + x as f64, n + 1));
    if n == 0 { 0.0 } else { (sum / n as f64) as f32 }
}

/// Both scores of every head, read from a trace of the probe.
pub fn scores_of_trace(trace: &Trace, period: usize) -> HeadScores {
    let per_head = |f: &dyn Fn(&[Vec<f32>]) -> f32| {
        trace
            .layers
            .iter()
            .map(|l| l.probs.iter().map(|h| f(h)).collect())
            .collect()
    };
    HeadScores {
        previous_token: per_head(&previous_token_score),
        induction: per_head(&|h| induction_score(h, period)),
    }
}

/// Scores every head of `gpt`: the induction score on the repeated random
/// probe (seeded by `seed`), the previous-token score on `text` when given
/// (real text: a small model's heads may do on stories what they do not on
/// random tokens), else on the same random probe.
pub fn measure(
    gpt: &Gpt,
    text: Option<&[u32]>,
    avoid: Option<u32>,
    seed: u64,
) -> Result<HeadScores, ModelError> {
    let period = probe_period(gpt.config.n_positions);
    let probe = induction_probe(gpt.config.vocab_size, period, avoid, seed);
    let trace = gpt.trace(&probe, &Interventions::default())?;
    let mut scores = scores_of_trace(&trace, period);
    if let Some(text) = text.filter(|t| t.len() >= 2) {
        let t = &text[..text.len().min(gpt.config.n_positions)];
        let trace = gpt.trace(t, &Interventions::default())?;
        scores.previous_token = scores_of_trace(&trace, 0).previous_token;
    }
    Ok(scores)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a causal head that puts all its weight on `key(t)`.
    fn one_hot(len: usize, key: impl Fn(usize) -> usize) -> Vec<Vec<f32>> {
        (0..len)
            .map(|t| {
                let mut row = vec![0.0; t + 1];
                row[key(t).min(t)] = 1.0;
                row
            })
            .collect()
    }

    #[test]
    fn a_head_on_the_previous_token_scores_one_there_and_not_as_induction() {
        let h = one_hot(20, |t| t.saturating_sub(1));
        assert_eq!(previous_token_score(&h), 1.0);
        assert_eq!(induction_score(&h, 10), 0.0);
    }

    #[test]
    fn a_head_on_the_token_after_the_last_occurrence_is_an_induction_head() {
        let n = 10;
        let h = one_hot(2 * n, |t| if t >= n { t + 1 - n } else { 0 });
        assert_eq!(induction_score(&h, n), 1.0);
        assert!(previous_token_score(&h) < 0.1);
    }

    #[test]
    fn an_even_head_scores_the_mean_of_one_over_t_plus_one() {
        let h: Vec<Vec<f32>> = (0..8).map(|t| vec![1.0 / (t + 1) as f32; t + 1]).collect();
        let want = (1..8).map(|t| 1.0 / (t + 1) as f64).sum::<f64>() / 7.0;
        assert!((previous_token_score(&h) as f64 - want).abs() < 1e-6);
    }

    #[test]
    fn the_probe_repeats_itself_and_avoids_the_end_of_text_token() {
        let p = induction_probe(5, 40, Some(3), 1);
        assert_eq!(p.len(), 80);
        assert_eq!(p[..40], p[40..]);
        assert!(!p.contains(&3));
        assert!(p.iter().all(|&t| t < 5));
        assert_ne!(induction_probe(5, 40, Some(3), 2), p, "the seed matters");
    }

    #[test]
    fn every_head_of_the_built_in_model_gets_both_scores_in_range() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models/tinystories");
        let gpt = Gpt::open(&dir).expect("built-in model");
        let s = measure(&gpt, None, None, 0).expect("trace");
        for grid in [&s.previous_token, &s.induction] {
            assert_eq!(grid.len(), gpt.config.n_layer);
            assert!(grid.iter().all(|l| l.len() == gpt.config.n_head));
            assert!(grid.iter().flatten().all(|&x| (0.0..=1.0).contains(&x)));
        }
        // Its heads are diffuse (the training lesson says so): none is a clear
        // previous-token head, while an even head would score about 0.035 here.
        let best = s
            .previous_token
            .iter()
            .flatten()
            .fold(0.0f32, |a, &b| a.max(b));
        assert!(
            best > 0.035 && best < 0.5,
            "strongest previous-token head: {best}"
        );
    }
}
