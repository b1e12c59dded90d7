//! `gptlens quantize`: a model as a GGUF file in one of ggml's formats.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

use gptlens::gguf::gpt2;
use gptlens::quant::GgmlType;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    #[value(name = "q8_0")]
    Q8_0,
    #[value(name = "q4_0")]
    Q4_0,
    #[value(name = "q4_1")]
    Q4_1,
    F16,
    F32,
}

impl Format {
    pub fn ggml(self) -> GgmlType {
        match self {
            Format::Q8_0 => GgmlType::Q8_0,
            Format::Q4_0 => GgmlType::Q4_0,
            Format::Q4_1 => GgmlType::Q4_1,
            Format::F16 => GgmlType::F16,
            Format::F32 => GgmlType::F32,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Format of the weight matrices (vectors stay f32; so does the position
    /// table, except with f16).
    #[arg(long = "type", value_enum)]
    ty: Format,
    /// The GGUF file to write.
    #[arg(long, value_name = "FILE.gguf")]
    out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

pub fn run(model: Option<&std::path::Path>, a: Args) -> Result<()> {
    if a.out.is_dir() {
        bail!(
            "--out {} is a folder; give a file name such as model-q8_0.gguf",
            a.out.display()
        );
    }
    if a.out.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            a.out.display()
        );
    }
    let l = super::load_model(model)?;
    let name = l
        .dir
        .file_stem()
        .map_or("gptlens".into(), |s| s.to_string_lossy().into_owned());
    let ty = a.ty.ggml();
    let kept = gpt2::write(&l.gpt, &l.tokenizer, ty, &name, &a.out)
        .with_context(|| format!("writing {}", a.out.display()))?;
    for k in &kept {
        super::out::warn(format_args!("{k}"));
    }
    let bytes = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    let f32_bytes = l.gpt.config.n_params() as u64 * 4;
    eprintln!(
        "wrote {} ({ty}, {} bytes, {:.1}% of the f32 weights' {} bytes)",
        a.out.display(),
        bytes,
        bytes as f64 / f32_bytes as f64 * 100.0,
        f32_bytes
    );
    Ok(())
}
