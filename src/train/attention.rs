//! Causal self-attention, forward and backward: c_attn makes q|k|v, each head
//! attends over the keys up to its query (in blocks of query rows), W_O mixes
//! the concatenated heads.

use super::matmul::{Threads, mat_mul};
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};
use rayon::prelude::*;

use super::kernels::{softmax, with_simd};
use super::linear::{linear_backward, linear_forward};
use super::params::LayerP;

/// The activations one attention layer keeps for its backward.
pub struct AttnActs<'a> {
    /// c_attn(ln_1): [B·T, 3C].
    pub qkv: &'a [f32],
    /// [B, H, T, T].
    pub probs: &'a [f32],
    /// [B·T, C].
    pub heads: &'a [f32],
}

/// out = W_O · attention(c_attn(inp)), keeping q|k|v, the probabilities and the
/// head outputs. `inp` is ln_1's output [B·T, C].
#[allow(clippy::too_many_arguments)]
pub fn self_attention_forward(
    out: &mut [f32],
    qkv: &mut [f32],
    probs: &mut [f32],
    heads: &mut [f32],
    inp: &[f32],
    w: &LayerP<&[f32]>,
    t: usize,
    nh: usize,
) {
    let c = w.ln_1_g.len();
    linear_forward(qkv, inp, w.attn_w, Some(w.attn_b), c);
    attention_forward(heads, probs, qkv, t, c, nh);
    linear_forward(out, heads, w.attn_proj_w, Some(w.attn_proj_b), c);
}

/// Its backward: from d out to d inp (written, not added), accumulating the
/// gradients of c_attn and W_O; `dheads` and `dqkv` are scratch.
#[allow(clippy::too_many_arguments)]
pub fn self_attention_backward(
    dinp: &mut [f32],
    dheads: &mut [f32],
    dqkv: &mut [f32],
    g: &mut LayerP<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    a: &AttnActs,
    w: &LayerP<&[f32]>,
    t: usize,
    nh: usize,
) {
    let c = w.ln_1_g.len();
    linear_backward(
        dheads,
        g.attn_proj_w,
        Some(g.attn_proj_b),
        dout,
        a.heads,
        w.attn_proj_w,
        c,
        false,
    );
    attention_backward(dqkv, dheads, a.qkv, a.probs, t, c, nh);
    linear_backward(
        dinp,
        g.attn_w,
        Some(g.attn_b),
        dqkv,
        inp,
        w.attn_w,
        c,
        false,
    );
}

/// Query rows per attention block: small enough that each block's products run
/// single-threaded inside the per-sequence parallel loop, and causal (a block
/// only multiplies the keys up to its last query).
pub(crate) const ATT_BLOCK: usize = 64;

/// A `[rows, cols]` window of a row-major buffer with row stride `stride`.
pub(crate) fn strided(buf: &[f32], rows: usize, cols: usize, stride: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols).strides((stride, 1)), buf).expect("strided view in bounds")
}

pub(crate) fn strided_mut(
    buf: &mut [f32],
    rows: usize,
    cols: usize,
    stride: usize,
) -> ArrayViewMut2<'_, f32> {
    ArrayViewMut2::from_shape((rows, cols).strides((stride, 1)), buf)
        .expect("strided view in bounds")
}

/// Causal multi-head attention from packed q|k|v rows [B·T, 3C]: writes the
/// probabilities `probs` [B, H, T, T] (zero above the diagonal) and the
/// concatenated head outputs `heads` [B·T, C].
pub fn attention_forward(
    heads: &mut [f32],
    probs: &mut [f32],
    qkv: &[f32],
    t: usize,
    c: usize,
    nh: usize,
) {
    let dk = c / nh;
    let scale = 1.0 / (dk as f32).sqrt();
    heads
        .par_chunks_mut(t * c)
        .zip(probs.par_chunks_mut(nh * t * t))
        .zip(qkv.par_chunks(t * 3 * c))
        .for_each(|((heads, probs), qkv)| {
            for h in 0..nh {
                let probs = &mut probs[h * t * t..(h + 1) * t * t];
                for r0 in (0..t).step_by(ATT_BLOCK) {
                    let bs = ATT_BLOCK.min(t - r0);
                    let n = r0 + bs;
                    let q = strided(&qkv[r0 * 3 * c + h * dk..], bs, dk, 3 * c);
                    let k = strided(&qkv[c + h * dk..], n, dk, 3 * c);
                    let v = strided(&qkv[2 * c + h * dk..], n, dk, 3 * c);
                    {
                        let mut s = strided_mut(&mut probs[r0 * t..], bs, n, t);
                        mat_mul(scale, &q, &k.t(), 0.0, &mut s, Threads::One);
                    }
                    with_simd(|| {
                        for i in 0..bs {
                            let row = &mut probs[(r0 + i) * t..(r0 + i + 1) * t];
                            let (row, masked) = row.split_at_mut(r0 + i + 1);
                            softmax(row);
                            masked.fill(0.0);
                        }
                    });
                    let p = strided(&probs[r0 * t..], bs, n, t);
                    let mut y = strided_mut(&mut heads[r0 * c + h * dk..], bs, dk, c);
                    mat_mul(1.0, &p, &v, 0.0, &mut y, Threads::One);
                }
            }
        });
}

/// Its backward, per sequence in parallel, in blocks of query rows. With
/// P the probabilities, dY the gradient of the head outputs and S = QKᵀ·scale:
/// dP = dY·Vᵀ, dV += Pᵀ·dY, dS = P ⊙ (dP − rowsum(P ⊙ dP)) (softmax),
/// dQ = dS·K·scale, dK += dSᵀ·Q·scale. Masked entries have P = 0, so dS = 0 there.
pub fn attention_backward(
    dqkv: &mut [f32],
    dheads: &[f32],
    qkv: &[f32],
    probs: &[f32],
    t: usize,
    c: usize,
    nh: usize,
) {
    let dk = c / nh;
    let scale = 1.0 / (dk as f32).sqrt();
    dqkv.par_chunks_mut(t * 3 * c)
        .zip(dheads.par_chunks(t * c))
        .zip(qkv.par_chunks(t * 3 * c))
        .zip(probs.par_chunks(nh * t * t))
        .for_each(|(((dqkv, dheads), qkv), probs)| {
            dqkv.fill(0.0);
            let mut ds = vec![0.0f32; ATT_BLOCK * t];
            for h in 0..nh {
                let probs = &probs[h * t * t..(h + 1) * t * t];
                for r0 in (0..t).step_by(ATT_BLOCK) {
                    let bs = ATT_BLOCK.min(t - r0);
                    let n = r0 + bs;
                    let q = strided(&qkv[r0 * 3 * c + h * dk..], bs, dk, 3 * c);
                    let k = strided(&qkv[c + h * dk..], n, dk, 3 * c);
                    let v = strided(&qkv[2 * c + h * dk..], n, dk, 3 * c);
                    let p = strided(&probs[r0 * t..], bs, n, t);
                    let dy = strided(&dheads[r0 * c + h * dk..], bs, dk, c);
                    {
                        let mut dp = strided_mut(&mut ds, bs, n, t);
                        mat_mul(1.0, &dy, &v.t(), 0.0, &mut dp, Threads::One);
                    }
                    with_simd(|| {
                        for i in 0..bs {
                            let prow = &probs[(r0 + i) * t..(r0 + i) * t + n];
                            let drow = &mut ds[i * t..i * t + n];
                            let mut s = 0.0f32;
                            for (a, b) in prow.iter().zip(drow.iter()) {
                                s += a * b;
                            }
                            for (d, &pp) in drow.iter_mut().zip(prow) {
                                *d = pp * (*d - s);
                            }
                        }
                    });
                    let dsv = strided(&ds, bs, n, t);
                    {
                        let mut dq = strided_mut(&mut dqkv[r0 * 3 * c + h * dk..], bs, dk, 3 * c);
                        mat_mul(scale, &dsv, &k, 1.0, &mut dq, Threads::One);
                    }
                    {
                        let mut dkm = strided_mut(&mut dqkv[c + h * dk..], n, dk, 3 * c);
                        mat_mul(scale, &dsv.t(), &q, 1.0, &mut dkm, Threads::One);
                    }
                    {
                        let mut dv = strided_mut(&mut dqkv[2 * c + h * dk..], n, dk, 3 * c);
                        mat_mul(1.0, &p.t(), &dy, 1.0, &mut dv, Threads::One);
                    }
                }
            }
        });
}
