//! `gptlens generate`: plain generation to stdout.

use anyhow::Result;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;

use gptlens::sample::{BeamSettings, Sampling, beam_search};
use gptlens::session::{Generation, generate_with};

use super::out::TextMode;

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["prompt", "chat"])))]
pub struct Args {
    /// The text to continue.
    #[arg(long, short)]
    prompt: Option<String>,
    /// A user message, put through the model folder's chat template (with the
    /// generation prompt); prints the reply only, up to the end-of-turn token.
    #[arg(long, value_name = "USER TEXT")]
    chat: Option<String>,
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
    #[command(flatten)]
    intervene: super::intervene::Args,
}

pub fn run(model: Option<&Path>, text: TextMode, a: Args) -> Result<()> {
    // Every setting is checked before anything is printed.
    let sampling = Sampling {
        temperature: a.temperature,
        top_k: a.top_k,
        top_p: a.top_p,
        repetition_penalty: a.repetition_penalty,
    };
    sampling.validate().map_err(super::out::usage_from)?;
    let beams = a.beams.map(|width| BeamSettings {
        width,
        max_tokens: a.max_tokens,
        length_penalty: a.length_penalty,
        repetition_penalty: a.repetition_penalty,
        end_token: None,
    });
    if let Some(b) = &beams {
        b.validate().map_err(super::out::usage_from)?;
    }
    let l = super::load_model(model)?;
    let iv = a.intervene.resolve(&l.gpt.config)?;
    if beams.is_some() && iv.is_active() {
        return Err(super::out::usage(
            "--beams runs without interventions; leave out --ablate/--no-scale/--no-mask/--no-layernorm, or --beams",
        ));
    }
    // With --chat the model reads the templated text and only the reply is
    // printed; it ends at the template's end-of-turn token (or end-of-text).
    let (prompt, shown, stops) = match (&a.chat, &a.prompt) {
        (Some(user), _) => {
            let c = gptlens::finetune::chat_prompt(&l.dir, &l.tokenizer, user)?;
            (c.text, String::new(), c.stop)
        }
        (None, Some(p)) => (
            p.clone(),
            p.clone(),
            l.tokenizer.end_of_text().into_iter().collect(),
        ),
        (None, None) => anyhow::bail!("give --prompt TEXT or --chat \"USER TEXT\""),
    };
    let chat = a.chat.is_some();
    let ids = super::encode_prompt(&l, &prompt)?;
    let stops: Vec<u32> = if a.ignore_eos { vec![] } else { stops };
    let eot = stops.first().copied();
    // The reply starts after the template's "A:"; its leading space is the template's.
    let reply = |s: &str| -> String {
        if chat {
            s.trim_start().to_string()
        } else {
            s.to_string()
        }
    };
    let mut out = super::out::stdout();
    if let Some(mut b) = beams {
        b.end_token = eot;
        let r = beam_search(&l.gpt, &ids, &b)?;
        let mut best = r
            .beams
            .first()
            .map(|b| b.tokens.clone())
            .unwrap_or_default();
        if let Some(end) = best.iter().position(|t| stops.contains(t)) {
            best.truncate(end);
        }
        writeln!(
            out,
            "{}{}",
            text.show(&shown),
            text.show(&reply(&l.tokenizer.decode(&best)))
        )?;
        out.flush()?;
        return Ok(());
    }
    write!(out, "{}", text.show(&shown))?;
    out.flush()?;
    // Decode the whole continuation each time so multi-byte characters split
    // across tokens print correctly; print only what is new.
    let mut generated: Vec<u32> = vec![];
    let mut printed = String::new();
    let mut io_err = None;
    let g = Generation {
        max_tokens: a.max_tokens,
        sampling: &sampling,
        seed: a.seed,
        stop_at: eot,
        iv: &iv,
    };
    let (_, non_finite) = generate_with(&l.gpt, &ids, &g, |t| {
        // The end of the text or of the turn: nothing more to print.
        if stops.contains(&t) {
            return ControlFlow::Break(());
        }
        generated.push(t);
        let decoded = reply(&l.tokenizer.decode(&generated));
        if !decoded.ends_with('\u{fffd}') && decoded.starts_with(printed.as_str()) {
            let new = &decoded[printed.len()..];
            if let Err(e) = write!(out, "{}", text.show(new)).and_then(|_| out.flush()) {
                // The reader went away or the disk is full: stop generating.
                io_err = Some(e);
                return ControlFlow::Break(());
            }
            printed = decoded;
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    let decoded = reply(&l.tokenizer.decode(&generated));
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
