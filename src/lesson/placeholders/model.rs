//! The model and the prompt: sizes read off the config.

use super::{NONE, Spec, ph};
use crate::cost::Params;
use crate::fmt::count;

pub(super) const SPECS: &[Spec] = &[
    ph("prompt", NONE, "the lesson's prompt", |c| {
        Ok(c.env.prompt.to_string())
    }),
    ph("model.name", NONE, "the model folder's name", |c| {
        Ok(c.env
            .model_dir
            .and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "(unnamed model)".into()))
    }),
    ph(
        "model.layers",
        NONE,
        "number of transformer blocks L",
        |c| Ok(c.cfg().n_layer.to_string()),
    ),
    ph("model.heads", NONE, "attention heads per block", |c| {
        Ok(c.cfg().n_head.to_string())
    }),
    ph(
        "model.width",
        NONE,
        "width of the residual stream C (n_embd)",
        |c| Ok(c.cfg().n_embd.to_string()),
    ),
    ph(
        "model.head_dim",
        NONE,
        "dₖ = C / heads, the width of one head",
        |c| Ok(c.cfg().head_dim().to_string()),
    ),
    ph(
        "model.mlp_width",
        NONE,
        "hidden width of the MLP (4·C in GPT-2)",
        |c| Ok(c.cfg().mlp_dim().to_string()),
    ),
    ph(
        "model.context",
        NONE,
        "the longest context, n_positions",
        |c| Ok(c.cfg().n_positions.to_string()),
    ),
    ph("model.vocab", NONE, "vocabulary size V", |c| {
        Ok(count(c.cfg().vocab_size as f64))
    }),
    ph(
        "model.params",
        NONE,
        "parameters (the tied unembedding counted once)",
        |c| Ok(count(Params::of(c.cfg()).total)),
    ),
    ph("model.eps", NONE, "LayerNorm's ε", |c| {
        Ok(format!("{:e}", c.cfg().layer_norm_epsilon))
    }),
];
