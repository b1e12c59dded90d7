//! Numbers derived from a [`Trace`] that more than one front end shows: the
//! explorer's views, the lesson placeholders and the CLI all read them here,
//! so none recomputes and a number means the same wherever it appears.
//!
//! No terminal in here, and no formatting (that is [`crate::fmt`]). Each
//! function reads the trace (and, where the trace does not hold the answer,
//! the weights through the engine's own functions); none changes them.
//!
//! - [`attention`]: a head's slice of Q/K/V, one score cell spelt out (q·k,
//!   ÷√dₖ, the softmax of its row), the weighted sum of V, the top key;
//! - [`layernorm`]: the three LayerNorm sites and their statistics;
//! - [`logits`]: softmax at a temperature, ranking, entropy, log-sum-exp,
//!   the tied unembedding recomputed;
//! - [`loss`]: per-token cross-entropy, mean loss and perplexity;
//! - [`lens`]: the logit lens;
//! - [`embedding`]: nearest tokens and a 2-D projection of the table;
//! - [`generate`]: short continuations for previews;
//! - [`heads`]: previous-token and induction scores of every head;
//! - [`rope`]: RoPE's rotation of q and k, GQA's shared key/value heads;
//! - [`mlp`]: one neuron's GELU, or SwiGLU's gate, SiLU, up and product;
//! - [`quant`]: one block of a weight matrix in Q8_0, Q4_0 and Q4_1, and
//!   every format's bytes per token.
//!
//! [`Trace`]: crate::model::Trace

pub mod attention;
pub mod bpe;
pub mod compare;
pub mod embedding;
pub mod generate;
pub mod heads;
pub mod layernorm;
pub mod lens;
pub mod logits;
pub mod loss;
pub mod mlp;
pub mod quant;
pub mod rope;

use ndarray::ArrayView1;

/// The index of the largest value (the first of equal ones; 0 when empty).
pub fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in xs.iter().enumerate() {
        if *x > xs[best] {
            best = i;
        }
    }
    best
}

/// Indices by descending value (ties by index).
pub fn ranked(xs: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[b].total_cmp(&xs[a]).then(a.cmp(&b)));
    idx
}

/// Keeps the `k` largest `(id, value)` pairs, sorted descending (ties by id).
pub(crate) fn top_by(v: &mut Vec<(u32, f32)>, k: usize) {
    let k = k.min(v.len());
    if k == 0 {
        v.clear();
        return;
    }
    v.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
}

/// The length ‖x‖.
pub fn norm(x: ArrayView1<f32>) -> f32 {
    x.dot(&x).sqrt()
}

/// Entropy of a probability distribution, in nats (0 = all mass on one entry).
pub fn entropy(p: &[f32]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x as f64 * (x as f64).ln())
        .sum::<f64>()
}

#[cfg(test)]
mod tests;
