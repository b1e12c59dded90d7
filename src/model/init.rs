//! Seeded random models, for tests, benchmarks and as the starting point of training.

use std::collections::BTreeMap;

use super::{Config, Gpt, Tensor, Weights, expected_tensors};
use crate::rng::Rng;

/// A model with GPT-2's initialisation: weights ~ N(0, 0.02²), the residual
/// projections (attn.c_proj, mlp.c_proj; Llama's o_proj, down_proj) scaled by
/// 1/√(2·n_layer), biases 0, LayerNorm (RMSNorm) γ = 1 and β = 0. With `jitter`, γ, β and biases get small random
/// values too, so that tests exercise every term of every formula.
pub fn random_model(cfg: &Config, seed: u64, jitter: bool) -> Gpt {
    let mut rng = Rng::new(seed);
    let mut named = BTreeMap::new();
    let proj_std = 0.02 / ((2 * cfg.n_layer) as f32).sqrt();
    for (name, shape) in expected_tensors(cfg) {
        let n: usize = shape.iter().product();
        let is_ln = name.contains("ln_") || name.ends_with("norm.weight");
        let data: Vec<f32> = if shape.len() == 2 {
            let residual = ["c_proj.weight", "o_proj.weight", "down_proj.weight"];
            let std = if residual.iter().any(|r| name.ends_with(r)) {
                proj_std
            } else {
                0.02
            };
            (0..n).map(|_| rng.normal() * std).collect()
        } else if is_ln && name.ends_with(".weight") {
            (0..n)
                .map(|_| 1.0 + if jitter { 0.1 * rng.normal() } else { 0.0 })
                .collect()
        } else {
            (0..n)
                .map(|_| if jitter { 0.02 * rng.normal() } else { 0.0 })
                .collect()
        };
        named.insert(name, Tensor::from_vec(shape, data));
    }
    let weights =
        Weights::from_named(cfg, named, "random init").expect("shapes come from the config");
    Gpt {
        config: cfg.clone(),
        weights,
    }
}
