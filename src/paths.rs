//! Where the built-in models live.

use std::path::PathBuf;

/// The folder of the built-in tiny models (`tiny-models/` in the source tree,
/// or `$GPTLENS_MODELS`).
pub fn tiny_models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GPTLENS_MODELS") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tiny-models")
}

/// The name of the default built-in model.
pub const DEFAULT_MODEL: &str = "tinystories";

/// The default model folder, used when `--model` is not given.
pub fn default_model_dir() -> PathBuf {
    tiny_models_dir().join(DEFAULT_MODEL)
}
