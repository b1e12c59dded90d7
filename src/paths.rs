//! Where the built-in models are.

use std::path::PathBuf;

/// The source tree's `tiny-models/` folder (or `$GPTLENS_MODELS`): what the
/// built-in models are compiled from, read by tests. The program itself opens
/// [`builtin_model`]s, which are in the binary.
pub fn tiny_models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("GPTLENS_MODELS") {
        return PathBuf::from(d);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tiny-models")
}

/// The name of the default built-in model.
pub const DEFAULT_MODEL: &str = "tinystories";

/// The source tree's copy of the default model (tests compare against it).
pub fn default_model_dir() -> PathBuf {
    tiny_models_dir().join(DEFAULT_MODEL)
}

/// The built-in model `name` as a folder the loaders open: `(built-in)/NAME`
/// (read from the binary), or `$GPTLENS_MODELS/NAME` when that variable is
/// set. None when there is no such model.
pub fn builtin_model(name: &str) -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("GPTLENS_MODELS") {
        let d = PathBuf::from(d).join(name);
        return d.is_dir().then_some(d);
    }
    crate::embedded::dir(name)
}

/// GPT-2's own tokenizer.json, which the tokens lessons compare with the
/// model's: `$GPTLENS_GPT2_TOKENIZER`, else
/// `../shared/data/gpt2-tokenizer/tokenizer.json` beside the source tree.
/// None when neither is a file (it is not shipped; the lessons say so).
pub fn gpt2_tokenizer() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("GPTLENS_GPT2_TOKENIZER") {
        let p = PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["..", "../.."]
        .iter()
        .map(|up| {
            here.join(up)
                .join("shared/data/gpt2-tokenizer/tokenizer.json")
        })
        .find(|p| p.is_file())
}

/// The model used when `--model` is not given.
pub fn default_model() -> Option<PathBuf> {
    builtin_model(DEFAULT_MODEL)
}

/// The path of `file` inside the model folder `dir`, checked to be a plain
/// file (symlinks followed). Says what is there instead when it is not: a
/// folder, a dangling link, a link loop, a device or FIFO.
pub fn model_file(
    dir: &std::path::Path,
    file: &'static str,
) -> Result<PathBuf, crate::model::ModelError> {
    use crate::model::ModelError;
    let path = dir.join(file);
    if crate::embedded::model_at(dir).is_some() {
        return match crate::embedded::file(&path) {
            Some(_) => Ok(path),
            None => Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file,
            }),
        };
    }
    let not_a_file = |what| ModelError::NotAFile {
        path: path.clone(),
        file,
        what,
    };
    let link = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ModelError::MissingFile {
                dir: dir.to_path_buf(),
                file,
            });
        }
        Err(err) => return Err(ModelError::Io { path, err }),
    };
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) if link.file_type().is_symlink() => {
            // ELOOP is 40 on Linux, 62 on macOS and the BSDs.
            let is_loop = matches!(e.raw_os_error(), Some(40) | Some(62));
            return Err(not_a_file(if is_loop {
                "is a symbolic link that loops back on itself"
            } else {
                "is a symbolic link to something that does not exist (a dangling link)"
            }));
        }
        Err(err) => return Err(ModelError::Io { path, err }),
    };
    if meta.is_dir() {
        Err(not_a_file("is a folder"))
    } else if !meta.is_file() {
        Err(not_a_file(
            "is not a regular file (a FIFO, socket or device)",
        ))
    } else {
        Ok(path)
    }
}
