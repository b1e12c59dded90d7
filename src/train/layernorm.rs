//! LayerNorm, forward and backward: y = (x − μ)·r·γ + β with r = 1/√(σ² + ε),
//! per row of C values. The forward keeps μ and r for the backward.

use rayon::prelude::*;

/// A LayerNorm's output and the row statistics its backward needs (the
/// training counterpart of the engine's `LnTrace`).
pub struct LnActs {
    /// γ ⊙ x̂ + β: [N, C].
    pub out: Vec<f32>,
    /// μ of each row: [N].
    pub mean: Vec<f32>,
    /// 1/√(σ² + ε) of each row: [N].
    pub rstd: Vec<f32>,
}

impl LnActs {
    pub fn new(n: usize, c: usize) -> Self {
        LnActs {
            out: vec![0.0; n * c],
            mean: vec![0.0; n],
            rstd: vec![0.0; n],
        }
    }

    /// f32 values held.
    pub fn floats(&self) -> usize {
        self.out.len() + self.mean.len() + self.rstd.len()
    }
}

/// Row-wise LayerNorm of `inp` [N, C] into `ln`.
pub fn layernorm_forward(ln: &mut LnActs, inp: &[f32], g: &[f32], b: &[f32], eps: f32) {
    let c = g.len();
    ln.out
        .par_chunks_mut(c)
        .zip(inp.par_chunks(c))
        .zip(ln.mean.par_iter_mut().zip(ln.rstd.par_iter_mut()))
        .for_each(|((o, x), (mu, rs))| {
            // Sums in f64: rows of the residual stream can have a large mean.
            let m = (x.iter().map(|&v| v as f64).sum::<f64>() / c as f64) as f32;
            let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f32>() / c as f32;
            let r = 1.0 / (v + eps).sqrt();
            for i in 0..c {
                o[i] = (x[i] - m) * r * g[i] + b[i];
            }
            *mu = m;
            *rs = r;
        });
}

/// LayerNorm backward. With x̂ = (x − μ)·r and y = x̂·γ + β:
/// dγ += Σ dy·x̂, dβ += Σ dy, dx += r·(dy·γ − mean(dy·γ) − x̂·mean(dy·γ·x̂))
/// (`+=`: the residual stream's gradient already flows through `dinp`).
pub fn layernorm_backward(
    dinp: &mut [f32],
    dg: &mut [f32],
    db: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    g: &[f32],
    ln: &LnActs,
) {
    let c = g.len();
    let (mean, rstd) = (&ln.mean, &ln.rstd);
    // dx is row-local and runs in parallel; dγ and dβ are sums over rows.
    dinp.par_chunks_mut(c)
        .zip(dout.par_chunks(c))
        .zip(inp.par_chunks(c))
        .zip(mean.par_iter().zip(rstd.par_iter()))
        .for_each(|(((dx, dy), x), (&m, &r))| {
            let mut mean_d = 0.0f32;
            let mut mean_dx = 0.0f32;
            for i in 0..c {
                let xh = (x[i] - m) * r;
                let dn = dy[i] * g[i];
                mean_d += dn;
                mean_dx += dn * xh;
            }
            mean_d /= c as f32;
            mean_dx /= c as f32;
            for i in 0..c {
                let xh = (x[i] - m) * r;
                let dn = dy[i] * g[i];
                dx[i] += r * (dn - mean_d - xh * mean_dx);
            }
        });
    for ((dy, x), (&m, &r)) in dout
        .chunks_exact(c)
        .zip(inp.chunks_exact(c))
        .zip(mean.iter().zip(rstd))
    {
        for i in 0..c {
            dg[i] += dy[i] * (x[i] - m) * r;
            db[i] += dy[i];
        }
    }
}
