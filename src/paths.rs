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

/// The path of `file` inside the model folder `dir`, checked to be a plain
/// file (symlinks followed). Says what is there instead when it is not: a
/// folder, a dangling link, a link loop, a device or FIFO.
pub fn model_file(
    dir: &std::path::Path,
    file: &'static str,
) -> Result<PathBuf, crate::model::ModelError> {
    use crate::model::ModelError;
    let path = dir.join(file);
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
