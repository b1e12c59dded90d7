//! The GPT-2 forward pass, one function per stage (Llama's sibling block is
//! in `llama.rs`; `Gpt::forward` picks by `Arch::family`).
//!
//! ```text
//! x   = wte[tokens] + wpe[positions]                      embed
//! for each block:
//!   a = causal_self_attention(layer_norm_1(x))            Q,K,V → softmax(QKᵀ/√dₖ)·V → W_O
//!   x = x + a                                             residual add
//!   m = mlp(layer_norm_2(x))                              up → GELU → down
//!   x = x + m                                             residual add
//! logits = layer_norm_f(x) · wteᵀ                         tied unembedding
//! ```
//!
//! Config switches: `scale_attn_weights` (the 1/√dₖ), `scale_attn_by_inverse_layer_idx`
//! (a further 1/(l+1)), `tie_word_embeddings: false` (logits from `lm_head`
//! instead of `wte`), `activation_function` "gelu" (erf instead of tanh).
//!
//! Activations are `[n, C]` matrices (n new positions, C = n_embd). The same code
//! serves the traced step (records every stage into a [`Trace`]) and the fast path
//! (records nothing); the only difference is the `trace` argument.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::trace::push_rows;
use super::{Activation, Gpt, LnTrace, ModelError, NonFinite, Tensor, Trace};

/// Switches a teacher flips to show why each piece of the formula is there.
/// The default is the model as trained.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Interventions {
    /// (layer, head) pairs whose output is zeroed before W_O.
    pub ablate: Vec<(usize, usize)>,
    /// Use QKᵀ instead of QKᵀ/√dₖ.
    pub no_scale: bool,
    /// Let every query see every key, later ones included. Needs the whole
    /// sequence in one call, since later keys do not exist yet otherwise.
    pub no_causal_mask: bool,
    /// Replace every LayerNorm by the identity.
    pub skip_layernorm: bool,
}

impl Interventions {
    pub fn is_active(&self) -> bool {
        *self != Interventions::default()
    }
}

/// Keys and values of every position seen so far, per layer, so that a new
/// token attends to the past without recomputing it. K and V rows are
/// n_kv_head·dₖ wide (C in GPT-2; less with grouped-query attention); key/value
/// head g owns columns g·dₖ .. (g+1)·dₖ. Llama's keys are cached after RoPE.
#[derive(Clone, Debug)]
pub struct KvCache {
    pub(super) k: Vec<Array2<f32>>, // [layer] → [T, kv_dim]
    pub(super) v: Vec<Array2<f32>>,
    /// Where this sequence's pass first produced NaN or ±inf, if it did.
    pub(super) non_finite: Option<NonFinite>,
}

impl KvCache {
    pub fn new(cfg: &super::Config) -> Self {
        let e = || {
            (0..cfg.n_layer)
                .map(|_| Array2::zeros((0, cfg.kv_dim())))
                .collect()
        };
        KvCache {
            k: e(),
            v: e(),
            non_finite: None,
        }
    }

    /// Where the forward passes over this cache first produced NaN or ±inf
    /// (finite weights can overflow f32), or None if every value was finite.
    pub fn non_finite(&self) -> Option<&NonFinite> {
        self.non_finite.as_ref()
    }

    /// Positions cached.
    pub fn len(&self) -> usize {
        self.k.first().map_or(0, |k| k.nrows())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every position from `n` on (to go back a step).
    pub fn truncate(&mut self, n: usize) {
        if self.non_finite.as_ref().is_some_and(|nf| nf.position >= n) {
            self.non_finite = None;
        }
        for a in self.k.iter_mut().chain(self.v.iter_mut()) {
            if n < a.nrows() {
                *a = a.slice(s![..n, ..]).to_owned();
            }
        }
    }

    /// Bytes held by the cache.
    pub fn bytes(&self) -> usize {
        self.k
            .iter()
            .chain(self.v.iter())
            .map(|a| a.len() * 4)
            .sum()
    }
}

// ---------------------------------------------------------------------------
// The stages
// ---------------------------------------------------------------------------

/// Token and position embeddings for `tokens` at positions start.. : ([n, C], [n, C]).
/// Rows are gathered from a quantized table's blocks, not from an f32 copy.
fn embed(gpt: &Gpt, tokens: &[u32], start: usize) -> (Array2<f32>, Array2<f32>) {
    let ids: Vec<usize> = tokens.iter().map(|&t| t as usize).collect();
    let tok = gpt.weights.wte.rows(&ids);
    let pos = gpt
        .weights
        .wpe
        .rows(&(start..start + tokens.len()).collect::<Vec<_>>());
    (tok, pos)
}

/// LayerNorm over each row: y = (x − μ)/√(σ² + ε) · γ + β, with the biased σ².
/// Returns the statistics and x̂ as well, because the lessons show them.
pub fn layer_norm(
    x: ArrayView2<f32>,
    gamma: &[f32],
    beta: &[f32],
    eps: f32,
    skip: bool,
) -> LnTrace {
    let (n, c) = x.dim();
    let mut ln = LnTrace {
        mean: Vec::with_capacity(n),
        var: Vec::with_capacity(n),
        rms: vec![],
        xhat: Array2::zeros((n, c)),
        out: Array2::zeros((n, c)),
    };
    for (t, row) in x.axis_iter(Axis(0)).enumerate() {
        let mean = row.sum() / c as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / c as f32;
        let rstd = 1.0 / (var + eps).sqrt();
        ln.mean.push(mean);
        ln.var.push(var);
        let mut xh = ln.xhat.row_mut(t);
        let mut out = ln.out.row_mut(t);
        for i in 0..c {
            xh[i] = (row[i] - mean) * rstd;
            out[i] = if skip {
                row[i]
            } else {
                xh[i] * gamma[i] + beta[i]
            };
        }
    }
    ln
}

/// √(2/π) and the cubic coefficient of GPT-2's tanh GELU; training's GELU
/// and its derivative use the same two.
pub const GELU_SQRT_2_OVER_PI: f32 = 0.797_884_6;
pub const GELU_CUBIC: f32 = 0.044715;

/// GPT-2's GELU ("gelu_new"): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
pub fn gelu_new(x: f32) -> f32 {
    0.5 * x * (1.0 + (GELU_SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)).tanh())
}

/// The exact GELU ("gelu"): x·Φ(x) = 0.5·x·(1 + erf(x/√2)).
pub fn gelu_erf(x: f32) -> f32 {
    let x = x as f64;
    (0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2))) as f32
}

/// The error function in f64 from its Maclaurin series
/// erf(x) = 2/√π · Σₙ (−1)ⁿ x²ⁿ⁺¹ / (n!·(2n+1)). Beyond |x| = 4 it is ±1 to
/// within 2e-8 (and GELU there is x or 0 to f32 precision). Inside, the
/// largest term is below e^16 ≈ 9e6, so cancellation costs at most 7 of f64's
/// 16 digits: still far finer than f32.
fn erf(x: f64) -> f64 {
    if x.abs() >= 4.0 {
        return x.signum();
    }
    let x2 = x * x;
    let (mut term, mut sum) = (x, x); // term = (−1)ⁿ x²ⁿ⁺¹ / n!
    for n in 1..200 {
        term *= -x2 / n as f64;
        let add = term / (2 * n + 1) as f64;
        sum += add;
        if add.abs() < 1e-17 * sum.abs().max(1e-300) {
            break;
        }
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

/// ln Σ exp(x), in f64 with the row max taken out first so nothing overflows;
/// p(i) = exp(x_i − logsumexp) is the softmax the loss and the lessons read.
pub fn logsumexp(row: impl Iterator<Item = f32> + Clone) -> f64 {
    let max = row.clone().fold(f32::NEG_INFINITY, f32::max) as f64;
    if !max.is_finite() {
        return max;
    }
    max + row.map(|x| (x as f64 - max).exp()).sum::<f64>().ln()
}

/// Numerically stable softmax: subtract the row max, exponentiate, normalise.
pub fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// x·W + b with GPT-2's Conv1D layout (W is [in, out]); a quantized W is
/// multiplied in its blocks (`[out, in]`, see `quant::QMatrix`).
fn linear(x: ArrayView2<f32>, w: &Tensor, b: &Tensor) -> Array2<f32> {
    if let Some(q) = w.quant() {
        let mut y = q.matmul(x);
        y += &ArrayView1::from(b.data());
        return y;
    }
    let wv = w.view2();
    let mut y = if x.nrows() == 1 {
        let row = x.row(0).to_vec();
        let out = vec_mat(&row, w.data(), wv.ncols());
        Array2::from_shape_vec((1, wv.ncols()), out).expect("shape")
    } else {
        x.dot(&wv)
    };
    y += &ArrayView1::from(b.data());
    y
}

/// y = xᵀ·W for a single row x and W [in, out] stored row-major.
///
/// Decoding one token is memory-bound: every weight is read once. Each thread
/// takes a contiguous block of W's rows, so the reads stream; the partial sums
/// (one [out] vector per thread) are added at the end.
fn vec_mat(x: &[f32], w: &[f32], out: usize) -> Vec<f32> {
    let inn = x.len();
    let partial = |r0: usize, xs: &[f32]| {
        let mut y = vec![0.0f32; out];
        let mut i = 0;
        while i + 4 <= xs.len() {
            let r = |k: usize| &w[(r0 + i + k) * out..(r0 + i + k + 1) * out];
            let (w0, w1, w2, w3) = (r(0), r(1), r(2), r(3));
            let (a, b, c, d) = (xs[i], xs[i + 1], xs[i + 2], xs[i + 3]);
            for ((((yj, &p), &q), &r_), &s_) in y.iter_mut().zip(w0).zip(w1).zip(w2).zip(w3) {
                *yj += a * p + b * q + c * r_ + d * s_;
            }
            i += 4;
        }
        while i < xs.len() {
            let row = &w[(r0 + i) * out..(r0 + i + 1) * out];
            for (yj, &p) in y.iter_mut().zip(row) {
                *yj += xs[i] * p;
            }
            i += 1;
        }
        y
    };
    if inn * out < 1 << 16 {
        return partial(0, x);
    }
    let threads = rayon::current_num_threads().max(1);
    let chunk = inn.div_ceil(threads).next_multiple_of(4);
    x.par_chunks(chunk)
        .enumerate()
        .map(|(ci, xs)| partial(ci * chunk, xs))
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
            a
        })
        .unwrap_or_else(|| vec![0.0; out])
}

/// Dot product with eight independent accumulators, so it vectorises.
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Per-head attention rows, kept only when tracing.
pub(super) struct AttnRows {
    pub(super) scores: Vec<Vec<Vec<f32>>>, // [head][new query][key]
    pub(super) probs: Vec<Vec<Vec<f32>>>,
}

/// Causal self-attention for the new queries `q` [n, H·dₖ] against all cached
/// keys and values `k`, `v` [T, Hkv·dₖ] (the new positions already appended).
/// For each query head h: softmax(q·Kᵀ/√dₖ over keys 0..=t) · V, with K and V
/// of key/value head h / (H/Hkv): multi-head attention when Hkv = H (GPT-2),
/// grouped-query attention when fewer. Returns the heads' outputs
/// concatenated, [n, H·dₖ] (before W_O).
/// `scale` multiplies q·k: 1/√dₖ in GPT-2 (see [`super::Config::attn_scale`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn causal_self_attention(
    q: ArrayView2<f32>,
    k: ArrayView2<f32>,
    v: ArrayView2<f32>,
    start: usize,
    (n_head, n_kv_head): (usize, usize),
    scale: f32,
    layer: usize,
    iv: &Interventions,
    keep_rows: bool,
) -> (Array2<f32>, Option<AttnRows>) {
    let (n, c) = q.dim();
    let total = k.nrows();
    let d = c / n_head;
    let group = n_head / n_kv_head.max(1); // query heads per key/value head
    let scale = if iv.no_scale { 1.0 } else { scale };
    // One job per (query, head): scores, probabilities, weighted sum of V.
    let job = |(i, h): (usize, usize)| -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let keys = if iv.no_causal_mask {
            total
        } else {
            start + i + 1
        };
        let qh = q.slice(s![i, h * d..(h + 1) * d]);
        let qh = qh.as_slice().expect("q row is contiguous");
        let g = h / group;
        let mut scores = Vec::with_capacity(keys);
        for j in 0..keys {
            let kh = k.slice(s![j, g * d..(g + 1) * d]);
            scores.push(dot(qh, kh.as_slice().expect("contiguous")) * scale);
        }
        let mut probs = scores.clone();
        softmax_in_place(&mut probs);
        let mut y = vec![0.0f32; d];
        if !iv.ablate.contains(&(layer, h)) {
            for (j, &p) in probs.iter().enumerate() {
                let vh = v.slice(s![j, g * d..(g + 1) * d]);
                for (yk, vk) in y.iter_mut().zip(vh.iter()) {
                    *yk += p * vk;
                }
            }
        }
        (scores, probs, y)
    };
    let jobs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (0..n_head).map(move |h| (i, h)))
        .collect();
    let results: Vec<_> = if n * total * c > 1 << 15 {
        jobs.par_iter().copied().map(job).collect()
    } else {
        jobs.iter().copied().map(job).collect()
    };
    let mut out = Array2::zeros((n, c));
    let mut rows = keep_rows.then(|| AttnRows {
        scores: vec![Vec::with_capacity(n); n_head],
        probs: vec![Vec::with_capacity(n); n_head],
    });
    for ((i, h), (scores, probs, y)) in jobs.into_iter().zip(results) {
        out.slice_mut(s![i, h * d..(h + 1) * d])
            .assign(&ArrayView1::from(&y));
        if let Some(r) = rows.as_mut() {
            r.scores[h].push(scores);
            r.probs[h].push(probs);
        }
    }
    (out, rows)
}

/// Logits = x · Wᵀ with W [V, C]: `wte` (tied) or `lm_head` (untied).
pub(super) fn unembed(x: ArrayView2<f32>, wte: &Tensor) -> Array2<f32> {
    if let Some(q) = wte.quant() {
        return q.matmul(x); // blocks of [V, C]
    }
    let w = wte.view2(); // [V, C]
    if x.nrows() == 1 {
        let xr = x.row(0).to_vec();
        let c = w.ncols();
        let data = wte.data();
        let mut out = vec![0.0f32; w.nrows()];
        out.par_chunks_mut(1024).enumerate().for_each(|(ci, o)| {
            for (r, ov) in o.iter_mut().enumerate() {
                let row = ci * 1024 + r;
                *ov = dot(&xr, &data[row * c..(row + 1) * c]);
            }
        });
        Array2::from_shape_vec((1, w.nrows()), out).expect("shape")
    } else {
        x.dot(&w.t())
    }
}

// ---------------------------------------------------------------------------
// The whole pass
// ---------------------------------------------------------------------------

impl Gpt {
    /// Runs `tokens` at positions `cache.len()..` through the model, extending the
    /// KV cache and, if given, the trace. Returns the logits of every new
    /// position ([n, V]) when `all_logits`, else of the last one only ([1, V]).
    pub fn forward(
        &self,
        tokens: &[u32],
        cache: &mut KvCache,
        iv: &Interventions,
        mut trace: Option<&mut Trace>,
        all_logits: bool,
    ) -> Result<Array2<f32>, ModelError> {
        let cfg = &self.config;
        let start = cache.len();
        let n = tokens.len();
        if n == 0 {
            return Err(ModelError::Input(
                "no tokens to run: the prompt is empty".into(),
            ));
        }
        if start + n > cfg.n_positions {
            return Err(ModelError::Input(format!(
                "{} positions exceed the model's context of {} tokens",
                start + n,
                cfg.n_positions
            )));
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= cfg.vocab_size) {
            return Err(ModelError::Input(format!(
                "token id {bad} is out of range: the vocabulary has ids 0 to {}",
                cfg.vocab_size - 1
            )));
        }
        if iv.no_causal_mask && start != 0 {
            return Err(ModelError::Input(
                "without the causal mask the whole sequence must be run at once".into(),
            ));
        }
        if self.config.is_llama() {
            return super::llama::forward(self, tokens, cache, iv, trace, all_logits);
        }
        let eps = cfg.layer_norm_epsilon as f32;
        let c = cfg.n_embd;

        let (tok, pos) = embed(self, tokens, start);
        let mut x = &tok + &pos; // [n, C]
        if cache.non_finite.is_none() && !all_finite(&x) {
            cache.non_finite = first_non_finite(&[("embed", x.view())], None, start);
        }
        if let Some(t) = trace.as_deref_mut() {
            t.tokens.extend_from_slice(tokens);
            push_rows(&mut t.tok_emb, tok.view());
            push_rows(&mut t.pos_emb, pos.view());
            push_rows(&mut t.embed, x.view());
        }

        for (l, lw) in self.weights.layers.iter().enumerate() {
            let ln_1 = layer_norm(
                x.view(),
                lw.ln_1_g.data(),
                lw.ln_1_b.data(),
                eps,
                iv.skip_layernorm,
            );
            let qkv = linear(ln_1.out.view(), &lw.attn_w, &lw.attn_b); // [n, 3C]
            let (q, k, v) = (
                qkv.slice(s![.., 0..c]),
                qkv.slice(s![.., c..2 * c]),
                qkv.slice(s![.., 2 * c..3 * c]),
            );
            push_rows(&mut cache.k[l], k);
            push_rows(&mut cache.v[l], v);
            let (heads, rows) = causal_self_attention(
                q,
                cache.k[l].view(),
                cache.v[l].view(),
                start,
                (cfg.n_head, cfg.n_head),
                cfg.attn_scale(l),
                l,
                iv,
                trace.is_some(),
            );
            let attn_out = linear(heads.view(), &lw.attn_proj_w, &lw.attn_proj_b); // W_O
            let resid_mid = &x + &attn_out;
            let ln_2 = layer_norm(
                resid_mid.view(),
                lw.ln_2_g.data(),
                lw.ln_2_b.data(),
                eps,
                iv.skip_layernorm,
            );
            let mlp_pre = linear(ln_2.out.view(), &lw.fc_w, &lw.fc_b); // [n, M]
            let mlp_act = match cfg.activation() {
                Activation::GeluTanh => mlp_pre.mapv(gelu_new),
                Activation::GeluErf => mlp_pre.mapv(gelu_erf),
            };
            let mlp_out = linear(mlp_act.view(), &lw.mlp_proj_w, &lw.mlp_proj_b); // [n, C]
            x = &resid_mid + &mlp_out;
            // One cheap pass over the stream; the stages are searched only
            // when it is bad, to name where the overflow began.
            if cache.non_finite.is_none() && !all_finite(&x) {
                let stages: [(&'static str, ArrayView2<f32>); 10] = [
                    ("ln_1", ln_1.out.view()),
                    ("qkv", qkv.view()),
                    ("attention heads", heads.view()),
                    ("attn_out", attn_out.view()),
                    ("resid_mid", resid_mid.view()),
                    ("ln_2", ln_2.out.view()),
                    ("mlp_pre", mlp_pre.view()),
                    ("mlp_act", mlp_act.view()),
                    ("mlp_out", mlp_out.view()),
                    ("resid_post", x.view()),
                ];
                cache.non_finite = first_non_finite(&stages, Some(l), start);
            }

            if let Some(t) = trace.as_deref_mut() {
                let lt = &mut t.layers[l];
                append_ln(&mut lt.ln_1, ln_1);
                push_rows(&mut lt.q, q);
                push_rows(&mut lt.k, k);
                push_rows(&mut lt.v, v);
                if let Some(r) = rows {
                    for h in 0..cfg.n_head {
                        lt.scores[h].extend(r.scores[h].iter().cloned());
                        lt.probs[h].extend(r.probs[h].iter().cloned());
                    }
                }
                push_rows(&mut lt.heads, heads.view());
                push_rows(&mut lt.attn_out, attn_out.view());
                push_rows(&mut lt.resid_mid, resid_mid.view());
                append_ln(&mut lt.ln_2, ln_2);
                push_rows(&mut lt.mlp_pre, mlp_pre.view());
                push_rows(&mut lt.mlp_act, mlp_act.view());
                push_rows(&mut lt.mlp_out, mlp_out.view());
                push_rows(&mut lt.resid_post, x.view());
            }
        }

        let ln_f = layer_norm(
            x.view(),
            self.weights.ln_f_g.data(),
            self.weights.ln_f_b.data(),
            eps,
            iv.skip_layernorm,
        );
        let all = all_logits || trace.is_some();
        let head = self.weights.unembedding();
        let logits = if all {
            unembed(ln_f.out.view(), head)
        } else {
            unembed(ln_f.out.slice(s![n - 1..n, ..]), head)
        };
        if cache.non_finite.is_none() && !(all_finite(&ln_f.out) && all_finite(&logits)) {
            // Without all_logits only the last row's logits exist.
            let logits_start = if all { start } else { start + n - 1 };
            cache.non_finite = first_non_finite(&[("ln_f", ln_f.out.view())], None, start)
                .or_else(|| first_non_finite(&[("logits", logits.view())], None, logits_start));
        }
        if let Some(t) = trace {
            if t.non_finite.is_none() {
                t.non_finite = cache.non_finite.clone();
            }
            append_ln(&mut t.ln_f, ln_f);
            push_rows(&mut t.logits, logits.view());
        }
        if all && !all_logits {
            return Ok(logits.slice(s![n - 1..n, ..]).to_owned());
        }
        Ok(logits)
    }

    /// The full trace of `tokens` from scratch (with the given interventions).
    pub fn trace(&self, tokens: &[u32], iv: &Interventions) -> Result<Trace, ModelError> {
        let mut trace = Trace::new(&self.config);
        let mut cache = KvCache::new(&self.config);
        self.forward(tokens, &mut cache, iv, Some(&mut trace), true)?;
        Ok(trace)
    }

    /// Logits of the last position, computed from scratch without a trace.
    pub fn last_logits(&self, tokens: &[u32]) -> Result<Array1<f32>, ModelError> {
        let mut cache = KvCache::new(&self.config);
        let l = self.forward(tokens, &mut cache, &Interventions::default(), None, false)?;
        Ok(l.row(0).to_owned())
    }
}

pub(super) fn all_finite(a: &Array2<f32>) -> bool {
    a.iter().all(|v| v.is_finite())
}

/// The first stage (in pass order) and the first row in it holding NaN or
/// ±inf; row r of every stage is position `start + r`.
pub(super) fn first_non_finite(
    stages: &[(&'static str, ArrayView2<f32>)],
    layer: Option<usize>,
    start: usize,
) -> Option<NonFinite> {
    stages.iter().find_map(|(stage, a)| {
        let row = a
            .axis_iter(Axis(0))
            .position(|r| r.iter().any(|v| !v.is_finite()))?;
        Some(NonFinite {
            stage,
            layer,
            position: start + row,
        })
    })
}

pub(super) fn append_ln(dst: &mut LnTrace, src: LnTrace) {
    dst.mean.extend(src.mean);
    dst.var.extend(src.var);
    dst.rms.extend(src.rms);
    push_rows(&mut dst.xhat, src.xhat.view());
    push_rows(&mut dst.out, src.out.view());
}
