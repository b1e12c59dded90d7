//! The model's shape, read from (and written as) a Hugging Face `config.json`.
//!
//! Field names follow `GPT2Config` so that real GPT-2 / distilgpt2 folders open
//! unchanged, and so that the folders gptlens writes open in `transformers`.
//! A `LlamaConfig` (model_type "llama") is read into the same struct: its
//! names are mapped onto GPT-2's (hidden_size → n_embd, …) and the fields only
//! Llama has (key/value heads, the rotary base) are set.

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
    /// Key/value heads (grouped-query attention); None: one per query head.
    /// Llama only: GPT-2's config.json never has it.
    #[serde(skip)]
    pub n_kv_head: Option<usize>,
    /// RoPE's base θ (the angle of pair i at position p is p·θ^(−2i/dₖ));
    /// Some exactly for Llama.
    #[serde(skip)]
    pub rope_theta: Option<f64>,
}

/// The architectures `Config::read` accepts, as an error message lists them.
pub const SUPPORTED: &str =
    "gpt2 (GPT2LMHeadModel) and llama (LlamaForCausalLM, e.g. SmolLM2, TinyLlama)";

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
            n_kv_head: None,
            rope_theta: None,
        }
    }

    /// A Llama config of the given shape: RMSNorm ε 1e-5, SwiGLU of width
    /// `mlp`, `n_kv_head` key/value heads, RoPE base `rope_theta`, untied head.
    #[allow(clippy::too_many_arguments)]
    pub fn llama(
        n_layer: usize,
        n_head: usize,
        n_kv_head: usize,
        n_embd: usize,
        mlp: usize,
        vocab_size: usize,
        n_positions: usize,
        rope_theta: f64,
    ) -> Self {
        Config {
            n_inner: Some(mlp),
            activation_function: "silu".into(),
            model_type: "llama".into(),
            architectures: Some(vec!["LlamaForCausalLM".into()]),
            tie_word_embeddings: false,
            n_kv_head: Some(n_kv_head),
            rope_theta: Some(rope_theta),
            ..Config::new(n_layer, n_head, n_embd, vocab_size, n_positions)
        }
    }

    /// Key/value heads per layer (n_head unless grouped-query attention).
    pub fn n_kv_head(&self) -> usize {
        self.n_kv_head.unwrap_or(self.n_head)
    }

    /// Width of one position's keys (and values): n_kv_head·dₖ.
    pub fn kv_dim(&self) -> usize {
        self.n_kv_head() * self.head_dim()
    }

    /// Whether this is a Llama config (the only other family).
    pub fn is_llama(&self) -> bool {
        self.model_type == "llama"
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
        if !matches!(self.model_type.as_str(), "gpt2" | "llama") {
            return bad(format!(
                "model_type is \"{}\"; gptlens runs {SUPPORTED}",
                self.model_type
            ));
        }
        if let Some(archs) = &self.architectures
            && let Some(a) = archs.iter().find(|a| {
                !a.is_empty()
                    && if self.is_llama() {
                        !matches!(a.as_str(), "LlamaForCausalLM" | "LlamaModel")
                    } else {
                        !a.starts_with("GPT2")
                    }
            })
        {
            return bad(format!(
                "architecture {a} is not supported; gptlens runs {SUPPORTED}"
            ));
        }
        let act = self.activation_function.as_str();
        if self.is_llama() {
            if act != "silu" {
                return bad(format!(
                    "hidden_act \"{act}\" is not supported for Llama; gptlens runs SwiGLU with \"silu\""
                ));
            }
        } else if !matches!(act, "gelu_new" | "gelu_pytorch_tanh" | "gelu") {
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
        if self.is_llama() {
            let kv = self.n_kv_head();
            if kv == 0 || !self.n_head.is_multiple_of(kv) {
                return bad(format!(
                    "num_key_value_heads is {kv} but num_attention_heads is {}: each key/value head must serve the same number of query heads",
                    self.n_head
                ));
            }
            if !self.head_dim().is_multiple_of(2) {
                return bad(format!(
                    "the head width hidden_size/num_attention_heads is {}; RoPE rotates pairs of dimensions, so it must be even",
                    self.head_dim()
                ));
            }
            if !self.rope_theta.is_some_and(|t| t > 1.0 && t.is_finite()) {
                return bad(format!(
                    "rope_theta is {:?}; it must be a number above 1 (10000 in the original Llama)",
                    self.rope_theta
                ));
            }
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
        // Not JSON at all: the GPT-2 parse below says so.
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match json.get("model_type").and_then(|m| m.as_str()) {
            None | Some("gpt2") => {}
            Some("llama") => {
                let cfg = Config::from_llama_json(&text).map_err(|e| match e {
                    ModelError::BadConfig(m) => {
                        ModelError::BadConfig(format!("{}: {m}", path.display()))
                    }
                    e => e,
                })?;
                cfg.validate()?;
                return Ok(cfg);
            }
            Some(other) => {
                let arch = json
                    .get("architectures")
                    .and_then(|a| a.get(0))
                    .and_then(|a| a.as_str())
                    .map(|a| format!(" ({a})"))
                    .unwrap_or_default();
                return Err(ModelError::BadConfig(format!(
                    "{} describes a \"{other}\"{arch} model, which gptlens does not run; it runs {SUPPORTED}",
                    path.display()
                )));
            }
        }
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
        if self.is_llama() {
            let text = serde_json::to_string_pretty(&self.llama_json()).expect("json");
            return std::fs::write(path, text + "\n").map_err(|err| ModelError::Write {
                path: path.to_path_buf(),
                err,
            });
        }
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
        if self.is_llama() {
            return self.checked_params_llama();
        }
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

/// The fields of a Hugging Face `LlamaConfig` that change the computation.
#[derive(Deserialize)]
struct LlamaJson {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default)]
    num_key_value_heads: Option<usize>,
    intermediate_size: usize,
    vocab_size: usize,
    #[serde(default = "d_llama_positions")]
    max_position_embeddings: usize,
    #[serde(default = "d_rms_eps")]
    rms_norm_eps: f64,
    #[serde(default = "d_silu")]
    hidden_act: String,
    /// LlamaConfig's default is untied.
    #[serde(default)]
    tie_word_embeddings: bool,
    #[serde(default)]
    head_dim: Option<usize>,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    mlp_bias: bool,
    /// transformers < 5: the base at the top level, variants in rope_scaling.
    #[serde(default)]
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_scaling: Option<serde_json::Value>,
    /// transformers 5: {rope_theta, rope_type, …}.
    #[serde(default)]
    rope_parameters: Option<serde_json::Value>,
    #[serde(default)]
    partial_rotary_factor: Option<f64>,
    #[serde(default)]
    architectures: Option<Vec<String>>,
    #[serde(default)]
    bos_token_id: Option<serde_json::Value>,
    #[serde(default)]
    eos_token_id: Option<serde_json::Value>,
}

fn d_llama_positions() -> usize {
    2048
}
fn d_rms_eps() -> f64 {
    1e-6
}
fn d_silu() -> String {
    "silu".into()
}

/// A token id that may be given as a list (Llama 3 lists several end tokens): the first.
fn first_id(v: &Option<serde_json::Value>) -> Option<u32> {
    let v = v.as_ref()?;
    let v = v.as_array().and_then(|a| a.first()).unwrap_or(v);
    v.as_u64().and_then(|n| u32::try_from(n).ok())
}

impl Config {
    /// Reads a `LlamaConfig` config.json into GPT-2's names. Refuses what the
    /// Llama block does not compute: biases, RoPE variants, partial rotation,
    /// a head width other than hidden_size/num_attention_heads.
    pub fn from_llama_json(text: &str) -> Result<Self, ModelError> {
        let bad = |m: String| ModelError::BadConfig(m);
        let j: LlamaJson = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a valid Llama config.json: {e}")))?;
        if j.attention_bias || j.mlp_bias {
            return Err(bad(
                "attention_bias / mlp_bias is true; gptlens runs Llama blocks without biases"
                    .into(),
            ));
        }
        let params = j.rope_parameters.as_ref().or(j.rope_scaling.as_ref());
        let field = |k: &str| params.and_then(|p| p.get(k));
        let rope_type = field("rope_type")
            .or_else(|| field("type"))
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        if rope_type != "default" {
            return Err(bad(format!(
                "rope_type \"{rope_type}\" is not supported; gptlens runs the default RoPE (rope_type \"default\") and not its scaled variants (linear, dynamic, yarn, longrope, llama3)"
            )));
        }
        let partial = j
            .partial_rotary_factor
            .or_else(|| field("partial_rotary_factor").and_then(|f| f.as_f64()));
        if partial.is_some_and(|f| f != 1.0) {
            return Err(bad(format!(
                "partial_rotary_factor is {}; gptlens's Llama rotates the whole head (1.0)",
                partial.unwrap_or(1.0)
            )));
        }
        let theta = field("rope_theta")
            .and_then(|t| t.as_f64())
            .or(j.rope_theta)
            .unwrap_or(10000.0);
        if j.num_attention_heads == 0 {
            return Err(bad("num_attention_heads is 0".into()));
        }
        let natural = j.hidden_size / j.num_attention_heads;
        if let Some(d) = j.head_dim
            && d != natural
        {
            return Err(bad(format!(
                "head_dim is {d} but hidden_size/num_attention_heads is {natural}; gptlens needs heads that split the width evenly"
            )));
        }
        Ok(Config {
            n_layer: j.num_hidden_layers,
            n_head: j.num_attention_heads,
            n_embd: j.hidden_size,
            n_positions: j.max_position_embeddings,
            vocab_size: j.vocab_size,
            layer_norm_epsilon: j.rms_norm_eps,
            n_inner: Some(j.intermediate_size),
            activation_function: j.hidden_act,
            model_type: "llama".into(),
            architectures: j.architectures,
            bos_token_id: first_id(&j.bos_token_id),
            eos_token_id: first_id(&j.eos_token_id),
            tie_word_embeddings: j.tie_word_embeddings,
            scale_attn_weights: true,
            scale_attn_by_inverse_layer_idx: false,
            reorder_and_upcast_attn: false,
            n_kv_head: Some(j.num_key_value_heads.unwrap_or(j.num_attention_heads)),
            rope_theta: Some(theta),
        })
    }

    /// This config in `LlamaConfig`'s names (transformers 5's rope_parameters form).
    fn llama_json(&self) -> serde_json::Value {
        serde_json::json!({
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": self.n_embd,
            "num_hidden_layers": self.n_layer,
            "num_attention_heads": self.n_head,
            "num_key_value_heads": self.n_kv_head(),
            "head_dim": self.head_dim(),
            "intermediate_size": self.mlp_dim(),
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.n_positions,
            "rms_norm_eps": self.layer_norm_epsilon,
            "hidden_act": self.activation_function,
            "tie_word_embeddings": self.tie_word_embeddings,
            "attention_bias": false,
            "mlp_bias": false,
            "rope_parameters": {"rope_type": "default", "rope_theta": self.rope_theta.unwrap_or(10000.0)},
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
        })
    }

    /// Llama's parameter count, checked: embed_tokens, lm_head when untied,
    /// per layer two RMSNorm gains, q/o (C·C each), k/v (C·kv_dim each) and the
    /// three SwiGLU matrices (3·C·M), and the final norm.
    fn checked_params_llama(&self) -> Option<u64> {
        let u = |x: usize| u64::try_from(x).ok();
        let c = u(self.n_embd)?;
        let m = u(self.mlp_dim())?;
        let kv = u(self.n_kv_head())?.checked_mul(u(self.head_dim())?)?;
        let per_layer = [
            c.checked_mul(2)?,
            c.checked_mul(c)?.checked_mul(2)?,
            c.checked_mul(kv)?.checked_mul(2)?,
            c.checked_mul(m)?.checked_mul(3)?,
        ]
        .into_iter()
        .try_fold(0u64, |a, b| a.checked_add(b))?;
        let emb = u(self.vocab_size)?.checked_mul(c)?;
        let head = if self.tie_word_embeddings { 0 } else { emb };
        [emb, head, u(self.n_layer)?.checked_mul(per_layer)?, c]
            .into_iter()
            .try_fold(0u64, |a, b| a.checked_add(b))
    }
}

#[cfg(test)]
mod llama_tests {
    use super::*;

    fn base() -> serde_json::Value {
        serde_json::json!({
            "model_type": "llama", "architectures": ["LlamaForCausalLM"],
            "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 8,
            "num_key_value_heads": 2, "intermediate_size": 100, "vocab_size": 50,
            "max_position_embeddings": 128, "rms_norm_eps": 1e-5,
        })
    }

    fn parse(v: &serde_json::Value) -> Result<Config, ModelError> {
        let c = Config::from_llama_json(&v.to_string())?;
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn rope_base_from_either_form_and_ten_thousand_by_default() {
        let mut v = base();
        assert_eq!(parse(&v).unwrap().rope_theta, Some(10000.0));
        v["rope_theta"] = 5e5.into();
        assert_eq!(parse(&v).unwrap().rope_theta, Some(5e5));
        v["rope_parameters"] = serde_json::json!({"rope_type": "default", "rope_theta": 1234.0});
        assert_eq!(parse(&v).unwrap().rope_theta, Some(1234.0));
        let c = parse(&v).unwrap();
        assert_eq!((c.n_kv_head(), c.kv_dim(), c.mlp_dim()), (2, 16, 100));
        assert!(!c.tie_word_embeddings, "LlamaConfig's default is untied");
    }

    #[test]
    fn refuses_what_the_block_does_not_compute() {
        let refused = |edit: &dyn Fn(&mut serde_json::Value), needle: &str| {
            let mut v = base();
            edit(&mut v);
            let e = parse(&v).expect_err(needle).to_string();
            assert!(e.contains(needle), "{e}");
        };
        refused(
            &|v| {
                v["rope_parameters"] = serde_json::json!({"rope_type": "llama3", "rope_theta": 5e5})
            },
            "rope_type \"llama3\" is not supported",
        );
        refused(
            &|v| v["rope_scaling"] = serde_json::json!({"type": "linear", "factor": 2.0}),
            "rope_type \"linear\"",
        );
        refused(
            &|v| v["num_key_value_heads"] = 3.into(),
            "num_key_value_heads is 3",
        );
        refused(&|v| v["attention_bias"] = true.into(), "without biases");
        refused(&|v| v["hidden_act"] = "gelu".into(), "hidden_act \"gelu\"");
        refused(&|v| v["head_dim"] = 16.into(), "head_dim is 16");
        refused(
            &|v| v["partial_rotary_factor"] = 0.5.into(),
            "partial_rotary_factor",
        );
        refused(&|v| v["num_attention_heads"] = 64.into(), "must be even");
        refused(
            &|v| v["architectures"] = serde_json::json!(["MistralForCausalLM"]),
            "architecture MistralForCausalLM is not supported",
        );
    }

    #[test]
    fn unsupported_model_type_is_named_with_the_supported_list() {
        let dir = std::env::temp_dir().join(format!("gptlens-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("config.json");
        std::fs::write(
            &p,
            r#"{"model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "hidden_size": 8}"#,
        )
        .unwrap();
        let e = Config::read(&p).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).ok();
        assert!(e.contains("\"qwen2\" (Qwen2ForCausalLM)"), "{e}");
        assert!(
            e.contains("gpt2 (GPT2LMHeadModel) and llama (LlamaForCausalLM"),
            "{e}"
        );
    }

    #[test]
    fn written_llama_config_reads_back_and_counts_parameters() {
        let c = Config::llama(3, 9, 3, 54, 71, 83, 29, 5000.0);
        c.validate().unwrap();
        let back = Config::from_llama_json(&c.llama_json().to_string()).unwrap();
        assert_eq!(back, c);
        // 83·54·2 + 3·(2·54 + 2·54² + 2·54·18 + 3·54·71) + 54
        assert_eq!(
            c.checked_params(),
            Some(8964 + 3 * (108 + 5832 + 1944 + 11502) + 54)
        );
    }
}
