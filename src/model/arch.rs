//! What kind of transformer a model is, described by its parts rather than
//! by name: GPT-2 (LayerNorm, GELU, learned positions, multi-head attention)
//! or Llama (RMSNorm, SwiGLU, rotary positions, grouped-query attention).
//!
//! The forward pass picks its block by [`Family`]. Front ends that label or
//! count stages (the views, the cost ledger, the lessons) read the [`Arch`]
//! of a [`super::Config`] or [`super::Trace`] instead of assuming GPT-2.

use super::{Activation, Config};

/// The model family, i.e. which block the forward pass runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// GPT-2: pre-LayerNorm blocks, learned positions, GELU MLP.
    Gpt2,
    /// Llama: pre-RMSNorm blocks, RoPE, SwiGLU MLP, grouped-query
    /// attention, no biases (model_type "llama").
    Llama,
}

/// How activations are normalised before attention, the MLP and the unembedding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// (x − μ)/√(σ² + ε)·γ + β.
    LayerNorm,
    /// x/√(mean(x²) + ε)·γ (no mean, no β).
    RmsNorm,
}

/// The MLP's shape and nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mlp {
    /// down(act(up(x))), two matrices.
    Plain(Activation),
    /// down(silu(gate(x)) ⊙ up(x)), three matrices.
    SwiGlu,
}

/// How a token's position enters the computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// A learned table `wpe` added to the token embedding before block 0.
    Learned,
    /// Rotations of q and k inside every attention layer; no table.
    Rotary,
}

/// The architecture of a model, as the stages that read it need to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arch {
    pub family: Family,
    pub norm: Norm,
    pub mlp: Mlp,
    pub positions: Positions,
    /// Query heads per layer.
    pub n_head: usize,
    /// Key/value heads per layer: n_head in GPT-2 (multi-head attention);
    /// fewer in grouped-query attention, each shared by n_head / n_kv_head
    /// query heads.
    pub n_kv_head: usize,
    /// Logits through `wte` (true) or a separate `lm_head`.
    pub tied_unembedding: bool,
}

impl Arch {
    /// Whether the norm has a bias β (LayerNorm) or not (RMSNorm).
    pub fn norm_has_bias(&self) -> bool {
        self.norm == Norm::LayerNorm
    }

    /// Query heads that share one key/value head.
    pub fn heads_per_kv(&self) -> usize {
        self.n_head / self.n_kv_head.max(1)
    }
}

impl Config {
    /// The architecture this config describes (`Config::validate` refuses
    /// model types other than gpt2 and llama).
    pub fn arch(&self) -> Arch {
        if self.is_llama() {
            return Arch {
                family: Family::Llama,
                norm: Norm::RmsNorm,
                mlp: Mlp::SwiGlu,
                positions: Positions::Rotary,
                n_head: self.n_head,
                n_kv_head: self.n_kv_head(),
                tied_unembedding: self.tie_word_embeddings,
            };
        }
        Arch {
            family: Family::Gpt2,
            norm: Norm::LayerNorm,
            mlp: Mlp::Plain(self.activation()),
            positions: Positions::Learned,
            n_head: self.n_head,
            n_kv_head: self.n_head,
            tied_unembedding: self.tie_word_embeddings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpt2_is_layernorm_gelu_learned_positions_multi_head() {
        let mut cfg = Config::new(2, 4, 32, 50, 16);
        let a = cfg.arch();
        assert_eq!(a.family, Family::Gpt2);
        assert_eq!(a.norm, Norm::LayerNorm);
        assert!(a.norm_has_bias());
        assert_eq!(a.mlp, Mlp::Plain(Activation::GeluTanh));
        assert_eq!(a.positions, Positions::Learned);
        assert_eq!((a.n_head, a.n_kv_head, a.heads_per_kv()), (4, 4, 1));
        assert!(a.tied_unembedding);
        cfg.activation_function = "gelu".into();
        cfg.tie_word_embeddings = false;
        let a = cfg.arch();
        assert_eq!(a.mlp, Mlp::Plain(Activation::GeluErf));
        assert!(!a.tied_unembedding);
    }

    #[test]
    fn llama_is_rmsnorm_swiglu_rotary_grouped_query() {
        let cfg = Config::llama(2, 9, 3, 54, 71, 83, 29, 5000.0);
        let a = cfg.arch();
        assert_eq!(a.family, Family::Llama);
        assert_eq!(a.norm, Norm::RmsNorm);
        assert!(!a.norm_has_bias());
        assert_eq!(a.mlp, Mlp::SwiGlu);
        assert_eq!(a.positions, Positions::Rotary);
        assert_eq!((a.n_head, a.n_kv_head, a.heads_per_kv()), (9, 3, 3));
        assert!(!a.tied_unembedding);
    }

    #[test]
    fn the_trace_carries_the_arch_of_its_model() {
        let mut cfg = Config::new(1, 2, 8, 20, 8);
        cfg.tie_word_embeddings = false;
        let gpt = crate::model::random_model(&cfg, 1, false);
        let tr = gpt.trace(&[1, 2, 3], &Default::default()).unwrap();
        assert_eq!(tr.arch, cfg.arch());
        assert!(!tr.arch.tied_unembedding);
        assert_eq!(tr.prefix(2).arch, tr.arch);
    }
}
