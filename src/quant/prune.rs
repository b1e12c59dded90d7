//! Unstructured magnitude pruning: in each weight matrix of the linear layers,
//! the fraction S of weights smallest in |w| is set to zero, the rest kept as
//! they are.
//!
//! Which matrices: the products of every block (GPT-2: `attn.c_attn`,
//! `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj`; Llama: q, k, v, o, gate, up,
//! down). Not the token or position embeddings (the tied table is also the
//! unembedding: a zero there removes a token's row entries from both ends),
//! nor an untied head, nor LayerNorm/RMSNorm gains and biases (a few
//! thousand numbers that set scales, not connections).
//!
//! Per matrix means each matrix loses exactly ⌊S·n⌋ of its n weights (ties
//! in |w| broken by position, so the result is deterministic), rather than
//! one threshold for the whole model.

use super::QuantError;
use crate::model::{Tensor, Weights};

/// What pruning did to one matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Pruned {
    pub name: String,
    pub weights: usize,
    pub zeroed: usize,
    /// The largest |w| set to zero (the matrix's threshold).
    pub threshold: f32,
}

/// Why a sparsity is refused, if it is.
pub fn check_sparsity(s: f64) -> Result<(), QuantError> {
    if s.is_finite() && (0.0..1.0).contains(&s) {
        Ok(())
    } else {
        Err(QuantError::Sparsity(s))
    }
}

/// The names of the matrices [`prune`] thins (engine names, as in
/// `Weights::named`).
pub fn pruned_names(w: &Weights) -> Vec<String> {
    let parts: &[&str] = if w.is_llama() {
        &[
            "self_attn.q_proj.weight",
            "self_attn.k_proj.weight",
            "self_attn.v_proj.weight",
            "self_attn.o_proj.weight",
            "mlp.gate_proj.weight",
            "mlp.up_proj.weight",
            "mlp.down_proj.weight",
        ]
    } else {
        &[
            "attn.c_attn.weight",
            "attn.c_proj.weight",
            "mlp.c_fc.weight",
            "mlp.c_proj.weight",
        ]
    };
    let (prefix, n) = if w.is_llama() {
        ("layers", w.llama_layers.len())
    } else {
        ("h", w.layers.len())
    };
    (0..n)
        .flat_map(|i| parts.iter().map(move |p| format!("{prefix}.{i}.{p}")))
        .collect()
}

/// `t` with its ⌊s·n⌋ smallest-magnitude values set to zero.
fn prune_tensor(t: &Tensor, s: f64) -> (Tensor, usize, f32) {
    let mut v = t.data().to_vec();
    let k = ((s * v.len() as f64).floor() as usize).min(v.len());
    if k == 0 {
        return (Tensor::from_vec(t.shape.clone(), v), 0, 0.0);
    }
    let mut idx: Vec<usize> = (0..v.len()).collect();
    let key = |&i: &usize| (v[i].abs(), i);
    idx.select_nth_unstable_by(k - 1, |a, b| {
        let (x, y) = (key(a), key(b));
        x.0.total_cmp(&y.0).then(x.1.cmp(&y.1))
    });
    let threshold = idx[..k].iter().map(|&i| v[i].abs()).fold(0.0, f32::max);
    for &i in &idx[..k] {
        v[i] = 0.0;
    }
    (Tensor::from_vec(t.shape.clone(), v), k, threshold)
}

/// Prunes the linear layers' matrices of `w` to sparsity `s` ∈ [0, 1).
/// Every other tensor is kept as it is.
pub fn prune(w: &Weights, s: f64) -> Result<(Weights, Vec<Pruned>), QuantError> {
    check_sparsity(s)?;
    let mut out = w.dequantized();
    let mut report = vec![];
    let mut one = |name: String, t: &mut Tensor| {
        let (p, zeroed, threshold) = prune_tensor(t, s);
        report.push(Pruned {
            name,
            weights: p.len(),
            zeroed,
            threshold,
        });
        *t = p;
    };
    let names = pruned_names(w);
    let mut names = names.into_iter();
    let mut next = || names.next().expect("one name per matrix");
    for l in &mut out.layers {
        for t in [
            &mut l.attn_w,
            &mut l.attn_proj_w,
            &mut l.fc_w,
            &mut l.mlp_proj_w,
        ] {
            one(next(), t);
        }
    }
    for l in &mut out.llama_layers {
        for t in [
            &mut l.wq,
            &mut l.wk,
            &mut l.wv,
            &mut l.wo,
            &mut l.w_gate,
            &mut l.w_up,
            &mut l.w_down,
        ] {
            one(next(), t);
        }
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, random_model};

    #[test]
    fn exactly_the_smallest_fraction_of_each_linear_matrix_is_zeroed() {
        let cfg = Config::new(2, 2, 32, 50, 16);
        let gpt = random_model(&cfg, 3, false);
        let before: std::collections::BTreeMap<String, Vec<f32>> = gpt
            .weights
            .named()
            .into_iter()
            .map(|(n, t)| (n, t.data().to_vec()))
            .collect();
        let linear = pruned_names(&gpt.weights);
        assert_eq!(linear.len(), 8);
        for s in [0.0, 0.1, 0.37, 0.5, 0.9, 0.999] {
            let (pruned, report) = prune(&gpt.weights, s).unwrap();
            assert_eq!(report.len(), 8);
            for (name, t) in pruned.named() {
                let (old, new) = (&before[&name], t.data());
                if !linear.contains(&name) {
                    assert!(old[..] == new[..], "{name} changed at s = {s}");
                    continue;
                }
                let k = (s * old.len() as f64).floor() as usize;
                let zeros = new.iter().filter(|v| **v == 0.0).count();
                assert!(
                    old.iter().all(|v| *v != 0.0),
                    "{name}: a zero to begin with"
                );
                assert_eq!(zeros, k, "{name} at s = {s}");
                // The rest unchanged; what went was no larger than what stayed.
                let mut cut = 0.0f32;
                let mut kept = f32::INFINITY;
                for (a, b) in old.iter().zip(new) {
                    if *b == 0.0 {
                        cut = cut.max(a.abs());
                    } else {
                        assert_eq!(a, b, "{name}: a kept weight changed");
                        kept = kept.min(a.abs());
                    }
                }
                assert!(cut <= kept, "{name}: cut {cut} > kept {kept}");
                let r = report.iter().find(|p| p.name == name).unwrap();
                assert_eq!((r.zeroed, r.weights), (k, old.len()));
                assert_eq!(r.threshold, cut);
            }
        }
    }

    #[test]
    fn sparsity_outside_zero_to_one_is_refused() {
        let gpt = random_model(&Config::new(1, 1, 8, 20, 4), 0, false);
        for s in [1.0, 1.5, -0.1, f64::NAN, f64::INFINITY] {
            let e = prune(&gpt.weights, s).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("[0, 1)"), "{msg}");
        }
        assert!(prune(&gpt.weights, 0.0).is_ok());
    }
}
