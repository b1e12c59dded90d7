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

/// Backward of the mean cross-entropy: d loss / d logits = (p − onehot(target)) / N,
/// written over the probabilities in place.
pub fn crossentropy_backward(probs: &mut [f32], targets: &[u32]) {
    let n = targets.len();
    let v = probs.len() / n;
    let inv = 1.0 / n as f32;
    probs
        .par_chunks_mut(v)
        .zip(targets.par_iter())
        .for_each(|(row, &tg)| {
            row[tg as usize] -= 1.0;
            for x in row.iter_mut() {
                *x *= inv;
            }
        });
}
