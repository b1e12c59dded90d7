//! AdamW (decoupled weight decay) over the flat parameter buffer, plus the
//! learning-rate schedule and global-norm gradient clipping.

use rayon::prelude::*;

/// AdamW state: first and second moments, laid out like the parameters.
pub struct AdamW {
    pub m: Vec<f32>,
    pub v: Vec<f32>,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl AdamW {
    pub fn new(n: usize) -> Self {
        AdamW {
            m: vec![0.0; n],
            v: vec![0.0; n],
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
        }
    }

    /// One update at 1-based step `step`. `decay[i]` says whether parameter i
    /// gets weight decay (matrices and embeddings do; biases and LayerNorm
    /// gains do not, as in GPT-2 training practice).
    pub fn step(
        &mut self,
        params: &mut [f32],
        grads: &[f32],
        decay: &[bool],
        lr: f32,
        weight_decay: f32,
        step: u64,
    ) {
        let (b1, b2, eps) = (self.beta1, self.beta2, self.eps);
        let c1 = 1.0 - b1.powi(step as i32);
        let c2 = 1.0 - b2.powi(step as i32);
        params
            .par_chunks_mut(8192)
            .zip(grads.par_chunks(8192))
            .zip(self.m.par_chunks_mut(8192))
            .zip(self.v.par_chunks_mut(8192))
            .zip(decay.par_chunks(8192))
            .for_each(|((((p, g), m), v), d)| {
                for i in 0..p.len() {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let mhat = m[i] / c1;
                    let vhat = v[i] / c2;
                    let wd = if d[i] { weight_decay * p[i] } else { 0.0 };
                    p[i] -= lr * (mhat / (vhat.sqrt() + eps) + wd);
                }
            });
    }
}

/// Linear warm-up to `max_lr` over `warmup` steps, then cosine decay to
/// `min_lr` at `total` steps. `step` is 0-based.
pub fn learning_rate(step: u64, warmup: u64, total: u64, max_lr: f32, min_lr: f32) -> f32 {
    if step < warmup {
        return max_lr * (step + 1) as f32 / warmup as f32;
    }
    if step >= total {
        return min_lr;
    }
    let span = (total - warmup).max(1) as f32;
    let ratio = (step - warmup) as f32 / span;
    let coeff = 0.5 * (1.0 + (std::f32::consts::PI * ratio).cos());
    min_lr + coeff * (max_lr - min_lr)
}

/// Scales the gradients so their global L2 norm is at most `max_norm`; returns
/// the norm before clipping.
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f32) -> f32 {
    let norm = sum_of_squares(grads).sqrt() as f32;
    if max_norm > 0.0 && norm > max_norm {
        let s = max_norm / (norm + 1e-6);
        grads.par_iter_mut().for_each(|g| *g *= s);
    }
    norm
}

/// Σ g², in parallel but in an order fixed by the data alone: rayon's `sum`
/// splits work where threads steal it, so its rounding (and one run's clip
/// factor, and from there every weight) could differ between two runs.
/// Fixed chunks summed in parallel, then added up in index order, give the
/// same bits every time, whatever the thread count.
fn sum_of_squares(grads: &[f32]) -> f64 {
    const CHUNK: usize = 1 << 14;
    let partial: Vec<f64> = grads
        .par_chunks(CHUNK)
        .map(|c| c.iter().map(|&g| (g as f64) * (g as f64)).sum::<f64>())
        .collect();
    partial.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_norm_has_the_same_bits_on_any_number_of_threads() {
        // Values of mixed magnitude, so that the order of the additions shows
        // in the last bits of an f64 sum.
        let mut x = 0x9e37_79b9_u32;
        let g: Vec<f32> = (0..3_000_001)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x as f32 / u32::MAX as f32 - 0.5) * if i % 7 == 0 { 1e3 } else { 1e-3 }
            })
            .collect();
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("a thread pool");
            pool.install(|| sum_of_squares(&g)).to_bits()
        };
        let one = on(1);
        for threads in [2, 3, 5, 8] {
            for _ in 0..3 {
                assert_eq!(on(threads), one, "{threads} threads");
            }
        }
    }

    #[test]
    fn schedule_warms_up_then_decays_to_the_floor() {
        let lr = |s| learning_rate(s, 10, 110, 1.0, 0.1);
        assert!((lr(0) - 0.1).abs() < 1e-6);
        assert!((lr(9) - 1.0).abs() < 1e-6);
        assert!((lr(10) - 1.0).abs() < 1e-6);
        assert!((lr(60) - 0.55).abs() < 1e-5);
        assert!((lr(110) - 0.1).abs() < 1e-6);
        assert!(lr(30) > lr(31));
    }

    #[test]
    fn clipping_caps_the_global_norm() {
        let mut g = vec![3.0, 4.0];
        assert_eq!(clip_grad_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-5 && (g[1] - 0.8).abs() < 1e-5);
        let mut h = vec![0.3, 0.4];
        clip_grad_norm(&mut h, 1.0);
        assert_eq!(h, vec![0.3, 0.4]);
    }

    #[test]
    fn adamw_first_step_moves_each_parameter_by_lr_against_its_gradient() {
        let mut opt = AdamW::new(3);
        let mut p = vec![1.0, 1.0, 1.0];
        opt.step(
            &mut p,
            &[2.0, -0.5, 0.0],
            &[false, false, true],
            0.1,
            0.5,
            1,
        );
        assert!((p[0] - 0.9).abs() < 1e-5);
        assert!((p[1] - 1.1).abs() < 1e-5);
        // No gradient, but decoupled weight decay: 1 − 0.1·0.5·1.
        assert!((p[2] - 0.95).abs() < 1e-5);
    }
}
