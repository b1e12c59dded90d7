//! `gptlens prune`: the model with its linear layers' smallest weights set to
//! zero (unstructured magnitude pruning, per matrix), written as a model folder.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;

use gptlens::model::Gpt;
use gptlens::quant::prune;
use gptlens::train::files::CreatedDir;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Fraction of each linear layer's weights set to zero, in [0, 1)
    /// (embeddings, LayerNorms and biases are kept).
    #[arg(long, value_name = "S", value_parser = parse_sparsity)]
    sparsity: f64,
    /// The model folder to write (config.json, model.safetensors, tokenizer.json).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite an existing folder.
    #[arg(long)]
    force: bool,
}

fn parse_sparsity(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number; give a fraction such as 0.5"))?;
    prune::check_sparsity(v).map_err(|e| e.to_string())?;
    Ok(v)
}

pub fn run(model: Option<&std::path::Path>, a: Args) -> Result<()> {
    if a.out.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            a.out.display()
        );
    }
    if a.out.is_file() {
        bail!(
            "--out {} is a file; give a folder for the pruned model",
            a.out.display()
        );
    }
    let l = super::load_model(model)?;
    let (weights, report) = prune::prune(&l.gpt.weights, a.sparsity)?;
    let gpt = Gpt {
        config: l.gpt.config.clone(),
        weights,
    };
    let tok_json = l
        .tokenizer
        .inner()
        .to_string(false)
        .map_err(|e| anyhow::anyhow!("cannot serialize the tokenizer: {e}"))?;
    // Removed again if writing fails, unless it existed before.
    let mut dir =
        CreatedDir::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    gpt.save(&a.out)
        .with_context(|| format!("writing the model to {}", a.out.display()))?;
    let tp = a.out.join("tokenizer.json");
    std::fs::write(&tp, tok_json).with_context(|| format!("writing {}", tp.display()))?;
    dir.keep();
    let (zeroed, total): (usize, usize) = report
        .iter()
        .fold((0, 0), |(z, n), p| (z + p.zeroed, n + p.weights));
    let max_t = report.iter().map(|p| p.threshold).fold(0.0f32, f32::max);
    eprintln!(
        "pruned {} matrices (the linear layers of every block; embeddings, norms and biases kept): {zeroed} of {total} weights set to zero ({:.1}%), |w| ≤ {max_t:.3e}; wrote {}",
        report.len(),
        zeroed as f64 / total.max(1) as f64 * 100.0,
        a.out.display()
    );
    Ok(())
}
