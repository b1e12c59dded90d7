//! The next-token distribution read off a row of logits.

use ndarray::ArrayView1;

use crate::model::{Gpt, Trace, softmax_in_place};

/// softmax(logits / t).
pub fn softmax_t(logits: ArrayView1<f32>, t: f32) -> Vec<f32> {
    let mut p: Vec<f32> = logits.iter().map(|x| x / t).collect();
    softmax_in_place(&mut p);
    p
}

/// ln Σ exp(logit) over the row: p = exp(logit − lse).
pub fn lse(logits: ArrayView1<f32>) -> f64 {
    crate::model::logsumexp(logits.iter().copied())
}

/// ln softmax(logits)[id].
pub fn log_prob(logits: ArrayView1<f32>, id: usize) -> f64 {
    logits.get(id).copied().unwrap_or(f32::NAN) as f64 - lse(logits)
}

/// The probability mass of the `k` most likely entries of `probs`.
pub fn top_k_mass(probs: &[f32], k: usize) -> f64 {
    super::ranked(probs)
        .into_iter()
        .take(k)
        .map(|i| probs[i] as f64)
        .sum()
}

/// The top logit at `pos` recomputed through the unembedding (wte when tied,
/// else lm_head): (token, ln_f(x)·W_U[token], the logit the engine computed).
pub fn recompute_top(gpt: &Gpt, tr: &Trace, pos: usize) -> (usize, f32, f32) {
    let row = tr.logits.row(pos);
    let j = super::argmax(&row.to_vec());
    let wte = gpt.weights.unembedding().view2();
    let re = tr
        .ln_f
        .out
        .row(pos)
        .iter()
        .zip(wte.row(j).iter())
        .map(|(x, y)| x * y)
        .sum();
    (j, re, row[j])
}
