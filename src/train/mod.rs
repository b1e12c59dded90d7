//! Training a GPT-2 from scratch, the way llm.c does it: layer by layer, each
//! layer's forward beside its hand-written backward ([`embedding`],
//! [`layernorm`], [`attention`], [`mlp`], [`loss`], with [`linear`] for every
//! projection), composed into the whole pass in [`gpt`]; AdamW ([`adamw`]) over
//! one flat parameter buffer ([`params`]), with checkpoints that a run resumes
//! from.

pub mod adamw;
pub mod attention;
pub mod baselines;
pub mod bpe;
mod checkpoint;
pub mod data;
pub mod embedding;
pub mod files;
pub mod gpt;
pub mod heads;
pub mod kernels;
pub mod layernorm;
pub mod linear;
pub mod lora;
pub mod loss;
pub mod matmul;
pub mod memory;
pub mod mlp;
pub mod params;
pub mod record;
pub mod watch;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::model::{Config, ModelError, random_model};
use crate::rng::Rng;
use crate::tokenizer::Tokenizer;
use adamw::AdamW;
pub(crate) use checkpoint::{CheckpointMeta, read_checkpoint};
use checkpoint::{checkpoint_dir, write_checkpoint};
use files::{CreatedDir, io_err, write_atomic};
pub use gpt::Dropout;
use gpt::{Acts, GradScratch};
use params::Layout;

/// What can stop a training run; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Input(String),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error(
        "the loss (or its gradient) became {loss} at step {step}; training stopped. {kept} Try a lower --lr or a smaller --grad-clip."
    )]
    NonFinite { step: u64, loss: f32, kept: String },
    /// Ctrl-C or SIGTERM before the first step: there was no checkpoint to write.
    #[error("interrupted {0}; nothing was kept")]
    Interrupted(String),
}

/// The settings that define a run: a checkpoint only resumes under the same ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hyper {
    pub n_layer: usize,
    pub n_head: usize,
    pub n_embd: usize,
    pub n_ctx: usize,
    pub vocab_size: usize,
    pub batch: usize,
    pub steps: u64,
    pub lr: f32,
    pub min_lr: f32,
    pub warmup: u64,
    pub weight_decay: f32,
    pub grad_clip: f32,
    pub seed: u64,
    /// Dropout probability on the embedding sum and on each block's attention and
    /// MLP outputs (0: none). Older checkpoints have none.
    #[serde(default)]
    pub dropout: f32,
}

impl Hyper {
    /// The default model's settings (`--preset tiny`).
    pub fn tiny() -> Self {
        Hyper {
            n_layer: 4,
            n_head: 4,
            n_embd: 128,
            n_ctx: 256,
            vocab_size: 2048,
            batch: 16,
            steps: 5000,
            lr: 3e-3,
            min_lr: 3e-4,
            warmup: 100,
            weight_decay: 0.1,
            grad_clip: 1.0,
            seed: 1337,
            dropout: 0.1,
        }
    }

    pub fn config(&self) -> Config {
        Config::new(
            self.n_layer,
            self.n_head,
            self.n_embd,
            self.vocab_size,
            self.n_ctx,
        )
    }

    /// Refuses settings that cannot train: each numeric option is checked for
    /// NaN, infinity and its range.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |m: String| Err(TrainError::Input(m));
        if self.batch == 0 || self.steps == 0 {
            return bad("--batch and --steps must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!(
                "--lr {} is not a positive finite learning rate; use e.g. 3e-3",
                self.lr
            ));
        }
        if !(self.min_lr.is_finite() && self.min_lr >= 0.0 && self.min_lr <= self.lr) {
            return bad(format!(
                "--min-lr {} must be a finite number in [0, --lr] = [0, {}]; use e.g. a tenth of --lr",
                self.min_lr, self.lr
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "--weight-decay {} must be a finite number ≥ 0; use e.g. 0.1 (0: none)",
                self.weight_decay
            ));
        }
        if !(self.grad_clip.is_finite() && self.grad_clip >= 0.0) {
            return bad(format!(
                "--grad-clip {} must be a finite norm ≥ 0; use e.g. 1.0 (0: no clipping)",
                self.grad_clip
            ));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!(
                "--dropout {} is not a probability below 1; use a value in [0, 1), e.g. 0.1",
                self.dropout
            ));
        }
        self.config().validate()?;
        Ok(())
    }

    /// The names and values of the settings that differ from `other`.
    pub fn differences(&self, other: &Hyper) -> Vec<String> {
        let a = serde_json::to_value(self).expect("json");
        let b = serde_json::to_value(other).expect("json");
        let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
            return vec![];
        };
        a.iter()
            .filter(|(k, v)| b.get(*k) != Some(v))
            .map(|(k, v)| format!("{k}: checkpoint {}, now {v}", b[k]))
            .collect()
    }
}

/// Everything `train` needs besides the hyper-parameters.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub corpus: PathBuf,
    pub valid: Option<PathBuf>,
    pub out: PathBuf,
    /// Validate every this many steps (0: only at the end).
    pub eval_every: u64,
    /// Batches per periodic validation (the final one uses the whole text).
    pub eval_batches: usize,
    /// Write a checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    pub resume: bool,
    pub force: bool,
    /// Refuse a run needing more memory than this (bytes); None: what the
    /// machine has available.
    pub max_memory: Option<u64>,
}

/// What the loop reports to its caller after each step.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: u64,
    pub steps: u64,
    pub loss: f32,
    pub lr: f32,
    pub grad_norm: f32,
    pub tokens_per_sec: f64,
    pub val_loss: Option<f32>,
    pub elapsed_secs: f64,
    pub message: Option<String>,
    /// While tokenizing the corpus (before step 1): bytes done and in all.
    pub tokenizing: Option<(usize, usize)>,
}

/// What a front end watching the run live (`gptlens train --live`) is told
/// before the first step.
pub struct RunStart<'a> {
    pub hyper: &'a Hyper,
    pub tokenizer: &'a Tokenizer,
    /// The step the run starts from (a resumed run's checkpoint, else 0).
    pub step: u64,
    /// Count baselines on the validation text (None without one).
    pub baselines: Option<&'a baselines::Baselines>,
    /// The text previous-token scores are measured on (as in the record).
    pub probe_text: Vec<u32>,
}

/// A front end that watches a run as it trains. Its methods are called on
/// the training thread, between steps, so they must be quick: a watcher that
/// wants to look at the model copies it ([`Trainer::gpt`]) and hands the copy
/// to another thread.
pub trait Watcher {
    /// Before the first step; an error (a probe the context cannot hold)
    /// ends the run before it trains.
    fn begin(&mut self, _start: &RunStart) -> Result<(), String> {
        Ok(())
    }
    /// After every step, with the weights as that step left them.
    fn after_step(&mut self, _trainer: &Trainer, _p: &Progress) {}
    /// Polled between steps: while true the loop waits (Ctrl-C still ends it).
    fn paused(&self) -> bool {
        false
    }
    /// Polled after each step: true writes a checkpoint now.
    fn checkpoint_requested(&mut self) -> bool {
        false
    }
}

/// Nobody watching: plain `gptlens train`.
pub struct Unwatched;
impl Watcher for Unwatched {}

/// How a run ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub hyper: Hyper,
    pub n_params: usize,
    pub step: u64,
    pub tokens_seen: u64,
    pub elapsed_secs: f64,
    pub train_loss: Option<f32>,
    pub val_loss: Option<f32>,
    /// Validation bits per byte: val_loss · tokens / bytes / ln 2.
    pub val_bits_per_byte: Option<f64>,
    pub val_tokens: usize,
    pub val_bytes: usize,
    /// Length of the tokenized training text.
    #[serde(default)]
    pub train_tokens: usize,
    /// Unigram and bigram validation losses with the same tokenizer.
    pub baselines: Option<baselines::Baselines>,
    pub interrupted: bool,
}

/// Converts nats per token to bits per byte of the text the tokens encode.
pub fn bits_per_byte(nats_per_token: f64, tokens: usize, bytes: usize) -> f64 {
    nats_per_token * tokens as f64 / bytes as f64 / std::f64::consts::LN_2
}

/// The parameters, gradients and optimizer state of a run, plus its buffers.
pub struct Trainer {
    pub cfg: Config,
    pub layout: Layout,
    pub params: Vec<f32>,
    pub grads: Vec<f32>,
    pub opt: AdamW,
    decay: Vec<bool>,
    pub acts: Acts,
    scratch: GradScratch,
    inputs: Vec<u32>,
    targets: Vec<u32>,
    /// LoRA adapters: when set, only they train (`opt` holds their moments)
    /// and `params` holds the merged weights.
    pub lora: Option<lora::Lora>,
}

impl Trainer {
    /// A trainer for `[b, t]` batches starting from the given weights.
    pub fn new(gpt: &crate::model::Gpt, b: usize, t: usize) -> Self {
        let cfg = gpt.config.clone();
        let layout = Layout::new(&cfg);
        let params = params::flatten(gpt, &layout);
        let mut decay = vec![false; layout.total];
        for i in 0..layout.names.len() {
            if layout.shapes[i].len() == 2 {
                decay[layout.range(i)].fill(true);
            }
        }
        Trainer {
            acts: Acts::new(&cfg, b, t),
            scratch: GradScratch::new(&cfg, b, t),
            grads: vec![0.0; layout.total],
            opt: AdamW::new(layout.total),
            inputs: vec![0; b * t],
            targets: vec![0; b * t],
            cfg,
            layout,
            params,
            decay,
            lora: None,
        }
    }

    /// Freezes the model and trains rank-`rank` adapters instead (see [`lora`]).
    pub fn enable_lora(&mut self, rank: usize, alpha: f32, seed: u64) -> Result<(), TrainError> {
        let l = lora::Lora::new(&self.cfg, &self.layout, &self.params, rank, alpha, seed)?;
        self.opt = AdamW::new(l.n_params());
        l.merge(&mut self.params);
        self.lora = Some(l);
        Ok(())
    }

    /// Mean cross-entropy of a batch (no gradients, no dropout).
    pub fn loss(&mut self, inputs: &[u32], targets: &[u32]) -> f32 {
        self.loss_with(inputs, targets, None)
    }

    /// Mean cross-entropy of a batch, with dropout if given.
    pub fn loss_with(&mut self, inputs: &[u32], targets: &[u32], dropout: Option<Dropout>) -> f32 {
        self.masked_loss(inputs, targets, None, dropout)
    }

    /// The loss over the positions `mask` counts (`[B·T]` weights: 1 for a
    /// response token, 0 for prompt and padding; None counts every position).
    pub fn masked_loss(
        &mut self,
        inputs: &[u32],
        targets: &[u32],
        mask: Option<&[f32]>,
        dropout: Option<Dropout>,
    ) -> f32 {
        gpt::forward(
            &self.cfg,
            &self.layout,
            &self.params,
            &mut self.acts,
            inputs,
            targets,
            mask,
            dropout,
        )
    }

    /// Forward and backward: returns the loss and leaves d loss/d params in `grads`.
    pub fn loss_and_grads(&mut self, inputs: &[u32], targets: &[u32]) -> f32 {
        self.loss_and_grads_with(inputs, targets, None)
    }

    /// As [`Trainer::loss_and_grads`], through the dropout masks drawn from `dropout`.
    pub fn loss_and_grads_with(
        &mut self,
        inputs: &[u32],
        targets: &[u32],
        dropout: Option<Dropout>,
    ) -> f32 {
        self.masked_loss_and_grads(inputs, targets, None, dropout)
    }

    /// As [`Trainer::masked_loss`], leaving its gradient in `grads`: positions
    /// the mask leaves out carry no loss and no gradient.
    pub fn masked_loss_and_grads(
        &mut self,
        inputs: &[u32],
        targets: &[u32],
        mask: Option<&[f32]>,
        dropout: Option<Dropout>,
    ) -> f32 {
        let loss = self.masked_loss(inputs, targets, mask, dropout);
        self.grads.fill(0.0);
        gpt::backward(
            &self.cfg,
            &self.layout,
            &self.params,
            &mut self.grads,
            &mut self.acts,
            &mut self.scratch,
            inputs,
            targets,
            mask,
        );
        loss
    }

    /// Forward, then `logit_grads` turns the probabilities the forward left
    /// (`[B·T, V]`, softmax of the logits) into d loss/d logits and returns
    /// the loss, then backward from them: `grads` holds d loss/d params.
    /// For losses other than the cross-entropy (`crate::distil`).
    pub fn custom_loss_and_grads<R>(
        &mut self,
        inputs: &[u32],
        targets: &[u32],
        logit_grads: impl FnOnce(&mut [f32]) -> R,
    ) -> R {
        self.masked_loss(inputs, targets, None, None);
        let r = logit_grads(&mut self.acts.probs);
        self.grads.fill(0.0);
        gpt::backward_from_logit_grads(
            &self.cfg,
            &self.layout,
            &self.params,
            &mut self.grads,
            &mut self.acts,
            &mut self.scratch,
            inputs,
        );
        r
    }

    /// Clips the gradients and takes one AdamW step (1-based `step`); returns the
    /// gradient norm before clipping.
    pub fn update(&mut self, lr: f32, weight_decay: f32, grad_clip: f32, step: u64) -> f32 {
        if let Some(l) = &mut self.lora {
            l.gradients(&self.grads);
            let norm = adamw::clip_grad_norm(&mut l.grads, grad_clip);
            self.opt
                .step(&mut l.params, &l.grads, &l.decay, lr, weight_decay, step);
            l.merge(&mut self.params);
            return norm;
        }
        let norm = adamw::clip_grad_norm(&mut self.grads, grad_clip);
        self.opt.step(
            &mut self.params,
            &self.grads,
            &self.decay,
            lr,
            weight_decay,
            step,
        );
        norm
    }

    /// Mean loss over `max_batches` sequential batches of the stream, spread
    /// evenly over it so a periodic estimate is not biased to its opening
    /// (all batches if 0).
    pub fn evaluate(&mut self, stream: &[u32], max_batches: usize) -> Option<f32> {
        let (b, t) = (self.acts.b, self.acts.t);
        let total = data::sequential_batches(stream.len(), b, t);
        let n = if max_batches > 0 {
            total.min(max_batches)
        } else {
            total
        };
        if n == 0 {
            return None;
        }
        let mut inputs = std::mem::take(&mut self.inputs);
        let mut targets = std::mem::take(&mut self.targets);
        let mut sum = 0.0f64;
        for k in 0..n {
            data::sequential_batch(stream, t, k * total / n, &mut inputs, &mut targets);
            sum += self.loss(&inputs, &targets) as f64;
        }
        self.inputs = inputs;
        self.targets = targets;
        Some((sum / n as f64) as f32)
    }

    pub fn gpt(&self) -> crate::model::Gpt {
        params::unflatten(&self.cfg, &self.params, &self.layout)
    }
}

/// Reports a line of text (not a step) to the caller.
pub(crate) fn note(report: &mut dyn FnMut(&Progress), steps: u64, message: String) {
    report(&Progress {
        step: 0,
        steps,
        loss: f32::NAN,
        lr: 0.0,
        grad_norm: 0.0,
        tokens_per_sec: 0.0,
        val_loss: None,
        elapsed_secs: 0.0,
        message: Some(message),
        tokenizing: None,
    })
}

/// Reports how far tokenizing has got.
fn tokenizing(report: &mut dyn FnMut(&Progress), steps: u64, done: usize, total: usize) {
    report(&Progress {
        step: 0,
        steps,
        loss: f32::NAN,
        lr: 0.0,
        grad_norm: 0.0,
        tokens_per_sec: 0.0,
        val_loss: None,
        elapsed_secs: 0.0,
        message: None,
        tokenizing: Some((done, total)),
    })
}

/// The tokenizer of the run in `out` that `--resume` continues, with messages
/// for a folder that is not one.
fn resumed_tokenizer(out: &Path) -> Result<Tokenizer, TrainError> {
    if !out.is_dir() {
        return Err(TrainError::Input(format!(
            "--resume: {} does not exist, so there is no checkpoint to continue from; leave out --resume to start a new run",
            out.display()
        )));
    }
    let p = out.join("tokenizer.json");
    if !p.is_file() {
        return Err(TrainError::Input(format!(
            "--resume: {} has no tokenizer.json, so it holds no run of `gptlens train`; start a new run with --force (this replaces its files) or another --out",
            out.display()
        )));
    }
    Ok(Tokenizer::open(&p)?)
}

/// Where a run's batches come from: the loop asks for the batch of each step
/// and, every `eval_every` steps, for a validation loss.
pub trait Batches {
    /// Fills the `[B, t]` batch of (0-based) `step` using `rng`, which depends
    /// only on the seed and the step, so a resumed run sees the same data.
    /// Leaves `mask` empty to count every position, or fills it with `[B·t]`
    /// weights. Returns the tokens the batch holds (padding excluded).
    fn fill(
        &mut self,
        step: u64,
        rng: &mut Rng,
        t: usize,
        inputs: &mut [u32],
        targets: &mut [u32],
        mask: &mut Vec<f32>,
    ) -> u64;
    /// A validation loss over at most `max_batches` batches (None: no validation data).
    fn evaluate(&mut self, trainer: &mut Trainer, max_batches: usize) -> Option<f32>;
    /// Up to `n` tokens of real text on which the heads' previous-token
    /// scores are measured (empty: measure them on the random probe).
    fn probe_text(&self, _n: usize) -> Vec<u32> {
        vec![]
    }
}

/// The text the heads' record and the live view score previous-token heads
/// on: the start of the validation text, else of the training text.
fn probe_text(train: &[u32], valid: &[u32], n: usize) -> Vec<u32> {
    let s = if valid.is_empty() { train } else { valid };
    s[..s.len().min(n)].to_vec()
}

/// Pretraining's batches: random windows of one token stream.
struct StreamBatches<'a> {
    train: &'a [u32],
    valid: &'a [u32],
}

impl Batches for StreamBatches<'_> {
    fn probe_text(&self, n: usize) -> Vec<u32> {
        probe_text(self.train, self.valid, n)
    }

    fn fill(
        &mut self,
        _step: u64,
        rng: &mut Rng,
        t: usize,
        inputs: &mut [u32],
        targets: &mut [u32],
        _mask: &mut Vec<f32>,
    ) -> u64 {
        data::random_batch(self.train, t, rng, inputs, targets);
        inputs.len() as u64
    }

    fn evaluate(&mut self, trainer: &mut Trainer, max_batches: usize) -> Option<f32> {
        if self.valid.is_empty() {
            return None;
        }
        trainer.evaluate(self.valid, max_batches)
    }
}

/// The training loop `train` and `finetune` share: from the step in `meta`
/// (0, or a resumed checkpoint's) to `hyper.steps`, with the log, periodic
/// validation and checkpoints in `run.out`, stopping early (after a
/// checkpoint) when `stop` is set. Returns the final state and whether the run
/// was interrupted; the model and its checkpoint are written either way.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_loop(
    trainer: &mut Trainer,
    hyper: &Hyper,
    run: &RunOptions,
    mut meta: CheckpointMeta,
    dir: &mut CreatedDir,
    batches: &mut dyn Batches,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Progress),
    watcher: &mut dyn Watcher,
) -> Result<(CheckpointMeta, bool), TrainError> {
    let out = &run.out;
    let log_path = out.join("train-log.tsv");
    if run.resume && log_path.exists() {
        // A killed run may have logged steps past its checkpoint: they are run again.
        let old = std::fs::read_to_string(&log_path).map_err(io_err(&log_path))?;
        let kept = files::log_up_to(&old, meta.step);
        write_atomic(&log_path, |tmp| {
            std::fs::write(tmp, kept).map_err(io_err(tmp))
        })?;
    } else {
        std::fs::write(
            &log_path,
            "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n",
        )
        .map_err(io_err(&log_path))?;
    }
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&log_path)
        .map_err(io_err(&log_path))?;

    let text = batches.probe_text(2 * crate::readout::heads::probe_period(hyper.n_ctx));
    let mut head_log = heads::HeadLog::open(out, run.resume, meta.step, text)?;
    if meta.step == 0 {
        head_log.record(trainer, 0)?;
    }

    let (b, t) = (trainer.acts.b, trainer.acts.t);
    let mut inputs = vec![0u32; b * t];
    let mut targets = vec![0u32; b * t];
    let mut mask = Vec::new();
    let start = Instant::now();
    let base_elapsed = meta.elapsed_secs;
    let mut interrupted = false;
    let mut last_good = meta.clone();
    let mut had_checkpoint = run.resume;
    while meta.step < hyper.steps {
        while watcher.paused() && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if stop.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let step = meta.step;
        let step_start = Instant::now();
        // The batch depends only on (seed, step), so a resumed run sees the same data.
        let mut rng = Rng::new(hyper.seed ^ (step + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let tokens_per_step = batches.fill(step, &mut rng, t, &mut inputs, &mut targets, &mut mask);
        let dropout = Dropout {
            p: hyper.dropout,
            seed: rng.next_u64(),
        };
        let weights = (!mask.is_empty()).then_some(&mask[..]);
        let loss = trainer.masked_loss_and_grads(&inputs, &targets, weights, Some(dropout));
        let lr = adamw::learning_rate(step, hyper.warmup, hyper.steps, hyper.lr, hyper.min_lr);
        let grad_norm = if loss.is_finite() {
            trainer.update(lr, hyper.weight_decay, hyper.grad_clip, step + 1)
        } else {
            f32::NAN
        };
        if !loss.is_finite() || !grad_norm.is_finite() {
            let kept = if had_checkpoint {
                format!(
                    "The last good checkpoint (step {}) is kept in {}.",
                    last_good.step,
                    checkpoint_dir(out).display()
                )
            } else {
                "No checkpoint had been written yet.".to_string()
            };
            return Err(TrainError::NonFinite {
                step: step + 1,
                loss: if loss.is_finite() { grad_norm } else { loss },
                kept,
            });
        }
        meta.step += 1;
        meta.tokens_seen += tokens_per_step;
        meta.last_train_loss = Some(loss);
        meta.elapsed_secs = base_elapsed + start.elapsed().as_secs_f64();
        let tokens_per_sec = tokens_per_step as f64 / step_start.elapsed().as_secs_f64();
        let last = meta.step == hyper.steps;
        let val_loss = if run.eval_every > 0 && meta.step.is_multiple_of(run.eval_every) && !last {
            batches.evaluate(trainer, run.eval_batches)
        } else {
            None
        };
        if last || (run.eval_every > 0 && meta.step.is_multiple_of(run.eval_every)) {
            head_log.record(trainer, meta.step)?;
        }
        use std::io::Write;
        if meta.step.is_multiple_of(10) || val_loss.is_some() || meta.step == 1 {
            let v = val_loss.map(|v| v.to_string()).unwrap_or_default();
            writeln!(
                log,
                "{}\t{lr:.6}\t{loss:.4}\t{v}\t{grad_norm:.4}\t{tokens_per_sec:.0}",
                meta.step
            )
            .map_err(io_err(&log_path))?;
        }
        let progress = Progress {
            step: meta.step,
            steps: hyper.steps,
            loss,
            lr,
            grad_norm,
            tokens_per_sec,
            val_loss,
            elapsed_secs: meta.elapsed_secs,
            message: None,
            tokenizing: None,
        };
        report(&progress);
        watcher.after_step(trainer, &progress);
        let asked = watcher.checkpoint_requested();
        if (asked || run.checkpoint_every > 0 && meta.step.is_multiple_of(run.checkpoint_every))
            && !last
        {
            write_checkpoint(trainer, out, &meta)?;
            // From now on the folder holds a run worth keeping.
            dir.keep();
            last_good = meta.clone();
            had_checkpoint = true;
        }
    }
    write_checkpoint(trainer, out, &meta)?;
    dir.keep();
    Ok((meta, interrupted))
}

/// Trains a model as `hyper` says and writes it to `run.out`; `stop` (set by
/// Ctrl-C or SIGTERM) ends the run early: after writing a checkpoint once
/// training has begun, with [`TrainError::Interrupted`] before. `report` is
/// called after every step. A folder this run created is removed again if the
/// run fails before its first checkpoint.
pub fn train(
    hyper: &Hyper,
    run: &RunOptions,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Progress),
) -> Result<Summary, TrainError> {
    train_watched(hyper, run, stop, report, &mut Unwatched)
}

/// [`train`], with a front end watching every step (`gptlens train --live`).
pub fn train_watched(
    hyper: &Hyper,
    run: &RunOptions,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Progress),
    watcher: &mut dyn Watcher,
) -> Result<Summary, TrainError> {
    hyper.validate()?;
    let mut hyper = hyper.clone();
    let steps = hyper.steps;
    let out = &run.out;
    if out.exists() && !run.resume && !run.force {
        return Err(TrainError::Input(format!(
            "{} already exists; pass --resume to continue its run or --force to start over (its files get replaced)",
            out.display()
        )));
    }
    let resumed = if run.resume {
        Some(resumed_tokenizer(out)?)
    } else {
        None
    };
    let text = Arc::new(data::read_corpus(&run.corpus)?);
    if resumed.is_none() {
        // Memory first, before the tokenizer takes its time. A BPE learns at
        // most one merge per two bytes of text, which bounds its vocabulary.
        let mut h = hyper.clone();
        h.vocab_size = h.vocab_size.min(257usize.saturating_add(text.len() / 2));
        let need = memory::training_need(&h.config(), h.batch, h.n_ctx, h.dropout > 0.0)?;
        memory::check(&need, run.max_memory, "this run")?;
    }
    let docs = data::split_documents(&text);
    let mut dir = CreatedDir::create(out)?;
    let tokenizer = match resumed {
        Some(t) => t,
        None => {
            note(
                report,
                steps,
                format!(
                    "training a {}-token byte-level BPE on {} documents",
                    hyper.vocab_size,
                    docs.len()
                ),
            );
            let json = bpe::train_bpe_until(text.clone(), hyper.vocab_size, stop)?;
            write_atomic(&out.join("tokenizer.json"), |tmp| {
                std::fs::write(tmp, &json).map_err(io_err(tmp))
            })?;
            Tokenizer::from_json(&json)?
        }
    };
    let learned = tokenizer.vocab_size();
    if learned < hyper.vocab_size {
        note(
            report,
            steps,
            format!(
                "the tokenizer learned {learned} tokens, fewer than the {} asked for (the corpus has no more merges): the model's vocabulary is {learned}",
                hyper.vocab_size
            ),
        );
        hyper.vocab_size = learned;
    }
    let hyper = hyper;
    let cfg = hyper.config();
    tokenizer.check_matches(&cfg)?;
    let need = memory::training_need(&cfg, hyper.batch, hyper.n_ctx, hyper.dropout > 0.0)?;
    memory::check(&need, run.max_memory, "this run")?;
    note(report, steps, format!("memory: {}", need.describe()));
    let train_stream = data::encode_documents(&tokenizer, &docs, stop, &mut |d, t| {
        tokenizing(report, steps, d, t)
    })?;
    let need = hyper.batch * hyper.n_ctx + 1;
    if train_stream.len() < need {
        return Err(TrainError::Input(format!(
            "the corpus is {} tokens, smaller than one batch ({} × {} + 1 = {need}); use a larger corpus or a smaller --batch / --ctx",
            train_stream.len(),
            hyper.batch,
            hyper.n_ctx
        )));
    }
    let (valid_stream, valid_bytes) = match &run.valid {
        Some(p) => {
            let vt = data::read_corpus(p)?;
            let s = data::encode_documents(
                &tokenizer,
                &data::split_documents(&vt),
                stop,
                &mut |d, t| tokenizing(report, steps, d, t),
            )?;
            if s.len() < need {
                return Err(TrainError::Input(format!(
                    "the validation text {} is {} tokens, smaller than one batch ({need}); give a longer one or a smaller --batch / --ctx",
                    p.display(),
                    s.len()
                )));
            }
            (s, vt.len())
        }
        None => (Vec::new(), 0),
    };
    note(
        report,
        steps,
        format!(
            "{} training tokens, {} validation tokens, {} parameters",
            train_stream.len(),
            valid_stream.len(),
            cfg.n_params()
        ),
    );

    let mut trainer = Trainer::new(
        &random_model(&cfg, hyper.seed, false),
        hyper.batch,
        hyper.n_ctx,
    );
    let mut meta = CheckpointMeta {
        hyper: hyper.clone(),
        step: 0,
        tokens_seen: 0,
        elapsed_secs: 0.0,
        last_train_loss: None,
    };
    if run.resume {
        meta = read_checkpoint(&mut trainer, out, &hyper)?;
        note(report, steps, format!("resuming from step {}", meta.step));
    }
    // Counted before the first step, so a live view can draw them from the start.
    let baselines = (!valid_stream.is_empty())
        .then(|| baselines::measure(&train_stream, &valid_stream, cfg.vocab_size));
    watcher
        .begin(&RunStart {
            hyper: &hyper,
            tokenizer: &tokenizer,
            step: meta.step,
            baselines: baselines.as_ref(),
            probe_text: probe_text(
                &train_stream,
                &valid_stream,
                2 * crate::readout::heads::probe_period(hyper.n_ctx),
            ),
        })
        .map_err(TrainError::Input)?;
    let mut batches = StreamBatches {
        train: &train_stream,
        valid: &valid_stream,
    };
    let (meta, interrupted) = run_loop(
        &mut trainer,
        &hyper,
        run,
        meta,
        &mut dir,
        &mut batches,
        stop,
        report,
        watcher,
    )?;
    let log_path = out.join("train-log.tsv");
    let mut summary = Summary {
        hyper: hyper.clone(),
        n_params: cfg.n_params(),
        step: meta.step,
        tokens_seen: meta.tokens_seen,
        elapsed_secs: meta.elapsed_secs,
        train_loss: meta.last_train_loss,
        val_loss: None,
        val_bits_per_byte: None,
        val_tokens: valid_stream.len(),
        val_bytes: valid_bytes,
        train_tokens: train_stream.len(),
        baselines: None,
        interrupted,
    };
    if !interrupted && !valid_stream.is_empty() {
        let v = trainer.evaluate(&valid_stream, 0);
        summary.val_loss = v;
        summary.val_bits_per_byte =
            v.map(|v| bits_per_byte(v as f64, valid_stream.len(), valid_bytes));
        summary.baselines = baselines;
        if let Some(v) = v {
            use std::io::Write;
            let mut log = std::fs::OpenOptions::new()
                .append(true)
                .open(&log_path)
                .map_err(io_err(&log_path))?;
            writeln!(log, "{}\t\t\t{v}\t\t", meta.step).map_err(io_err(&log_path))?;
        }
    }
    let sp = out.join("train-summary.json");
    let json = serde_json::to_string_pretty(&summary).expect("json");
    write_atomic(&sp, |tmp| std::fs::write(tmp, json).map_err(io_err(tmp)))?;
    Ok(summary)
}
