//! `gptlens generate`: plain generation to stdout.

use anyhow::Result;
use std::io::{IsTerminal, Write};
use std::path::Path;

use gptlens::sample::{BeamSettings, Sampling, beam_search};
use gptlens::session::generate;
use gptlens::text::safe_text;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The text to continue.
    #[arg(long, short)]
    prompt: String,
    /// How many tokens to generate.
    #[arg(long, default_value_t = 50)]
    max_tokens: usize,
    /// Sampling temperature; 0 = greedy.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// Keep only the k most likely tokens (0 = off).
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// Keep the most likely tokens up to this total probability (1 = off).
    #[arg(long, default_value_t = 1.0)]
    top_p: f32,
    /// Penalise tokens already present (1 = off; 1.2 is typical).
    #[arg(long, default_value_t = 1.0)]
    repetition_penalty: f32,
    /// Random seed: the same seed gives the same text.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Beam search with this many beams instead of sampling.
    #[arg(long)]
    beams: Option<usize>,
    /// Beam search length penalty α (score = log P / length^α).
    #[arg(long, default_value_t = 1.0)]
    length_penalty: f32,
    /// Keep going past the end-of-text token.
    #[arg(long)]
    ignore_eos: bool,
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    let l = super::load_model(model)?;
    let ids = super::encode_prompt(&l, &a.prompt)?;
    let eot = if a.ignore_eos {
        None
    } else {
        l.tokenizer.end_of_text()
    };
    let tty = std::io::stdout().is_terminal();
    let clean = |s: &str| if tty { safe_text(s) } else { s.to_string() };
    let mut out = std::io::stdout().lock();
    if let Some(width) = a.beams {
        let r = beam_search(
            &l.gpt,
            &ids,
            &BeamSettings {
                width,
                max_tokens: a.max_tokens,
                length_penalty: a.length_penalty,
                repetition_penalty: a.repetition_penalty,
                end_token: eot,
            },
        )?;
        let best = r
            .beams
            .first()
            .map(|b| b.tokens.clone())
            .unwrap_or_default();
        writeln!(
            out,
            "{}{}",
            clean(&a.prompt),
            clean(&l.tokenizer.decode(&best))
        )?;
        return Ok(());
    }
    let s = Sampling {
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repetition_penalty: a.repetition_penalty,
    };
    write!(out, "{}", clean(&a.prompt))?;
    out.flush()?;
    // Decode the whole continuation each time so multi-byte characters split
    // across tokens print correctly; print only what is new.
    let mut generated: Vec<u32> = vec![];
    let mut printed = String::new();
    let mut io_err = None;
    generate(&l.gpt, &ids, a.max_tokens, &s, a.seed, eot, |t| {
        if Some(t) == eot {
            return;
        }
        generated.push(t);
        let text = l.tokenizer.decode(&generated);
        if !text.ends_with('\u{fffd}') && text.starts_with(printed.as_str()) {
            let new = &text[printed.len()..];
            if let Err(e) = write!(out, "{}", clean(new)).and_then(|_| out.flush()) {
                io_err.get_or_insert(e);
            }
            printed = text;
        }
    })?;
    let text = l.tokenizer.decode(&generated);
    if text.len() > printed.len() && text.starts_with(printed.as_str()) {
        write!(out, "{}", clean(&text[printed.len()..]))?;
    }
    if let Some(e) = io_err {
        return Err(e.into());
    }
    writeln!(out)?;
    Ok(())
}
