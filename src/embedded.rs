//! The built-in models and the lessons, compiled into the binary (see
//! `build.rs`), so a copied or `cargo install`ed gptlens runs everything
//! with nothing beside it. `tiny-models/` and `lessons/` stay the source
//! they are built from.
//!
//! A built-in model has a name that reads like a folder, `(built-in)/NAME`:
//! the loaders (`Gpt::open`, `Tokenizer::open`, the training record) ask
//! [`file`] first, so everything that takes a model folder takes a built-in
//! model too, and messages name it without a build-directory path.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

/// One built-in model folder: its files, by name.
pub struct Model {
    pub name: &'static str,
    pub files: &'static [(&'static str, &'static [u8])],
}

/// Bytes aligned for reading f32 tensors in place.
#[repr(C, align(64))]
struct Aligned<B: ?Sized>(B);

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The folder-like name built-in models go by.
pub const ROOT: &str = "(built-in)";

/// The built-in model `name`, if there is one.
pub fn model(name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.name == name)
}

/// The built-in models' names, for messages.
pub fn names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// `(built-in)/NAME` for a built-in model.
pub fn dir(name: &str) -> Option<PathBuf> {
    model(name).map(|m| Path::new(ROOT).join(m.name))
}

/// The built-in model `dir` names (`(built-in)/NAME`), if it names one.
pub fn model_at(dir: &Path) -> Option<&'static Model> {
    let name = dir.strip_prefix(ROOT).ok()?.to_str()?;
    model(name)
}

/// The bytes of `(built-in)/NAME/FILE`, if `path` is a built-in model's file.
pub fn file(path: &Path) -> Option<&'static [u8]> {
    let m = model_at(path.parent()?)?;
    let f = path.file_name()?.to_str()?;
    m.files.iter().find(|(n, _)| *n == f).map(|(_, b)| *b)
}

/// A file's bytes, built-in or on disk.
pub fn read(path: &Path) -> std::io::Result<Cow<'static, [u8]>> {
    match file(path) {
        Some(b) => Ok(Cow::Borrowed(b)),
        None if model_at(path.parent().unwrap_or(Path::new(""))).is_some() => {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "not part of the built-in model",
            ))
        }
        None => std::fs::read(path).map(Cow::Owned),
    }
}

/// A file's text, built-in or on disk.
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    let b = read(path)?;
    String::from_utf8(b.into_owned())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Copies a file that may be built in.
pub fn copy(from: &Path, to: &Path) -> std::io::Result<()> {
    match file(from) {
        Some(b) => std::fs::write(to, b),
        None => std::fs::copy(from, to).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_and_every_lesson_are_built_in() {
        let d = dir(crate::paths::DEFAULT_MODEL).expect("built in");
        assert_eq!(d, Path::new("(built-in)/tinystories"));
        for f in ["config.json", "model.safetensors", "tokenizer.json"] {
            let on_disk = std::fs::read(crate::paths::default_model_dir().join(f)).unwrap();
            assert_eq!(file(&d.join(f)), Some(&on_disk[..]), "{f}");
        }
        let w = file(&d.join("model.safetensors")).unwrap();
        assert_eq!(w.as_ptr() as usize % 64, 0, "aligned for f32");
        assert!(file(&d.join("pytorch_model.bin")).is_none());
        assert!(file(Path::new("(built-in)/nope/config.json")).is_none());
        assert!(model_at(Path::new("tiny-models/tinystories")).is_none());
        let md = |dir: &str| {
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .unwrap()
                .filter(|e| {
                    let p = e.as_ref().unwrap().path();
                    p.is_file() && p.extension().is_some_and(|x| x == "md")
                })
                .count()
        };
        assert_eq!(LESSONS.len(), md("lessons"));
        assert_eq!(LESSONS_ZH.len(), md("lessons/zh"));
        assert!(!LESSONS_ZH.is_empty(), "the Chinese lessons are built in");
    }
}
