//! The Llama forward pass, one function per stage: the sibling of GPT-2's
//! block in `forward.rs`, which `Gpt::forward` runs when `Arch::family` is
//! Llama. Checked against transformers' `LlamaForCausalLM` by tests/llama.rs.
//!
//! ```text
//! x = embed_tokens[tokens]                        embed (no position table)
//! for each block:
//!   h = rmsnorm(x)·γ₁                             x/√(mean(x²) + ε) ⊙ γ
//!   q, k, v = h·W_qᵀ, h·W_kᵀ, h·W_vᵀ              [n, H·d], [n, Hkv·d], [n, Hkv·d]
//!   q, k = rope_rotate(q), rope_rotate(k)         pair i of a head turned by p·θ^(−2i/d)
//!   a = softmax(q·Kᵀ/√d)·V · W_oᵀ                 query head h reads key/value head h/(H/Hkv)
//!   x = x + a                                     residual add
//!   h = rmsnorm(x)·γ₂
//!   m = (silu(h·W_gateᵀ) ⊙ h·W_upᵀ)·W_downᵀ       swiglu
//!   x = x + m                                     residual add
//! logits = rmsnorm(x)·γ_f · Wᵀ                    embed_tokens (tied) or lm_head
//! ```
//!
//! No biases anywhere. Matrices are `nn.Linear`'s [out, in], so every
//! projection is x·Wᵀ ([`linear_t`]).

use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::forward::{all_finite, append_ln, causal_self_attention, dot, first_non_finite};
use super::trace::push_rows;
use super::{Gpt, Interventions, KvCache, LnTrace, ModelError, Tensor, Trace};

/// Token embeddings embed_tokens[tokens]: [n, C].
fn embed(gpt: &Gpt, tokens: &[u32]) -> Array2<f32> {
    let ids: Vec<usize> = tokens.iter().map(|&t| t as usize).collect();
    gpt.weights.wte.rows(&ids) // from the blocks when quantized
}

/// RMSNorm over each row: y = x/√(mean(x²) + ε) ⊙ γ (no centring, no β).
/// Recorded as an [`LnTrace`] with mean 0 and var = mean(x²), so the LayerNorm
/// formula x̂ = (x − mean)/√(var + ε) reads it unchanged, plus `rms` = √mean(x²).
pub fn rmsnorm(x: ArrayView2<f32>, gamma: &[f32], eps: f32, skip: bool) -> LnTrace {
    let (n, c) = x.dim();
    let mut ln = LnTrace {
        mean: vec![0.0; n],
        var: Vec::with_capacity(n),
        rms: Vec::with_capacity(n),
        xhat: Array2::zeros((n, c)),
        out: Array2::zeros((n, c)),
    };
    for (t, row) in x.axis_iter(Axis(0)).enumerate() {
        let ms = row.iter().map(|v| v * v).sum::<f32>() / c as f32;
        let inv = 1.0 / (ms + eps).sqrt();
        ln.var.push(ms);
        ln.rms.push(ms.sqrt());
        let mut xh = ln.xhat.row_mut(t);
        let mut out = ln.out.row_mut(t);
        for i in 0..c {
            xh[i] = row[i] * inv;
            out[i] = if skip { row[i] } else { xh[i] * gamma[i] };
        }
    }
    ln
}

/// RoPE's frequencies θ^(−2i/d) for the d/2 dimension pairs of a head, in f32
/// as transformers computes them (1/θ^(2i/d)).
pub fn rope_inv_freq(d: usize, theta: f64) -> Vec<f32> {
    (0..d / 2)
        .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / d as f32))
        .collect()
}

/// The angle RoPE turns pair i by at `position`: position·θ^(−2i/d) (radians).
pub fn rope_angle(position: usize, inv_freq: f32) -> f32 {
    position as f32 * inv_freq
}

/// Rotates every head of `x` [n, heads·d] in place: row r is position
/// start + r, and in each head the pair (i, i + d/2) — transformers'
/// rotate_half layout, not adjacent pairs — turns by that position's angle:
/// (a, b) → (a·cos − b·sin, b·cos + a·sin).
pub fn rope_rotate(x: &mut Array2<f32>, heads: usize, start: usize, inv_freq: &[f32]) {
    let d = x.ncols() / heads;
    let half = d / 2;
    for (r, mut row) in x.axis_iter_mut(Axis(0)).enumerate() {
        let (sin, cos): (Vec<f32>, Vec<f32>) = inv_freq
            .iter()
            .map(|&f| rope_angle(start + r, f).sin_cos())
            .unzip();
        for h in 0..heads {
            let mut head = row.slice_mut(s![h * d..(h + 1) * d]);
            for i in 0..half {
                let (a, b) = (head[i], head[i + half]);
                head[i] = a * cos[i] - b * sin[i];
                head[i + half] = b * cos[i] + a * sin[i];
            }
        }
    }
}

/// SiLU (swish): x·σ(x) = x/(1 + e^(−x)).
pub fn silu(x: f32) -> f32 {
    x / (1.0 + (-x).exp())
}

/// SwiGLU's elementwise middle: (silu(gate), silu(gate) ⊙ up), both [n, M].
fn swiglu(gate: &Array2<f32>, up: &Array2<f32>) -> (Array2<f32>, Array2<f32>) {
    let act = gate.mapv(silu);
    let prod = &act * up;
    (act, prod)
}

/// x·Wᵀ with W in `nn.Linear`'s layout [out, in]: [n, in] → [n, out].
fn linear_t(x: ArrayView2<f32>, w: &Tensor) -> Array2<f32> {
    if let Some(q) = w.quant() {
        return q.matmul(x); // a GGUF's blocks, [out, in] as here
    }
    let wv = w.view2();
    if x.nrows() == 1 {
        let row = x.row(0).to_vec();
        let y = mat_vec(w.data(), &row, wv.nrows());
        Array2::from_shape_vec((1, wv.nrows()), y).expect("shape")
    } else {
        x.dot(&wv.t())
    }
}

/// W·x for W [out, in] row-major: one dot product per output, contiguous
/// rows, split among the threads in blocks (decoding reads each weight once).
fn mat_vec(w: &[f32], x: &[f32], out: usize) -> Vec<f32> {
    let inn = x.len();
    let mut y = vec![0.0f32; out];
    let row = |r: usize| &w[r * inn..(r + 1) * inn];
    if out * inn < 1 << 15 {
        y.iter_mut()
            .enumerate()
            .for_each(|(r, v)| *v = dot(x, row(r)));
        return y;
    }
    let chunk = out.div_ceil(4 * rayon::current_num_threads().max(1)).max(8);
    y.par_chunks_mut(chunk).enumerate().for_each(|(ci, ys)| {
        for (j, v) in ys.iter_mut().enumerate() {
            *v = dot(x, row(ci * chunk + j));
        }
    });
    y
}

/// Each key/value head's columns repeated for the `group` query heads that
/// share it: [n, Hkv·d] → [n, Hkv·group·d] (transformers' repeat_kv), so the
/// trace lays k and v out per query head as GPT-2's are.
fn repeat_kv(x: ArrayView2<f32>, kv_heads: usize, group: usize) -> Array2<f32> {
    if group == 1 {
        return x.to_owned();
    }
    let d = x.ncols() / kv_heads;
    let mut out = Array2::zeros((x.nrows(), x.ncols() * group));
    for g in 0..kv_heads {
        for j in 0..group {
            let h = g * group + j;
            out.slice_mut(s![.., h * d..(h + 1) * d])
                .assign(&x.slice(s![.., g * d..(g + 1) * d]));
        }
    }
    out
}

/// The Llama pass for `tokens` at positions cache.len().. (the checks shared
/// with GPT-2 are done by `Gpt::forward`, which calls this).
pub(super) fn forward(
    gpt: &Gpt,
    tokens: &[u32],
    cache: &mut KvCache,
    iv: &Interventions,
    mut trace: Option<&mut Trace>,
    all_logits: bool,
) -> Result<Array2<f32>, ModelError> {
    let cfg = &gpt.config;
    let (start, n) = (cache.len(), tokens.len());
    let eps = cfg.layer_norm_epsilon as f32;
    let (n_head, n_kv) = (cfg.n_head, cfg.n_kv_head());
    let group = n_head / n_kv;
    let inv_freq = rope_inv_freq(cfg.head_dim(), cfg.rope_theta.unwrap_or(10000.0));

    let mut x = embed(gpt, tokens); // [n, C]
    if cache.non_finite.is_none() && !all_finite(&x) {
        cache.non_finite = first_non_finite(&[("embed", x.view())], None, start);
    }
    if let Some(t) = trace.as_deref_mut() {
        t.tokens.extend_from_slice(tokens);
        push_rows(&mut t.tok_emb, x.view());
        push_rows(&mut t.pos_emb, Array2::zeros(x.dim()).view());
        push_rows(&mut t.embed, x.view());
    }

    for (l, lw) in gpt.weights.llama_layers.iter().enumerate() {
        let ln_1 = rmsnorm(x.view(), lw.attn_norm.data(), eps, iv.skip_layernorm);
        let mut q = linear_t(ln_1.out.view(), &lw.wq); // [n, H·d]
        let mut k = linear_t(ln_1.out.view(), &lw.wk); // [n, Hkv·d]
        let v = linear_t(ln_1.out.view(), &lw.wv); // [n, Hkv·d]
        let before = trace.is_some().then(|| (q.clone(), k.clone()));
        rope_rotate(&mut q, n_head, start, &inv_freq);
        rope_rotate(&mut k, n_kv, start, &inv_freq);
        push_rows(&mut cache.k[l], k.view());
        push_rows(&mut cache.v[l], v.view());
        let (heads, rows) = causal_self_attention(
            q.view(),
            cache.k[l].view(),
            cache.v[l].view(),
            start,
            (n_head, n_kv),
            cfg.attn_scale(l),
            l,
            iv,
            trace.is_some(),
        ); // [n, H·d]
        let attn_out = linear_t(heads.view(), &lw.wo); // W_O: [n, C]
        let resid_mid = &x + &attn_out;
        let ln_2 = rmsnorm(resid_mid.view(), lw.mlp_norm.data(), eps, iv.skip_layernorm);
        let gate = linear_t(ln_2.out.view(), &lw.w_gate); // [n, M]
        let up = linear_t(ln_2.out.view(), &lw.w_up); // [n, M]
        let (silu_gate, mlp_act) = swiglu(&gate, &up); // [n, M]
        let mlp_out = linear_t(mlp_act.view(), &lw.w_down); // [n, C]
        x = &resid_mid + &mlp_out;
        if cache.non_finite.is_none() && !all_finite(&x) {
            let stages: [(&'static str, ArrayView2<f32>); 12] = [
                ("ln_1", ln_1.out.view()),
                ("qkv", q.view()),
                ("qkv", k.view()),
                ("qkv", v.view()),
                ("attention heads", heads.view()),
                ("attn_out", attn_out.view()),
                ("resid_mid", resid_mid.view()),
                ("ln_2", ln_2.out.view()),
                ("mlp_pre", gate.view()),
                ("mlp_act", mlp_act.view()),
                ("mlp_out", mlp_out.view()),
                ("resid_post", x.view()),
            ];
            cache.non_finite = first_non_finite(&stages, Some(l), start);
        }

        if let Some(t) = trace.as_deref_mut() {
            let lt = &mut t.layers[l];
            append_ln(&mut lt.ln_1, ln_1);
            push_rows(&mut lt.q, q.view());
            push_rows(&mut lt.k, repeat_kv(k.view(), n_kv, group).view());
            push_rows(&mut lt.v, repeat_kv(v.view(), n_kv, group).view());
            if let Some((q0, k0)) = before {
                push_rows(&mut lt.q_pre_rope, q0.view());
                push_rows(&mut lt.k_pre_rope, repeat_kv(k0.view(), n_kv, group).view());
            }
            if let Some(r) = rows {
                for h in 0..n_head {
                    lt.scores[h].extend(r.scores[h].iter().cloned());
                    lt.probs[h].extend(r.probs[h].iter().cloned());
                }
            }
            push_rows(&mut lt.heads, heads.view());
            push_rows(&mut lt.attn_out, attn_out.view());
            push_rows(&mut lt.resid_mid, resid_mid.view());
            append_ln(&mut lt.ln_2, ln_2);
            push_rows(&mut lt.mlp_pre, gate.view());
            push_rows(&mut lt.mlp_silu, silu_gate.view());
            push_rows(&mut lt.mlp_up, up.view());
            push_rows(&mut lt.mlp_act, mlp_act.view());
            push_rows(&mut lt.mlp_out, mlp_out.view());
            push_rows(&mut lt.resid_post, x.view());
        }
    }

    let ln_f = rmsnorm(x.view(), gpt.weights.ln_f_g.data(), eps, iv.skip_layernorm);
    let all = all_logits || trace.is_some();
    let head = gpt.weights.unembedding(); // [V, C]
    let logits = if all {
        linear_t(ln_f.out.view(), head)
    } else {
        linear_t(ln_f.out.slice(s![n - 1..n, ..]), head)
    };
    if cache.non_finite.is_none() && !(all_finite(&ln_f.out) && all_finite(&logits)) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, random_model};

    #[test]
    fn rope_turns_each_pair_by_position_times_frequency_and_keeps_length() {
        let inv = rope_inv_freq(4, 100.0); // pairs (0,2) and (1,3)
        assert_eq!(inv[0], 1.0);
        assert!((inv[1] - 0.1).abs() < 1e-7);
        let mut x = Array2::from_shape_vec((1, 4), vec![1.0, 0.0, 0.0, 1.0]).unwrap();
        rope_rotate(&mut x, 1, 3, &inv);
        let (a, b) = (3.0f32, 0.3f32);
        // (x0, x2) = (1, 0) → (cos a, sin a); (x1, x3) = (0, 1) → (−sin b, cos b).
        let want = [a.cos(), -b.sin(), a.sin(), b.cos()];
        for (g, w) in x.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{x:?} vs {want:?}");
        }
        // Position 0 is the identity.
        let mut y = Array2::from_shape_vec((1, 4), vec![0.3, -1.0, 2.0, 0.5]).unwrap();
        let y0 = y.clone();
        rope_rotate(&mut y, 1, 0, &inv);
        assert_eq!(y, y0);
    }

    #[test]
    fn rmsnorm_divides_by_the_root_mean_square_without_centring() {
        let x = Array2::from_shape_vec((1, 4), vec![1.0, 3.0, -1.0, 3.0]).unwrap();
        let ln = rmsnorm(x.view(), &[1.0, 2.0, 1.0, 1.0], 0.0, false);
        // mean(x²) = 20/4 = 5; the mean (1.5) is not subtracted.
        assert_eq!((ln.mean[0], ln.var[0]), (0.0, 5.0));
        assert!((ln.rms[0] - 5f32.sqrt()).abs() < 1e-6);
        let r = 5f32.sqrt();
        let want = [1.0 / r, 6.0 / r, -1.0 / r, 3.0 / r];
        for (g, w) in ln.out.iter().zip(want) {
            assert!((g - w).abs() < 1e-6);
        }
    }

    #[test]
    fn grouped_query_heads_share_their_key_value_head() {
        let cfg = Config::llama(2, 6, 2, 24, 30, 40, 16, 500.0);
        let gpt = random_model(&cfg, 3, true);
        let tr = gpt.trace(&[1, 5, 7, 2], &Interventions::default()).unwrap();
        let d = cfg.head_dim();
        let l = &tr.layers[1];
        // Heads 0, 1, 2 read key/value head 0; heads 3, 4, 5 read head 1.
        for (a, b, same) in [(0, 2, true), (3, 5, true), (2, 3, false)] {
            let col = |m: &Array2<f32>, h: usize| m.slice(s![.., h * d..(h + 1) * d]).to_owned();
            assert_eq!(col(&l.k, a) == col(&l.k, b), same, "k of heads {a}, {b}");
            assert_eq!(col(&l.v, a) == col(&l.v, b), same, "v of heads {a}, {b}");
        }
        // The cache holds only the two key/value heads.
        let mut cache = KvCache::new(&cfg);
        gpt.forward(&[1, 5], &mut cache, &Interventions::default(), None, false)
            .unwrap();
        assert_eq!(cache.bytes(), 2 * 2 * 2 * (2 * d) * 4);
    }

    #[test]
    fn cached_decoding_equals_recomputation() {
        let cfg = Config::llama(3, 9, 3, 54, 71, 83, 29, 5000.0);
        let gpt = random_model(&cfg, 9, true);
        let ids = [3u32, 80, 11, 7, 42, 0, 19];
        let full = gpt.trace(&ids, &Interventions::default()).unwrap();
        let mut cache = KvCache::new(&cfg);
        let mut last = None;
        for &t in &ids {
            last = Some(
                gpt.forward(&[t], &mut cache, &Interventions::default(), None, false)
                    .unwrap(),
            );
        }
        let last = last.unwrap();
        let err = last
            .row(0)
            .iter()
            .zip(full.last_logits())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-5, "cached decoding differs by {err}");
        // And the trace of a prefix is the prefix of the trace.
        let short = gpt.trace(&ids[..4], &Interventions::default()).unwrap();
        let p = full.prefix(4);
        let close = |a: &Array2<f32>, b: &Array2<f32>| {
            a.dim() == b.dim() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
        };
        assert!(close(&short.layers[2].q_pre_rope, &p.layers[2].q_pre_rope));
        assert!(close(&short.layers[2].mlp_up, &p.layers[2].mlp_up));
        assert_eq!(short.ln_f.rms.len(), 4);
        assert_eq!(p.ln_f.rms.len(), 4);
    }
}
