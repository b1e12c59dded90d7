//! Rotary position embeddings read off a Llama trace: for one head at one
//! position, the angle each dimension pair is turned by and its q and k
//! before and after, and which query heads share a key/value head (GQA).
//!
//! RoPE pairs dimension i with i + d/2 inside each head (transformers'
//! `rotate_half` layout) and turns the pair by θᵢ = pos·base^(−2i/d).

use crate::model::{Arch, Gpt, Trace, rope_angle, rope_inv_freq};

/// The rotary base of a model (transformers' default when the config has none).
pub fn base(gpt: &Gpt) -> f64 {
    gpt.config.rope_theta.unwrap_or(10000.0)
}

/// One dimension pair of one head at one position.
#[derive(Clone, Debug, PartialEq)]
pub struct Pair {
    /// The pair's index i (0 ≤ i < d/2) and its two dimensions within the head.
    pub i: usize,
    pub dims: (usize, usize),
    /// base^(−2i/d): the pair's frequency, radians per position.
    pub freq: f32,
    /// pos·freq: the angle this position turns the pair by (radians).
    pub angle: f32,
    /// q's pair before RoPE and after it (as the engine recorded both).
    pub q_before: (f32, f32),
    pub q_after: (f32, f32),
    pub k_before: (f32, f32),
    pub k_after: (f32, f32),
}

impl Pair {
    /// (a, b) turned by the pair's angle: (a·cos − b·sin, b·cos + a·sin).
    pub fn rotate(&self, (a, b): (f32, f32)) -> (f32, f32) {
        let (s, c) = (self.angle as f64).sin_cos();
        let (a, b) = (a as f64, b as f64);
        ((a * c - b * s) as f32, (b * c + a * s) as f32)
    }
}

/// The first `n` pairs of `head` at position `pos` in `layer`; empty for a
/// model without RoPE (GPT-2) or a trace without the pre-RoPE rows.
pub fn pairs(gpt: &Gpt, tr: &Trace, layer: usize, head: usize, pos: usize, n: usize) -> Vec<Pair> {
    let Some(l) = tr.layers.get(layer) else {
        return vec![];
    };
    if l.q_pre_rope.nrows() <= pos || l.q.nrows() <= pos || l.scores.is_empty() {
        return vec![];
    }
    let d = l.q.ncols() / l.scores.len();
    let half = d / 2;
    let freqs = rope_inv_freq(d, base(gpt));
    let at = |m: &ndarray::Array2<f32>, i: usize| {
        let c = head * d + i;
        (m[[pos, c]], m[[pos, c + half]])
    };
    (0..half.min(n))
        .map(|i| Pair {
            i,
            dims: (i, i + half),
            freq: freqs[i],
            angle: rope_angle(pos, freqs[i]),
            q_before: at(&l.q_pre_rope, i),
            q_after: at(&l.q, i),
            k_before: at(&l.k_pre_rope, i),
            k_after: at(&l.k, i),
        })
        .collect()
}

/// The key/value head query head `h` reads (h itself in multi-head attention).
pub fn kv_head(arch: &Arch, h: usize) -> usize {
    h / arch.heads_per_kv().max(1)
}

/// The query heads that share key/value head `g`.
pub fn sharing(arch: &Arch, g: usize) -> std::ops::Range<usize> {
    let per = arch.heads_per_kv().max(1);
    g * per..((g + 1) * per).min(arch.n_head)
}

/// Bytes of key/value cache per position and layer (f32): 2·n_kv_head·dₖ·4,
/// and what multi-head attention with every query head would need.
pub fn kv_bytes_per_position(arch: &Arch, head_dim: usize) -> (usize, usize) {
    (
        2 * arch.n_kv_head * head_dim * 4,
        2 * arch.n_head * head_dim * 4,
    )
}
