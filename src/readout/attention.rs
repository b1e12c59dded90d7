//! Attention read off the trace: one head's vectors, one cell of its score
//! matrix spelt out, and the weighted sum of V.

use ndarray::Array2;

use crate::model::Trace;

/// The head's slice of row `row` of a [T, C] matrix (Q, K, V or the heads'
/// outputs): columns head·dₖ .. (head+1)·dₖ.
pub fn head_row(m: &Array2<f32>, row: usize, head: usize, dk: usize) -> Vec<f32> {
    m.row(row)
        .iter()
        .skip(head * dk)
        .take(dk)
        .copied()
        .collect()
}

/// One score cell (query, key) of a head, with every step of its arithmetic.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub query: usize,
    pub key: usize,
    /// The head's query and key vectors (dₖ each).
    pub q: Vec<f32>,
    pub k: Vec<f32>,
    /// q·k = Σ q_d·k_d.
    pub dot: f32,
    /// √dₖ, or 1 when the scale was switched off.
    pub scale: f32,
    /// s = q·k / scale.
    pub score: f32,
    /// The maximum m of the query's score row (the softmax subtracts it).
    pub row_max: f32,
    /// s − m: exactly 0 when this key holds the row's maximum (the dot
    /// product recomputed in another order would leave float noise, 1e-7).
    pub shifted: f32,
    /// exp(s − m).
    pub exp: f32,
    /// Σ over the row of exp(s − m).
    pub sum_exp: f32,
    /// exp(s − m) / Σ: the weight, recomputed.
    pub weight: f32,
    /// The weight the engine recorded (NaN when the key is past the row).
    pub engine_weight: f32,
}

/// Spells out cell (query, key) of `head` in `layer`; `scaled` is false when
/// the ÷√dₖ intervention is on. The key is clamped to the query's row.
pub fn cell(tr: &Trace, layer: usize, head: usize, query: usize, key: usize, scaled: bool) -> Cell {
    let l = &tr.layers[layer];
    let dk = l.q.ncols() / l.scores.len().max(1);
    let row = &l.scores[head][query];
    let key = key.min(row.len().saturating_sub(1));
    let q = head_row(&l.q, query, head, dk);
    let k = head_row(&l.k, key, head, dk);
    let dot: f32 = q.iter().zip(&k).map(|(a, b)| a * b).sum();
    let scale = if scaled { l.attn_divisor } else { 1.0 };
    let score = dot / scale;
    let row_max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let shifted = if row.get(key) == Some(&row_max) {
        0.0
    } else {
        score - row_max
    };
    let exp = shifted.exp();
    let sum_exp: f32 = row.iter().map(|x| (x - row_max).exp()).sum();
    Cell {
        query,
        key,
        q,
        k,
        dot,
        scale,
        score,
        row_max,
        shifted,
        exp,
        sum_exp,
        weight: exp / sum_exp,
        engine_weight: l.probs[head][query].get(key).copied().unwrap_or(f32::NAN),
    }
}

/// Component `d` (within the head) of the head's output at `query`:
/// Σ_k p_k · v_k[d], recomputed from the weights and V.
pub fn weighted_sum(tr: &Trace, layer: usize, head: usize, query: usize, d: usize) -> f32 {
    let l = &tr.layers[layer];
    let dk = l.q.ncols() / l.scores.len().max(1);
    let c = head * dk + d;
    l.probs[head][query]
        .iter()
        .enumerate()
        .map(|(kk, pk)| pk * l.v[[kk, c]])
        .sum()
}

/// The key the head weighs most from `query` (the first of equal weights).
pub fn top_key(tr: &Trace, layer: usize, head: usize, query: usize) -> usize {
    super::argmax(&tr.layers[layer].probs[head][query])
}

/// How many later keys the causal mask hides from `query`.
pub fn masked_keys(tr: &Trace, query: usize) -> usize {
    tr.len().saturating_sub(query + 1)
}
