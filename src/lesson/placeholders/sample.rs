//! Decoding from the selected position: greedy, sampled, top-k, top-p, beam.

use super::{Cx, Spec, int, ph, real, table, tokens_text};
use crate::fmt::num;
use crate::readout::generate;
use crate::readout::logits::{softmax_t, top_k_mass};
use crate::rng::Rng;
use crate::sample::{BeamSettings, Sampling, beam_search, pick};

/// The continuation of the prompt up to the selected position, as token texts.
fn continuation(c: &Cx, s: &Sampling, seed: u64) -> Result<String, String> {
    let prefix = &c.tr().tokens[..=c.sel.pos];
    let eot = c.env.tokenizer.end_of_text();
    let out = generate::continuation(c.env.gpt, prefix, c.n(), s, seed, eot)
        .map_err(|e| e.to_string())?;
    if out.is_empty() {
        return Ok("(no room left in the context)".into());
    }
    Ok(tokens_text(c, &out))
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "sample.greedy",
        &[int("n", 8.0, 1.0, 64.0)],
        "the greedy continuation of n tokens from the position",
        |c| continuation(c, &Sampling::greedy(), 0),
    ),
    ph(
        "sample.run",
        &[
            int("n", 8.0, 1.0, 64.0),
            real("t", 1.0, 0.0, 100.0),
            int("k", 0.0, 0.0, 1e6),
            real("p", 1.0, 0.01, 1.0),
            int("seed", 0.0, 0.0, 1e9),
        ],
        "a sampled continuation: n tokens at temperature t, top-k k (0 = off), top-p p, seed",
        |c| {
            let s = Sampling {
                temperature: c.arg(1) as f32,
                top_k: c.arg(2) as usize,
                top_p: c.arg(3) as f32,
                repetition_penalty: 1.0,
            };
            continuation(c, &s, c.arg(4) as u64)
        },
    ),
    ph(
        "sample.topk",
        &[int("k", 5.0, 1.0, 1e6), real("t", 1.0, 0.01, 100.0)],
        "the probability mass top-k keeps at temperature t",
        |c| {
            let probs = softmax_t(c.tr().logits.row(c.sel.pos), c.arg(1) as f32);
            let k = (c.arg(0) as usize).min(probs.len());
            Ok(format!(
                "the top {k} tokens hold {} of the probability",
                num(top_k_mass(&probs, k))
            ))
        },
    ),
    ph(
        "sample.topp",
        &[real("p", 0.9, 0.01, 1.0), real("t", 1.0, 0.01, 100.0)],
        "how many tokens top-p keeps at temperature t",
        |c| {
            let s = Sampling {
                temperature: c.arg(1) as f32,
                top_p: c.arg(0) as f32,
                ..Sampling::default()
            };
            let row = c.tr().logits.row(c.sel.pos);
            let pk = pick(row.as_slice().unwrap_or(&[]), &[], &s, &mut Rng::new(0), 1);
            Ok(format!(
                "{} token(s) holding {} of the probability",
                pk.kept,
                num(pk.kept_mass as f64)
            ))
        },
    ),
    ph(
        "beam",
        &[
            int("width", 3.0, 1.0, 16.0),
            int("n", 6.0, 1.0, 32.0),
            real("alpha", 1.0, -5.0, 5.0),
            real("rep", 1.0, 0.1, 10.0),
        ],
        "a table of beam search's final beams: width, n tokens, length penalty α, repetition penalty",
        |c| {
            let bs = BeamSettings {
                width: c.arg(0) as usize,
                max_tokens: c.arg(1) as usize,
                length_penalty: c.arg(2) as f32,
                repetition_penalty: c.arg(3) as f32,
                end_token: c.env.tokenizer.end_of_text(),
            };
            let prefix = &c.tr().tokens[..=c.sel.pos];
            let r = beam_search(c.env.gpt, prefix, &bs).map_err(|e| e.to_string())?;
            Ok(table(
                &["beam", "continuation", "log P", "score"],
                r.beams
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        vec![
                            (i + 1).to_string(),
                            tokens_text(c, &b.tokens),
                            num(b.logprob as f64),
                            num(b.score as f64),
                        ]
                    })
                    .collect(),
            ))
        },
    ),
];
