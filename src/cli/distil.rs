//! `gptlens distil`: trains a smaller student on a corpus against a teacher's
//! softened next-token distributions (`gptlens::distil`), or with `--alpha 1`
//! on the data alone (the from-scratch baseline, same tokens, same loop).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use gptlens::distil::{Objective, loss_and_logit_grads};
use gptlens::model::{Config, Interventions, KvCache, random_model};
use gptlens::rng::Rng;
use gptlens::train::files::CreatedDir;
use gptlens::train::{Trainer, data};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The teacher model (folder, GGUF or built-in name).
    #[arg(long, value_name = "DIR")]
    teacher: Option<PathBuf>,
    /// Training text (documents separated by <|endoftext|> lines).
    #[arg(long, value_name = "FILE")]
    corpus: PathBuf,
    /// Validation text: the student's loss on it is printed at the end.
    #[arg(long, value_name = "FILE")]
    valid: Option<PathBuf>,
    /// Use only the first N characters of the corpus (0: all).
    #[arg(long, default_value_t = 5_000_000)]
    chars: usize,
    /// Where to write the student (config.json, model.safetensors, tokenizer.json).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Overwrite an existing folder.
    #[arg(long)]
    force: bool,
    /// Weight of the data's cross-entropy; 1 − α goes to the KL to the
    /// teacher (1: the student trains from scratch, no teacher).
    #[arg(long, default_value_t = 0.5)]
    alpha: f32,
    /// Temperature T of both softmaxes in the KL term (its loss is scaled by T²).
    #[arg(long, default_value_t = 2.0)]
    temperature: f32,
    /// Student blocks (the "student" preset: 2 blocks, 2 heads, 64 wide, the
    /// teacher's vocabulary and context).
    #[arg(long, default_value_t = 2)]
    layers: usize,
    /// Student attention heads per block.
    #[arg(long, default_value_t = 2)]
    heads: usize,
    /// Student width of the residual stream.
    #[arg(long, default_value_t = 64)]
    embd: usize,
    /// Sequences per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Tokens per sequence (at most the teacher's context).
    #[arg(long, default_value_t = 128)]
    ctx: usize,
    /// Optimizer steps.
    #[arg(long, default_value_t = 1000)]
    steps: u64,
    /// Peak learning rate (warm-up over the first 5% of steps, cosine to a tenth).
    #[arg(long, default_value_t = 3e-3)]
    lr: f32,
    /// Seed of the student's initial weights and of the batches (the same
    /// seed with --alpha 1 gives the from-scratch run the same batches).
    #[arg(long, default_value_t = 1337)]
    seed: u64,
}

/// Warm-up, then cosine decay to a tenth of the peak.
fn lr_at(step: u64, steps: u64, peak: f32) -> f32 {
    let warm = (steps / 20).max(1);
    if step <= warm {
        return peak * step as f32 / warm as f32;
    }
    let x = (step - warm) as f32 / (steps - warm).max(1) as f32;
    let min = peak / 10.0;
    min + 0.5 * (peak - min) * (1.0 + (std::f32::consts::PI * x).cos())
}

pub fn run(a: Args) -> Result<()> {
    let obj = Objective {
        alpha: a.alpha,
        temperature: a.temperature,
    };
    obj.check().map_err(anyhow::Error::msg)?;
    if a.batch == 0 || a.steps == 0 || a.ctx == 0 || !(a.lr.is_finite() && a.lr > 0.0) {
        bail!("--batch, --steps and --ctx must be at least 1 and --lr a positive number");
    }
    if a.out.exists() && !a.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            a.out.display()
        );
    }
    let l = super::load_model(a.teacher.as_deref())?;
    let teacher = &l.gpt;
    if teacher.config.is_llama() {
        bail!(
            "gptlens distil trains GPT-2 students from GPT-2 teachers; the teacher is a Llama model"
        );
    }
    let tc = &teacher.config;
    if a.ctx > tc.n_positions {
        bail!(
            "--ctx {} is longer than the teacher's context of {} tokens",
            a.ctx,
            tc.n_positions
        );
    }
    let cfg = Config::new(a.layers, a.heads, a.embd, tc.vocab_size, tc.n_positions);
    cfg.validate()?;
    let student_params = cfg.n_params();
    if student_params >= tc.n_params() {
        bail!(
            "the student ({student_params} parameters) is not smaller than the teacher ({}); give fewer --layers or a smaller --embd",
            tc.n_params()
        );
    }
    let read = |p: &PathBuf, limit: usize| -> Result<Vec<u32>> {
        let text = data::read_corpus(p)?;
        let text = if limit > 0 && text.len() > limit {
            let mut end = limit;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            &text[..end]
        } else {
            &text[..]
        };
        let docs = data::split_documents(text);
        Ok(data::encode_documents(
            &l.tokenizer,
            &docs,
            &AtomicBool::new(false),
            &mut |_, _| {},
        )?)
    };
    let stream =
        read(&a.corpus, a.chars).with_context(|| format!("reading {}", a.corpus.display()))?;
    if stream.len() < a.ctx + 2 {
        bail!(
            "{} has {} tokens, too few for one sequence of --ctx {}",
            a.corpus.display(),
            stream.len(),
            a.ctx
        );
    }
    let student = random_model(&cfg, a.seed, false);
    let (b, t) = (a.batch, a.ctx);
    let mut tr = Trainer::new(&student, b, t);
    let mut rng = Rng::new(a.seed ^ 0x5eed);
    let (mut inputs, mut targets) = (vec![0u32; b * t], vec![0u32; b * t]);
    let v = tc.vocab_size;
    let mut soft = vec![0.0f32; b * t * v];
    let iv = Interventions::default();
    let mut err = std::io::stderr();
    writeln!(
        err,
        "distilling into a {}-block, {}-head, {}-wide student ({student_params} parameters; teacher {}): α {}, T {}, {} steps of {b}×{t} tokens",
        a.layers,
        a.heads,
        a.embd,
        tc.n_params(),
        a.alpha,
        a.temperature,
        a.steps
    )?;
    for step in 1..=a.steps {
        data::random_batch(&stream, t, &mut rng, &mut inputs, &mut targets);
        // With α = 1 the teacher's term has weight 0: it is not run.
        if a.alpha < 1.0 {
            for (row, out) in inputs.chunks(t).zip(soft.chunks_mut(t * v)) {
                let mut cache = KvCache::new(tc);
                let z = teacher.forward(row, &mut cache, &iv, None, true)?;
                out.copy_from_slice(z.as_slice().context("teacher logits layout")?);
            }
        }
        let loss = tr.custom_loss_and_grads(&inputs, &targets, |p| {
            loss_and_logit_grads(p, &soft, &targets, obj)
        });
        if !loss.total.is_finite() {
            bail!(
                "the loss became {} at step {step}; try a lower --lr",
                loss.total
            );
        }
        tr.update(lr_at(step, a.steps, a.lr), 0.1, 1.0, step);
        if step == 1 || step % 50 == 0 || step == a.steps {
            let kl = if a.alpha < 1.0 {
                format!("{:.4}", loss.kl)
            } else {
                "- (no teacher)".into()
            };
            writeln!(
                err,
                "step {step:>6}  loss {:.4}  (cross-entropy {:.4}, KL {kl})",
                loss.total, loss.ce
            )?;
        }
    }
    let mut dir =
        CreatedDir::create(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    tr.gpt().save(&a.out)?;
    let tok_json = l
        .tokenizer
        .inner()
        .to_string(false)
        .map_err(|e| anyhow::anyhow!("cannot serialize the tokenizer: {e}"))?;
    std::fs::write(a.out.join("tokenizer.json"), tok_json)
        .with_context(|| format!("writing the tokenizer to {}", a.out.display()))?;
    dir.keep();
    if let Some(vp) = &a.valid {
        let valid = read(vp, 0).with_context(|| format!("reading {}", vp.display()))?;
        match tr.evaluate(&valid, 0) {
            Some(loss) => writeln!(
                err,
                "validation: loss {loss:.4} nats/token, perplexity {:.2} ({} tokens)",
                (loss as f64).exp(),
                valid.len()
            )?,
            None => writeln!(
                err,
                "validation: {} is too short for one batch",
                vp.display()
            )?,
        }
    }
    writeln!(err, "wrote the student to {}", a.out.display())?;
    Ok(())
}
