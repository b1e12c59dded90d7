//! Scaling up: any GPT-2-style shape, a training budget, and the assumptions
//! that turn FLOPs into accelerator-hours, money and memory.

use serde::Serialize;

use super::{Ledger, Params};
use crate::model::{Config, ModelError};

/// A model shape for the calculator (no weights needed).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Shape {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub vocab_size: usize,
    pub n_ctx: usize,
    /// What a Llama shape has beyond GPT-2's fields (None: GPT-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llama: Option<LlamaShape>,
}

/// A Llama shape's own numbers: grouped-query key/value heads, the SwiGLU
/// width, a tied or untied head, the RoPE base.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LlamaShape {
    pub n_kv_head: usize,
    pub mlp_dim: usize,
    pub tied: bool,
    pub rope_theta: f64,
}

/// Largest sizes the calculator accepts: well above any published model, low
/// enough that a typo (an extra zero or three) is caught rather than priced.
pub const MAX_LAYERS: usize = 10_000;
pub const MAX_EMBD: usize = 1_000_000;
pub const MAX_VOCAB: usize = 100_000_000;
pub const MAX_CTX: usize = 100_000_000;
/// Largest training budget accepted, in tokens (10¹⁵, about 70× the biggest
/// published pretraining sets).
pub const MAX_TRAIN_TOKENS: f64 = 1e15;

impl Shape {
    /// Checks the shape; the message names the option to fix.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Input(m));
        for (opt, v, max) in [
            ("--layers", self.n_layer, MAX_LAYERS),
            ("--heads", self.n_head, MAX_EMBD),
            ("--embd", self.n_embd, MAX_EMBD),
            ("--vocab", self.vocab_size, MAX_VOCAB),
            ("--ctx", self.n_ctx, MAX_CTX),
        ] {
            if v == 0 {
                return bad(format!("{opt} is 0; it must be a positive whole number"));
            }
            if v > max {
                return bad(format!(
                    "{opt} {v} is absurdly large (the calculator accepts up to {max}); check for extra zeros"
                ));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return bad(format!(
                "--heads {} does not divide --embd {}: each head gets an equal share of the width; pick heads that divide it (e.g. {})",
                self.n_head,
                self.n_embd,
                divisors_near(self.n_embd, self.n_head)
            ));
        }
        if let Some(ls) = self.llama
            && (ls.n_kv_head == 0 || !self.n_head.is_multiple_of(ls.n_kv_head))
        {
            return bad(format!(
                "--heads {} is not a multiple of the model's {} key/value heads",
                self.n_head, ls.n_kv_head
            ));
        }
        Ok(())
    }

    /// The engine's config for this shape (GPT-2 conventions: MLP 4·C; a
    /// Llama shape keeps its own).
    pub fn config(&self) -> Config {
        if let Some(ls) = self.llama {
            let mut cfg = Config::llama(
                self.n_layer,
                self.n_head,
                ls.n_kv_head,
                self.n_embd,
                ls.mlp_dim,
                self.vocab_size,
                self.n_ctx,
                ls.rope_theta,
            );
            cfg.tie_word_embeddings = ls.tied;
            return cfg;
        }
        Config::new(
            self.n_layer,
            self.n_head,
            self.n_embd,
            self.vocab_size,
            self.n_ctx,
        )
    }

    pub fn of(cfg: &Config) -> Shape {
        Shape {
            n_layer: cfg.n_layer,
            n_head: cfg.n_head,
            n_embd: cfg.n_embd,
            vocab_size: cfg.vocab_size,
            n_ctx: cfg.n_positions,
            llama: cfg.is_llama().then(|| LlamaShape {
                n_kv_head: cfg.n_kv_head(),
                mlp_dim: cfg.mlp_dim(),
                tied: cfg.tie_word_embeddings,
                rope_theta: cfg.rope_theta.unwrap_or(10000.0),
            }),
        }
    }
}

/// Divisors of `n` closest to `near`, for the error message.
fn divisors_near(n: usize, near: usize) -> String {
    let mut d: Vec<usize> = (1..=n.min(4096)).filter(|k| n.is_multiple_of(*k)).collect();
    d.sort_by_key(|k| k.abs_diff(near));
    d.truncate(3);
    d.sort();
    d.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A published model shape and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Preset {
    pub key: &'static str,
    pub shape: Shape,
    /// Parameter count as published, for comparison with ours.
    pub published_params: f64,
    /// Published training budget as (tokens, FLOPs), where the paper gives one.
    pub published_training: Option<(f64, f64)>,
    /// Footnote number in [`footnotes`].
    pub source: usize,
}

const fn shape(
    n_layer: usize,
    n_head: usize,
    n_embd: usize,
    vocab_size: usize,
    n_ctx: usize,
) -> Shape {
    Shape {
        n_layer,
        n_head,
        n_embd,
        vocab_size,
        n_ctx,
        llama: None,
    }
}

/// GPT-2 sizes from Radford et al. 2019 (counts as corrected by OpenAI), GPT-3
/// from Brown et al. 2020, Table 2.1.
pub const PRESETS: [Preset; 5] = [
    Preset {
        key: "gpt2",
        shape: shape(12, 12, 768, 50257, 1024),
        published_params: 124e6,
        published_training: None,
        source: 3,
    },
    Preset {
        key: "gpt2-medium",
        shape: shape(24, 16, 1024, 50257, 1024),
        published_params: 355e6,
        published_training: None,
        source: 3,
    },
    Preset {
        key: "gpt2-large",
        shape: shape(36, 20, 1280, 50257, 1024),
        published_params: 774e6,
        published_training: None,
        source: 3,
    },
    Preset {
        key: "gpt2-xl",
        shape: shape(48, 25, 1600, 50257, 1024),
        published_params: 1.5e9,
        published_training: None,
        source: 3,
    },
    Preset {
        key: "gpt3",
        shape: shape(96, 96, 12288, 50257, 2048),
        published_params: 175e9,
        published_training: Some((300e9, 3.14e23)),
        source: 1,
    },
];

/// Looks a preset up by name; an unknown name gets the list.
pub fn preset(name: &str) -> Result<Preset, ModelError> {
    let key = name.trim().to_ascii_lowercase();
    PRESETS
        .iter()
        .copied()
        .find(|p| p.key == key)
        .ok_or_else(|| {
            ModelError::Input(format!(
                "unknown preset \"{name}\"; the presets are: {}",
                PRESETS.map(|p| p.key).join(", ")
            ))
        })
}

/// The sources the output's footnotes cite, numbered from 1.
pub fn footnotes() -> Vec<&'static str> {
    vec![
        "Brown et al. 2020, \"Language Models are Few-Shot Learners\" (arXiv:2005.14165): GPT-3 175B is 96 layers, 12288 wide, 96 heads, context 2048 (Table 2.1), trained on 300B tokens; 3.14e23 training FLOPs (Table D.1).",
        "Kaplan et al. 2020, \"Scaling Laws for Neural Language Models\" (arXiv:2001.08361), Table 1: forward ≈ 2N + 2·n_layer·n_ctx·d_model FLOPs per token with N the non-embedding parameters; training ≈ 3× forward ≈ 6N per token.",
        "Radford et al. 2019, \"Language Models are Unsupervised Multitask Learners\", Table 2: 12/24/36/48 layers, 768/1024/1280/1600 wide, context 1024, vocabulary 50257; the openai/gpt-2 README corrects the paper's 117M/345M/762M/1542M to 124M/355M/774M/1.5B (1558M).",
        "NVIDIA A100 Tensor Core GPU datasheet: 312 TFLOP/s dense BF16/FP16 Tensor Core peak (624 with structured sparsity).",
        "Mixed-precision Adam keeps 16 bytes per parameter: 2 (fp16 weights) + 2 (fp16 gradients) + 12 (fp32 master weights, Adam m and v); Rajbhandari et al. 2020, \"ZeRO\" (arXiv:1910.02054).",
        "All products are computed in 64-bit floating point (exact below 2^53 ≈ 9e15, rounded above), so GPT-3-sized totals cannot overflow.",
    ]
}

/// The assumptions that turn FLOPs into time, money and memory. Every one is
/// an option of `gptlens cost`, printed with its value.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Assumptions {
    pub accelerator: String,
    /// Peak FLOP/s of one accelerator.
    pub peak_flops: f64,
    /// Fraction of peak a real training run achieves.
    pub utilisation: f64,
    /// Price of one accelerator-hour (USD).
    pub price_per_hour: f64,
    /// Bytes per parameter of the weights (inference and training).
    pub weight_bytes: f64,
    /// Bytes per parameter of the gradients.
    pub grad_bytes: f64,
    /// Bytes per parameter of the optimizer state (master weights, Adam m, v).
    pub optimizer_bytes: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Assumptions {
            accelerator: "A100".into(),
            peak_flops: 312e12,
            utilisation: 0.4,
            price_per_hour: 2.0,
            weight_bytes: 2.0,
            grad_bytes: 2.0,
            optimizer_bytes: 12.0,
        }
    }
}

impl Assumptions {
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Input(m));
        for (opt, v) in [
            ("--peak-flops", self.peak_flops),
            ("--price", self.price_per_hour),
            ("--weight-bytes", self.weight_bytes),
            ("--grad-bytes", self.grad_bytes),
            ("--optimizer-bytes", self.optimizer_bytes),
        ] {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("{opt} is {v}; it must be a finite number ≥ 0"));
            }
        }
        if self.peak_flops <= 0.0 {
            return bad("--peak-flops must be positive (e.g. 312e12 for an A100)".into());
        }
        if !(self.utilisation > 0.0 && self.utilisation <= 1.0) {
            return bad(format!(
                "--utilisation is {}; it is a fraction of peak, above 0 and at most 1 (e.g. 0.4)",
                self.utilisation
            ));
        }
        Ok(())
    }
}

/// Everything `gptlens cost` prints, computed once so the text and the JSON
/// agree.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Estimate {
    pub shape: Shape,
    pub params: Params,
    pub train_tokens: f64,
    /// 6·N·D with N the non-embedding parameters (Kaplan et al.).
    pub training_flops: f64,
    /// 6·total·D: the same counting the embeddings too (how Brown et al.'s
    /// 3.14e23 for GPT-3 comes out).
    pub training_flops_all_params: f64,
    /// 3·D·(2N + 2·L·n_ctx·C): the same with Kaplan's attention term.
    pub training_flops_with_attention: f64,
    /// 2·N.
    pub inference_flops_per_token: f64,
    /// What the engine's ledger counts for one token at the last position of
    /// a full context (attention, unembedding and elementwise work included).
    pub ledger_flops_per_token_full_context: f64,
    /// Weights at `weight_bytes` per parameter plus a full-context KV cache.
    pub inference_memory_bytes: f64,
    pub weights_bytes: f64,
    /// 2·L·kv·weight_bytes: keys and values of one position in every layer
    /// (kv = C, or n_kv_head·dₖ with grouped-query attention).
    pub kv_cache_bytes_per_token: f64,
    pub kv_cache_bytes_full_context: f64,
    /// Weights, gradients and optimizer state (activations not included).
    pub training_memory_bytes: f64,
    pub accelerator_hours: f64,
    pub price: f64,
    pub assumptions: Assumptions,
    /// FLOP/s measured on this machine, if given.
    pub measured_flops_per_s: Option<f64>,
    /// training_flops / measured_flops_per_s.
    pub this_machine_seconds: Option<f64>,
}

impl Estimate {
    pub fn new(
        shape: Shape,
        train_tokens: f64,
        a: &Assumptions,
        measured_flops_per_s: Option<f64>,
    ) -> Result<Estimate, ModelError> {
        shape.validate()?;
        a.validate()?;
        if !(train_tokens.is_finite() && train_tokens > 0.0) {
            return Err(ModelError::Input(format!(
                "--train-tokens is {train_tokens}; it must be a positive number of tokens such as 300e9"
            )));
        }
        if train_tokens > MAX_TRAIN_TOKENS {
            return Err(ModelError::Input(format!(
                "--train-tokens {train_tokens:e} is absurdly large (the calculator accepts up to {MAX_TRAIN_TOKENS:e})"
            )));
        }
        if let Some(m) = measured_flops_per_s
            && !(m.is_finite() && m > 0.0)
        {
            return Err(ModelError::Input(format!(
                "--measured-flops is {m}; it must be a positive FLOP/s rate such as 2e10"
            )));
        }
        let cfg = shape.config();
        let params = Params::of(&cfg);
        let (l, c, t) = (
            shape.n_layer as f64,
            shape.n_embd as f64,
            shape.n_ctx as f64,
        );
        let n = params.non_embedding;
        let d = train_tokens;
        let training_flops = 6.0 * n * d;
        let accelerator_hours = training_flops / (a.peak_flops * a.utilisation) / 3600.0;
        // Keys and values of one position: 2·L·kv numbers, kv = n_kv_head·dₖ
        // (C in GPT-2; smaller with grouped-query attention).
        let kv_tok = 2.0 * l * cfg.kv_dim() as f64 * a.weight_bytes;
        let weights_bytes = params.total * a.weight_bytes;
        Ok(Estimate {
            shape,
            params,
            train_tokens: d,
            training_flops,
            training_flops_all_params: 6.0 * params.total * d,
            training_flops_with_attention: 3.0 * d * (2.0 * n + 2.0 * l * t * c),
            inference_flops_per_token: 2.0 * n,
            ledger_flops_per_token_full_context: Ledger::for_forward(
                &cfg,
                shape.n_ctx - 1,
                1,
                false,
            )
            .flops(),
            inference_memory_bytes: weights_bytes + kv_tok * t,
            weights_bytes,
            kv_cache_bytes_per_token: kv_tok,
            kv_cache_bytes_full_context: kv_tok * t,
            training_memory_bytes: params.total
                * (a.weight_bytes + a.grad_bytes + a.optimizer_bytes),
            accelerator_hours,
            price: accelerator_hours * a.price_per_hour,
            assumptions: a.clone(),
            measured_flops_per_s,
            this_machine_seconds: measured_flops_per_s.map(|m| training_flops / m),
        })
    }
}
