//! The engine (GPT-2 and Llama): configuration, weights, the forward pass and its trace.
//!
//! Nothing in here knows about terminals; the TUI and the lessons read the
//! [`Trace`] this module records.

mod arch;
mod config;
mod forward;
mod gguf;
mod init;
mod llama;
mod trace;
mod weights;

pub use arch::{Arch, Family, Mlp, Norm, Positions};
pub use config::{Activation, Config, SUPPORTED};
pub use forward::{
    GELU_CUBIC, GELU_SQRT_2_OVER_PI, Interventions, KvCache, gelu_erf, gelu_new, layer_norm,
    logsumexp, softmax_in_place,
};
pub use gguf::{GgufModel, unpermute_rows};
pub use init::random_model;
pub use llama::{rmsnorm, rope_angle, rope_inv_freq, silu};
pub use trace::{LayerTrace, LnTrace, NonFinite, Trace};
pub use weights::{
    LayerWeights, LlamaLayerWeights, Tensor, Weights, expected_tensors, write_safetensors,
};

use std::path::{Path, PathBuf};

/// Everything that can go wrong opening or running a model. Each message says
/// what is wrong and, where it can, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    // The OS error is part of the message and deliberately not a `source`:
    // anyhow's `{:#}` would print it a second time.
    #[error("cannot read {path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("cannot write {path}: {err}")]
    Write { path: PathBuf, err: std::io::Error },
    #[error(
        "{dir} has no {file}. A model folder holds config.json, model.safetensors and tokenizer.json (the Hugging Face GPT-2 layout); `gptlens init --out DIR` makes a random one"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    /// Something is at the path, but not a readable file.
    #[error("{path} {what}; it should be the model's {file}, a plain file")]
    NotAFile {
        path: PathBuf,
        file: &'static str,
        what: &'static str,
    },
    #[error("bad config: {0}")]
    BadConfig(String),
    #[error(
        "{path} is not a readable safetensors file ({why}); the download may be truncated: fetch it again"
    )]
    CorruptWeights { path: PathBuf, why: String },
    #[error(
        "tensor {name} in {path} has dtype {dtype}; dtype {dtype} is not supported; gptlens reads F32, F16, BF16 (convert the checkpoint, e.g. with transformers: model.float().save_pretrained(DIR))"
    )]
    UnsupportedDtype {
        path: PathBuf,
        name: String,
        dtype: String,
    },
    /// config.json describes more numbers than model.safetensors holds:
    /// refused before anything of that size is allocated.
    #[error(
        "config.json and {path} do not belong together: {why}. Use the config.json that came with these weights"
    )]
    SizeMismatch { path: PathBuf, why: String },
    #[error(
        "tensor {name} is missing from {file}; a checkpoint of this architecture has it (GPT-2: with or without the `transformer.` prefix; Llama: with or without `model.`)"
    )]
    MissingTensor { name: String, file: String },
    #[error(
        "tensor {name} has shape {found:?} but config.json implies {expected:?}; config.json and model.safetensors do not belong together"
    )]
    TensorShape {
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// config.json, the tokenizer and the tensors disagree on the vocabulary.
    #[error(
        "the vocabulary sizes disagree: {0}. config.json, the tokenizer and the weights must come from the same model"
    )]
    VocabMismatch(String),
    /// A GGUF file gptlens cannot run as a model (the message names the file).
    #[error("{0}")]
    Gguf(String),
    #[error("bad tokenizer: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    Input(String),
}

/// Something about a loaded model worth telling the user that does not stop
/// it from running. The CLI prints these to stderr.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadWarning {
    /// Tensors in the file that this config does not use (e.g. `h.3.*` on a
    /// 3-layer config): the file may belong to a bigger model.
    UnexpectedTensors { names: Vec<String> },
    /// A tied config (`tie_word_embeddings` true) whose file also has an
    /// `lm_head.weight` that differs from `wte.weight`; the head is ignored.
    IgnoredHead,
    /// The tokenizer has fewer tokens than the model has ids.
    TokenizerCoverage { tokens: usize, vocab: usize },
    /// Some of a GGUF file's non-F32 tensors (ggml type, count) were
    /// expanded to f32 on load (`bytes` of them): types or shapes the
    /// quantized kernels do not take, such as F16 vectors.
    Dequantized {
        types: Vec<(String, usize)>,
        bytes: u64,
    },
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadWarning::UnexpectedTensors { names } => {
                const SHOW: usize = 6;
                let mut list = names
                    .iter()
                    .take(SHOW)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if names.len() > SHOW {
                    list += &format!(" and {} more", names.len() - SHOW);
                }
                write!(
                    f,
                    "model.safetensors holds {} tensor(s) that config.json does not use ({list}); they are ignored. If the file belongs to a bigger model, use its config.json",
                    names.len()
                )
            }
            LoadWarning::IgnoredHead => write!(
                f,
                "model.safetensors has an lm_head.weight that differs from wte.weight, but config.json says tie_word_embeddings: true, so the logits use wte.weight. If the model was trained with its own head, set \"tie_word_embeddings\": false"
            ),
            LoadWarning::Dequantized { types, bytes } => {
                let list = types
                    .iter()
                    .map(|(t, n)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                write!(
                    f,
                    "the GGUF's tensors {list} were dequantized to f32 on load ({:.1} MiB in memory): the quantized kernels take Q8_0, Q4_0, Q4_1 and F16 matrices only",
                    *bytes as f64 / (1u64 << 20) as f64
                )
            }
            LoadWarning::TokenizerCoverage { tokens, vocab } => write!(
                f,
                "the tokenizer has {tokens} tokens but the model has {vocab} ids: {} ids have no text and show as <id N>",
                vocab - tokens
            ),
        }
    }
}

/// A model ready to run (GPT-2 or Llama, as `config.arch()` says): its shape and its weights.
#[derive(Clone, Debug)]
pub struct Gpt {
    pub config: Config,
    pub weights: Weights,
}

impl Gpt {
    /// Opens `config.json` and `model.safetensors` in `dir` (the tokenizer is
    /// opened separately, see [`crate::tokenizer::Tokenizer::open`]).
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        // A GGUF file: Llama here, GPT-2 by the gguf module.
        if GgufModel::is_llama_file(dir) {
            return Ok(GgufModel::open(dir)?.gpt);
        }
        if crate::gguf::gpt2::is_gguf(dir) {
            return crate::gguf::gpt2::open(dir)
                .map(|(gpt, _, _)| gpt)
                .map_err(gguf::gguf_err);
        }
        // A built-in model (`(built-in)/NAME`) is read from the binary.
        let builtin = crate::embedded::model_at(dir).is_some();
        if !builtin && dir.is_file() {
            return Err(ModelError::Input(format!(
                "{} is a file, not a model folder. --model takes the folder that holds config.json, model.safetensors and tokenizer.json",
                dir.display()
            )));
        }
        if !builtin && !dir.is_dir() {
            return Err(ModelError::Input(format!(
                "model folder {} does not exist. A model folder holds config.json, model.safetensors and tokenizer.json; leave out --model to use the built-in model, or name a built-in one ({})",
                dir.display(),
                crate::embedded::names().join(", ")
            )));
        }
        let cfg_path = crate::paths::model_file(dir, "config.json")?;
        let config = Config::read(&cfg_path)?;
        let st = match crate::paths::model_file(dir, "model.safetensors") {
            Err(ModelError::MissingFile { .. }) => {
                if dir.join("pytorch_model.bin").is_file() {
                    return Err(ModelError::Input(format!(
                        "{} has pytorch_model.bin but no model.safetensors. gptlens does not open pytorch_model.bin: it is a Python pickle, and loading a pickle runs whatever code it holds, while a safetensors file is only a header and numbers. Convert it once, with transformers installed (this loads the pickle: do it only for a file you trust): python -c \"import sys; from transformers import AutoModelForCausalLM as M; M.from_pretrained(sys.argv[1]).save_pretrained(sys.argv[1], safe_serialization=True)\" '{}'",
                        dir.display(),
                        dir.display()
                    )));
                }
                return Err(ModelError::Input(format!(
                    "{} has no model.safetensors. A model folder holds config.json, model.safetensors and tokenizer.json",
                    dir.display()
                )));
            }
            other => other?,
        };
        let weights = Weights::load_safetensors(&config, &st)?;
        Ok(Gpt { config, weights })
    }

    /// Writes config.json and model.safetensors into `dir` (which must exist).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        self.config.write(&dir.join("config.json"))?;
        self.weights
            .save_safetensors(&dir.join("model.safetensors"))
    }
}
