//! The whole model for training, composed from the layers: the batched `[B, T]`
//! forward pass that keeps every activation the backward pass needs (buffers
//! allocated once, named as the engine's `Trace`), and the backward pass that
//! walks the same layers in reverse.

use super::attention::{AttnActs, self_attention_backward, self_attention_forward};
use super::embedding::{embedding_backward, embedding_forward, unembed_backward, unembed_forward};
use super::layernorm::{LnActs, layernorm_backward, layernorm_forward};
use super::loss::{crossentropy_backward, crossentropy_forward, mean_loss};
use super::mlp::{mlp_backward, mlp_forward};
use super::params::{Layout, views, views_mut};
use crate::model::Config;
use crate::rng::Rng;

/// Activations of one block, all `[B·T, width]` row-major.
pub struct LayerActs {
    pub ln_1: LnActs,
    /// q|k|v: [B·T, 3C].
    pub qkv: Vec<f32>,
    /// Attention probabilities `[B, H, T, T]` (zero above the diagonal).
    pub probs: Vec<f32>,
    /// Each head's weighted sum of V, concatenated: the input of W_O.
    pub heads: Vec<f32>,
    /// x + drop(attn(ln_1(x))).
    pub resid_mid: Vec<f32>,
    pub ln_2: LnActs,
    /// MLP up-projection before GELU: [B·T, M].
    pub mlp_pre: Vec<f32>,
    /// After GELU: [B·T, M].
    pub mlp_act: Vec<f32>,
    /// resid_mid + drop(mlp(ln_2(resid_mid))).
    pub resid_post: Vec<f32>,
    /// Dropout masks (0 or 1/(1−p)) of the attention and MLP branches, `[B·T, C]`;
    /// empty when the pass ran without dropout.
    pub drop_attn: Vec<f32>,
    pub drop_mlp: Vec<f32>,
}

/// Everything the forward pass computes, kept for the backward pass.
pub struct Acts {
    pub b: usize,
    pub t: usize,
    /// wte[token] + wpe[position] (dropped out when training): [B·T, C].
    pub embed: Vec<f32>,
    /// Dropout mask of the embedding sum (empty without dropout).
    pub drop_embd: Vec<f32>,
    pub layers: Vec<LayerActs>,
    pub ln_f: LnActs,
    /// Logits [B·T, V], turned into probabilities by the loss.
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
            embed: z(n * c),
            drop_embd: Vec::new(),
            layers: (0..cfg.n_layer)
                .map(|_| LayerActs {
                    ln_1: LnActs::new(n, c),
                    qkv: z(n * 3 * c),
                    probs: z(b * h * t * t),
                    heads: z(n * c),
                    resid_mid: z(n * c),
                    ln_2: LnActs::new(n, c),
                    mlp_pre: z(n * m),
                    mlp_act: z(n * m),
                    resid_post: z(n * c),
                    drop_attn: Vec::new(),
                    drop_mlp: Vec::new(),
                })
                .collect(),
            ln_f: LnActs::new(n, c),
            probs: z(n * cfg.vocab_size),
            losses: z(n),
        }
    }

    /// f32 values held (the memory count's test compares).
    pub fn floats(&self) -> usize {
        let mut n = self.embed.len()
            + self.drop_embd.len()
            + self.ln_f.floats()
            + self.probs.len()
            + self.losses.len();
        for l in &self.layers {
            n += l.ln_1.floats()
                + l.qkv.len()
                + l.probs.len()
                + l.heads.len()
                + l.resid_mid.len()
                + l.ln_2.floats()
                + l.mlp_pre.len()
                + l.mlp_act.len()
                + l.resid_post.len()
                + l.drop_attn.len()
                + l.drop_mlp.len();
        }
        n
    }
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

/// Drops out `x` in place with a fresh mask kept in `mask` (cleared without dropout).
fn dropout_forward(x: &mut [f32], mask: &mut Vec<f32>, rng: &mut Option<(f32, Rng)>) {
    match rng {
        Some((p, rng)) => {
            draw_mask(mask, x.len(), *p, rng);
            for (a, m) in x.iter_mut().zip(mask.iter()) {
                *a *= m;
            }
        }
        None => mask.clear(),
    }
}

/// The gradient reaching a dropped-out branch: `d` itself when the pass ran
/// without dropout, else `d ⊙ mask` written into `buf`.
fn dropout_backward<'a>(buf: &'a mut [f32], d: &'a [f32], mask: &[f32]) -> &'a [f32] {
    if mask.is_empty() {
        d
    } else {
        for ((o, a), m) in buf.iter_mut().zip(d).zip(mask) {
            *o = a * m;
        }
        buf
    }
}

fn add_in_place(acc: &mut [f32], x: &[f32]) {
    for (a, b) in acc.iter_mut().zip(x) {
        *a += b;
    }
}

/// The full forward pass: returns the mean cross-entropy over all B·T positions,
/// or with `mask` (`[B·T]` weights, 1 where a prediction counts, 0 for prompt
/// and padding) the weighted mean Σ mᵢ·lossᵢ / Σ mᵢ, the fine-tuning loss.
/// `inputs` and `targets` are `[B·T]`, row-major; every id must be < vocab_size.
/// With `dropout`, the embedding sum and each block's two branches (attention
/// and MLP outputs, before they join the residual stream) are dropped out, as
/// in GPT-2; the masks are kept in `acts` for the backward pass.
#[allow(clippy::too_many_arguments)]
pub fn forward(
    cfg: &Config,
    layout: &Layout,
    params: &[f32],
    acts: &mut Acts,
    inputs: &[u32],
    targets: &[u32],
    mask: Option<&[f32]>,
    dropout: Option<Dropout>,
) -> f32 {
    let (b, t) = (acts.b, acts.t);
    let (c, nh) = (cfg.n_embd, cfg.n_head);
    let eps = cfg.layer_norm_epsilon as f32;
    assert_eq!(inputs.len(), b * t, "inputs must be B·T ids");
    assert!(
        mask.is_none_or(|m| m.len() == b * t),
        "the mask must be B·T weights"
    );
    let p = views(params, layout);
    let mut rng = dropout
        .filter(|d| d.p > 0.0)
        .map(|d| (d.p, Rng::new(d.seed)));
    embedding_forward(&mut acts.embed, inputs, p.wte, p.wpe, t);
    dropout_forward(&mut acts.embed, &mut acts.drop_embd, &mut rng);
    for l in 0..cfg.n_layer {
        let (before, rest) = acts.layers.split_at_mut(l);
        let a = &mut rest[0];
        let x: &[f32] = if l == 0 {
            &acts.embed
        } else {
            &before[l - 1].resid_post
        };
        let w = &p.layers[l];
        // resid_mid = x + drop(attn(ln_1(x)))
        layernorm_forward(&mut a.ln_1, x, w.ln_1_g, w.ln_1_b, eps);
        self_attention_forward(
            &mut a.resid_mid,
            &mut a.qkv,
            &mut a.probs,
            &mut a.heads,
            &a.ln_1.out,
            w,
            t,
            nh,
        );
        dropout_forward(&mut a.resid_mid, &mut a.drop_attn, &mut rng);
        add_in_place(&mut a.resid_mid, x);
        // resid_post = resid_mid + drop(mlp(ln_2(resid_mid)))
        layernorm_forward(&mut a.ln_2, &a.resid_mid, w.ln_2_g, w.ln_2_b, eps);
        mlp_forward(
            &mut a.resid_post,
            &mut a.mlp_pre,
            &mut a.mlp_act,
            &a.ln_2.out,
            w,
        );
        dropout_forward(&mut a.resid_post, &mut a.drop_mlp, &mut rng);
        add_in_place(&mut a.resid_post, &a.resid_mid);
    }
    let last: &[f32] = match acts.layers.last() {
        Some(a) => &a.resid_post,
        None => &acts.embed,
    };
    layernorm_forward(&mut acts.ln_f, last, p.ln_f_g, p.ln_f_b, eps);
    unembed_forward(&mut acts.probs, &acts.ln_f.out, p.wte, c);
    crossentropy_forward(&mut acts.probs, &mut acts.losses, targets);
    mean_loss(&acts.losses, mask)
}

/// Scratch gradients of the activations, reused by every block.
pub struct GradScratch {
    /// d of the residual stream at the point the backward has reached.
    dresid: Vec<f32>,
    /// d of a LayerNorm's output.
    dln: Vec<f32>,
    dheads: Vec<f32>,
    dqkv: Vec<f32>,
    /// d of mlp_act, then of mlp_pre.
    dmlp: Vec<f32>,
    /// d of a dropped-out branch (the residual gradient times the mask).
    dbranch: Vec<f32>,
}

impl GradScratch {
    pub fn new(cfg: &Config, b: usize, t: usize) -> Self {
        let n = b * t;
        let c = cfg.n_embd;
        GradScratch {
            dresid: vec![0.0; n * c],
            dln: vec![0.0; n * c],
            dheads: vec![0.0; n * c],
            dqkv: vec![0.0; n * 3 * c],
            dmlp: vec![0.0; n * cfg.mlp_dim()],
            dbranch: vec![0.0; n * c],
        }
    }

    /// f32 values held, for the memory count's test.
    pub fn floats(&self) -> usize {
        self.dresid.len()
            + self.dln.len()
            + self.dheads.len()
            + self.dqkv.len()
            + self.dmlp.len()
            + self.dbranch.len()
    }
}

/// Backward through the whole model after [`forward`] with the same `acts`:
/// adds d(mean loss)/d(parameter) into `grads` (same layout as `params`), the
/// loss weighted by the same `mask` as the forward pass.
/// Consumes `acts.probs` (turned into d loss/d logits).
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
    mask: Option<&[f32]>,
) {
    crossentropy_backward(&mut acts.probs, targets, mask);
    backward_from_logit_grads(cfg, layout, params, grads, acts, s, inputs);
}

/// [`backward`] from d loss/d logits already in `acts.probs` (`[B·T, V]`),
/// for a loss other than the cross-entropy (distillation's, `crate::distil`).
pub fn backward_from_logit_grads(
    cfg: &Config,
    layout: &Layout,
    params: &[f32],
    grads: &mut [f32],
    acts: &mut Acts,
    s: &mut GradScratch,
    inputs: &[u32],
) {
    let (t, c, nh) = (acts.t, cfg.n_embd, cfg.n_head);
    let p = views(params, layout);
    let mut g = views_mut(grads, layout);

    unembed_backward(&mut s.dln, g.wte, &acts.probs, &acts.ln_f.out, p.wte, c);
    let last: &[f32] = match acts.layers.last() {
        Some(a) => &a.resid_post,
        None => &acts.embed,
    };
    s.dresid.fill(0.0);
    layernorm_backward(
        &mut s.dresid,
        g.ln_f_g,
        g.ln_f_b,
        &s.dln,
        last,
        p.ln_f_g,
        &acts.ln_f,
    );
    for l in (0..cfg.n_layer).rev() {
        let a = &acts.layers[l];
        let x: &[f32] = if l == 0 {
            &acts.embed
        } else {
            &acts.layers[l - 1].resid_post
        };
        let w = &p.layers[l];
        let gw = &mut g.layers[l];
        // resid_post = resid_mid + drop(mlp(ln_2(resid_mid))); s.dresid holds d resid_post.
        let dout = dropout_backward(&mut s.dbranch, &s.dresid, &a.drop_mlp);
        mlp_backward(
            &mut s.dln,
            &mut s.dmlp,
            gw,
            dout,
            &a.ln_2.out,
            &a.mlp_pre,
            &a.mlp_act,
            w,
        );
        layernorm_backward(
            &mut s.dresid,
            gw.ln_2_g,
            gw.ln_2_b,
            &s.dln,
            &a.resid_mid,
            w.ln_2_g,
            &a.ln_2,
        );
        // resid_mid = x + drop(attn(ln_1(x))); s.dresid now holds d resid_mid.
        let dout = dropout_backward(&mut s.dbranch, &s.dresid, &a.drop_attn);
        let kept = AttnActs {
            qkv: &a.qkv,
            probs: &a.probs,
            heads: &a.heads,
        };
        self_attention_backward(
            &mut s.dln,
            &mut s.dheads,
            &mut s.dqkv,
            gw,
            dout,
            &a.ln_1.out,
            &kept,
            w,
            t,
            nh,
        );
        layernorm_backward(
            &mut s.dresid,
            gw.ln_1_g,
            gw.ln_1_b,
            &s.dln,
            x,
            w.ln_1_g,
            &a.ln_1,
        );
    }
    let dembed = dropout_backward(&mut s.dbranch, &s.dresid, &acts.drop_embd);
    embedding_backward(g.wte, g.wpe, dembed, inputs, t);
}
