//! Picking the next token from the logits, and saying why.
//!
//! Order of operations (as in Hugging Face `generate`): repetition penalty on
//! the raw logits → divide by the temperature → softmax → keep the top-k →
//! keep the smallest set whose probability reaches top-p → renormalise → draw.
//! Temperature 0 means greedy: the most likely token, no randomness.

use serde::Serialize;

use crate::model::{Gpt, Interventions, KvCache, ModelError, softmax_in_place};
use crate::rng::Rng;

/// How to pick. The defaults are plain sampling at temperature 1.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sampling {
    /// 0 = greedy.
    pub temperature: f32,
    /// Keep only the k most likely tokens (0 = no limit).
    pub top_k: usize,
    /// Keep the smallest set of tokens whose probabilities sum to at least p (1 = no limit).
    pub top_p: f32,
    /// Divide positive logits of tokens already present by this (and multiply negative ones); 1 = off.
    pub repetition_penalty: f32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 1.0,
            top_k: 0,
            top_p: 1.0,
            repetition_penalty: 1.0,
        }
    }
}

impl Sampling {
    pub fn greedy() -> Self {
        Sampling {
            temperature: 0.0,
            ..Sampling::default()
        }
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Input(m));
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return bad(format!(
                "temperature {} must be ≥ 0 (0 = greedy; 1 samples from the model's own probabilities)",
                self.temperature
            ));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad(format!(
                "top-p {} must be > 0 and ≤ 1 (1 = off; 0.9 keeps the tokens that make up 90% of the probability)",
                self.top_p
            ));
        }
        if !(self.repetition_penalty > 0.0 && self.repetition_penalty.is_finite()) {
            return bad(format!(
                "repetition penalty {} must be positive (1 = off, 1.2 is typical)",
                self.repetition_penalty
            ));
        }
        Ok(())
    }
}

/// One candidate token.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    pub id: u32,
    /// The logit after the repetition penalty (before the temperature).
    pub logit: f32,
    /// Probability at the chosen temperature, before any filter.
    pub prob: f32,
    /// Probability after the filters and renormalisation (0 if cut).
    pub kept_prob: f32,
}

/// The pick and everything that led to it.
#[derive(Clone, Debug, Serialize)]
pub struct Pick {
    pub token: u32,
    pub greedy: bool,
    /// Candidates in order of probability (the first `shown` of them).
    pub ranked: Vec<Candidate>,
    /// How many tokens survived top-k and top-p.
    pub kept: usize,
    /// Probability mass (before renormalising) of the kept tokens.
    pub kept_mass: f32,
    /// Entropy of the distribution at the temperature, in nats.
    pub entropy: f32,
    /// The uniform number drawn (None when greedy).
    pub draw: Option<f32>,
    pub sampling: Sampling,
}

/// Applies the repetition penalty in place (CTRL, Keskar et al. 2019).
pub fn apply_repetition_penalty(logits: &mut [f32], history: &[u32], penalty: f32) {
    if penalty == 1.0 {
        return;
    }
    let mut seen = vec![false; logits.len()];
    for &t in history {
        if let Some(s) = seen.get_mut(t as usize) {
            *s = true;
        }
    }
    for (l, s) in logits.iter_mut().zip(seen) {
        if s {
            *l = if *l > 0.0 { *l / penalty } else { *l * penalty };
        }
    }
}

/// Picks the next token. `shown` caps how many ranked candidates are returned.
pub fn pick(logits: &[f32], history: &[u32], s: &Sampling, rng: &mut Rng, shown: usize) -> Pick {
    let mut l = logits.to_vec();
    apply_repetition_penalty(&mut l, history, s.repetition_penalty);
    let greedy = s.temperature == 0.0;
    let t = if greedy { 1.0 } else { s.temperature };
    let mut probs: Vec<f32> = l.iter().map(|x| x / t).collect();
    softmax_in_place(&mut probs);
    let entropy = -probs
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.ln())
        .sum::<f32>();
    let mut order: Vec<u32> = (0..l.len() as u32).collect();
    order.sort_by(|&a, &b| {
        probs[b as usize]
            .total_cmp(&probs[a as usize])
            .then(a.cmp(&b))
    });

    let mut kept = if s.top_k > 0 {
        s.top_k.min(order.len())
    } else {
        order.len()
    };
    if s.top_p < 1.0 {
        let mut cum = 0.0;
        for (i, &id) in order[..kept].iter().enumerate() {
            cum += probs[id as usize];
            if cum >= s.top_p {
                kept = i + 1;
                break;
            }
        }
    }
    if greedy {
        kept = 1;
    }
    let kept_mass: f32 = order[..kept].iter().map(|&i| probs[i as usize]).sum();
    let (token, draw) = if greedy {
        (order[0], None)
    } else {
        let u = rng.uniform();
        let mut cum = 0.0;
        let mut chosen = order[kept - 1];
        for &id in &order[..kept] {
            cum += probs[id as usize] / kept_mass;
            if u < cum {
                chosen = id;
                break;
            }
        }
        (chosen, Some(u))
    };
    let ranked = order
        .iter()
        .take(shown.max(kept.min(shown)))
        .enumerate()
        .map(|(i, &id)| Candidate {
            id,
            logit: l[id as usize],
            prob: probs[id as usize],
            kept_prob: if i < kept {
                probs[id as usize] / kept_mass
            } else {
                0.0
            },
        })
        .collect();
    Pick {
        token,
        greedy,
        ranked,
        kept,
        kept_mass,
        entropy,
        draw,
        sampling: s.clone(),
    }
}

// ---------------------------------------------------------------------------
// Beam search
// ---------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize)]
pub struct BeamSettings {
    pub width: usize,
    pub max_tokens: usize,
    /// Score = log P / length^α; α > 0 favours longer continuations.
    pub length_penalty: f32,
    pub repetition_penalty: f32,
    /// A beam that emits this token is finished.
    pub end_token: Option<u32>,
}

/// The most beams [`beam_search`] keeps. Memory, not time, sets it: every
/// beam holds its own KV cache (2·L·C floats per position, 75 MB for GPT-2
/// small at its full 1,024-token context, so 32 beams can need 2.4 GB) and
/// each step ranks width² candidates and keeps them all in the search tree.
pub const MAX_BEAMS: usize = 32;

impl BeamSettings {
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Input(m));
        if self.width == 0 || self.width > MAX_BEAMS {
            return bad(format!(
                "{} beams: the beam width must be 1 to {MAX_BEAMS} (each beam keeps its own KV cache; 4 to 8 is typical)",
                self.width
            ));
        }
        if !self.length_penalty.is_finite() {
            return bad(format!(
                "length penalty {} must be a finite number (score = log P / length^α; 1 is usual, 0 = none)",
                self.length_penalty
            ));
        }
        if !(self.repetition_penalty > 0.0 && self.repetition_penalty.is_finite()) {
            return bad(format!(
                "repetition penalty {} must be positive (1 = off, 1.2 is typical)",
                self.repetition_penalty
            ));
        }
        Ok(())
    }
}

/// One node of the search tree: a token some beam chose at some step.
#[derive(Clone, Debug, Serialize)]
pub struct BeamNode {
    pub parent: Option<usize>,
    pub token: u32,
    pub step: usize,
    /// Sum of log-probabilities from the first generated token to this one.
    pub logprob: f32,
    /// Still among the `width` best after this step.
    pub survived: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Beam {
    pub tokens: Vec<u32>,
    pub logprob: f32,
    pub score: f32,
    pub finished: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct BeamResult {
    /// Final beams, best score first.
    pub beams: Vec<Beam>,
    /// Every candidate considered, so the tree can be drawn.
    pub tree: Vec<BeamNode>,
}

fn log_softmax(l: &[f32]) -> Vec<f32> {
    let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = l.iter().map(|x| (x - max).exp()).sum::<f32>().ln() + max;
    l.iter().map(|x| x - lse).collect()
}

/// Beam search: keep the `width` most probable continuations, extending each by
/// its `width` best next tokens per step and keeping the best `width` overall.
pub fn beam_search(gpt: &Gpt, prompt: &[u32], s: &BeamSettings) -> Result<BeamResult, ModelError> {
    s.validate()?;
    let iv = Interventions::default();
    let mut cache = KvCache::new(&gpt.config);
    let logits = gpt.forward(prompt, &mut cache, &iv, None, false)?;
    struct Live {
        node: Option<usize>,
        tokens: Vec<u32>,
        logprob: f32,
        cache: KvCache,
        logits: Vec<f32>,
    }
    let mut live = vec![Live {
        node: None,
        tokens: vec![],
        logprob: 0.0,
        cache,
        logits: logits.row(0).to_vec(),
    }];
    let mut tree: Vec<BeamNode> = vec![];
    let mut finished: Vec<Beam> = vec![];
    let score = |lp: f32, len: usize| lp / (len.max(1) as f32).powf(s.length_penalty);
    let room = gpt.config.n_positions.saturating_sub(prompt.len());
    for step in 0..s.max_tokens.min(room) {
        // (beam index, token, cumulative logprob)
        let mut cands: Vec<(usize, u32, f32)> = vec![];
        for (bi, b) in live.iter().enumerate() {
            let mut l = b.logits.clone();
            let hist: Vec<u32> = prompt.iter().chain(&b.tokens).copied().collect();
            apply_repetition_penalty(&mut l, &hist, s.repetition_penalty);
            let lp = log_softmax(&l);
            let mut idx: Vec<u32> = (0..lp.len() as u32).collect();
            idx.sort_by(|&a, &c| lp[c as usize].total_cmp(&lp[a as usize]));
            for &t in idx.iter().take(s.width) {
                cands.push((bi, t, b.logprob + lp[t as usize]));
            }
        }
        cands.sort_by(|a, b| b.2.total_cmp(&a.2));
        let first_node = tree.len();
        for &(bi, t, lp) in &cands {
            tree.push(BeamNode {
                parent: live[bi].node,
                token: t,
                step,
                logprob: lp,
                survived: false,
            });
        }
        let mut next = vec![];
        for (ci, &(bi, t, lp)) in cands.iter().enumerate() {
            if next.len() + finished.len() >= s.width && !next.is_empty() || next.len() >= s.width {
                break;
            }
            tree[first_node + ci].survived = true;
            let mut tokens = live[bi].tokens.clone();
            tokens.push(t);
            if Some(t) == s.end_token {
                finished.push(Beam {
                    score: score(lp, tokens.len()),
                    tokens,
                    logprob: lp,
                    finished: true,
                });
                continue;
            }
            let mut cache = live[bi].cache.clone();
            let logits = gpt.forward(&[t], &mut cache, &iv, None, false)?;
            next.push(Live {
                node: Some(first_node + ci),
                tokens,
                logprob: lp,
                cache,
                logits: logits.row(0).to_vec(),
            });
        }
        live = next;
        if live.is_empty() {
            break;
        }
    }
    let mut beams: Vec<Beam> = finished;
    beams.extend(live.into_iter().map(|b| Beam {
        score: score(b.logprob, b.tokens.len()),
        tokens: b.tokens,
        logprob: b.logprob,
        finished: false,
    }));
    beams.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(BeamResult { beams, tree })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_the_argmax_and_filters_cut_the_tail() {
        let logits = [1.0, 3.0, 2.0, -1.0];
        let mut rng = Rng::new(0);
        let p = pick(&logits, &[], &Sampling::greedy(), &mut rng, 10);
        assert_eq!(p.token, 1);
        assert_eq!(p.kept, 1);
        let s = Sampling {
            top_k: 2,
            ..Sampling::default()
        };
        for seed in 0..50 {
            let p = pick(&logits, &[], &s, &mut Rng::new(seed), 10);
            assert!(p.token == 1 || p.token == 2);
            assert_eq!(p.kept, 2);
        }
        let s = Sampling {
            top_p: 0.5,
            ..Sampling::default()
        };
        let p = pick(&logits, &[], &s, &mut rng, 10);
        assert_eq!((p.kept, p.token), (1, 1), "token 1 alone has p > 0.5");
    }

    #[test]
    fn repetition_penalty_lowers_seen_tokens() {
        let mut l = vec![2.0, -2.0, 2.0];
        apply_repetition_penalty(&mut l, &[0, 1], 2.0);
        assert_eq!(l, vec![1.0, -4.0, 2.0]);
    }

    #[test]
    fn sampling_follows_the_distribution() {
        let logits = [0.0f32, (3.0f32).ln()]; // p = 0.25, 0.75
        let mut rng = Rng::new(42);
        let n = 4000;
        let ones = (0..n)
            .filter(|_| pick(&logits, &[], &Sampling::default(), &mut rng, 2).token == 1)
            .count();
        let f = ones as f32 / n as f32;
        assert!((f - 0.75).abs() < 0.03, "{f}");
    }
}
