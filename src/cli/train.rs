//! `gptlens train`: train a GPT-2 from scratch on a text corpus, and
//! `gptlens train --bench`: training speed on random tokens.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use gptlens::model::random_model;
use gptlens::rng::Rng;
use gptlens::train::memory::{self, parse_size};
use gptlens::train::{
    Dropout, Hyper, Progress, RunOptions, Summary, TrainError, Trainer, bits_per_byte,
};

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Preset {
    /// The built-in model: 4 layers, 4 heads, 128 wide, 2048-token BPE, context 256.
    Tiny,
    /// Like tiny but 2 layers, for cleaner attention heads.
    Small2,
    /// For a class to watch (`train --live --preset classroom`): small2 with a
    /// 512-token BPE, context 128, no dropout and 4,000 steps of 16 windows
    /// (8.2 M tokens). About 2 minutes on 2 cores; TinyStories sentences by
    /// the end, and a previous-token head forms in layer 0 (shipped as
    /// tiny-models/classroom/).
    Classroom,
}

/// What `--live` shows the model reading unless told otherwise: names that
/// come back, so a head that copies has something to copy.
const DEFAULT_PROBE: &str = "Lily had a red ball. Lily gave the ball to";

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training text (UTF-8; stories separated by lines `<|endoftext|>`).
    #[arg(long, value_name = "FILE")]
    corpus: Option<PathBuf>,
    /// Validation text, for the periodic and final validation loss.
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    /// Output model folder (config.json, model.safetensors, tokenizer.json, checkpoint/).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Start from a preset's settings; the options below override it.
    #[arg(long, value_enum, default_value = "tiny")]
    preset: Preset,
    /// Transformer blocks (layers).
    #[arg(long)]
    layers: Option<usize>,
    /// Attention heads per block (must divide --embd).
    #[arg(long)]
    heads: Option<usize>,
    /// Width of the residual stream (n_embd).
    #[arg(long)]
    embd: Option<usize>,
    /// Context length (tokens per training window).
    #[arg(long)]
    ctx: Option<usize>,
    /// Vocabulary size of the BPE tokenizer trained on the corpus. When the
    /// corpus has fewer merges to learn, the model gets the smaller vocabulary
    /// the tokenizer learned (and says so).
    #[arg(long)]
    vocab: Option<usize>,
    /// Windows per batch.
    #[arg(long)]
    batch: Option<usize>,
    /// Optimizer steps to train for.
    #[arg(long)]
    steps: Option<u64>,
    /// Peak learning rate (after warm-up).
    #[arg(long, allow_hyphen_values = true)]
    lr: Option<f32>,
    /// Learning rate at the end of the cosine decay.
    #[arg(long, allow_hyphen_values = true)]
    min_lr: Option<f32>,
    /// Linear warm-up steps.
    #[arg(long)]
    warmup: Option<u64>,
    /// AdamW weight decay (matrices and embeddings only).
    #[arg(long, allow_hyphen_values = true)]
    weight_decay: Option<f32>,
    /// Clip the global gradient norm to this (0: no clipping).
    #[arg(long, allow_hyphen_values = true)]
    grad_clip: Option<f32>,
    /// Random seed: the initial weights and each step's draws (batches, dropout).
    #[arg(long)]
    seed: Option<u64>,
    /// Dropout probability (embedding sum, attention and MLP outputs) while training.
    #[arg(long, allow_hyphen_values = true)]
    dropout: Option<f32>,
    /// Validate every N steps (0: only at the end).
    #[arg(long, default_value_t = 250)]
    eval_every: u64,
    /// Batches per periodic validation (the final one uses the whole text).
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
    /// Watch the run in the terminal: loss curves, a probe prompt's attention
    /// redrawn from the current weights, every head's previous-token and
    /// induction score, the probe's greedy continuation (keys: space pause,
    /// c checkpoint, arrows layer/head, q quit with a checkpoint).
    #[arg(long)]
    live: bool,
    /// The prompt --live runs through the model as it trains.
    #[arg(long, value_name = "TEXT", default_value = DEFAULT_PROBE)]
    probe: String,
    /// Measure training speed (tokens/s) on random tokens for the chosen shape
    /// and batch, instead of training.
    #[arg(long)]
    bench: bool,
    /// Steps timed by --bench (after 2 warm-up steps).
    #[arg(long, default_value_t = 10)]
    bench_steps: u64,
    /// Refuse a run that needs more memory than this (e.g. 8G, 512M) instead of
    /// more than the machine has available (MemAvailable); the need is printed
    /// before training.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
}

fn hyper(a: &Args) -> Hyper {
    let mut h = Hyper::tiny();
    match a.preset {
        Preset::Tiny => {}
        Preset::Small2 => h.n_layer = 2,
        Preset::Classroom => {
            // Measured on the idle machine, 2 threads: 258 s for 4,000 steps
            // (tiny-models/classroom/README.md).
            h.n_layer = 2;
            h.vocab_size = 512;
            h.n_ctx = 128;
            h.dropout = 0.0;
            h.batch = 16;
            h.steps = 4000;
        }
    }
    macro_rules! set {
        ($($opt:ident => $field:ident),*) => { $( if let Some(v) = a.$opt { h.$field = v; } )* };
    }
    set!(layers => n_layer, heads => n_head, embd => n_embd, ctx => n_ctx, vocab => vocab_size,
         batch => batch, steps => steps, lr => lr, min_lr => min_lr, warmup => warmup,
         weight_decay => weight_decay, grad_clip => grad_clip, seed => seed, dropout => dropout);
    h
}

/// `lang`: the live screen's language (`--lang`).
pub fn run(a: Args, lang: gptlens::i18n::Lang) -> Result<()> {
    let h = hyper(&a);
    h.validate()?;
    if a.bench {
        return bench(&h, a.bench_steps, a.max_memory);
    }
    let (Some(corpus), Some(out)) = (a.corpus.clone(), a.out.clone()) else {
        bail!(
            "gptlens train needs --corpus FILE and --out DIR, e.g. `gptlens train --corpus /work/shared/corpus/tinystories_train.txt --valid /work/shared/corpus/tinystories_valid.txt --out mymodel`"
        );
    };
    if a.resume && a.force {
        bail!("--resume and --force contradict each other: pick one");
    }
    let run = RunOptions {
        corpus,
        valid: a.valid.clone(),
        out: out.clone(),
        eval_every: a.eval_every,
        eval_batches: a.eval_batches,
        checkpoint_every: a.checkpoint_every,
        resume: a.resume,
        force: a.force,
        max_memory: a.max_memory,
    };
    let signals = StopSignals::install()?;
    if a.live {
        match live_terminal() {
            Ok(()) => return run_live(&h, &run, &a.probe, &signals, &out, lang),
            Err(why) => eprintln!("{why}: showing plain progress instead"),
        }
    }
    let (stop, exit_status) = (signals.flag(), || signals.exit_status());
    let tty = std::io::stderr().is_terminal();
    let mut last_val: Option<f32> = None;
    let mut shown_tenth = usize::MAX;
    let mut report = |p: &Progress| {
        if let Some(m) = &p.message {
            eprintln!("{m}");
            return;
        }
        if let Some((done, total)) = p.tokenizing {
            let tenth = done * 10 / total.max(1);
            let line = format!(
                "tokenizing: {}% ({} of {})",
                done * 100 / total.max(1),
                memory::bytes(done as u64),
                memory::bytes(total as u64)
            );
            if tty {
                eprint!("\r{line}\x1b[K");
                if done == total {
                    eprintln!();
                }
            } else if tenth != shown_tenth || done == total {
                eprintln!("{line}");
            }
            shown_tenth = if done == total { usize::MAX } else { tenth };
            return;
        }
        if p.val_loss.is_some() {
            last_val = p.val_loss;
        }
        let val = last_val
            .map(|v| format!("  val {v:.3}"))
            .unwrap_or_default();
        let eta = p.elapsed_secs / p.step as f64 * (p.steps - p.step) as f64;
        let line = format!(
            "step {}/{}  loss {:.3}{val}  lr {:.2e}  {:.0} tok/s  {:.0}s, ~{:.0}s left",
            p.step, p.steps, p.loss, p.lr, p.tokens_per_sec, p.elapsed_secs, eta
        );
        if tty {
            let width = 24;
            let done = (p.step as usize * width) / p.steps.max(1) as usize;
            eprint!(
                "\r[{}{}] {line}\x1b[K",
                "█".repeat(done),
                "·".repeat(width - done)
            );
            if p.val_loss.is_some() || p.step == p.steps {
                eprintln!();
            }
        } else if p.step.is_multiple_of(50)
            || p.val_loss.is_some()
            || p.step == 1
            || p.step == p.steps
        {
            eprintln!("{line}");
        }
    };
    let summary = match gptlens::train::train(&h, &run, stop, &mut report) {
        Ok(s) => s,
        Err(e @ TrainError::Interrupted(_)) => {
            if tty {
                eprintln!();
            }
            eprintln!("{e}");
            std::process::exit(exit_status());
        }
        Err(e) => return Err(e.into()),
    };
    if tty {
        eprintln!();
    }
    print_summary(&summary, &out);
    if summary.interrupted {
        // So that a script can tell an interrupted run from a finished one.
        std::process::exit(exit_status());
    }
    Ok(())
}

/// Whether the live screen can be shown here, and if not why.
fn live_terminal() -> std::result::Result<(), String> {
    use gptlens::tui::live::{MIN_HEIGHT, MIN_WIDTH};
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(
            "--live needs an interactive terminal (stdin and stdout are not both one)".into(),
        );
    }
    let (w, h) = ratatui::crossterm::terminal::size()
        .map_err(|e| format!("--live cannot read the terminal's size ({e})"))?;
    if w < MIN_WIDTH || h < MIN_HEIGHT {
        return Err(format!(
            "the terminal is {w}×{h}; --live needs at least {MIN_WIDTH}×{MIN_HEIGHT}"
        ));
    }
    Ok(())
}

/// `train --live`: training on its own thread, the live screen on this one.
fn run_live(
    h: &Hyper,
    run: &RunOptions,
    probe: &str,
    signals: &StopSignals,
    out: &std::path::Path,
    lang: gptlens::i18n::Lang,
) -> Result<()> {
    use gptlens::train::watch::{LiveControls, LiveWatcher};
    use gptlens::tui::heatmap::{ColorMode, Theme};
    use std::sync::Arc;
    let controls = Arc::new(LiveControls::default());
    let (mut watcher, events) = LiveWatcher::new(probe, controls.clone());
    let stop = signals.shared();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (h2, run2, stop2) = (h.clone(), run.clone(), stop.clone());
    std::thread::spawn(move || {
        let r = gptlens::train::train_watched(&h2, &run2, &stop2, &mut |_| {}, &mut watcher);
        let _ = done_tx.send(r);
    });
    let theme = Theme {
        mode: ColorMode::detect(false),
        lang,
        ..Theme::default()
    };
    let live = gptlens::tui::live::Live::new(theme);
    let (result, quit_by_key) =
        gptlens::tui::live::run::run(live, events, controls.clone(), stop, done_rx)
            .context("the live training screen")?;
    if let Some(line) = live_cost(&controls) {
        eprintln!("{line}");
    }
    match result {
        Ok(summary) => {
            print_summary(&summary, out);
            if summary.interrupted && !quit_by_key {
                std::process::exit(signals.exit_status());
            }
            Ok(())
        }
        Err(e @ TrainError::Interrupted(_)) => {
            eprintln!("{e}");
            if quit_by_key {
                return Ok(());
            }
            std::process::exit(signals.exit_status());
        }
        Err(e) => Err(e.into()),
    }
}

/// What watching cost the run: the watching threads' CPU seconds (the
/// probe's; the screen's, keys' and events') against the rest of the
/// process's, which is training (and the tokenizer before it). CPU time, not
/// wall time, so that other work on the machine does not enter it.
fn live_cost(c: &gptlens::train::watch::LiveControls) -> Option<String> {
    let total = gptlens::train::watch::process_cpu_secs()?;
    let (probe, screen) = (c.probe_cpu.secs(), c.screen_cpu.secs());
    let live = probe + screen;
    let training = (total - live).max(0.0);
    let share = if training > 0.0 {
        format!("{:.1}%", 100.0 * live / training)
    } else {
        "?%".into()
    };
    Some(format!(
        "the live view used {live:.2} CPU-s (the probe {probe:.2}, the screen {screen:.2}), {share} of training's {training:.1} CPU-s"
    ))
}

fn print_summary(s: &Summary, out: &std::path::Path) {
    if s.interrupted {
        eprintln!(
            "interrupted at step {}/{}; checkpoint written. Continue with the same command plus --resume.",
            s.step, s.hyper.steps
        );
        return;
    }
    eprintln!(
        "done: {} steps, {} tokens, {:.0} s, {} parameters; model in {}",
        s.step,
        s.tokens_seen,
        s.elapsed_secs,
        s.n_params,
        out.display()
    );
    if let Some(t) = s.train_loss {
        eprintln!("last train loss {t:.4}");
    }
    if let (Some(v), Some(bpb)) = (s.val_loss, s.val_bits_per_byte) {
        eprintln!(
            "validation: loss {v:.4} nats/token, perplexity {:.2}, {bpb:.4} bits/byte ({} tokens, {} bytes)",
            (v as f64).exp(),
            s.val_tokens,
            s.val_bytes
        );
    }
    if let Some(b) = &s.baselines {
        eprintln!(
            "baselines on the same validation text: unigram {:.4} ({:.3} bits/byte), bigram {:.4} (λ {}, {:.3} bits/byte)",
            b.unigram,
            bits_per_byte(b.unigram, s.val_tokens, s.val_bytes),
            b.bigram,
            b.bigram_lambda,
            bits_per_byte(b.bigram, s.val_tokens, s.val_bytes)
        );
    }
}

/// Times training steps (forward, backward, clip, AdamW) on random tokens.
fn bench(h: &Hyper, steps: u64, max_memory: Option<u64>) -> Result<()> {
    if steps == 0 {
        bail!("--bench-steps must be at least 1");
    }
    let cfg = h.config();
    let need = memory::training_need(&cfg, h.batch, h.n_ctx, h.dropout > 0.0)?;
    memory::check(&need, max_memory, "this benchmark")?;
    let gpt = random_model(&cfg, h.seed, false);
    let (b, t) = (h.batch, h.n_ctx);
    let mut tr = Trainer::new(&gpt, b, t);
    let mut rng = Rng::new(h.seed);
    let ids: Vec<u32> = (0..b * t * 2)
        .map(|_| rng.below(cfg.vocab_size) as u32)
        .collect();
    let (inputs, targets) = (&ids[..b * t], &ids[b * t..]);
    let mut times = Vec::new();
    for step in 1..=steps + 2 {
        let start = Instant::now();
        let dropout = (h.dropout > 0.0).then_some(Dropout {
            p: h.dropout,
            seed: step,
        });
        tr.loss_and_grads_with(inputs, targets, dropout);
        tr.update(1e-4, h.weight_decay, h.grad_clip, step);
        if step > 2 {
            times.push(start.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let tokens = (b * t) as f64;
    let threads = rayon::current_num_threads();
    let mut out = super::out::stdout();
    writeln!(
        out,
        "train step, {} layers, {} heads, {} wide, vocab {}, batch {b} × {t}, {threads} threads: median {:.1} ms ({:.0} tokens/s), mean {:.1} ms ({:.0} tokens/s) over {} steps",
        cfg.n_layer,
        cfg.n_head,
        cfg.n_embd,
        cfg.vocab_size,
        median * 1e3,
        tokens / median,
        mean * 1e3,
        tokens / mean,
        times.len()
    )?;
    out.flush()?;
    Ok(())
}

/// Ctrl-C and SIGTERM for a training-like run: `flag` ends the run at its next
/// step (or tokenizing round), and `exit_status` is 128 + the signal that did.
pub(crate) struct StopSignals {
    stop: Arc<AtomicBool>,
    signal: Arc<AtomicUsize>,
}

impl StopSignals {
    pub(crate) fn install() -> Result<StopSignals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let stop = Arc::new(AtomicBool::new(false));
        let signal = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            signal_hook::flag::register_usize(sig, signal.clone(), sig as usize)
                .context("installing the Ctrl-C / SIGTERM handler")?;
            signal_hook::flag::register(sig, stop.clone())
                .context("installing the Ctrl-C / SIGTERM handler")?;
        }
        Ok(StopSignals { stop, signal })
    }

    pub(crate) fn flag(&self) -> &AtomicBool {
        &self.stop
    }

    /// The flag, for a run on another thread.
    pub(crate) fn shared(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    pub(crate) fn exit_status(&self) -> i32 {
        let sigint = signal_hook::consts::SIGINT as usize;
        128 + self.signal.load(Ordering::SeqCst).max(sigint) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn parsed(args: &[&str]) -> Hyper {
        let argv = ["gptlens", "train"].iter().chain(args);
        match super::super::Cli::try_parse_from(argv)
            .expect("parses")
            .command
        {
            Some(super::super::Command::Train(a)) => hyper(&a),
            other => panic!("not train: {other:?}"),
        }
    }

    /// `--preset classroom` is exactly the run the shipped classroom model
    /// came from (its train-summary.json), and options still override it.
    #[test]
    fn the_classroom_preset_is_the_shipped_classroom_run() {
        let h = parsed(&["--preset", "classroom"]);
        let path = gptlens::paths::tiny_models_dir().join("classroom/train-summary.json");
        let text = std::fs::read_to_string(&path).expect("the shipped summary");
        let shipped: serde_json::Value = serde_json::from_str(&text).expect("json");
        // Through text, as the summary was written (f32s print shortest).
        let ours: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&h).expect("json")).expect("json");
        assert_eq!(ours, shipped["hyper"], "{}", path.display());
        assert_eq!((h.n_layer, h.vocab_size, h.steps), (2, 512, 4000));
        let more = parsed(&["--preset", "classroom", "--steps", "10", "--heads", "8"]);
        assert_eq!((more.steps, more.n_head, more.n_ctx), (10, 8, 128));
        assert_eq!(parsed(&["--preset", "small2"]).vocab_size, 2048);
    }
}
