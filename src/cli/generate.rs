//! `gptlens generate`: plain generation to stdout.

use anyhow::Result;
use std::io::Write;
use std::path::Path;

use gptlens::sample::{BeamSettings, Sampling, beam_search};
use gptlens::session::generate;

use super::out::TextMode;

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
    /// Beam search with this many beams instead of sampling (at most 32).
    #[arg(long)]
    beams: Option<usize>,
    /// Beam search length penalty α (score = log P / length^α).
    #[arg(long, default_value_t = 1.0)]
    length_penalty: f32,
    /// Keep going past the end-of-text token.
    #[arg(long)]
    ignore_eos: bool,
}

pub fn run(model: Option<&Path>, text: TextMode, a: Args) -> Result<()> {
    // Every setting is checked before anything is printed.
    let sampling = Sampling {
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repetition_penalty: a.repetition_penalty,
    };
    sampling.validate()?;
    let beams = a.beams.map(|width| BeamSettings {
        width,
        max_tokens: a.max_tokens,
        length_penalty: a.length_penalty,
        repetition_penalty: a.repetition_penalty,
        end_token: None,
    });
    if let Some(b) = &beams {
        b.validate()?;
    }
    let l = super::load_model(model)?;
    let ids = super::encode_prompt(&l, &a.prompt)?;
    let eot = if a.ignore_eos {
        None
    } else {
        l.tokenizer.end_of_text()
    };
    let mut out = super::out::stdout();
    if let Some(mut b) = beams {
        b.end_token = eot;
        let r = beam_search(&l.gpt, &ids, &b)?;
        let best = r
            .beams
            .first()
            .map(|b| b.tokens.clone())
            .unwrap_or_default();
        writeln!(
            out,
            "{}{}",
            text.show(&a.prompt),
            text.show(&l.tokenizer.decode(&best))
        )?;
        out.flush()?;
        return Ok(());
    }
    write!(out, "{}", text.show(&a.prompt))?;
    out.flush()?;
    // Decode the whole continuation each time so multi-byte characters split
    // across tokens print correctly; print only what is new.
    let mut generated: Vec<u32> = vec![];
    let mut printed = String::new();
    let mut io_err = None;
    let (_, non_finite) = generate(&l.gpt, &ids, a.max_tokens, &sampling, a.seed, eot, |t| {
        if Some(t) == eot || io_err.is_some() {
            return;
        }
        generated.push(t);
        let decoded = l.tokenizer.decode(&generated);
        if !decoded.ends_with('\u{fffd}') && decoded.starts_with(printed.as_str()) {
            let new = &decoded[printed.len()..];
            if let Err(e) = write!(out, "{}", text.show(new)).and_then(|_| out.flush()) {
                io_err.get_or_insert(e);
            }
            printed = decoded;
        }
    })?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    let decoded = l.tokenizer.decode(&generated);
    if decoded.len() > printed.len() && decoded.starts_with(printed.as_str()) {
        write!(out, "{}", text.show(&decoded[printed.len()..]))?;
    }
    writeln!(out)?;
    out.flush()?;
    if let Some(nf) = non_finite {
        eprintln!("warning: {nf}");
    }
    Ok(())
}
