//! The GPT-2 engine: configuration, weights, the forward pass and its trace.
//!
//! Nothing in here knows about terminals; the TUI and the lessons read the
//! [`Trace`] this module records.

mod config;
mod forward;
mod init;
mod trace;
mod weights;

pub use config::Config;
pub use forward::{
    GELU_CUBIC, GELU_SQRT_2_OVER_PI, Interventions, KvCache, gelu_new, layer_norm, logsumexp,
    softmax_in_place,
};
pub use init::random_model;
pub use trace::{LayerTrace, LnTrace, Trace};
pub use weights::{LayerWeights, Tensor, Weights, expected_tensors, write_safetensors};

use std::path::{Path, PathBuf};

/// Everything that can go wrong opening or running a model. Each message says
/// what is wrong and, where it can, how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{dir} has no {file}. A model folder holds config.json, model.safetensors and tokenizer.json (the Hugging Face GPT-2 layout); `gptlens init --out DIR` makes a random one"
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("bad config: {0}")]
    BadConfig(String),
    #[error(
        "{path} is not a readable safetensors file ({why}); the download may be truncated: fetch it again"
    )]
    CorruptWeights { path: PathBuf, why: String },
    #[error(
        "tensor {name} is missing from {file}; a GPT-2 checkpoint has it (with or without the `transformer.` prefix)"
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
    #[error("bad tokenizer: {0}")]
    Tokenizer(String),
    #[error("{0}")]
    Input(String),
}

/// A GPT-2 model ready to run: its shape and its weights.
#[derive(Clone, Debug)]
pub struct Gpt {
    pub config: Config,
    pub weights: Weights,
}

impl Gpt {
    /// Opens `config.json` and `model.safetensors` in `dir` (the tokenizer is
    /// opened separately, see [`crate::tokenizer::Tokenizer::open`]).
    pub fn open(dir: &Path) -> Result<Self, ModelError> {
        if !dir.is_dir() {
            return Err(ModelError::Input(format!(
                "model folder {} does not exist. A model folder holds config.json, model.safetensors and tokenizer.json; leave out --model to use the built-in model",
                dir.display()
            )));
        }
        let cfg_path = dir.join("config.json");
        if !cfg_path.is_file() {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file: "config.json",
            });
        }
        let config = Config::read(&cfg_path)?;
        let st = dir.join("model.safetensors");
        if !st.is_file() {
            let hint = if dir.join("pytorch_model.bin").is_file() {
                " (found pytorch_model.bin: convert it with transformers' save_pretrained(..., safe_serialization=True))"
            } else {
                ""
            };
            return Err(ModelError::Input(format!(
                "{} has no model.safetensors{hint}. A model folder holds config.json, model.safetensors and tokenizer.json",
                dir.display()
            )));
        }
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
