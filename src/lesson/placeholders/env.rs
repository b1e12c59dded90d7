//! What a lesson is read against (the model, its tokenizer, the trace of the
//! prompt) and a step's selection resolved against that trace.

use std::cell::OnceCell;
use std::path::Path;

use crate::cost::Measurement;
use crate::lesson::{KeyPos, Pos, Select};
use crate::model::{Config, Gpt, Trace};
use crate::text::visible_token;
use crate::tokenizer::Tokenizer;

/// What a lesson is read against: the model, its tokenizer and the trace of the prompt.
pub struct Env<'a> {
    pub gpt: &'a Gpt,
    pub tokenizer: &'a Tokenizer,
    pub trace: &'a Trace,
    pub prompt: &'a str,
    /// The model folder (for its name and training record).
    pub model_dir: Option<&'a Path>,
    /// The speed measurement, taken once when a `cost.measured*` placeholder asks.
    pub(super) measured: OnceCell<Measurement>,
}

impl<'a> Env<'a> {
    pub fn new(
        gpt: &'a Gpt,
        tokenizer: &'a Tokenizer,
        trace: &'a Trace,
        prompt: &'a str,
        model_dir: Option<&'a Path>,
    ) -> Self {
        Env {
            gpt,
            tokenizer,
            trace,
            prompt,
            model_dir,
            measured: OnceCell::new(),
        }
    }

    pub fn cfg(&self) -> &Config {
        &self.gpt.config
    }

    /// A token as text, quoted, with spaces and control characters made visible.
    pub fn tok(&self, id: u32) -> String {
        format!("'{}'", visible_token(&self.tokenizer.token_text(id)))
    }
}

/// A step's selection resolved against the trace.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sel {
    pub layer: usize,
    pub head: usize,
    /// The query position.
    pub pos: usize,
    pub key: usize,
}

impl Sel {
    /// Defaults: layer 0, head 0, the last position, the key the head weighs most.
    pub fn resolve(s: &Select, env: &Env) -> Result<Sel, String> {
        let cfg = env.cfg();
        let t = env.trace.len();
        if t == 0 {
            return Err("the prompt has no tokens".into());
        }
        let layer = match s.layer.unwrap_or(Pos::Index(0)) {
            Pos::Index(i) => Some(i),
            Pos::FromLast(b) => cfg.n_layer.checked_sub(b + 1),
        };
        let Some(layer) = layer.filter(|&l| l < cfg.n_layer) else {
            return Err(format!(
                "the step selects {} but the model has {} layers (0–{}, or last … last-{})",
                match s.layer {
                    Some(Pos::FromLast(b)) => format!("layer last-{b}"),
                    Some(Pos::Index(i)) => format!("layer {i}"),
                    None => "layer 0".into(),
                },
                cfg.n_layer,
                cfg.n_layer - 1,
                cfg.n_layer - 1
            ));
        };
        let head = s.head.unwrap_or(0);
        if head >= cfg.n_head {
            return Err(format!(
                "the step selects head {head} but the model has {} heads per layer (0–{})",
                cfg.n_head,
                cfg.n_head - 1
            ));
        }
        let at = |p: Pos, what: &str| -> Result<usize, String> {
            let r = match p {
                Pos::Index(i) => Some(i),
                Pos::FromLast(b) => (t - 1).checked_sub(b),
            };
            match r {
                Some(i) if i < t => Ok(i),
                _ => Err(format!(
                    "the step's {what} is outside the prompt, which is {t} tokens (positions 0–{}, or last … last-{})",
                    t - 1,
                    t - 1
                )),
            }
        };
        let pos = at(s.position.unwrap_or(Pos::FromLast(0)), "position")?;
        let row = &env.trace.layers[layer].probs[head][pos];
        let key = match s.key.unwrap_or(KeyPos::Top) {
            KeyPos::Top => crate::readout::argmax(row),
            KeyPos::Pos(p) => at(p, "key")?,
        };
        if key >= row.len() {
            return Err(format!(
                "the step's key ({key}) comes after its position ({pos}): the causal mask hides later keys, so pick a key ≤ the position"
            ));
        }
        Ok(Sel {
            layer,
            head,
            pos,
            key,
        })
    }
}
