//! Supervised fine-tuning: a pretrained model learns to answer prompts from
//! prompt/response pairs. The chat template ([`template`]) joins each pair into
//! one token sequence; the loss counts only the response and its closing
//! end-of-text token (L′(θ) = Σᵢ log P(rᵢ │ c, r₍<ᵢ₎; θ)), through the same
//! training core and loop as pretraining ([`crate::train`]), with a mask.

pub mod mask;
pub mod template;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use crate::model::{Gpt, ModelError};
use crate::rng::Rng;
use crate::tokenizer::{END_OF_TEXT, Tokenizer};
use crate::train::files::{CreatedDir, io_err, write_atomic};
use crate::train::{
    Batches, CheckpointMeta, Hyper, Progress, RunOptions, TrainError, Trainer, memory, note,
    read_checkpoint, run_loop,
};
pub use template::{
    ChatPrompt, ChatTemplate, DEFAULT_CHAT_TEMPLATE, GGUF_FILE_KEY, Message, TOKENIZER_CONFIG,
    chat_prompt,
};

/// What can stop fine-tuning; each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum FinetuneError {
    #[error("{0}")]
    Input(String),
    #[error("the chat template failed ({at}): {message}")]
    Template { at: String, message: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Train(#[from] TrainError),
}

/// A conversation from the data, with the line it came from.
#[derive(Clone, Debug)]
pub struct Pair {
    pub line: usize,
    /// The context turns, then the response as the last (assistant) turn.
    pub messages: Vec<Message>,
}

/// A line longer than this is refused before it is read into memory whole.
const MAX_LINE: u64 = 16 << 20;

fn bad_line(path: &Path, line: usize, what: String) -> FinetuneError {
    FinetuneError::Input(format!("{}:{line}: {what}", path.display()))
}

/// One JSON line in either form: `{"prompt", "response"}` or `{"messages": [...]}`
/// whose last message is the assistant's response.
fn parse_pair(path: &Path, line: usize, text: &str) -> Result<Pair, FinetuneError> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad_line(
            path,
            line,
            format!(
                "not a JSON object ({e}); each line is {{\"prompt\": \"...\", \"response\": \"...\"}} or {{\"messages\": [{{\"role\": \"user\", \"content\": \"...\"}}, {{\"role\": \"assistant\", \"content\": \"...\"}}]}}"
            ),
        )
    })?;
    let no_response = || {
        bad_line(
            path,
            line,
            "the pair has no response: give a non-empty \"response\" string, or end \"messages\" with a non-empty {\"role\": \"assistant\", \"content\": ...} turn".to_string(),
        )
    };
    let Some(obj) = v.as_object() else {
        return Err(bad_line(
            path,
            line,
            "not a JSON object; each line is one {\"prompt\", \"response\"} or {\"messages\"} object".into(),
        ));
    };
    let messages = if let Some(m) = obj.get("messages") {
        let list: Vec<Message> = serde_json::from_value(m.clone()).map_err(|e| {
            bad_line(
                path,
                line,
                format!(
                    "\"messages\" must be a list of {{\"role\": ..., \"content\": ...}} strings ({e})"
                ),
            )
        })?;
        match list.last() {
            Some(last) if last.role == "assistant" && !last.content.is_empty() => {}
            _ => return Err(no_response()),
        }
        if list.len() < 2 {
            return Err(bad_line(
                path,
                line,
                "the conversation has a response but no prompt before it".into(),
            ));
        }
        list
    } else {
        let prompt = match obj.get("prompt") {
            Some(serde_json::Value::String(s)) => s.clone(),
            _ => {
                return Err(bad_line(
                    path,
                    line,
                    "the pair has no \"prompt\" string (nor a \"messages\" list)".into(),
                ));
            }
        };
        let response = match obj.get("response") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(no_response()),
        };
        vec![
            Message::new("user", &prompt),
            Message::new("assistant", &response),
        ]
    };
    Ok(Pair { line, messages })
}

/// Reads the pairs of a JSON Lines file (blank lines are skipped); the first
/// bad line stops it with its file and line number.
pub fn read_pairs(path: &Path) -> Result<Vec<Pair>, FinetuneError> {
    let file = std::fs::File::open(path).map_err(|e| {
        FinetuneError::Input(format!(
            "cannot open the pairs file {} ({e}); give a JSON Lines file, one {{\"prompt\", \"response\"}} object per line",
            path.display()
        ))
    })?;
    let mut reader = std::io::BufReader::new(file);
    let mut pairs = Vec::new();
    let mut buf = Vec::new();
    for line in 1.. {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| FinetuneError::Io {
                path: path.to_path_buf(),
                source: e,
            })?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_LINE {
            return Err(bad_line(
                path,
                line,
                format!(
                    "the line is longer than {}; one pair per line",
                    memory::bytes(MAX_LINE)
                ),
            ));
        }
        let text =
            std::str::from_utf8(&buf).map_err(|_| bad_line(path, line, "not UTF-8 text".into()))?;
        if text.trim().is_empty() {
            continue;
        }
        pairs.push(parse_pair(path, line, text)?);
    }
    if pairs.is_empty() {
        return Err(FinetuneError::Input(format!(
            "{} holds no pairs; write one {{\"prompt\": \"...\", \"response\": \"...\"}} object per line",
            path.display()
        )));
    }
    Ok(pairs)
}

/// A pair as tokens: `mask[i]` says whether predicting `ids[i]` from
/// `ids[..i]` counts (response tokens and the closing end-of-text token).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Example {
    pub ids: Vec<u32>,
    #[serde(serialize_with = "bits")]
    pub mask: Vec<bool>,
}

fn bits<S: serde::Serializer>(mask: &[bool], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(mask.iter().map(|&m| m as u8))
}

impl Example {
    /// Predictions that count.
    pub fn counted(&self) -> usize {
        self.mask.iter().filter(|&&m| m).count()
    }
}

/// The pairs of a file as examples, and what did not fit.
#[derive(Debug)]
pub struct Encoded {
    pub examples: Vec<Example>,
    /// Lines of pairs whose prompt alone fills the context: left out.
    pub skipped: Vec<usize>,
    /// Pairs whose response was cut at the context (its end-of-text token lost).
    pub truncated: usize,
}

/// The chat template and tokenizer that turn pairs into tokens.
pub struct Formatter {
    pub template: ChatTemplate,
    pub tokenizer: Tokenizer,
    /// The id of the template's end-of-text token, which closes every response.
    pub eot: u32,
}

impl Formatter {
    /// The model folder's template (or the default one) with its tokenizer;
    /// refuses a tokenizer without the end-of-text token.
    pub fn for_model(dir: &Path, tokenizer: Tokenizer) -> Result<Self, FinetuneError> {
        let template = match ChatTemplate::from_model_dir(dir, END_OF_TEXT)? {
            Some(t) => t,
            None => ChatTemplate::default_for(END_OF_TEXT),
        };
        let Some(eot) = tokenizer.inner().token_to_id(&template.eos_token) else {
            return Err(FinetuneError::Input(format!(
                "the tokenizer of {} has no end-of-text token {:?}: every response must end with one, so that the model learns where its reply stops. Use a tokenizer with {END_OF_TEXT} (GPT-2's), or set \"eos_token\" in {TOKENIZER_CONFIG} to a token it has",
                dir.display(),
                template.eos_token
            )));
        };
        Ok(Formatter {
            template,
            tokenizer,
            eot,
        })
    }

    /// One pair as tokens: the context rendered with `add_generation_prompt`
    /// (what the model sees before it answers), then the rest of the whole
    /// conversation's rendering, which must begin with it; the response ends
    /// with the end-of-text token (appended if the template has none).
    pub fn example(&self, pair: &Pair) -> Result<Example, FinetuneError> {
        let (context, _) = pair.messages.split_at(pair.messages.len() - 1);
        let at_line = |e: FinetuneError| match e {
            FinetuneError::Template { at, message } => FinetuneError::Template {
                at: format!("{at}, rendering the pair on line {}", pair.line),
                message,
            },
            e => e,
        };
        let prompt = self.template.render(context, true).map_err(at_line)?;
        let full = self
            .template
            .render(&pair.messages, false)
            .map_err(at_line)?;
        let Some(rest) = full.strip_prefix(&prompt) else {
            return Err(FinetuneError::Template {
                at: format!("pair on line {}", pair.line),
                message: format!(
                    "the conversation renders as {full:?}, which does not begin with its prompt rendered with add_generation_prompt, {prompt:?}; the template must render the prompt the same way in both"
                ),
            });
        };
        let mut ids = self.tokenizer.encode(&prompt)?;
        if ids.is_empty() {
            // Something to predict the first response token from.
            ids.push(self.eot);
        }
        let p = ids.len();
        ids.extend(self.tokenizer.encode(rest)?);
        if ids.last() != Some(&self.eot) || ids.len() == p {
            ids.push(self.eot);
        }
        let mask = (0..ids.len()).map(|i| i >= p).collect();
        Ok(Example { ids, mask })
    }

    /// Every pair as an example, cut to `n_ctx + 1` tokens (a window of
    /// `n_ctx` predictions); pairs whose prompt leaves no response token in
    /// the window are skipped and counted.
    pub fn encode(&self, pairs: &[Pair], n_ctx: usize) -> Result<Encoded, FinetuneError> {
        let mut out = Encoded {
            examples: Vec::new(),
            skipped: Vec::new(),
            truncated: 0,
        };
        for pair in pairs {
            let mut ex = self.example(pair)?;
            if ex.ids.len() > n_ctx + 1 {
                ex.ids.truncate(n_ctx + 1);
                ex.mask.truncate(n_ctx + 1);
                if ex.counted() == 0 {
                    out.skipped.push(pair.line);
                    continue;
                }
                out.truncated += 1;
            }
            out.examples.push(ex);
        }
        Ok(out)
    }
}

/// Predictions per example (its length minus one), the window a batch needs.
pub fn window(examples: &[Example]) -> usize {
    examples
        .iter()
        .map(|e| e.ids.len() - 1)
        .max()
        .unwrap_or(1)
        .max(1)
}

/// Writes example `ex` into row `r` of a `[B, t]` batch, padded with `pad`
/// (mask 0); returns its tokens.
fn put_row(
    ex: &Example,
    r: usize,
    t: usize,
    pad: u32,
    inputs: &mut [u32],
    targets: &mut [u32],
    mask: &mut [f32],
) -> u64 {
    let n = (ex.ids.len() - 1).min(t);
    for i in 0..t {
        let k = r * t + i;
        if i < n {
            inputs[k] = ex.ids[i];
            targets[k] = ex.ids[i + 1];
            mask[k] = if ex.mask[i + 1] { 1.0 } else { 0.0 };
        } else {
            inputs[k] = pad;
            targets[k] = pad;
            mask[k] = 0.0;
        }
    }
    n as u64
}

/// The examples in the order of `epoch`: a shuffle that depends only on the
/// seed and the epoch, so a resumed run sees the same batches.
fn epoch_order(n: usize, seed: u64, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = Rng::new(seed ^ (epoch + 1).wrapping_mul(0xD1B5_4A32_D192_ED03));
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

/// Batches of whole pairs, one pair per row; an epoch is `ceil(n / B)` steps,
/// its last batch filled up from the epoch's start.
pub struct PairBatches {
    pub train: Vec<Example>,
    pub valid: Vec<Example>,
    pub batch: usize,
    pub seed: u64,
    pub pad: u32,
    order: Option<(u64, Vec<usize>)>,
}

impl PairBatches {
    pub fn new(
        train: Vec<Example>,
        valid: Vec<Example>,
        batch: usize,
        seed: u64,
        pad: u32,
    ) -> Self {
        PairBatches {
            train,
            valid,
            batch,
            seed,
            pad,
            order: None,
        }
    }

    pub fn steps_per_epoch(&self) -> u64 {
        self.train.len().div_ceil(self.batch) as u64
    }
}

impl Batches for PairBatches {
    fn fill(
        &mut self,
        step: u64,
        _rng: &mut Rng,
        t: usize,
        inputs: &mut [u32],
        targets: &mut [u32],
        mask: &mut Vec<f32>,
    ) -> u64 {
        let spe = self.steps_per_epoch();
        let (epoch, k) = (step / spe, (step % spe) as usize);
        if self.order.as_ref().is_none_or(|(e, _)| *e != epoch) {
            self.order = Some((epoch, epoch_order(self.train.len(), self.seed, epoch)));
        }
        let order = &self.order.as_ref().expect("set above").1;
        mask.resize(inputs.len(), 0.0);
        let mut tokens = 0;
        for r in 0..self.batch {
            let ex = &self.train[order[(k * self.batch + r) % order.len()]];
            tokens += put_row(ex, r, t, self.pad, inputs, targets, mask);
        }
        tokens
    }

    fn evaluate(&mut self, trainer: &mut Trainer, max_batches: usize) -> Option<f32> {
        let losses = masked_losses(trainer, &self.valid, self.pad, max_batches)?;
        Some(losses.mean() as f32)
    }
}

/// Sums of the counted per-token losses.
#[derive(Clone, Debug, Default)]
pub struct LossSum {
    pub sum: f64,
    pub tokens: usize,
    /// Each example's mean response loss (in order), when kept.
    pub per_example: Vec<f64>,
}

impl LossSum {
    pub fn mean(&self) -> f64 {
        if self.tokens == 0 {
            0.0
        } else {
            self.sum / self.tokens as f64
        }
    }
}

/// The response loss of every example (at most `max_batches` batches of the
/// trainer's size, spread evenly; all if 0), without gradients or dropout.
pub fn masked_losses(
    trainer: &mut Trainer,
    examples: &[Example],
    pad: u32,
    max_batches: usize,
) -> Option<LossSum> {
    if examples.is_empty() {
        return None;
    }
    let (b, t) = (trainer.acts.b, trainer.acts.t);
    let total = examples.len().div_ceil(b);
    let n = if max_batches > 0 {
        total.min(max_batches)
    } else {
        total
    };
    let mut inputs = vec![pad; b * t];
    let mut targets = vec![pad; b * t];
    let mut mask = vec![0.0f32; b * t];
    let mut acc = LossSum::default();
    for j in 0..n {
        let first = (j * total / n) * b;
        let rows = &examples[first..(first + b).min(examples.len())];
        for r in 0..b {
            match rows.get(r) {
                Some(ex) => {
                    put_row(ex, r, t, pad, &mut inputs, &mut targets, &mut mask);
                }
                None => {
                    inputs[r * t..(r + 1) * t].fill(pad);
                    targets[r * t..(r + 1) * t].fill(pad);
                    mask[r * t..(r + 1) * t].fill(0.0);
                }
            }
        }
        trainer.masked_loss(&inputs, &targets, Some(&mask), None);
        for (r, _) in rows.iter().enumerate() {
            let (mut s, mut c) = (0.0f64, 0usize);
            let row = r * t..(r + 1) * t;
            for (&m, &l) in mask[row.clone()].iter().zip(&trainer.acts.losses[row]) {
                if m != 0.0 {
                    s += l as f64;
                    c += 1;
                }
            }
            acc.sum += s;
            acc.tokens += c;
            acc.per_example.push(if c > 0 { s / c as f64 } else { 0.0 });
        }
    }
    Some(acc)
}

/// `finetune --eval`: each pair's tokens, mask and mean response loss under
/// the model, and the mean over every counted token.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub pairs: Vec<EvalPair>,
    pub loss: f64,
    pub tokens: usize,
    /// Lines of the pairs left out because their prompt fills the context.
    #[serde(skip)]
    pub skipped: Vec<usize>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EvalPair {
    #[serde(flatten)]
    pub example: Example,
    pub loss: f64,
}

/// The response loss of the pairs in `data` under `gpt` (no training).
pub fn evaluate(
    gpt: &Gpt,
    fmt: &Formatter,
    data: &Path,
    batch: usize,
) -> Result<EvalReport, FinetuneError> {
    let pairs = read_pairs(data)?;
    let enc = fmt.encode(&pairs, gpt.config.n_positions)?;
    if enc.examples.is_empty() {
        return Err(no_examples(data, &enc));
    }
    let t = window(&enc.examples);
    let b = batch.clamp(1, enc.examples.len());
    memory::check(
        &memory::training_need(&gpt.config, b, t, false)?,
        None,
        "this evaluation",
    )?;
    let mut trainer = Trainer::new(gpt, b, t);
    let sums = masked_losses(&mut trainer, &enc.examples, fmt.eot, 0).expect("examples");
    Ok(EvalReport {
        pairs: enc
            .examples
            .into_iter()
            .zip(&sums.per_example)
            .map(|(example, &loss)| EvalPair { example, loss })
            .collect(),
        loss: sums.mean(),
        tokens: sums.tokens,
        skipped: enc.skipped,
    })
}

fn no_examples(data: &Path, enc: &Encoded) -> FinetuneError {
    FinetuneError::Input(format!(
        "none of the {} pairs in {} fits the model's context: every prompt alone fills it; shorten the prompts",
        enc.skipped.len(),
        data.display()
    ))
}

/// The settings of a fine-tuning run besides those in [`Hyper`].
#[derive(Clone, Debug)]
pub struct FinetuneOptions {
    pub base: PathBuf,
    /// Passes over the pairs when `hyper.steps` is 0.
    pub epochs: u64,
    pub run: RunOptions,
    /// Train LoRA adapters instead of every weight.
    pub lora: Option<LoraOptions>,
}

/// `--lora R --lora-alpha A`: rank-R adapters scaled by A / R.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoraOptions {
    pub rank: usize,
    pub alpha: f32,
}

/// How a fine-tuning run ended (also written as finetune-summary.json).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FinetuneSummary {
    pub base: PathBuf,
    pub data: PathBuf,
    pub hyper: Hyper,
    pub pairs: usize,
    pub skipped: usize,
    pub truncated: usize,
    /// Tokens of all pairs, and those the loss counts.
    pub pair_tokens: usize,
    pub counted_tokens: usize,
    pub step: u64,
    pub tokens_seen: u64,
    pub elapsed_secs: f64,
    pub train_loss: Option<f32>,
    /// Response loss on --valid-data before and after.
    pub valid_loss_before: Option<f64>,
    pub valid_loss_after: Option<f64>,
    pub interrupted: bool,
    /// The LoRA settings, when only adapters trained.
    #[serde(default)]
    pub lora: Option<LoraOptions>,
    /// Parameters the optimizer updated (all of them without LoRA).
    #[serde(default)]
    pub trainable_params: usize,
}

/// Fine-tunes the model in `opts.base` on the pairs in `opts.run.corpus` and
/// writes it, with its tokenizer and chat template, to `opts.run.out`.
/// `hyper` gives the optimizer settings (its shape fields are taken from the
/// base model); `hyper.steps` 0 means `opts.epochs` passes over the pairs.
pub fn finetune(
    hyper: &Hyper,
    opts: &FinetuneOptions,
    stop: &AtomicBool,
    report: &mut dyn FnMut(&Progress),
) -> Result<FinetuneSummary, FinetuneError> {
    let run = &opts.run;
    let out = &run.out;
    if out.exists() && !run.resume && !run.force {
        return Err(FinetuneError::Input(format!(
            "{} already exists; pass --resume to continue its run or --force to start over (its files get replaced), or choose another --out",
            out.display()
        )));
    }
    if run.resume && !out.join("checkpoint").is_dir() {
        return Err(FinetuneError::Input(format!(
            "--resume: {} holds no checkpoint of `gptlens finetune`; leave out --resume to start a new run",
            out.display()
        )));
    }
    if opts.base.canonicalize().ok() == out.canonicalize().ok() && out.exists() {
        return Err(FinetuneError::Input(
            "--out is the base model's folder; write the fine-tuned model to a new folder".into(),
        ));
    }
    let gpt = Gpt::open(&opts.base)?;
    // Training (and so fine-tuning) computes GPT-2 blocks only.
    if gpt.config.is_llama() {
        return Err(FinetuneError::Input(format!(
            "{} is a Llama model; `gptlens finetune` trains GPT-2 models only (a Llama backward pass is not written yet)",
            opts.base.display()
        )));
    }
    let tokenizer = Tokenizer::open(&opts.base.join("tokenizer.json"))?;
    tokenizer.check_matches(&gpt.config)?;
    let fmt = Formatter::for_model(&opts.base, tokenizer)?;
    let cfg = gpt.config.clone();
    if let Some(l) = &opts.lora {
        crate::train::lora::validate(&cfg, l.rank, l.alpha)?;
    }
    let pairs = read_pairs(&run.corpus)?;
    let enc = fmt.encode(&pairs, cfg.n_positions)?;
    if enc.examples.is_empty() {
        return Err(no_examples(&run.corpus, &enc));
    }
    let valid = match &run.valid {
        Some(p) => {
            let e = fmt.encode(&read_pairs(p)?, cfg.n_positions)?;
            if e.examples.is_empty() {
                return Err(no_examples(p, &e));
            }
            e.examples
        }
        None => Vec::new(),
    };
    let mut h = hyper.clone();
    h.n_layer = cfg.n_layer;
    h.n_head = cfg.n_head;
    h.n_embd = cfg.n_embd;
    h.vocab_size = cfg.vocab_size;
    h.n_ctx = window(&enc.examples).max(window(&valid));
    let t = h.n_ctx;
    let batches_per_epoch = enc.examples.len().div_ceil(h.batch.max(1)) as u64;
    if h.steps == 0 {
        if opts.epochs == 0 {
            return Err(FinetuneError::Input(
                "--epochs must be at least 1 (or give --steps)".into(),
            ));
        }
        h.steps = opts.epochs.saturating_mul(batches_per_epoch);
    }
    h.validate()?;
    let hyper = h;
    let steps = hyper.steps;
    if !enc.skipped.is_empty() {
        let lines: Vec<String> = enc.skipped.iter().take(8).map(|l| l.to_string()).collect();
        note(
            report,
            steps,
            format!(
                "skipped {} pair(s) whose prompt alone fills the {}-token context (line {}{})",
                enc.skipped.len(),
                cfg.n_positions,
                lines.join(", "),
                if enc.skipped.len() > 8 { ", …" } else { "" }
            ),
        );
    }
    if enc.truncated > 0 {
        note(
            report,
            steps,
            format!(
                "{} pair(s) are longer than the context: their responses are cut at {} tokens",
                enc.truncated, cfg.n_positions
            ),
        );
    }
    let need = memory::training_need(&cfg, hyper.batch, t, hyper.dropout > 0.0)?;
    memory::check(&need, run.max_memory, "this run")?;
    note(report, steps, format!("memory: {}", need.describe()));
    let pair_tokens: usize = enc.examples.iter().map(|e| e.ids.len()).sum();
    let counted_tokens: usize = enc.examples.iter().map(Example::counted).sum();
    note(
        report,
        steps,
        format!(
            "{} pairs ({pair_tokens} tokens, {counted_tokens} of them response tokens the loss counts), {} validation pairs; {steps} steps of {} pairs ({:.2} epochs)",
            enc.examples.len(),
            valid.len(),
            hyper.batch,
            steps as f64 / batches_per_epoch as f64
        ),
    );

    let mut dir = CreatedDir::create(out)?;
    write_atomic(&out.join("tokenizer.json"), |tmp| {
        crate::embedded::copy(&opts.base.join("tokenizer.json"), tmp).map_err(io_err(tmp))
    })?;
    let config = tokenizer_config(&opts.base, &fmt.template)?;
    write_atomic(&out.join(TOKENIZER_CONFIG), |tmp| {
        std::fs::write(tmp, &config).map_err(io_err(tmp))
    })?;

    let n_train = enc.examples.len();
    let mut trainer = Trainer::new(&gpt, hyper.batch, t);
    let total_params = trainer.params.len();
    if let Some(l) = &opts.lora {
        trainer.enable_lora(l.rank, l.alpha, hyper.seed)?;
        let n = trainer.opt.m.len();
        note(
            report,
            steps,
            format!(
                "LoRA rank {} (alpha {}, scale {}) on every block's c_attn, W_O, MLP up and down: {n} trainable parameters, {:.1}% of the model's {total_params}; the base is frozen, the adapters are merged into the saved weights",
                l.rank,
                l.alpha,
                l.alpha / l.rank as f32,
                100.0 * n as f64 / total_params as f64
            ),
        );
    }
    let trainable_params = trainer.opt.m.len();
    let mut batches = PairBatches::new(enc.examples, valid, hyper.batch, hyper.seed, fmt.eot);
    let mut meta = CheckpointMeta {
        hyper: hyper.clone(),
        step: 0,
        tokens_seen: 0,
        elapsed_secs: 0.0,
        last_train_loss: None,
    };
    let mut valid_loss_before = None;
    if run.resume {
        meta = read_checkpoint(&mut trainer, out, &hyper)?;
        note(report, steps, format!("resuming from step {}", meta.step));
    } else if let Some(v) = masked_losses(&mut trainer, &batches.valid, fmt.eot, 0) {
        valid_loss_before = Some(v.mean());
        note(
            report,
            steps,
            format!("validation response loss before: {:.4}", v.mean()),
        );
    }
    let (meta, interrupted) = run_loop(
        &mut trainer,
        &hyper,
        run,
        meta,
        &mut dir,
        &mut batches,
        stop,
        report,
        &mut crate::train::Unwatched,
    )?;
    let valid_loss_after = if interrupted {
        None
    } else {
        masked_losses(&mut trainer, &batches.valid, fmt.eot, 0).map(|v| v.mean())
    };
    let summary = FinetuneSummary {
        base: opts.base.clone(),
        data: run.corpus.clone(),
        hyper,
        pairs: n_train,
        skipped: enc.skipped.len(),
        truncated: enc.truncated,
        pair_tokens,
        counted_tokens,
        step: meta.step,
        tokens_seen: meta.tokens_seen,
        elapsed_secs: meta.elapsed_secs,
        train_loss: meta.last_train_loss,
        valid_loss_before,
        valid_loss_after,
        interrupted,
        lora: opts.lora,
        trainable_params,
    };
    let sp = out.join("finetune-summary.json");
    let json = serde_json::to_string_pretty(&summary).expect("json");
    write_atomic(&sp, |tmp| std::fs::write(tmp, json).map_err(io_err(tmp)))?;
    Ok(summary)
}

/// The base folder's tokenizer_config.json (if any) with the template the
/// fine-tune was trained with, so the folder carries it.
fn tokenizer_config(base: &Path, template: &ChatTemplate) -> Result<String, FinetuneError> {
    let path = base.join(TOKENIZER_CONFIG);
    let mut v = if crate::embedded::file(&path).is_some() || path.is_file() {
        let text = crate::embedded::read_to_string(&path).map_err(|e| FinetuneError::Io {
            path: path.clone(),
            source: e,
        })?;
        serde_json::from_str::<serde_json::Value>(&text).unwrap_or(serde_json::json!({}))
    } else {
        serde_json::json!({})
    };
    let Some(obj) = v.as_object_mut() else {
        return Ok(template.config_json());
    };
    obj.insert("chat_template".into(), template.source.clone().into());
    obj.entry("bos_token")
        .or_insert(template.bos_token.clone().into());
    obj.entry("eos_token")
        .or_insert(template.eos_token.clone().into());
    obj.entry("tokenizer_class")
        .or_insert("GPT2TokenizerFast".into());
    Ok(serde_json::to_string_pretty(&v).expect("json") + "\n")
}
