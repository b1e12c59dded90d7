//! `gptlens init`: a seeded random model folder.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

use gptlens::model::{Config, random_model};
use gptlens::tokenizer::{Tokenizer, bytes_tokenizer_json};
use gptlens::train::files::CreatedDir;
use gptlens::train::memory;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Transformer blocks.
    #[arg(long, default_value_t = 2)]
    layers: usize,
    /// Attention heads per block.
    #[arg(long, default_value_t = 4)]
    heads: usize,
    /// Width of the residual stream.
    #[arg(long, default_value_t = 64)]
    embd: usize,
    /// Vocabulary size (at least 257 with the built-in byte tokenizer).
    #[arg(long, default_value_t = 257)]
    vocab: usize,
    /// Context length (positions).
    #[arg(long, default_value_t = 128)]
    ctx: usize,
    /// Random seed for the weights: the same seed writes the same model.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Use this tokenizer.json instead of the 257-token byte tokenizer.
    #[arg(long, value_name = "FILE")]
    tokenizer: Option<PathBuf>,
    /// Where to write the folder.
    #[arg(long)]
    out: PathBuf,
    /// Overwrite an existing folder.
    #[arg(long)]
    force: bool,
    /// Refuse a model that needs more memory than this (e.g. 8G) instead of more
    /// than the machine has available.
    #[arg(long, value_name = "SIZE", value_parser = memory::parse_size)]
    max_memory: Option<u64>,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = Config::new(a.layers, a.heads, a.embd, a.vocab, a.ctx);
    cfg.validate()?;
    let tok_json = match &a.tokenizer {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => bytes_tokenizer_json(),
    };
    let tok = Tokenizer::from_json(&tok_json)?;
    tok.check_matches(&cfg).with_context(|| {
        format!(
            "--vocab {} is too small for the tokenizer ({} tokens)",
            a.vocab,
            tok.vocab_size()
        )
    })?;
    if a.out.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            a.out.display()
        );
    }
    // Counted before anything is allocated or created.
    let need = memory::model_need(&cfg)?;
    memory::check(&need, a.max_memory, "this model")?;
    // Removed again if writing fails, unless it existed before.
    let mut dir =
        CreatedDir::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let gpt = random_model(&cfg, a.seed, false);
    gpt.save(&a.out)?;
    let tp = a.out.join("tokenizer.json");
    std::fs::write(&tp, tok_json).with_context(|| format!("writing {}", tp.display()))?;
    dir.keep();
    eprintln!(
        "wrote a random {}-layer, {}-head, {}-wide model ({} parameters, {} in memory) to {}",
        a.layers,
        a.heads,
        a.embd,
        cfg.n_params(),
        memory::bytes(need.total()),
        a.out.display()
    );
    Ok(())
}
