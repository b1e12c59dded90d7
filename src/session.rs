//! Generation one token at a time with the full trace kept: what the explorer
//! and the lessons drive. Plain generation for scripts is [`generate`].

use std::ops::ControlFlow;
use std::sync::Arc;

use crate::model::{Gpt, Interventions, KvCache, ModelError, NonFinite, Trace};
use crate::rng::Rng;
use crate::sample::{Pick, Sampling, pick};

/// How many ranked candidates a pick keeps for display.
pub const SHOWN_CANDIDATES: usize = 50;

/// A prompt and its continuation, with the trace of every position.
pub struct Session {
    pub gpt: Arc<Gpt>,
    /// Prompt then generated tokens; the trace covers all of them.
    pub tokens: Vec<u32>,
    pub prompt_len: usize,
    pub trace: Trace,
    /// `picks[i]` chose `tokens[prompt_len + i]`.
    pub picks: Vec<Pick>,
    pub sampling: Sampling,
    /// Tokens dropped from the front to stay within the context.
    pub dropped: usize,
    cache: KvCache,
    rng: Rng,
    seed: u64,
}

/// Keeps the last `n_positions` tokens; returns them and how many were dropped.
pub fn fit_context(ids: &[u32], n_positions: usize) -> (Vec<u32>, usize) {
    let drop = ids.len().saturating_sub(n_positions);
    (ids[drop..].to_vec(), drop)
}

impl Session {
    pub fn new(
        gpt: Arc<Gpt>,
        prompt: &[u32],
        sampling: Sampling,
        seed: u64,
    ) -> Result<Self, ModelError> {
        if prompt.is_empty() {
            return Err(ModelError::Input(
                "the prompt is empty: give at least one token".into(),
            ));
        }
        sampling.validate()?;
        let (tokens, dropped) = fit_context(prompt, gpt.config.n_positions);
        let mut trace = Trace::new(&gpt.config);
        let mut cache = KvCache::new(&gpt.config);
        gpt.forward(
            &tokens,
            &mut cache,
            &Interventions::default(),
            Some(&mut trace),
            true,
        )?;
        Ok(Session {
            prompt_len: tokens.len(),
            tokens,
            trace,
            picks: vec![],
            sampling,
            dropped,
            cache,
            rng: Rng::new(seed),
            seed,
            gpt,
        })
    }

    /// What the current sampling settings would pick next (without appending).
    pub fn preview(&self) -> Pick {
        let mut rng = self.rng.clone();
        pick(
            self.trace.last_logits().as_slice().expect("row"),
            &self.tokens,
            &self.sampling,
            &mut rng,
            SHOWN_CANDIDATES,
        )
    }

    /// Picks the next token, appends it and traces it. When the context is full,
    /// the oldest token is dropped and the window re-traced.
    pub fn next_token(&mut self) -> Result<&Pick, ModelError> {
        let logits = self.trace.last_logits().to_vec();
        let p = pick(
            &logits,
            &self.tokens,
            &self.sampling,
            &mut self.rng,
            SHOWN_CANDIDATES,
        );
        let tok = p.token;
        self.picks.push(p);
        self.tokens.push(tok);
        if self.tokens.len() > self.gpt.config.n_positions {
            self.tokens.remove(0);
            self.prompt_len = self.prompt_len.saturating_sub(1);
            self.dropped += 1;
            self.retrace()?;
        } else {
            self.gpt.forward(
                &[tok],
                &mut self.cache,
                &Interventions::default(),
                Some(&mut self.trace),
                true,
            )?;
        }
        Ok(self.picks.last().expect("just pushed"))
    }

    /// Undoes the last generated token. Returns false at the prompt.
    pub fn back(&mut self) -> bool {
        if self.picks.is_empty() || self.tokens.len() <= self.prompt_len {
            return false;
        }
        self.picks.pop();
        self.tokens.pop();
        let n = self.tokens.len();
        self.trace = self.trace.prefix(n);
        self.cache.truncate(n);
        // Replay the random stream so the same step gives the same token again.
        self.rng = Rng::new(self.seed);
        for _ in 0..self.picks.iter().filter(|p| p.draw.is_some()).count() {
            self.rng.uniform();
        }
        true
    }

    fn retrace(&mut self) -> Result<(), ModelError> {
        self.trace = Trace::new(&self.gpt.config);
        self.cache = KvCache::new(&self.gpt.config);
        self.gpt.forward(
            &self.tokens,
            &mut self.cache,
            &Interventions::default(),
            Some(&mut self.trace),
            true,
        )?;
        Ok(())
    }

    /// Tokens generated so far (after the prompt).
    pub fn generated(&self) -> &[u32] {
        &self.tokens[self.prompt_len..]
    }
}

/// Plain generation on the fast path (no trace): calls `on_token` with each new
/// token as it is picked. Slides the window when the context fills up.
/// Returns the tokens and where the pass first produced NaN or ±inf, if it did.
pub fn generate(
    gpt: &Gpt,
    prompt: &[u32],
    max_tokens: usize,
    sampling: &Sampling,
    seed: u64,
    stop_at: Option<u32>,
    mut on_token: impl FnMut(u32),
) -> Result<(Vec<u32>, Option<NonFinite>), ModelError> {
    let go = |t| {
        on_token(t);
        ControlFlow::Continue(())
    };
    let g = Generation {
        max_tokens,
        sampling,
        seed,
        stop_at,
        iv: &Interventions::default(),
    };
    generate_with(gpt, prompt, &g, go)
}

/// What [`generate_with`] runs.
pub struct Generation<'a> {
    pub max_tokens: usize,
    pub sampling: &'a Sampling,
    pub seed: u64,
    pub stop_at: Option<u32>,
    /// Ablated heads, no √dₖ, no mask, no LayerNorm. Without the causal mask
    /// earlier positions see the new token, so every step reruns the window.
    pub iv: &'a Interventions,
}

/// [`generate`] with interventions, stopping early when `on_token` says
/// [`ControlFlow::Break`] (the reader went away).
pub fn generate_with(
    gpt: &Gpt,
    prompt: &[u32],
    g: &Generation,
    mut on_token: impl FnMut(u32) -> ControlFlow<()>,
) -> Result<(Vec<u32>, Option<NonFinite>), ModelError> {
    g.sampling.validate()?;
    if prompt.is_empty() {
        return Err(ModelError::Input(
            "the prompt is empty: give at least one token".into(),
        ));
    }
    let iv = g.iv;
    let ctx = gpt.config.n_positions;
    let (mut window, _) = fit_context(prompt, ctx);
    let mut history = prompt.to_vec();
    let mut cache = KvCache::new(&gpt.config);
    let mut logits = gpt
        .forward(&window, &mut cache, iv, None, false)?
        .row(0)
        .to_vec();
    let mut rng = Rng::new(g.seed);
    let mut out = vec![];
    let mut non_finite = cache.non_finite().cloned();
    for _ in 0..g.max_tokens {
        let p = pick(&logits, &history, g.sampling, &mut rng, 1);
        out.push(p.token);
        history.push(p.token);
        if on_token(p.token).is_break() || Some(p.token) == g.stop_at {
            break;
        }
        window.push(p.token);
        if window.len() > ctx || iv.no_causal_mask {
            if window.len() > ctx {
                // Keep the last three quarters of the context and recompute it.
                let keep = (ctx * 3 / 4).max(1);
                window.drain(..window.len() - keep);
            }
            cache = KvCache::new(&gpt.config);
            logits = gpt
                .forward(&window, &mut cache, iv, None, false)?
                .row(0)
                .to_vec();
        } else {
            logits = gpt
                .forward(&[p.token], &mut cache, iv, None, false)?
                .row(0)
                .to_vec();
        }
        if non_finite.is_none() {
            non_finite = cache.non_finite().cloned();
        }
    }
    Ok((out, non_finite))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Config, random_model};
    use crate::sample::{BeamSettings, beam_search};

    fn gpt() -> Arc<Gpt> {
        Arc::new(random_model(&Config::new(2, 3, 24, 50, 16), 3, true))
    }

    #[test]
    fn back_then_step_repeats_the_same_sample() {
        let s = Sampling::default();
        let mut sess = Session::new(gpt(), &[1, 2, 3], s, 9).unwrap();
        let a: Vec<u32> = (0..4).map(|_| sess.next_token().unwrap().token).collect();
        assert!(sess.back() && sess.back());
        assert_eq!(sess.tokens.len(), 5);
        assert_eq!(sess.trace.len(), 5);
        let b: Vec<u32> = (0..2).map(|_| sess.next_token().unwrap().token).collect();
        assert_eq!(&a[2..], &b[..]);
        // The incrementally grown trace equals a fresh trace of the same tokens.
        let fresh = sess
            .gpt
            .trace(&sess.tokens, &Interventions::default())
            .unwrap();
        let d = (&fresh.logits - &sess.trace.logits)
            .mapv(f32::abs)
            .fold(0.0f32, |m, &x| m.max(x));
        assert!(d < 1e-5, "{d}");
        assert_eq!(
            fresh.layers[1].probs[2].len(),
            sess.trace.layers[1].probs[2].len()
        );
    }

    #[test]
    fn a_full_context_slides_instead_of_failing() {
        let g = gpt();
        let mut sess = Session::new(g.clone(), &[5; 15], Sampling::greedy(), 0).unwrap();
        for _ in 0..5 {
            sess.next_token().unwrap();
        }
        assert_eq!(sess.tokens.len(), 16);
        assert_eq!(sess.dropped, 4);
        let (out, _) = generate(&g, &[5; 20], 30, &Sampling::greedy(), 0, None, |_| {}).unwrap();
        assert_eq!(out.len(), 30);
    }

    #[test]
    fn beam_of_width_one_is_greedy() {
        let g = gpt();
        let (greedy, _) = generate(&g, &[1, 2], 6, &Sampling::greedy(), 0, None, |_| {}).unwrap();
        let s = BeamSettings {
            width: 1,
            max_tokens: 6,
            length_penalty: 1.0,
            repetition_penalty: 1.0,
            end_token: None,
        };
        let r = beam_search(&g, &[1, 2], &s).unwrap();
        assert_eq!(r.beams[0].tokens, greedy);
        let wide = beam_search(&g, &[1, 2], &BeamSettings { width: 3, ..s }).unwrap();
        assert_eq!(wide.beams.len(), 3);
        // A wider beam finds a sequence at least as probable as greedy's.
        assert!(
            wide.beams
                .iter()
                .map(|b| b.logprob)
                .fold(f32::MIN, f32::max)
                >= r.beams[0].logprob - 1e-5
        );
    }

    #[test]
    fn interventions_change_what_they_should() {
        let g = gpt();
        let toks = [3, 1, 4, 1, 5];
        let base = g.trace(&toks, &Interventions::default()).unwrap();
        let abl = g
            .trace(
                &toks,
                &Interventions {
                    ablate: vec![(0, 1)],
                    ..Default::default()
                },
            )
            .unwrap();
        let d = 8; // 24 / 3
        assert!(abl.layers[0].heads.column(d + 1).iter().all(|&x| x == 0.0));
        assert_ne!(abl.logits, base.logits);
        let nomask = g
            .trace(
                &toks,
                &Interventions {
                    no_causal_mask: true,
                    ..Default::default()
                },
            )
            .unwrap();
        // Without the mask the first query sees all five keys and its output changes.
        assert_eq!(nomask.layers[0].probs[0][0].len(), 5);
        assert_ne!(nomask.logits.row(0), base.logits.row(0));
        let noscale = g
            .trace(
                &toks,
                &Interventions {
                    no_scale: true,
                    ..Default::default()
                },
            )
            .unwrap();
        let ratio = noscale.layers[0].scores[0][4][2] / base.layers[0].scores[0][4][2];
        assert!((ratio - (d as f32).sqrt()).abs() < 1e-3, "{ratio}");
    }
}
