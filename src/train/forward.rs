//! The batched training forward pass over `[B, T]` tokens. Unlike the engine's
//! step-by-step pass it keeps every activation the backward pass needs, in
//! buffers allocated once.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, ShapeBuilder};
use rayon::prelude::*;

use super::kernels::{softmax, tanh, with_simd};
use super::params::{Layout, views};
use crate::model::Config;
use crate::rng::Rng;

/// √(2/π), for the tanh form of GELU.
pub(crate) const GELU_S: f32 = 0.797_884_6;
pub(crate) const GELU_C: f32 = 0.044715;

/// Activations of one block, all `[B·T, width]` row-major.
pub struct LayerActs {
    pub ln1: Vec<f32>,
    pub ln1_mean: Vec<f32>,
    pub ln1_rstd: Vec<f32>,
    pub qkv: Vec<f32>,
    /// Attention probabilities `[B, H, T, T]` (zero above the diagonal).
    pub att: Vec<f32>,
    /// Per-head weighted sums of V, concatenated: the input of W_O.
    pub atty: Vec<f32>,
    pub res2: Vec<f32>,
    pub ln2: Vec<f32>,
    pub ln2_mean: Vec<f32>,
    pub ln2_rstd: Vec<f32>,
    pub fch: Vec<f32>,
    pub fch_gelu: Vec<f32>,
    pub res3: Vec<f32>,
    /// Dropout masks (0 or 1/(1−p)) of the attention and MLP branches, `[B·T, C]`;
    /// empty when the pass ran without dropout.
    pub drop_attn: Vec<f32>,
    pub drop_mlp: Vec<f32>,
}

/// Dropout for one training step: the probability of zeroing an activation and
/// the seed its masks are drawn from (so a resumed run draws the same masks).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    pub p: f32,
    pub seed: u64,
}

/// Fills `mask` with 0 (probability p) or 1/(1−p): inverted dropout, so the
/// expected activation is unchanged and evaluation needs no rescaling.
fn draw_mask(mask: &mut Vec<f32>, n: usize, p: f32, rng: &mut Rng) {
    mask.resize(n, 0.0);
    let keep = 1.0 / (1.0 - p);
    for m in mask.iter_mut() {
        *m = if rng.uniform() < p { 0.0 } else { keep };
    }
}

fn mul_in_place(x: &mut [f32], mask: &[f32]) {
    for (a, m) in x.iter_mut().zip(mask) {
        *a *= m;
    }
}

/// Everything the forward pass computes, kept for the backward pass.
pub struct Acts {
    pub b: usize,
    pub t: usize,
    pub encoded: Vec<f32>,
    /// Dropout mask of the embedding sum (empty without dropout).
    pub drop_embd: Vec<f32>,
    pub layers: Vec<LayerActs>,
    pub lnf: Vec<f32>,
    pub lnf_mean: Vec<f32>,
    pub lnf_rstd: Vec<f32>,
    /// Logits, turned into probabilities by the loss.
    pub probs: Vec<f32>,
    /// Cross-entropy at every position.
    pub losses: Vec<f32>,
}

impl Acts {
    pub fn new(cfg: &Config, b: usize, t: usize) -> Self {
        let n = b * t;
        let (c, m, h) = (cfg.n_embd, cfg.mlp_dim(), cfg.n_head);
        let z = |k: usize| vec![0.0f32; k];
        Acts {
            b,
            t,
            encoded: z(n * c),
            drop_embd: Vec::new(),
            layers: (0..cfg.n_layer)
                .map(|_| LayerActs {
                    ln1: z(n * c),
                    ln1_mean: z(n),
                    ln1_rstd: z(n),
                    qkv: z(n * 3 * c),
                    att: z(b * h * t * t),
                    atty: z(n * c),
                    res2: z(n * c),
                    ln2: z(n * c),
                    ln2_mean: z(n),
                    ln2_rstd: z(n),
                    fch: z(n * m),
                    fch_gelu: z(n * m),
                    res3: z(n * c),
                    drop_attn: Vec::new(),
                    drop_mlp: Vec::new(),
                })
                .collect(),
            lnf: z(n * c),
            lnf_mean: z(n),
            lnf_rstd: z(n),
            probs: z(n * cfg.vocab_size),
            losses: z(n),
        }
    }
}

/// out[n, oc] = inp[n, ic] · w[ic, oc] + bias (GPT-2's Conv1D layout).
pub fn matmul_forward(out: &mut [f32], inp: &[f32], w: &[f32], bias: Option<&[f32]>, ic: usize) {
    let oc = w.len() / ic;
    let n = inp.len() / ic;
    let a = ArrayView2::from_shape((n, ic), inp).expect("matmul input shape");
    let wv = ArrayView2::from_shape((ic, oc), w).expect("matmul weight shape");
    let mut o = ArrayViewMut2::from_shape((n, oc), out).expect("matmul output shape");
    let beta = match bias {
        Some(b) => {
            for row in o.rows_mut() {
                row.into_slice().expect("contiguous").copy_from_slice(b);
            }
            1.0
        }
        None => 0.0,
    };
    general_mat_mul(1.0, &a, &wv, beta, &mut o);
}

/// Row-wise LayerNorm; keeps the mean and 1/σ of each row for the backward pass.
pub fn layernorm_forward(
    out: &mut [f32],
    mean: &mut [f32],
    rstd: &mut [f32],
    inp: &[f32],
    g: &[f32],
    b: &[f32],
    eps: f32,
) {
    let c = g.len();
    out.par_chunks_mut(c)
        .zip(inp.par_chunks(c))
        .zip(mean.par_iter_mut().zip(rstd.par_iter_mut()))
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

/// Causal multi-head attention from packed q|k|v rows. Writes the probabilities
/// `[B, H, T, T]` and the concatenated head outputs `[B·T, C]`.
pub fn attention_forward(
    out: &mut [f32],
    att: &mut [f32],
    qkv: &[f32],
    t: usize,
    c: usize,
    nh: usize,
) {
    let dk = c / nh;
    let scale = 1.0 / (dk as f32).sqrt();
    out.par_chunks_mut(t * c)
        .zip(att.par_chunks_mut(nh * t * t))
        .zip(qkv.par_chunks(t * 3 * c))
        .for_each(|((out, att), qkv)| {
            for h in 0..nh {
                let att = &mut att[h * t * t..(h + 1) * t * t];
                for r0 in (0..t).step_by(ATT_BLOCK) {
                    let bs = ATT_BLOCK.min(t - r0);
                    let n = r0 + bs;
                    let q = strided(&qkv[r0 * 3 * c + h * dk..], bs, dk, 3 * c);
                    let k = strided(&qkv[c + h * dk..], n, dk, 3 * c);
                    let v = strided(&qkv[2 * c + h * dk..], n, dk, 3 * c);
                    {
                        let mut s = strided_mut(&mut att[r0 * t..], bs, n, t);
                        general_mat_mul(scale, &q, &k.t(), 0.0, &mut s);
                    }
                    with_simd(|| {
                        for i in 0..bs {
                            let row = &mut att[(r0 + i) * t..(r0 + i + 1) * t];
                            let (row, masked) = row.split_at_mut(r0 + i + 1);
                            softmax(row);
                            masked.fill(0.0);
                        }
                    });
                    let p = strided(&att[r0 * t..], bs, n, t);
                    let mut y = strided_mut(&mut out[r0 * c + h * dk..], bs, dk, c);
                    general_mat_mul(1.0, &p, &v, 0.0, &mut y);
                }
            }
        });
}

pub fn gelu_forward(out: &mut [f32], inp: &[f32]) {
    out.par_chunks_mut(4096)
        .zip(inp.par_chunks(4096))
        .for_each(|(o, x)| {
            with_simd(|| {
                for (o, &x) in o.iter_mut().zip(x) {
                    *o = 0.5 * x * (1.0 + tanh(GELU_S * (x + GELU_C * x * x * x)));
                }
            })
        });
}

/// Softmax of every row of logits (in place) and the cross-entropy of each target.
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

/// The full forward pass: returns the mean cross-entropy over all B·T positions.
/// `inputs` and `targets` are `[B·T]`, row-major; every id must be < vocab_size.
/// With `dropout`, the embedding sum and each block's two branches (attention
/// and MLP outputs, before they join the residual stream) are dropped out, as
/// in GPT-2; the masks are kept in `acts` for the backward pass.
pub fn forward(
    cfg: &Config,
    layout: &Layout,
    params: &[f32],
    acts: &mut Acts,
    inputs: &[u32],
    targets: &[u32],
    dropout: Option<Dropout>,
) -> f32 {
    let (b, t) = (acts.b, acts.t);
    let (c, nh) = (cfg.n_embd, cfg.n_head);
    let eps = cfg.layer_norm_epsilon as f32;
    assert_eq!(inputs.len(), b * t, "inputs must be B·T ids");
    let p = views(params, layout);
    // Embedding: token row plus position row.
    for (i, (&tok, x)) in inputs.iter().zip(acts.encoded.chunks_mut(c)).enumerate() {
        let pos = i % t;
        let te = &p.wte[tok as usize * c..(tok as usize + 1) * c];
        let pe = &p.wpe[pos * c..(pos + 1) * c];
        for j in 0..c {
            x[j] = te[j] + pe[j];
        }
    }
    let mut rng = dropout
        .filter(|d| d.p > 0.0)
        .map(|d| (d.p, Rng::new(d.seed)));
    match &mut rng {
        Some((p, rng)) => {
            draw_mask(&mut acts.drop_embd, b * t * c, *p, rng);
            mul_in_place(&mut acts.encoded, &acts.drop_embd);
        }
        None => acts.drop_embd.clear(),
    }
    for l in 0..cfg.n_layer {
        let (before, rest) = acts.layers.split_at_mut(l);
        let a = &mut rest[0];
        let x_in: &[f32] = if l == 0 {
            &acts.encoded
        } else {
            &before[l - 1].res3
        };
        let w = &p.layers[l];
        layernorm_forward(
            &mut a.ln1,
            &mut a.ln1_mean,
            &mut a.ln1_rstd,
            x_in,
            w.ln1_g,
            w.ln1_b,
            eps,
        );
        matmul_forward(&mut a.qkv, &a.ln1, w.qkv_w, Some(w.qkv_b), c);
        attention_forward(&mut a.atty, &mut a.att, &a.qkv, t, c, nh);
        matmul_forward(&mut a.res2, &a.atty, w.proj_w, Some(w.proj_b), c);
        if let Some((p, rng)) = &mut rng {
            draw_mask(&mut a.drop_attn, b * t * c, *p, rng);
            mul_in_place(&mut a.res2, &a.drop_attn);
        } else {
            a.drop_attn.clear();
        }
        add_in_place(&mut a.res2, x_in);
        layernorm_forward(
            &mut a.ln2,
            &mut a.ln2_mean,
            &mut a.ln2_rstd,
            &a.res2,
            w.ln2_g,
            w.ln2_b,
            eps,
        );
        matmul_forward(&mut a.fch, &a.ln2, w.fc_w, Some(w.fc_b), c);
        gelu_forward(&mut a.fch_gelu, &a.fch);
        matmul_forward(
            &mut a.res3,
            &a.fch_gelu,
            w.fcproj_w,
            Some(w.fcproj_b),
            cfg.mlp_dim(),
        );
        if let Some((p, rng)) = &mut rng {
            draw_mask(&mut a.drop_mlp, b * t * c, *p, rng);
            mul_in_place(&mut a.res3, &a.drop_mlp);
        } else {
            a.drop_mlp.clear();
        }
        add_in_place(&mut a.res3, &a.res2);
    }
    let last: &[f32] = match acts.layers.last() {
        Some(a) => &a.res3,
        None => &acts.encoded,
    };
    layernorm_forward(
        &mut acts.lnf,
        &mut acts.lnf_mean,
        &mut acts.lnf_rstd,
        last,
        p.lnf_g,
        p.lnf_b,
        eps,
    );
    // Tied unembedding: logits = lnf · wteᵀ.
    {
        let v = cfg.vocab_size;
        let a = ArrayView2::from_shape((b * t, c), &acts.lnf[..]).expect("lnf shape");
        let wte = ArrayView2::from_shape((v, c), p.wte).expect("wte shape");
        let mut o = ArrayViewMut2::from_shape((b * t, v), &mut acts.probs[..]).expect("logits");
        general_mat_mul(1.0, &a, &wte.t(), 0.0, &mut o);
    }
    crossentropy_forward(&mut acts.probs, &mut acts.losses, targets);
    let sum: f64 = acts.losses.iter().map(|&l| l as f64).sum();
    (sum / (b * t) as f64) as f32
}

pub(crate) fn mul_into(out: &mut [f32], x: &[f32], mask: &[f32]) {
    for ((o, a), m) in out.iter_mut().zip(x).zip(mask) {
        *o = a * m;
    }
}

pub(crate) fn add_in_place(acc: &mut [f32], x: &[f32]) {
    for (a, b) in acc.iter_mut().zip(x) {
        *a += b;
    }
}
