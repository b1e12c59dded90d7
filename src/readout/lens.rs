//! The logit lens: an intermediate residual stream read as if it were the
//! last layer's output, through ln_f (LayerNorm, or Llama's RMSNorm) and the
//! unembedding (wte, or lm_head when untied).

use ndarray::{ArrayView1, Axis};

use crate::model::{Gpt, Norm, Trace, layer_norm, rmsnorm, softmax_in_place};

/// The next-token probabilities the lens reads off `x` (`skip_ln` leaves ln_f
/// out, as the skip-LayerNorm intervention does).
pub fn probs(gpt: &Gpt, x: ArrayView1<f32>, skip_ln: bool) -> Vec<f32> {
    let w = &gpt.weights;
    let row = x.to_owned().insert_axis(Axis(0));
    let eps = gpt.config.layer_norm_epsilon as f32;
    let ln = match gpt.config.arch().norm {
        Norm::LayerNorm => layer_norm(row.view(), w.ln_f_g.data(), w.ln_f_b.data(), eps, skip_ln),
        Norm::RmsNorm => rmsnorm(row.view(), w.ln_f_g.data(), eps, skip_ln),
    };
    let mut p = w.unembedding().view2().dot(&ln.out.row(0)).to_vec();
    softmax_in_place(&mut p);
    p
}

/// The top `k` tokens and probabilities the lens reads off `x`.
pub fn top(gpt: &Gpt, x: ArrayView1<f32>, k: usize, skip_ln: bool) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = probs(gpt, x, skip_ln)
        .into_iter()
        .enumerate()
        .map(|(i, p)| (i as u32, p))
        .collect();
    super::top_by(&mut v, k);
    v
}

/// For each read-out point at position `pos` (0 = the embeddings, i = after
/// layer i−1, up to after the last layer): the lens's top token and its probability.
pub fn tops(gpt: &Gpt, tr: &Trace, pos: usize) -> Vec<(usize, f32)> {
    (0..=gpt.config.n_layer)
        .map(|i| {
            let p = probs(gpt, tr.resid_in(i).row(pos), false);
            let j = super::argmax(&p);
            (j, p[j])
        })
        .collect()
}

/// The earliest read-out point from which the top token stays the final one.
pub fn settles(tops: &[(usize, f32)]) -> usize {
    let Some(&(fin, _)) = tops.last() else {
        return 0;
    };
    let mut first = tops.len() - 1;
    while first > 0 && tops[first - 1].0 == fin {
        first -= 1;
    }
    first
}
