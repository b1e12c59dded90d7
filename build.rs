//! Embeds the built-in models (`tiny-models/*/`) and the lessons
//! (`lessons/*.md`, their Chinese twins `lessons/zh/*.md`) in the binary, so a copied or installed gptlens needs
//! nothing beside it. Writes `$OUT_DIR/embedded.rs`, included by
//! `src/embedded.rs`; a file added to either folder is picked up on the next
//! build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn sorted(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(_) => vec![],
    };
    v.sort();
    v
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let models = root.join("tiny-models");
    let lessons = root.join("lessons");
    println!("cargo:rerun-if-changed={}", models.display());
    println!("cargo:rerun-if-changed={}", lessons.display());
    let mut code = String::new();
    let mut table = String::new();
    let mut n = 0;
    for dir in sorted(&models).into_iter().filter(|d| d.is_dir()) {
        println!("cargo:rerun-if-changed={}", dir.display());
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let _ = writeln!(table, "    Model {{ name: {name:?}, files: &[");
        for f in sorted(&dir).into_iter().filter(|f| f.is_file()) {
            let file = f.file_name().unwrap().to_string_lossy().into_owned();
            // 64-byte aligned, so f32 tensors are read in place.
            let _ = writeln!(
                code,
                "static F{n}: &Aligned<[u8]> = &Aligned(*include_bytes!({:?}));",
                f.display().to_string()
            );
            let _ = writeln!(table, "        ({file:?}, &F{n}.0),");
            n += 1;
        }
        let _ = writeln!(table, "    ] }},");
    }
    let _ = writeln!(code, "/// The built-in models, by folder name.");
    let _ = writeln!(code, "pub static MODELS: &[Model] = &[\n{table}];");
    lesson_table(&mut code, "LESSONS", "The lessons, by file stem.", &lessons);
    let zh = lessons.join("zh");
    println!("cargo:rerun-if-changed={}", zh.display());
    lesson_table(
        &mut code,
        "LESSONS_ZH",
        "The Chinese lessons (lessons/zh/), by the stem of their English twin.",
        &zh,
    );
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out.join("embedded.rs"), code).expect("write embedded.rs");
}

/// `pub static NAME: &[(&str, &str)]`: every `DIR/*.md` by file stem.
fn lesson_table(code: &mut String, name: &str, doc: &str, dir: &Path) {
    let _ = writeln!(code, "/// {doc}");
    let _ = writeln!(code, "pub static {name}: &[(&str, &str)] = &[");
    for f in sorted(dir)
        .into_iter()
        .filter(|f| f.is_file() && f.extension().is_some_and(|e| e == "md"))
    {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        let _ = writeln!(
            code,
            "    ({stem:?}, include_str!({:?})),",
            f.display().to_string()
        );
    }
    let _ = writeln!(code, "];");
}
