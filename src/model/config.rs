//! The model's shape, read from (and written as) a Hugging Face `config.json`.
//!
//! Field names follow `GPT2Config` so that real GPT-2 / distilgpt2 folders open
//! unchanged, and so that the folders gptlens writes open in `transformers`.

use serde::{Deserialize, Serialize};
use std::path::Path;

use super::ModelError;

/// The hyper-parameters of a GPT-2 model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// Number of transformer blocks.
    #[serde(default = "d_layer")]
    pub n_layer: usize,
    /// Attention heads per block.
    #[serde(default = "d_head")]
    pub n_head: usize,
    /// Width of the residual stream (C).
    #[serde(default = "d_embd")]
    pub n_embd: usize,
    /// Longest context the position table covers.
    #[serde(default = "d_positions")]
    pub n_positions: usize,
    #[serde(default = "d_vocab")]
    pub vocab_size: usize,
    #[serde(default = "d_eps")]
    pub layer_norm_epsilon: f64,
    /// Hidden width of the MLP; `null` in GPT-2's config means 4·n_embd.
    #[serde(default)]
    pub n_inner: Option<usize>,
    #[serde(default = "d_act")]
    pub activation_function: String,
    #[serde(default = "d_model_type")]
    pub model_type: String,
    #[serde(default)]
    pub architectures: Option<Vec<String>>,
    #[serde(default)]
    pub bos_token_id: Option<u32>,
    #[serde(default)]
    pub eos_token_id: Option<u32>,
    /// false: the logits use their own `lm_head.weight` instead of `wte`.
    #[serde(default = "yes")]
    pub tie_word_embeddings: bool,
    /// false: attention scores are q·k, not q·k/√dₖ.
    #[serde(default = "yes")]
    pub scale_attn_weights: bool,
    /// true: layer l's scores are further divided by l + 1 (0-based l).
    #[serde(default)]
    pub scale_attn_by_inverse_layer_idx: bool,
    /// Only changes the order and precision of the attention arithmetic in
    /// half precision; gptlens computes in f32 throughout, so it is accepted
    /// and has no effect (checked against transformers by a fixture).
    #[serde(default)]
    pub reorder_and_upcast_attn: bool,
}

/// The MLP's nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// GPT-2's tanh approximation ("gelu_new", "gelu_pytorch_tanh").
    GeluTanh,
    /// The exact x·Φ(x) with the error function ("gelu" in transformers).
    GeluErf,
}

fn yes() -> bool {
    true
}
fn d_layer() -> usize {
    12
}
fn d_head() -> usize {
    12
}
fn d_embd() -> usize {
    768
}
fn d_positions() -> usize {
    1024
}
fn d_vocab() -> usize {
    50257
}
fn d_eps() -> f64 {
    1e-5
}
fn d_act() -> String {
    "gelu_new".into()
}
fn d_model_type() -> String {
    "gpt2".into()
}

impl Config {
    /// A config with GPT-2's conventions for the given shape.
    pub fn new(
        n_layer: usize,
        n_head: usize,
        n_embd: usize,
        vocab_size: usize,
        n_positions: usize,
    ) -> Self {
        Config {
            n_layer,
            n_head,
            n_embd,
            n_positions,
            vocab_size,
            layer_norm_epsilon: 1e-5,
            n_inner: None,
            activation_function: d_act(),
            model_type: d_model_type(),
            architectures: Some(vec!["GPT2LMHeadModel".into()]),
            bos_token_id: None,
            eos_token_id: None,
            tie_word_embeddings: true,
            scale_attn_weights: true,
            scale_attn_by_inverse_layer_idx: false,
            reorder_and_upcast_attn: false,
        }
    }

    /// Width of one attention head (dₖ).
    pub fn head_dim(&self) -> usize {
        self.n_embd / self.n_head
    }

    /// Width of the MLP's hidden layer (4·C unless `n_inner` says otherwise).
    pub fn mlp_dim(&self) -> usize {
        self.n_inner.unwrap_or(4 * self.n_embd)
    }

    /// The MLP's nonlinearity (`validate` refuses names not listed here).
    pub fn activation(&self) -> Activation {
        match self.activation_function.as_str() {
            "gelu" => Activation::GeluErf,
            _ => Activation::GeluTanh,
        }
    }

    /// The factor attention scores of `layer` (0-based) are multiplied by:
    /// 1/√dₖ, times 1/(layer + 1) with `scale_attn_by_inverse_layer_idx`.
    pub fn attn_scale(&self, layer: usize) -> f32 {
        1.0 / self.attn_divisor(layer)
    }

    /// What q·k is divided by in `layer`: √dₖ (1 without
    /// `scale_attn_weights`), times layer + 1 with
    /// `scale_attn_by_inverse_layer_idx`.
    pub fn attn_divisor(&self, layer: usize) -> f32 {
        let mut d = if self.scale_attn_weights {
            (self.head_dim() as f32).sqrt()
        } else {
            1.0
        };
        if self.scale_attn_by_inverse_layer_idx {
            d *= (layer + 1) as f32;
        }
        d
    }

    /// Checks what the forward pass relies on; the message says how to fix it.
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::BadConfig(m));
        if self.model_type != "gpt2" {
            return bad(format!(
                "model_type is \"{}\"; gptlens runs GPT-2 models only (model_type \"gpt2\")",
                self.model_type
            ));
        }
        if let Some(archs) = &self.architectures
            && let Some(a) = archs
                .iter()
                .find(|a| !a.starts_with("GPT2") && !a.is_empty())
        {
            return bad(format!(
                "architecture {a} is not supported; gptlens runs GPT2LMHeadModel / GPT2Model checkpoints"
            ));
        }
        let act = self.activation_function.as_str();
        if !matches!(act, "gelu_new" | "gelu_pytorch_tanh" | "gelu") {
            return bad(format!(
                "activation_function \"{act}\" is not supported; gptlens runs \"gelu_new\" / \"gelu_pytorch_tanh\" (GPT-2's tanh GELU) and \"gelu\" (the exact erf GELU)"
            ));
        }
        if self.n_inner == Some(0) {
            return bad("n_inner is 0; use null (4·n_embd) or a positive width".into());
        }
        for (name, v) in [
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("n_embd", self.n_embd),
            ("n_positions", self.n_positions),
            ("vocab_size", self.vocab_size),
        ] {
            if v == 0 {
                return bad(format!("{name} is 0; it must be a positive whole number"));
            }
        }
        if !self.n_embd.is_multiple_of(self.n_head) {
            return bad(format!(
                "n_embd ({}) is not divisible by n_head ({}); each head needs an equal share of the width",
                self.n_embd, self.n_head
            ));
        }
        if !(self.layer_norm_epsilon > 0.0 && self.layer_norm_epsilon.is_finite()) {
            return bad(format!(
                "layer_norm_epsilon is {}; it must be a small positive number such as 1e-5",
                self.layer_norm_epsilon
            ));
        }
        Ok(())
    }

    pub fn read(path: &Path) -> Result<Self, ModelError> {
        // A GPT-2 config.json is about 1 KB; refuse to read a huge file whole.
        const MAX_BYTES: u64 = 1 << 20;
        let io = |err| ModelError::Io {
            path: path.to_path_buf(),
            err,
        };
        let text = match crate::embedded::file(path) {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => {
                let len = std::fs::metadata(path).map_err(io)?.len();
                if len > MAX_BYTES {
                    return Err(ModelError::BadConfig(format!(
                        "{} is {len} bytes; a config.json is a few hundred bytes (at most {MAX_BYTES} are read)",
                        path.display()
                    )));
                }
                std::fs::read_to_string(path).map_err(io)?
            }
        };
        let mut cfg: Config = serde_json::from_str(&text).map_err(|e| {
            ModelError::BadConfig(format!(
                "{} is not a valid GPT-2 config.json: {e}",
                path.display()
            ))
        })?;
        // Old OpenAI-style configs call the context n_ctx.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && v.get("n_positions").is_none()
            && let Some(n) = v.get("n_ctx").and_then(|n| n.as_u64())
        {
            cfg.n_positions = n as usize;
        }
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn write(&self, path: &Path) -> Result<(), ModelError> {
        let mut v = serde_json::to_value(self).expect("config serializes");
        // Fields transformers expects to find.
        v["n_ctx"] = self.n_positions.into();
        v["resid_pdrop"] = 0.0.into();
        v["embd_pdrop"] = 0.0.into();
        v["attn_pdrop"] = 0.0.into();
        let text = serde_json::to_string_pretty(&v).expect("json");
        std::fs::write(path, text + "\n").map_err(|err| ModelError::Write {
            path: path.to_path_buf(),
            err,
        })
    }

    /// Parameters, counting the tied unembedding once (an untied `lm_head`
    /// counts on its own). Saturates at `usize::MAX` for absurd shapes; see
    /// [`Config::checked_params`].
    pub fn n_params(&self) -> usize {
        self.checked_params()
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(usize::MAX)
    }

    /// Number of parameters, or None if it does not fit in 64 bits. Computed
    /// arithmetically, so it is safe to call on any config before allocating.
    pub fn checked_params(&self) -> Option<u64> {
        let u = |x: usize| u64::try_from(x).ok();
        let c = u(self.n_embd)?;
        let m = match self.n_inner {
            Some(m) => u(m)?,
            None => c.checked_mul(4)?,
        };
        let cc = c.checked_mul(c)?;
        let cm = c.checked_mul(m)?;
        // ln_1, ln_2 (4C); c_attn 3C² + 3C; attn c_proj C² + C; c_fc CM + M; mlp c_proj MC + C.
        let per_layer = [
            c.checked_mul(4)?,
            cc.checked_mul(3)?,
            c.checked_mul(3)?,
            cc,
            c,
            cm,
            m,
            cm,
            c,
        ]
        .into_iter()
        .try_fold(0u64, |a, b| a.checked_add(b))?;
        let wte = u(self.vocab_size)?.checked_mul(c)?;
        let head = if self.tie_word_embeddings { 0 } else { wte };
        [
            wte,
            head,
            u(self.n_positions)?.checked_mul(c)?,
            u(self.n_layer)?.checked_mul(per_layer)?,
            c.checked_mul(2)?,
        ]
        .into_iter()
        .try_fold(0u64, |a, b| a.checked_add(b))
    }
}
