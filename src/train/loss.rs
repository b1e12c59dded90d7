//! The loss: softmax cross-entropy over the vocabulary, forward and backward.

use rayon::prelude::*;

use super::kernels::{softmax, with_simd};

/// Softmax of every row of logits [N, V] (in place, leaving probabilities) and
/// the cross-entropy −log p(target) of each row.
pub fn crossentropy_forward(probs: &mut [f32], losses: &mut [f32], targets: &[u32]) {
    let v = probs.len() / losses.len();
    probs
        .par_chunks_mut(v)
        .zip(losses.par_iter_mut())
        .zip(targets.par_iter())
        .for_each(|((row, loss), &tg)| {
            let logit = row[tg as usize];
            let lse = with_simd(|| softmax(row));
            *loss = lse - logit;
        });
}

/// Backward of the (weighted) mean cross-entropy Σᵢ wᵢ·lossᵢ / Σᵢ wᵢ:
/// d loss / d logitsᵢ = wᵢ·(p − onehot(target)) / Σ w, written over the
/// probabilities in place. Without weights every wᵢ is 1 (the mean over N rows);
/// a row of weight 0 gets no gradient, and if every weight is 0 nothing does.
pub fn crossentropy_backward(probs: &mut [f32], targets: &[u32], weights: Option<&[f32]>) {
    let n = targets.len();
    let v = probs.len() / n;
    let inv = 1.0 / n as f32;
    let total: f64 = weights.map_or(0.0, |w| w.iter().map(|&x| x as f64).sum());
    probs
        .par_chunks_mut(v)
        .zip(targets.par_iter())
        .enumerate()
        .for_each(|(i, (row, &tg))| {
            let scale = match weights {
                None => inv,
                Some(_) if total == 0.0 => 0.0,
                Some(w) => (w[i] as f64 / total) as f32,
            };
            row[tg as usize] -= 1.0;
            for x in row.iter_mut() {
                *x *= scale;
            }
        });
}

/// The (weighted) mean of the per-position losses: Σ wᵢ·lossᵢ / Σ wᵢ, or the
/// plain mean without weights; 0 when no position counts.
pub fn mean_loss(losses: &[f32], weights: Option<&[f32]>) -> f32 {
    match weights {
        None => {
            let sum: f64 = losses.iter().map(|&l| l as f64).sum();
            (sum / losses.len() as f64) as f32
        }
        Some(w) => {
            let total: f64 = w.iter().map(|&x| x as f64).sum();
            if total == 0.0 {
                return 0.0;
            }
            let sum: f64 = losses
                .iter()
                .zip(w)
                .filter(|&(_, &wi)| wi != 0.0)
                .map(|(&l, &wi)| l as f64 * wi as f64)
                .sum();
            (sum / total) as f32
        }
    }
}
