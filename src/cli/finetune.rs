//! `gptlens finetune`: supervised fine-tuning of a model folder on
//! prompt/response pairs (JSON Lines), and `--eval`: the response loss of the
//! pairs under a model, without training.

use anyhow::{Result, bail};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use gptlens::finetune::{self, FinetuneError, FinetuneOptions, Formatter};
use gptlens::train::memory::parse_size;
use gptlens::train::{Hyper, Progress, RunOptions, TrainError};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The pairs: JSON Lines, each {"prompt": ..., "response": ...} or
    /// {"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}.
    #[arg(long, value_name = "FILE")]
    data: PathBuf,
    /// Held-out pairs, for the response loss before, during and after.
    #[arg(long, value_name = "FILE")]
    valid_data: Option<PathBuf>,
    /// Output model folder (the base's files, its chat template, checkpoint/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Only compute the response loss of --data under --model (no training).
    #[arg(long)]
    eval: bool,
    /// With --eval: print {"pairs": [{"ids", "mask", "loss"}], "loss", "tokens"}.
    #[arg(long)]
    json: bool,
    /// Passes over the pairs (when --steps is not given).
    #[arg(long, default_value_t = 1)]
    epochs: u64,
    /// Optimizer steps (overrides --epochs).
    #[arg(long)]
    steps: Option<u64>,
    /// Pairs per batch.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Peak learning rate (after warm-up), decayed along a cosine to --min-lr.
    #[arg(long, default_value_t = 1e-3, allow_hyphen_values = true)]
    lr: f32,
    /// Learning rate at the end of the cosine decay.
    #[arg(long, default_value_t = 1e-4, allow_hyphen_values = true)]
    min_lr: f32,
    /// Linear warm-up steps.
    #[arg(long, default_value_t = 20)]
    warmup: u64,
    /// AdamW weight decay (matrices and embeddings only).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    weight_decay: f32,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    grad_clip: f32,
    /// Shuffles the pairs each epoch and draws the dropout masks.
    #[arg(long, default_value_t = 1337)]
    seed: u64,
    /// Dropout probability during training (0: none).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    dropout: f32,
    /// Validate every N steps (0: only before and after).
    #[arg(long, default_value_t = 100)]
    eval_every: u64,
    /// Batches per periodic validation (before and after use every pair).
    #[arg(long, default_value_t = 8)]
    eval_batches: usize,
    /// Write a checkpoint every N steps (0: only at the end).
    #[arg(long, default_value_t = 100)]
    checkpoint_every: u64,
    /// Continue the run in --out from its checkpoint.
    #[arg(long)]
    resume: bool,
    /// Replace an existing --out folder.
    #[arg(long)]
    force: bool,
    /// Refuse a run that needs more memory than this (e.g. 8G, 512M).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
    /// LoRA: freeze the model and train rank-R adapters on every block's
    /// c_attn, W_O and MLP matrices (merged into the saved weights).
    #[arg(long, value_name = "R")]
    lora: Option<usize>,
    /// LoRA scaling: the update is (alpha / R)·A·B. Default: 2·R (scale 2).
    #[arg(long, value_name = "ALPHA", requires = "lora")]
    lora_alpha: Option<f32>,
}

pub fn run(model: Option<&std::path::Path>, a: Args) -> Result<()> {
    let base = match model {
        Some(d) => d.to_path_buf(),
        None => super::default_model()?,
    };
    if a.eval {
        return eval(&base, &a);
    }
    let Some(out) = a.out.clone() else {
        bail!(
            "gptlens finetune needs --out DIR (the fine-tuned model's folder), e.g. `gptlens finetune --model tiny-models/tinystories --data pairs.jsonl --out my-instruct`; or --eval to only measure the loss"
        );
    };
    if a.resume && a.force {
        bail!("--resume and --force contradict each other: pick one");
    }
    let mut hyper = Hyper::tiny();
    hyper.batch = a.batch;
    hyper.steps = a.steps.unwrap_or(0);
    hyper.lr = a.lr;
    hyper.min_lr = a.min_lr;
    hyper.warmup = a.warmup;
    hyper.weight_decay = a.weight_decay;
    hyper.grad_clip = a.grad_clip;
    hyper.seed = a.seed;
    hyper.dropout = a.dropout;
    if a.steps == Some(0) {
        bail!("--steps must be at least 1");
    }
    let opts = FinetuneOptions {
        base,
        epochs: a.epochs,
        run: RunOptions {
            corpus: a.data.clone(),
            valid: a.valid_data.clone(),
            out: out.clone(),
            eval_every: a.eval_every,
            eval_batches: a.eval_batches,
            checkpoint_every: a.checkpoint_every,
            resume: a.resume,
            force: a.force,
            max_memory: a.max_memory,
        },
        lora: a.lora.map(|rank| finetune::LoraOptions {
            rank,
            alpha: a.lora_alpha.unwrap_or(2.0 * rank as f32),
        }),
    };
    let signals = super::train::StopSignals::install()?;
    let (stop, exit_status) = (signals.flag(), || signals.exit_status());
    let tty = std::io::stderr().is_terminal();
    let mut last_val: Option<f32> = None;
    let mut report = |p: &Progress| {
        if let Some(m) = &p.message {
            eprintln!("{m}");
            return;
        }
        if p.val_loss.is_some() {
            last_val = p.val_loss;
        }
        let val = last_val
            .map(|v| format!("  valid {v:.3}"))
            .unwrap_or_default();
        let line = format!(
            "step {}/{}  response loss {:.3}{val}  lr {:.2e}  {:.0} tok/s  {:.0}s",
            p.step, p.steps, p.loss, p.lr, p.tokens_per_sec, p.elapsed_secs
        );
        if tty {
            eprint!("\r{line}\x1b[K");
            if p.val_loss.is_some() || p.step == p.steps {
                eprintln!();
            }
        } else if p.step.is_multiple_of(20)
            || p.val_loss.is_some()
            || p.step == 1
            || p.step == p.steps
        {
            eprintln!("{line}");
        }
    };
    let s = match finetune::finetune(&hyper, &opts, stop, &mut report) {
        Ok(s) => s,
        Err(FinetuneError::Train(e @ TrainError::Interrupted(_))) => {
            eprintln!("{e}");
            std::process::exit(exit_status());
        }
        Err(e) => return Err(e.into()),
    };
    if s.interrupted {
        eprintln!(
            "interrupted at step {}/{}; checkpoint written. Continue with the same command plus --resume.",
            s.step, s.hyper.steps
        );
        std::process::exit(exit_status());
    }
    eprintln!(
        "done: {} steps, {} tokens, {:.0} s; fine-tuned model in {}",
        s.step,
        s.tokens_seen,
        s.elapsed_secs,
        out.display()
    );
    if let (Some(b), Some(a)) = (s.valid_loss_before, s.valid_loss_after) {
        eprintln!("validation response loss: {b:.4} before, {a:.4} after");
    }
    Ok(())
}

fn eval(base: &std::path::Path, a: &Args) -> Result<()> {
    let l = super::load_model(Some(base))?;
    let fmt = Formatter::for_model(&l.dir, l.tokenizer)?;
    let r = finetune::evaluate(&l.gpt, &fmt, &a.data, a.batch)?;
    if !r.skipped.is_empty() {
        super::out::warn(format_args!(
            "skipped {} pair(s) whose prompt alone fills the {}-token context",
            r.skipped.len(),
            l.gpt.config.n_positions
        ));
    }
    let mut out = super::out::stdout();
    if a.json {
        serde_json::to_writer(&mut out, &r)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} pairs, {} response tokens: mean response loss {:.4} nats/token (perplexity {:.2})",
            r.pairs.len(),
            r.tokens,
            r.loss,
            r.loss.exp()
        )?;
    }
    out.flush()?;
    Ok(())
}
