//! The hand-written backward pass: one function per stage of the forward pass,
//! each turning the gradient of its output into gradients of its inputs and
//! parameters. Parameter gradients are accumulated (`+=`), so the caller zeroes
//! them once per step.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::forward::{ATT_BLOCK, Acts, GELU_C, GELU_S, mul_into, strided, strided_mut};
use super::kernels::{tanh, with_simd};
use super::params::{Layout, views, views_mut};
use crate::model::Config;

/// Scratch gradients of the activations, reused by every block.
pub struct GradScratch {
    dres: Vec<f32>,
    dln: Vec<f32>,
    datty: Vec<f32>,
    dqkv: Vec<f32>,
    dmlp: Vec<f32>,
    /// d of a dropped-out branch (the residual gradient times the mask).
    dbranch: Vec<f32>,
}

impl GradScratch {
    pub fn new(cfg: &Config, b: usize, t: usize) -> Self {
        let n = b * t;
        let c = cfg.n_embd;
        GradScratch {
            dres: vec![0.0; n * c],
            dln: vec![0.0; n * c],
            datty: vec![0.0; n * c],
            dqkv: vec![0.0; n * 3 * c],
            dmlp: vec![0.0; n * cfg.mlp_dim()],
            dbranch: vec![0.0; n * c],
        }
    }

    /// f32 values held, for the memory count's test.
    pub fn floats(&self) -> usize {
        self.dres.len()
            + self.dln.len()
            + self.datty.len()
            + self.dqkv.len()
            + self.dmlp.len()
            + self.dbranch.len()
    }
}

/// Softmax + cross-entropy: d loss / d logits = (p − onehot(target)) / (B·T),
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

/// Backward of out = inp·w + b: dinp (= or += by `accumulate`), dw += inpᵀ·dout,
/// db += Σ rows of dout.
#[allow(clippy::too_many_arguments)]
pub fn matmul_backward(
    dinp: &mut [f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    w: &[f32],
    ic: usize,
    accumulate: bool,
) {
    let oc = w.len() / ic;
    let n = inp.len() / ic;
    let d = ArrayView2::from_shape((n, oc), dout).expect("dout shape");
    let x = ArrayView2::from_shape((n, ic), inp).expect("inp shape");
    let wv = ArrayView2::from_shape((ic, oc), w).expect("w shape");
    let mut dx = ArrayViewMut2::from_shape((n, ic), dinp).expect("dinp shape");
    general_mat_mul(
        1.0,
        &d,
        &wv.t(),
        if accumulate { 1.0 } else { 0.0 },
        &mut dx,
    );
    let mut dwv = ArrayViewMut2::from_shape((ic, oc), dw).expect("dw shape");
    general_mat_mul(1.0, &x.t(), &d, 1.0, &mut dwv);
    if let Some(db) = db {
        for row in dout.chunks_exact(oc) {
            for (g, r) in db.iter_mut().zip(row) {
                *g += r;
            }
        }
    }
}

/// LayerNorm backward. With x̂ = (x − μ)·r and y = x̂·γ + β:
/// dγ += Σ dy·x̂, dβ += Σ dy, dx += r·(dy·γ − mean(dy·γ) − x̂·mean(dy·γ·x̂)).
#[allow(clippy::too_many_arguments)]
pub fn layernorm_backward(
    dinp: &mut [f32],
    dg: &mut [f32],
    db: &mut [f32],
    dout: &[f32],
    inp: &[f32],
    g: &[f32],
    mean: &[f32],
    rstd: &[f32],
) {
    let c = g.len();
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

/// GELU (tanh form) backward, in place: dx = dy · gelu'(x).
pub fn gelu_backward(d: &mut [f32], inp: &[f32]) {
    d.par_chunks_mut(4096)
        .zip(inp.par_chunks(4096))
        .for_each(|(d, x)| {
            with_simd(|| {
                for (d, &x) in d.iter_mut().zip(x) {
                    let u = GELU_S * (x + GELU_C * x * x * x);
                    let th = tanh(u);
                    let du = GELU_S * (1.0 + 3.0 * GELU_C * x * x);
                    *d *= 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du;
                }
            })
        });
}

/// Attention backward, per sequence in parallel, in blocks of query rows. With
/// P the probabilities, dY the gradient of the head outputs and S = QKᵀ·scale:
/// dP = dY·Vᵀ, dV += Pᵀ·dY, dS = P ⊙ (dP − rowsum(P ⊙ dP)) (softmax),
/// dQ = dS·K·scale, dK += dSᵀ·Q·scale. Masked entries have P = 0, so dS = 0 there.
#[allow(clippy::too_many_arguments)]
pub fn attention_backward(
    dqkv: &mut [f32],
    dout: &[f32],
    qkv: &[f32],
    att: &[f32],
    t: usize,
    c: usize,
    nh: usize,
) {
    let dk = c / nh;
    let scale = 1.0 / (dk as f32).sqrt();
    dqkv.par_chunks_mut(t * 3 * c)
        .zip(dout.par_chunks(t * c))
        .zip(qkv.par_chunks(t * 3 * c))
        .zip(att.par_chunks(nh * t * t))
        .for_each(|(((dqkv, dout), qkv), att)| {
            dqkv.fill(0.0);
            let mut ds = vec![0.0f32; ATT_BLOCK * t];
            for h in 0..nh {
                let att = &att[h * t * t..(h + 1) * t * t];
                for r0 in (0..t).step_by(ATT_BLOCK) {
                    let bs = ATT_BLOCK.min(t - r0);
                    let n = r0 + bs;
                    let q = strided(&qkv[r0 * 3 * c + h * dk..], bs, dk, 3 * c);
                    let k = strided(&qkv[c + h * dk..], n, dk, 3 * c);
                    let v = strided(&qkv[2 * c + h * dk..], n, dk, 3 * c);
                    let p = strided(&att[r0 * t..], bs, n, t);
                    let dy = strided(&dout[r0 * c + h * dk..], bs, dk, c);
                    {
                        let mut dp = strided_mut(&mut ds, bs, n, t);
                        general_mat_mul(1.0, &dy, &v.t(), 0.0, &mut dp);
                    }
                    with_simd(|| {
                        for i in 0..bs {
                            let prow = &att[(r0 + i) * t..(r0 + i) * t + n];
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
                        general_mat_mul(scale, &dsv, &k, 1.0, &mut dq);
                    }
                    {
                        let mut dkm = strided_mut(&mut dqkv[c + h * dk..], n, dk, 3 * c);
                        general_mat_mul(scale, &dsv.t(), &q, 1.0, &mut dkm);
                    }
                    {
                        let mut dv = strided_mut(&mut dqkv[2 * c + h * dk..], n, dk, 3 * c);
                        general_mat_mul(1.0, &p.t(), &dy, 1.0, &mut dv);
                    }
                }
            }
        });
}

/// The gradient reaching a branch through its dropout mask: `d` itself when the
/// pass ran without dropout, else `d ⊙ mask` written into `buf`.
fn branch_grad<'a>(buf: &'a mut [f32], d: &'a [f32], mask: &[f32]) -> &'a [f32] {
    if mask.is_empty() {
        d
    } else {
        mul_into(buf, d, mask);
        buf
    }
}

/// Backward through the whole model after [`super::forward::forward`] with the
/// same `acts`: adds d(mean loss)/d(parameter) into `grads` (same layout as
/// `params`). Consumes `acts.probs` (turned into d loss/d logits).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    cfg: &Config,
    layout: &Layout,
    params: &[f32],
    grads: &mut [f32],
    acts: &mut Acts,
    s: &mut GradScratch,
    inputs: &[u32],
    targets: &[u32],
) {
    let (b, t) = (acts.b, acts.t);
    let (c, nh, m, v) = (cfg.n_embd, cfg.n_head, cfg.mlp_dim(), cfg.vocab_size);
    let p = views(params, layout);
    let mut g = views_mut(grads, layout);

    crossentropy_backward(&mut acts.probs, targets);
    // Tied unembedding: dlnf = dlogits · wte, dwte += dlogitsᵀ · lnf.
    {
        let dl = ArrayView2::from_shape((b * t, v), &acts.probs[..]).expect("dlogits");
        let wte = ArrayView2::from_shape((v, c), p.wte).expect("wte");
        let mut dx = ArrayViewMut2::from_shape((b * t, c), &mut s.dln[..]).expect("dlnf");
        general_mat_mul(1.0, &dl, &wte, 0.0, &mut dx);
        let x = ArrayView2::from_shape((b * t, c), &acts.lnf[..]).expect("lnf");
        let mut dw = ArrayViewMut2::from_shape((v, c), &mut *g.wte).expect("dwte");
        general_mat_mul(1.0, &dl.t(), &x, 1.0, &mut dw);
    }
    let last: &[f32] = match acts.layers.last() {
        Some(a) => &a.res3,
        None => &acts.encoded,
    };
    s.dres.fill(0.0);
    layernorm_backward(
        &mut s.dres,
        g.lnf_g,
        g.lnf_b,
        &s.dln,
        last,
        p.lnf_g,
        &acts.lnf_mean,
        &acts.lnf_rstd,
    );
    for l in (0..cfg.n_layer).rev() {
        let a = &acts.layers[l];
        let x_in: &[f32] = if l == 0 {
            &acts.encoded
        } else {
            &acts.layers[l - 1].res3
        };
        let w = &p.layers[l];
        let gw = &mut g.layers[l];
        // res3 = res2 + drop(mlp(ln2(res2))); s.dres holds d res3.
        let dout = branch_grad(&mut s.dbranch, &s.dres, &a.drop_mlp);
        matmul_backward(
            &mut s.dmlp,
            gw.fcproj_w,
            Some(gw.fcproj_b),
            dout,
            &a.fch_gelu,
            w.fcproj_w,
            m,
            false,
        );
        gelu_backward(&mut s.dmlp, &a.fch);
        matmul_backward(
            &mut s.dln,
            gw.fc_w,
            Some(gw.fc_b),
            &s.dmlp,
            &a.ln2,
            w.fc_w,
            c,
            false,
        );
        layernorm_backward(
            &mut s.dres,
            gw.ln2_g,
            gw.ln2_b,
            &s.dln,
            &a.res2,
            w.ln2_g,
            &a.ln2_mean,
            &a.ln2_rstd,
        );
        // res2 = x_in + drop(attn(ln1(x_in))); s.dres now holds d res2.
        let dout = branch_grad(&mut s.dbranch, &s.dres, &a.drop_attn);
        matmul_backward(
            &mut s.datty,
            gw.proj_w,
            Some(gw.proj_b),
            dout,
            &a.atty,
            w.proj_w,
            c,
            false,
        );
        attention_backward(&mut s.dqkv, &s.datty, &a.qkv, &a.att, t, c, nh);
        matmul_backward(
            &mut s.dln,
            gw.qkv_w,
            Some(gw.qkv_b),
            &s.dqkv,
            &a.ln1,
            w.qkv_w,
            c,
            false,
        );
        layernorm_backward(
            &mut s.dres,
            gw.ln1_g,
            gw.ln1_b,
            &s.dln,
            x_in,
            w.ln1_g,
            &a.ln1_mean,
            &a.ln1_rstd,
        );
    }
    // Embeddings: every position's gradient goes to its token row and position row.
    let dembd = branch_grad(&mut s.dbranch, &s.dres, &acts.drop_embd);
    for (i, (&tok, d)) in inputs.iter().zip(dembd.chunks_exact(c)).enumerate() {
        let pos = i % t;
        let te = &mut g.wte[tok as usize * c..(tok as usize + 1) * c];
        for (a, b) in te.iter_mut().zip(d) {
            *a += b;
        }
        let pe = &mut g.wpe[pos * c..(pos + 1) * c];
        for (a, b) in pe.iter_mut().zip(d) {
            *a += b;
        }
    }
}
