//! Command-line surface: argument definitions and dispatch.

mod bench;
mod cost;
mod eval;
mod explore;
mod finetune;
mod generate;
mod init;
mod lesson;
pub mod out;
mod quantize;
mod trace;
mod train;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gptlens::model::Gpt;
use gptlens::tokenizer::Tokenizer;

/// Watch a GPT think: run a small GPT-2 token by token and see every stage of it.
#[derive(Parser, Debug)]
#[command(name = "gptlens", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Model folder (config.json, model.safetensors, tokenizer.json) or a GGUF file (gpt2). Default: the built-in tiny model.
    #[arg(long, global = true, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// No colours (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// No block or box-drawing glyphs (for terminals and fonts without them).
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Colormap for magnitudes in the explorer (signed values use blue–white–red).
    #[arg(long, global = true, value_enum, default_value = "viridis")]
    pub palette: gptlens::tui::heatmap::Palette,
    /// Write prompt, token and lesson text raw even to a terminal (control
    /// characters and escape sequences included). Without it they are shown
    /// escaped (␛, \u{7}) on a terminal, and raw to a pipe or file.
    #[arg(long, global = true)]
    pub raw: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a continuation and print it (for scripts).
    Generate(generate::Args),
    /// Print the full forward trace of a prompt as JSON.
    Trace(trace::Args),
    /// Write a seeded random model folder (for tests and benchmarks).
    Init(init::Args),
    /// Step through the forward pass in the terminal (the default command).
    Explore(explore::Args),
    /// Measure decode speed, prefill time and the time of one traced step.
    Bench(bench::Args),
    /// Train a GPT-2 from scratch on a text corpus (or time training with --bench).
    Train(train::Args),
    /// Fine-tune a model on prompt/response pairs (or --eval: their response loss).
    Finetune(finetune::Args),
    /// What a GPT costs: parameters, FLOPs, memory, accelerator-hours, for any shape.
    Cost(cost::Args),
    /// Loss, perplexity and bits per byte on a text; with --reference, what was lost (KL, top-1, per tensor).
    Eval(eval::Args),
    /// Write the model as a GGUF file with quantized weights (q8_0, q4_0, q4_1) or f16.
    Quantize(quantize::Args),
    /// List the lessons with one-line summaries.
    Lessons,
    /// Open a lesson (NAME from `gptlens lessons`, or --file PATH); --print writes it as markdown.
    Lesson(lesson::Args),
}

pub fn run(cli: Cli) -> Result<()> {
    let look = explore::Look {
        no_color: cli.no_color,
        ascii: cli.ascii,
        palette: cli.palette,
    };
    let text = out::TextMode::for_stdout(cli.raw);
    match cli.command {
        Some(Command::Explore(a)) => explore::run(cli.model.as_deref(), look, a),
        Some(Command::Generate(a)) => generate::run(cli.model.as_deref(), text, a),
        Some(Command::Trace(a)) => trace::run(cli.model.as_deref(), a),
        Some(Command::Init(a)) => init::run(a),
        Some(Command::Bench(a)) => bench::run(cli.model.as_deref(), a),
        Some(Command::Train(a)) => train::run(a),
        Some(Command::Finetune(a)) => finetune::run(cli.model.as_deref(), a),
        Some(Command::Cost(a)) => cost::run(cli.model.as_deref(), a),
        Some(Command::Eval(a)) => eval::run(cli.model.as_deref(), a),
        Some(Command::Quantize(a)) => quantize::run(cli.model.as_deref(), a),
        Some(Command::Lessons) => lesson::list(text),
        Some(Command::Lesson(a)) => lesson::run(cli.model.as_deref(), look, text, a),
        None => explore::run(cli.model.as_deref(), look, explore::Args::default()),
    }
}

/// The built-in default model (`(built-in)/tinystories`).
pub fn default_model() -> Result<PathBuf> {
    gptlens::paths::default_model().ok_or_else(|| {
        anyhow::anyhow!(
            "there is no model `{}` in GPTLENS_MODELS ({}): unset it to use the built-in model, or pass --model DIR",
            gptlens::paths::DEFAULT_MODEL,
            std::env::var_os("GPTLENS_MODELS").unwrap_or_default().to_string_lossy()
        )
    })
}

/// A loaded model and its tokenizer, checked against each other.
pub struct Loaded {
    pub gpt: Arc<Gpt>,
    pub tokenizer: Tokenizer,
    pub dir: PathBuf,
}

/// Opens `--model DIR`, or the built-in model.
pub fn load_model(dir: Option<&Path>) -> Result<Loaded> {
    let dir = match dir {
        Some(d) if gptlens::model::GgufModel::is_llama_file(d) => return load_llama_gguf(d),
        Some(d) if gptlens::gguf::gpt2::is_gguf(d) => return load_gguf(d),
        Some(d) if d.is_file() => {
            let hint = d
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(String::new(), |p| format!(" (perhaps {})", p.display()));
            anyhow::bail!(
                "--model {} is a file, not a folder: give the model folder that holds config.json, model.safetensors and tokenizer.json{hint}",
                d.display()
            );
        }
        Some(d) => d.to_path_buf(),
        None => default_model()?,
    };
    let gpt = Gpt::open(&dir).with_context(|| format!("opening the model in {}", dir.display()))?;
    let tokenizer = Tokenizer::open(&dir.join("tokenizer.json"))
        .with_context(|| format!("opening the tokenizer in {}", dir.display()))?;
    tokenizer.check_matches(&gpt.config)?;
    for w in gpt
        .weights
        .warnings
        .iter()
        .chain(tokenizer.coverage_warning(&gpt.config).as_ref())
    {
        eprintln!("warning: {w}");
    }
    let bad = gpt.weights.non_finite();
    if !bad.is_empty() {
        out::warn(format_args!(
            "{} tensor(s) hold NaN or infinite values ({}); the outputs will not mean much",
            bad.len(),
            bad.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Loaded {
        gpt: Arc::new(gpt),
        tokenizer,
        dir,
    })
}

/// Opens a Llama `--model FILE.gguf` (dequantized on load, which its
/// warnings say). The tokenizer and chat template are written to a small
/// companion folder (`GgufModel::companion_dir`), which `Loaded::dir` names,
/// so `--chat` finds the template as in a model folder.
fn load_llama_gguf(path: &Path) -> Result<Loaded> {
    let m = gptlens::model::GgufModel::open(path)
        .with_context(|| format!("opening the GGUF model {}", path.display()))?;
    let dir = gptlens::model::GgufModel::companion_dir(path);
    m.write_companion(&dir).with_context(|| {
        format!(
            "writing the tokenizer and chat template of {}",
            path.display()
        )
    })?;
    let tokenizer = Tokenizer::from_json(&m.tokenizer_json)
        .with_context(|| format!("building the tokenizer of {}", path.display()))?;
    tokenizer.check_matches(&m.gpt.config)?;
    for w in &m.gpt.weights.warnings {
        eprintln!("warning: {w}");
    }
    Ok(Loaded {
        gpt: Arc::new(m.gpt),
        tokenizer,
        dir,
    })
}

/// Opens `--model FILE.gguf`: dequantized to the engine's f32 weights.
fn load_gguf(path: &Path) -> Result<Loaded> {
    let (gpt, tokenizer, opened) = gptlens::gguf::gpt2::open(path)
        .with_context(|| format!("opening the GGUF model {}", path.display()))?;
    tokenizer.check_matches(&gpt.config)?;
    let types = opened
        .types
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "note: {} holds {types} tensors; dequantized to f32 on load",
        path.display()
    );
    Ok(Loaded {
        gpt: Arc::new(gpt),
        tokenizer,
        dir: path.to_path_buf(),
    })
}

/// Encodes a prompt, refusing an empty one and keeping the last n_positions
/// tokens of a long one (with a warning).
pub fn encode_prompt(l: &Loaded, prompt: &str) -> Result<Vec<u32>> {
    if prompt.is_empty() {
        anyhow::bail!(
            "the prompt is empty: give some text, for example --prompt \"Once upon a time\""
        );
    }
    let ids = l.tokenizer.encode(prompt)?;
    let ctx = l.gpt.config.n_positions;
    if ids.len() > ctx {
        out::warn(format_args!(
            "the prompt is {} tokens but the model's context is {ctx}; keeping the last {ctx}",
            ids.len()
        ));
        return Ok(ids[ids.len() - ctx..].to_vec());
    }
    Ok(ids)
}
