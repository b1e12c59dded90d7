//! `gptlens eval`: loss, perplexity and bits per byte of a model on a text,
//! and what it lost against a reference (KL, top-1 agreement, perplexity,
//! rounding error per tensor).

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use gptlens::quant::eval::{self, TensorError};
use gptlens::train::data;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The text (documents separated by <|endoftext|> lines, as training reads it).
    #[arg(long, value_name = "FILE")]
    text: PathBuf,
    /// Only the first N characters of the text.
    #[arg(long, value_name = "N")]
    chars: Option<usize>,
    /// Compare with this model (a folder or GGUF file): mean KL, top-1
    /// agreement, perplexity change, and per tensor rounding error.
    #[arg(long, value_name = "DIR|FILE.gguf")]
    reference: Option<PathBuf>,
    /// Drop the windows past the last whole multiple of this many, as
    /// `gptlens train` and `scripts/reference.py eval` do (0: keep all).
    #[arg(long, default_value_t = 16)]
    batch_multiple: usize,
    /// Print JSON (keys loss, perplexity, bits_per_byte, …).
    #[arg(long)]
    json: bool,
}

pub fn run(model: Option<&std::path::Path>, a: Args) -> Result<()> {
    let l = super::load_model(model)?;
    let reference = match &a.reference {
        Some(r) => {
            let rl = super::load_model(Some(r))
                .with_context(|| format!("opening the reference {}", r.display()))?;
            if rl.gpt.config.vocab_size != l.gpt.config.vocab_size {
                bail!(
                    "the reference has {} token ids but the model has {}; compare models that share a tokenizer",
                    rl.gpt.config.vocab_size,
                    l.gpt.config.vocab_size
                );
            }
            Some(rl)
        }
        None => None,
    };
    let mut text = data::read_corpus(&a.text)?;
    if let Some(n) = a.chars
        && let Some((cut, _)) = text.char_indices().nth(n)
    {
        text.truncate(cut);
    }
    let docs = data::split_documents(&text);
    let stream =
        data::encode_documents(&l.tokenizer, &docs, &AtomicBool::new(false), &mut |_, _| {})?;
    let mut t = l.gpt.config.n_positions;
    if let Some(r) = &reference {
        t = t.min(r.gpt.config.n_positions);
    }
    let windows = eval::window_count(stream.len(), t, a.batch_multiple);
    if windows == 0 {
        bail!(
            "{} encodes to {} tokens, fewer than one batch of {} windows of {t} (+1); give a longer text or --batch-multiple 0",
            a.text.display(),
            stream.len(),
            a.batch_multiple.max(1)
        );
    }
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let s = eval::evaluate(
        &l.gpt,
        reference.as_ref().map(|r| r.gpt.as_ref()),
        &stream,
        t,
        windows,
        &mut |done, all| {
            if tty {
                eprint!("\r{done}/{all} windows");
                if done == all {
                    eprintln!();
                }
            }
        },
    )?;
    let bpb = gptlens::train::bits_per_byte(s.loss(), stream.len(), text.len());
    let errors: Vec<TensorError> = reference
        .as_ref()
        .map(|r| eval::weight_errors(&l.gpt, &r.gpt))
        .unwrap_or_default();
    let mut out = super::out::stdout();
    if a.json {
        let mut v = serde_json::json!({
            "model": l.dir.display().to_string(),
            "text": a.text.display().to_string(),
            "bytes": text.len(),
            "stream_tokens": stream.len(),
            "ctx": t,
            "windows": windows,
            "tokens": s.positions,
            "loss": s.loss(),
            "perplexity": s.loss().exp(),
            "bits_per_byte": bpb,
        });
        if let Some(r) = &reference {
            v["reference"] = serde_json::json!({
                "model": r.dir.display().to_string(),
                "loss": s.ref_loss(),
                "perplexity": s.ref_loss().exp(),
                "mean_kl": s.mean_kl(),
                "top1_agreement": s.top1_agreement(),
                "perplexity_change": s.perplexity_change(),
            });
            v["tensors"] = serde_json::to_value(&errors)?;
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(
            out,
            "{}: {:.4} nats/token, perplexity {:.3}, {:.4} bits per byte",
            l.dir.display(),
            s.loss(),
            s.loss().exp(),
            bpb
        )?;
        writeln!(
            out,
            "  over {windows} windows of {t} ({} predicted tokens; the text is {} tokens, {} bytes)",
            s.positions,
            stream.len(),
            text.len()
        )?;
        if let Some(r) = &reference {
            writeln!(
                out,
                "reference {}: {:.4} nats/token, perplexity {:.3}",
                r.dir.display(),
                s.ref_loss(),
                s.ref_loss().exp()
            )?;
            writeln!(
                out,
                "  perplexity change {:+.3}%, mean KL(reference ‖ model) {:.3e} nats, top-1 agreement {:.2}%",
                s.perplexity_change() * 100.0,
                s.mean_kl(),
                s.top1_agreement() * 100.0
            )?;
            let changed: Vec<&TensorError> = errors.iter().filter(|e| e.max > 0.0).collect();
            if !changed.is_empty() {
                writeln!(out, "rounding error per tensor (model − reference):")?;
                let w = changed.iter().map(|e| e.name.len()).max().unwrap_or(0);
                writeln!(out, "  {:w$}  {:>10}  {:>10}", "tensor", "rms", "max")?;
                for e in changed {
                    writeln!(out, "  {:w$}  {:>10.3e}  {:>10.3e}", e.name, e.rms, e.max)?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}
