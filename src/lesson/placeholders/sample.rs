//! Decoding from the selected position: greedy, sampled, top-k, top-p, beam.

use super::{Cx, Spec, int, ph, real, table, tokens_text};
use crate::fmt::num;
use crate::i18n::Lang;
use crate::readout::generate;
use crate::readout::logits::{softmax_t, top_k_mass};
use crate::rng::Rng;
use crate::sample::{BeamSettings, Sampling, beam_search, pick};

/// The continuation of the prompt up to the selected position, as token ids.
fn continue_ids(c: &Cx, s: &Sampling, seed: u64) -> Result<Vec<u32>, String> {
    let prefix = &c.tr().tokens[..=c.sel.pos];
    let eot = c.env.tokenizer.end_of_text();
    generate::continuation(c.env.gpt, prefix, c.n(), s, seed, eot).map_err(|e| e.to_string())
}

/// The continuation of the prompt up to the selected position, as token texts.
fn continuation(c: &Cx, s: &Sampling, seed: u64) -> Result<String, String> {
    let out = continue_ids(c, s, seed)?;
    if out.is_empty() {
        return Ok(c
            .say("(no room left in the context)", "（上下文已经没有空位了）")
            .into());
    }
    Ok(tokens_text(c, &out))
}

/// The shortest run of tokens that counts as repeating a phrase (two-token
/// repeats such as "·the·girl" are ordinary text, not a loop).
pub(crate) const REPEAT_MIN: usize = 3;

/// The longest run of at least [`REPEAT_MIN`] tokens that the continuation
/// (`seq[start..]`) writes a second time: its later copy lies in the
/// continuation and does not overlap the earlier one (which may be in the
/// prompt). Returns (offset of the later copy, length).
pub(crate) fn longest_repeat(seq: &[u32], start: usize) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize)> = None;
    for j in start..seq.len() {
        for i in 0..j {
            let mut len = 0;
            while j + len < seq.len() && i + len < j && seq[i + len] == seq[j + len] {
                len += 1;
            }
            if len >= REPEAT_MIN && best.is_none_or(|(_, l)| len > l) {
                best = Some((j, len));
            }
        }
    }
    best
}

/// "'a' 'b' 'c' again" or "no phrase of three or more tokens twice".
fn repeat_note(c: &Cx, prefix: &[u32], cont: &[u32]) -> String {
    let seq: Vec<u32> = prefix.iter().chain(cont).copied().collect();
    match (longest_repeat(&seq, prefix.len()), c.lang) {
        (Some((j, len)), Lang::En) => format!(
            "it writes {} a second time ({len} tokens)",
            tokens_text(c, &seq[j..j + len])
        ),
        (Some((j, len)), Lang::Zh) => format!(
            "它把 {} 又写了一遍（{len} 个词元）",
            tokens_text(c, &seq[j..j + len])
        ),
        (None, Lang::En) => format!("it writes no phrase of {REPEAT_MIN} or more tokens twice"),
        (None, Lang::Zh) => format!("它没有把哪段 {REPEAT_MIN} 个或更多词元的话写两遍"),
    }
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "sample.greedy",
        &[int("n", 8.0, 1.0, 64.0)],
        "the greedy continuation of n tokens from the position",
        |c| continuation(c, &Sampling::greedy(), 0),
    ),
    ph(
        "sample.repeat",
        &[int("n", 24.0, 1.0, 64.0)],
        "whether the greedy continuation of n tokens writes a phrase (3 or more tokens) a second time, and which",
        |c| {
            let cont = continue_ids(c, &Sampling::greedy(), 0)?;
            Ok(repeat_note(c, &c.tr().tokens[..=c.sel.pos], &cont))
        },
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
            let mass = num(top_k_mass(&probs, k));
            Ok(match c.lang {
                Lang::En => format!("the top {k} tokens hold {mass} of the probability"),
                Lang::Zh => format!("概率最高的 {k} 个词元共占 {mass} 的概率"),
            })
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
            let (kept, mass) = (pk.kept, num(pk.kept_mass as f64));
            Ok(match c.lang {
                Lang::En => format!("{kept} token(s) holding {mass} of the probability"),
                Lang::Zh => format!("{kept} 个词元，共占 {mass} 的概率"),
            })
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
            let bs = beam_settings(c);
            let prefix = &c.tr().tokens[..=c.sel.pos];
            let r = beam_search(c.env.gpt, prefix, &bs).map_err(|e| e.to_string())?;
            Ok(table(
                &[
                    c.say("beam", "束"),
                    c.say("continuation", "续写"),
                    "log P",
                    c.say("score", "得分"),
                ],
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
    ph(
        "beam.repeats",
        &[
            int("width", 3.0, 1.0, 16.0),
            int("n", 24.0, 1.0, 32.0),
            real("alpha", 1.0, -5.0, 5.0),
            real("rep", 1.0, 0.1, 10.0),
        ],
        "how many of beam search's final beams write a phrase (3 or more tokens) a second time, and the best beam's",
        |c| {
            let bs = beam_settings(c);
            let prefix = &c.tr().tokens[..=c.sel.pos];
            let r = beam_search(c.env.gpt, prefix, &bs).map_err(|e| e.to_string())?;
            let seq = |b: &[u32]| -> Vec<u32> { prefix.iter().chain(b).copied().collect() };
            let looping = r
                .beams
                .iter()
                .filter(|b| longest_repeat(&seq(&b.tokens), prefix.len()).is_some())
                .count();
            let best = r.beams.first().map_or(String::new(), |b| {
                let note = repeat_note(c, prefix, &b.tokens);
                match c.lang {
                    Lang::En => format!("; the best: {note}"),
                    Lang::Zh => format!("；最好的一条：{note}"),
                }
            });
            let n = r.beams.len();
            Ok(match c.lang {
                Lang::En => format!(
                    "{looping} of the {n} final beams write a phrase of {REPEAT_MIN} or more tokens twice{best}"
                ),
                Lang::Zh => format!(
                    "最后的 {n} 条束里，有 {looping} 条把一段 {REPEAT_MIN} 个或更多词元的话写了两遍{best}"
                ),
            })
        },
    ),
];

fn beam_settings(c: &Cx) -> BeamSettings {
    BeamSettings {
        width: c.arg(0) as usize,
        max_tokens: c.arg(1) as usize,
        length_penalty: c.arg(2) as f32,
        repetition_penalty: c.arg(3) as f32,
        end_token: c.env.tokenizer.end_of_text(),
    }
}

#[cfg(test)]
mod tests {
    use super::longest_repeat;

    #[test]
    fn a_repeat_is_the_longest_phrase_the_continuation_writes_again() {
        // prompt [1 2 3], continuation [4 1 2 3 4 5 4 5]: "1 2 3" comes back.
        let seq = [1, 2, 3, 4, 1, 2, 3, 4, 5, 4, 5];
        assert_eq!(longest_repeat(&seq, 3), Some((4, 4)));
        // Two tokens again is not a loop; overlapping copies do not count.
        assert_eq!(longest_repeat(&[7, 8, 9, 7, 8], 3), None);
        assert_eq!(longest_repeat(&[5, 5, 5, 5], 1), None);
        assert_eq!(longest_repeat(&[5, 5, 5, 5, 5, 5], 1), Some((3, 3)));
        // A repeat inside the prompt alone is not the continuation's.
        assert_eq!(longest_repeat(&[1, 2, 3, 1, 2, 3, 9], 6), None);
    }
}
