//! The closed set of placeholders a lesson may use, and their values.
//!
//! Each placeholder is computed from the [`Trace`] of the lesson's prompt at
//! the step's selection (layer, head, position, key), plus the model's weights
//! and tokenizer for token text, nearest neighbours, the logit lens and
//! generation. Names are checked when a lesson is parsed ([`spec`]); values
//! are computed by [`eval`]. docs/lesson-format.md lists them all (a test
//! keeps that list complete).

use std::cell::OnceCell;
use std::path::Path;

use ndarray::{Array2, ArrayView1};

use super::{KeyPos, Placeholder, Pos, Select};
use crate::cost::{Assumptions, Estimate, F32_BYTES, Ledger, Measurement, Params};
use crate::fmt::{bytes, count, human_duration, list, num, sig};
use crate::model::{Config, Gpt, Interventions, KvCache, Trace, layer_norm, softmax_in_place};
use crate::rng::Rng;
use crate::sample::{BeamSettings, Sampling, beam_search, pick};
use crate::text::visible_token;
use crate::tokenizer::Tokenizer;
use crate::train::record::TrainRecord;

/// A numeric argument: `{{logits.top 5}}` has `n = 5`.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub default: f64,
    pub min: f64,
    pub max: f64,
    pub integer: bool,
}

/// One placeholder: its name, arguments and a one-line description for the docs.
#[derive(Debug)]
pub struct Spec {
    pub name: &'static str,
    pub args: &'static [Arg],
    pub doc: &'static str,
}

const fn int(name: &'static str, default: f64, min: f64, max: f64) -> Arg {
    Arg {
        name,
        default,
        min,
        max,
        integer: true,
    }
}
const fn real(name: &'static str, default: f64, min: f64, max: f64) -> Arg {
    Arg {
        name,
        default,
        min,
        max,
        integer: false,
    }
}

const N: &[Arg] = &[int("n", 6.0, 1.0, 64.0)];
const NONE: &[Arg] = &[];

macro_rules! ln_specs {
    ($p:literal, $what:literal) => {
        [
            Spec {
                name: concat!($p, ".mean"),
                args: NONE,
                doc: concat!("μ, the mean of ", $what, " at the position"),
            },
            Spec {
                name: concat!($p, ".var"),
                args: NONE,
                doc: concat!("σ², the (biased) variance of ", $what, " at the position"),
            },
            Spec {
                name: concat!($p, ".std"),
                args: NONE,
                doc: "√(σ² + ε), what x − μ is divided by",
            },
            Spec {
                name: concat!($p, ".x"),
                args: N,
                doc: concat!("the first n components of the input x (", $what, ")"),
            },
            Spec {
                name: concat!($p, ".xhat"),
                args: N,
                doc: "the first n components of x̂ = (x − μ)/√(σ² + ε)",
            },
            Spec {
                name: concat!($p, ".gamma"),
                args: N,
                doc: "the first n components of the learned scale γ",
            },
            Spec {
                name: concat!($p, ".beta"),
                args: N,
                doc: "the first n components of the learned shift β",
            },
            Spec {
                name: concat!($p, ".out"),
                args: N,
                doc: "the first n components of the output x̂·γ + β",
            },
        ]
    };
}

const LN1: [Spec; 8] = ln_specs!("ln_1", "the residual stream entering the layer");
const LN2: [Spec; 8] = ln_specs!("ln_2", "the residual stream after attention");
const LNF: [Spec; 8] = ln_specs!("ln_f", "the residual stream after the last layer");

/// The placeholders other than the LayerNorm ones (those are [`LN1`], [`LN2`], [`LNF`]).
const SPECS: &[Spec] = &[
    // The model and the prompt.
    Spec {
        name: "prompt",
        args: NONE,
        doc: "the lesson's prompt",
    },
    Spec {
        name: "model.name",
        args: NONE,
        doc: "the model folder's name",
    },
    Spec {
        name: "model.layers",
        args: NONE,
        doc: "number of transformer blocks L",
    },
    Spec {
        name: "model.heads",
        args: NONE,
        doc: "attention heads per block",
    },
    Spec {
        name: "model.width",
        args: NONE,
        doc: "width of the residual stream C (n_embd)",
    },
    Spec {
        name: "model.head_dim",
        args: NONE,
        doc: "dₖ = C / heads, the width of one head",
    },
    Spec {
        name: "model.mlp_width",
        args: NONE,
        doc: "hidden width of the MLP (4·C in GPT-2)",
    },
    Spec {
        name: "model.context",
        args: NONE,
        doc: "the longest context, n_positions",
    },
    Spec {
        name: "model.vocab",
        args: NONE,
        doc: "vocabulary size V",
    },
    Spec {
        name: "model.params",
        args: NONE,
        doc: "parameters (the tied unembedding counted once)",
    },
    Spec {
        name: "model.eps",
        args: NONE,
        doc: "LayerNorm's ε",
    },
    // Tokens.
    Spec {
        name: "tokens",
        args: NONE,
        doc: "the prompt's tokens with their ids",
    },
    Spec {
        name: "tokens.count",
        args: NONE,
        doc: "how many tokens the prompt is",
    },
    Spec {
        name: "tokens.chars",
        args: NONE,
        doc: "how many characters the prompt is",
    },
    Spec {
        name: "token",
        args: NONE,
        doc: "the token at the selected position",
    },
    Spec {
        name: "token.id",
        args: NONE,
        doc: "its id in the vocabulary",
    },
    Spec {
        name: "token.at",
        args: &[int("i", 0.0, 0.0, 1e6)],
        doc: "the token at position i (counting from 0)",
    },
    Spec {
        name: "token.back",
        args: &[int("i", 1.0, 0.0, 1e6)],
        doc: "the token i positions before the selected one",
    },
    Spec {
        name: "position",
        args: NONE,
        doc: "the selected position (counting from 0)",
    },
    Spec {
        name: "key.token",
        args: NONE,
        doc: "the token at the selected attention key",
    },
    Spec {
        name: "key.position",
        args: NONE,
        doc: "the selected key's position",
    },
    // Embeddings.
    Spec {
        name: "emb.tok",
        args: N,
        doc: "first n components of the token's row of wte",
    },
    Spec {
        name: "emb.pos",
        args: N,
        doc: "first n components of the position's row of wpe",
    },
    Spec {
        name: "emb.sum",
        args: N,
        doc: "first n components of their sum, the residual stream entering layer 0",
    },
    Spec {
        name: "emb.norm",
        args: NONE,
        doc: "length ‖wte[token] + wpe[position]‖",
    },
    Spec {
        name: "emb.nearest",
        args: N,
        doc: "the n tokens whose wte rows are most similar (cosine) to this token's",
    },
    // Attention, at the selected layer, head, query (position) and key.
    Spec {
        name: "attn.q",
        args: N,
        doc: "first n components of the head's query vector at the position",
    },
    Spec {
        name: "attn.k",
        args: N,
        doc: "first n components of the head's key vector at the key",
    },
    Spec {
        name: "attn.v",
        args: N,
        doc: "first n components of the head's value vector at the key",
    },
    Spec {
        name: "attn.dot",
        args: NONE,
        doc: "q·k for the selected query and key (all dₖ components)",
    },
    Spec {
        name: "attn.sqrt_dk",
        args: NONE,
        doc: "√dₖ, what q·k is divided by",
    },
    Spec {
        name: "attn.score",
        args: NONE,
        doc: "q·k/√dₖ for the selected query and key",
    },
    Spec {
        name: "attn.scores",
        args: NONE,
        doc: "the query's scores q·k/√dₖ for keys 0…position (the row the mask leaves)",
    },
    Spec {
        name: "attn.weights",
        args: NONE,
        doc: "softmax of that row: the attention weights",
    },
    Spec {
        name: "attn.weight",
        args: NONE,
        doc: "the weight of the selected key",
    },
    Spec {
        name: "attn.row",
        args: NONE,
        doc: "a table of the row: key token, score, weight",
    },
    Spec {
        name: "attn.masked",
        args: NONE,
        doc: "how many later keys the causal mask hides from the query",
    },
    Spec {
        name: "attn.top",
        args: NONE,
        doc: "the key the head weighs most, with its weight",
    },
    Spec {
        name: "attn.top.token",
        args: NONE,
        doc: "just that key's token text",
    },
    Spec {
        name: "attn.entropy",
        args: NONE,
        doc: "entropy of the weights in nats (0 = all on one key)",
    },
    Spec {
        name: "attn.out",
        args: N,
        doc: "first n components of the head's output Σ weight·v",
    },
    Spec {
        name: "attn.heads",
        args: NONE,
        doc: "a table: for every head of the layer, the key it weighs most",
    },
    Spec {
        name: "attn.concat",
        args: N,
        doc: "first n components of all heads' outputs concatenated (before W_O)",
    },
    Spec {
        name: "attn.proj",
        args: N,
        doc: "first n components after the output projection W_O",
    },
    // MLP.
    Spec {
        name: "mlp.pre",
        args: N,
        doc: "first n hidden units before GELU (x·W_up + b)",
    },
    Spec {
        name: "mlp.act",
        args: N,
        doc: "the same units after GELU",
    },
    Spec {
        name: "mlp.out",
        args: N,
        doc: "first n components of the MLP's output (after W_down)",
    },
    Spec {
        name: "mlp.top",
        args: N,
        doc: "a table of the n most active hidden units: before and after GELU",
    },
    Spec {
        name: "mlp.active",
        args: NONE,
        doc: "share of hidden units with a positive input (GELU passes them)",
    },
    // Residual stream.
    Spec {
        name: "resid.in",
        args: N,
        doc: "first n components of the stream entering the layer",
    },
    Spec {
        name: "resid.mid",
        args: N,
        doc: "… after attention was added",
    },
    Spec {
        name: "resid.post",
        args: N,
        doc: "… after the MLP was added (leaving the layer)",
    },
    Spec {
        name: "resid.norms",
        args: NONE,
        doc: "‖stream‖ at the position entering each layer and leaving the last",
    },
    Spec {
        name: "resid.attn_norm",
        args: NONE,
        doc: "‖what attention adds‖ at the layer and position",
    },
    Spec {
        name: "resid.mlp_norm",
        args: NONE,
        doc: "‖what the MLP adds‖ at the layer and position",
    },
    Spec {
        name: "lens",
        args: NONE,
        doc: "logit lens: the top next token read off the stream after each layer",
    },
    Spec {
        name: "lens.first",
        args: NONE,
        doc: "where the logit lens first shows the final top token and keeps it: \"the embeddings\" or \"layer k\"",
    },
    Spec {
        name: "lens.when",
        args: NONE,
        doc: "the same as one of three phrases, for a predict block's `match:`: \"from the embeddings\", \"somewhere in between\", \"only after the last layer\"",
    },
    // Logits.
    Spec {
        name: "logits.top",
        args: N,
        doc: "a table of the n most likely next tokens: logit and probability",
    },
    Spec {
        name: "logits.top.token",
        args: NONE,
        doc: "the most likely next token",
    },
    Spec {
        name: "logits.rank",
        args: &[int("r", 1.0, 1.0, 1e6)],
        doc: "the token ranked r-th (1 = most likely)",
    },
    Spec {
        name: "logits.values",
        args: N,
        doc: "the n largest logits",
    },
    Spec {
        name: "logits.probs",
        args: N,
        doc: "their probabilities softmax(logits)",
    },
    Spec {
        name: "logits.lse",
        args: NONE,
        doc: "log Σ exp(logit) over the vocabulary: p = exp(logit − lse)",
    },
    Spec {
        name: "logits.check",
        args: NONE,
        doc: "the top logit recomputed as ln_f(x)·wte[token] (the tied unembedding)",
    },
    Spec {
        name: "logits.temp",
        args: &[real("t", 1.0, 0.01, 100.0), int("n", 5.0, 1.0, 64.0)],
        doc: "the n top probabilities at temperature t",
    },
    Spec {
        name: "logits.entropy",
        args: &[real("t", 1.0, 0.01, 100.0)],
        doc: "entropy of the next-token distribution at temperature t, in nats",
    },
    // Sampling.
    Spec {
        name: "sample.greedy",
        args: &[int("n", 8.0, 1.0, 64.0)],
        doc: "the greedy continuation of n tokens from the position",
    },
    Spec {
        name: "sample.run",
        args: &[
            int("n", 8.0, 1.0, 64.0),
            real("t", 1.0, 0.0, 100.0),
            int("k", 0.0, 0.0, 1e6),
            real("p", 1.0, 0.01, 1.0),
            int("seed", 0.0, 0.0, 1e9),
        ],
        doc: "a sampled continuation: n tokens at temperature t, top-k k (0 = off), top-p p, seed",
    },
    Spec {
        name: "sample.topk",
        args: &[int("k", 5.0, 1.0, 1e6), real("t", 1.0, 0.01, 100.0)],
        doc: "the probability mass top-k keeps at temperature t",
    },
    Spec {
        name: "sample.topp",
        args: &[real("p", 0.9, 0.01, 1.0), real("t", 1.0, 0.01, 100.0)],
        doc: "how many tokens top-p keeps at temperature t",
    },
    Spec {
        name: "beam",
        args: &[
            int("width", 3.0, 1.0, 16.0),
            int("n", 6.0, 1.0, 32.0),
            real("alpha", 1.0, -5.0, 5.0),
            real("rep", 1.0, 0.1, 10.0),
        ],
        doc: "a table of beam search's final beams: width, n tokens, length penalty α, repetition penalty",
    },
    // Loss on the prompt itself.
    Spec {
        name: "loss.table",
        args: NONE,
        doc: "a table: each position, the next token, its probability and −ln P",
    },
    Spec {
        name: "loss.values",
        args: NONE,
        doc: "the per-token losses −ln P(next token)",
    },
    Spec {
        name: "loss.probs",
        args: NONE,
        doc: "the per-token probabilities P(next token)",
    },
    Spec {
        name: "loss.at",
        args: NONE,
        doc: "−ln P of the token after the selected position",
    },
    Spec {
        name: "loss.sum",
        args: NONE,
        doc: "Σ ln P(next token): the objective L(θ) on this text (≤ 0)",
    },
    Spec {
        name: "loss.mean",
        args: NONE,
        doc: "mean cross-entropy −(1/n)·Σ ln P, in nats per token",
    },
    Spec {
        name: "loss.ppl",
        args: NONE,
        doc: "perplexity exp(mean cross-entropy)",
    },
    Spec {
        name: "loss.count",
        args: NONE,
        doc: "how many next-token predictions the prompt gives (tokens − 1)",
    },
    Spec {
        name: "loss.uniform",
        args: NONE,
        doc: "ln V: the loss of a model that guesses uniformly",
    },
    // Training: the record `gptlens train` leaves in the model folder, if it ships one.
    Spec {
        name: "train.summary",
        args: NONE,
        doc: "a paragraph on the recorded run: steps, tokens, time, first and last loss, validation loss and the curve; or one sentence saying the folder has no record",
    },
    Spec {
        name: "train.baselines",
        args: NONE,
        doc: "a sentence comparing the validation loss with the unigram and bigram baselines the run measured (or saying there are none)",
    },
    Spec {
        name: "train.steps",
        args: NONE,
        doc: "optimizer steps in the recorded run",
    },
    Spec {
        name: "train.first",
        args: NONE,
        doc: "the recorded training loss at the first logged step",
    },
    Spec {
        name: "train.last",
        args: NONE,
        doc: "the recorded training loss at the last logged step",
    },
    Spec {
        name: "train.val",
        args: NONE,
        doc: "the last recorded validation loss",
    },
    Spec {
        name: "train.curve",
        args: NONE,
        doc: "the recorded training loss as a one-line sparkline",
    },
    // Cost (counted by crate::cost, as `gptlens cost` does).
    Spec {
        name: "cost.params",
        args: NONE,
        doc: "parameters, all of them (the tied unembedding counted once)",
    },
    Spec {
        name: "cost.params_nonembed",
        args: NONE,
        doc: "N: parameters outside the embedding tables (Kaplan et al.'s N)",
    },
    Spec {
        name: "cost.flops_token",
        args: NONE,
        doc: "2·N: the closed-form FLOPs to run one token",
    },
    Spec {
        name: "cost.ledger_flops_token",
        args: NONE,
        doc: "the engine's exact count for the next token after the prompt (unembedding, attention and elementwise work included)",
    },
    Spec {
        name: "cost.attn_flops_token",
        args: NONE,
        doc: "of that, attention's scores and weighted sum, which grow with the context",
    },
    Spec {
        name: "cost.unembed_flops_token",
        args: NONE,
        doc: "of that, the unembedding (2·V·C)",
    },
    Spec {
        name: "cost.train_flops_token",
        args: NONE,
        doc: "6·N: FLOPs to train on one token (forward, and twice that for backward)",
    },
    Spec {
        name: "cost.weight_bytes",
        args: NONE,
        doc: "bytes of weights at 4 bytes (f32) per parameter",
    },
    Spec {
        name: "cost.kv_token",
        args: NONE,
        doc: "bytes of KV cache per token: 2 (K and V) · L · C · 4",
    },
    Spec {
        name: "cost.kv_context",
        args: NONE,
        doc: "bytes of KV cache for a full context",
    },
    Spec {
        name: "cost.measured",
        args: NONE,
        doc: "tokens per second measured now on this machine (KV-cached greedy decoding, batch 1)",
    },
    Spec {
        name: "cost.measured_flops",
        args: NONE,
        doc: "the FLOP/s of that run (the ledger's counts over the time)",
    },
    Spec {
        name: "cost.measured_bytes",
        args: NONE,
        doc: "the bytes/s of weights and KV cache it read",
    },
    Spec {
        name: "cost.assumptions",
        args: NONE,
        doc: "the accelerator, peak, utilisation and price `gptlens cost` assumes by default",
    },
    Spec {
        name: "cost.gpt3_ratio",
        args: NONE,
        doc: "how many times more parameters GPT-3 (175 billion) has than this model",
    },
    Spec {
        name: "cost.gpt3_train_flops",
        args: NONE,
        doc: "6·N·D for GPT-3, D = 300 billion tokens",
    },
    Spec {
        name: "cost.gpt3_gpu_hours",
        args: NONE,
        doc: "accelerator-hours for that under the default assumptions",
    },
    Spec {
        name: "cost.gpt3_dollars",
        args: NONE,
        doc: "their price under the default assumptions",
    },
    Spec {
        name: "cost.gpt3_here",
        args: NONE,
        doc: "how long GPT-3's training would take at the FLOP/s measured here",
    },
    Spec {
        name: "cost.gpt3_kv_token",
        args: NONE,
        doc: "GPT-3's KV cache per token (2 bytes per number)",
    },
    Spec {
        name: "cost.gpt3_weight_bytes",
        args: NONE,
        doc: "GPT-3's weights at 2 bytes per parameter",
    },
];

/// The spec of a placeholder name, or None if it is not in the set.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS
        .iter()
        .chain(LN1.iter())
        .chain(LN2.iter())
        .chain(LNF.iter())
        .find(|s| s.name == name)
}

/// Every placeholder, in documentation order.
pub fn all() -> impl Iterator<Item = &'static Spec> {
    SPECS
        .iter()
        .chain(LN1.iter())
        .chain(LN2.iter())
        .chain(LNF.iter())
}

pub fn names() -> impl Iterator<Item = &'static str> {
    all().map(|s| s.name)
}

/// What a lesson is read against: the model, its tokenizer and the trace of the prompt.
pub struct Env<'a> {
    pub gpt: &'a Gpt,
    pub tokenizer: &'a Tokenizer,
    pub trace: &'a Trace,
    pub prompt: &'a str,
    /// The model folder (for its name and train_log.json).
    pub model_dir: Option<&'a Path>,
    measured: OnceCell<Measurement>,
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

    fn cfg(&self) -> &Config {
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
        let layer = s.layer.unwrap_or(0);
        if layer >= cfg.n_layer {
            return Err(format!(
                "the step selects layer {layer} but the model has {} layers (0–{})",
                cfg.n_layer,
                cfg.n_layer - 1
            ));
        }
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
            KeyPos::Top => argmax(row),
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

fn argmax(xs: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in xs.iter().enumerate() {
        if *x > xs[best] {
            best = i;
        }
    }
    best
}

fn dot(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f32 {
    a.iter().zip(b.iter()).map(|(x, y)| x * y).sum()
}

fn norm(a: ArrayView1<f32>) -> f32 {
    dot(a, a).sqrt()
}

fn head_row(m: &Array2<f32>, row: usize, head: usize, dk: usize) -> Vec<f32> {
    m.row(row)
        .iter()
        .skip(head * dk)
        .take(dk)
        .copied()
        .collect()
}

fn softmax_t(logits: ArrayView1<f32>, t: f32) -> Vec<f32> {
    let mut p: Vec<f32> = logits.iter().map(|x| x / t).collect();
    softmax_in_place(&mut p);
    p
}

fn entropy(p: &[f32]) -> f64 {
    -p.iter()
        .filter(|&&x| x > 0.0)
        .map(|&x| x as f64 * (x as f64).ln())
        .sum::<f64>()
}

/// Token ids sorted by descending value (ties by id).
fn ranked(xs: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[b].total_cmp(&xs[a]).then(a.cmp(&b)));
    idx
}

fn log_softmax_at(row: ArrayView1<f32>, id: usize) -> f64 {
    row[id] as f64 - crate::model::logsumexp(row.iter().copied())
}

/// ln P(token t+1 | tokens 0..=t) for every t.
fn next_token_logprobs(env: &Env) -> Vec<f64> {
    let tr = env.trace;
    (0..tr.len().saturating_sub(1))
        .map(|t| log_softmax_at(tr.logits.row(t), tr.tokens[t + 1] as usize))
        .collect()
}

/// Logit lens: ln_f then the unembedding, applied to an intermediate stream row.
fn lens_probs(env: &Env, x: ArrayView1<f32>) -> Vec<f32> {
    let w = &env.gpt.weights;
    let x2 = x.to_owned().insert_axis(ndarray::Axis(0));
    let ln = layer_norm(
        x2.view(),
        w.ln_f_g.data(),
        w.ln_f_b.data(),
        env.cfg().layer_norm_epsilon as f32,
        false,
    );
    let logits = w.unembedding().view2().dot(&ln.out.row(0));
    softmax_t(logits.view(), 1.0)
}

fn continuation(
    env: &Env,
    pos: usize,
    n: usize,
    s: &Sampling,
    seed: u64,
) -> Result<String, String> {
    let mut tokens = env.trace.tokens[..=pos].to_vec();
    let room = env.cfg().n_positions.saturating_sub(tokens.len());
    let n = n.min(room);
    if n == 0 {
        return Ok("(no room left in the context)".into());
    }
    let mut cache = KvCache::new(env.cfg());
    let iv = Interventions::default();
    let mut rng = Rng::new(seed);
    let mut logits = env
        .gpt
        .forward(&tokens, &mut cache, &iv, None, false)
        .map_err(|e| e.to_string())?;
    let mut out = vec![];
    for i in 0..n {
        let p = pick(
            logits.row(0).as_slice().unwrap_or(&[]),
            &tokens,
            s,
            &mut rng,
            1,
        );
        tokens.push(p.token);
        out.push(p.token);
        if Some(p.token) == env.tokenizer.end_of_text() || i + 1 == n {
            break;
        }
        logits = env
            .gpt
            .forward(&[p.token], &mut cache, &iv, None, false)
            .map_err(|e| e.to_string())?;
    }
    Ok(out
        .iter()
        .map(|&t| env.tok(t))
        .collect::<Vec<_>>()
        .join(" "))
}

/// KV-cached greedy decoding at batch 1, timed once per Env by the cost module.
fn measured<'e>(env: &'e Env) -> Result<&'e Measurement, String> {
    if env.measured.get().is_none() {
        let cfg = env.cfg();
        let prompt = env
            .trace
            .len()
            .min(cfg.n_positions.saturating_sub(1))
            .max(1);
        let speed = crate::cost::measure(env.gpt, prompt, 32, 3).map_err(|e| e.to_string())?;
        let _ = env.measured.set(speed.decode);
    }
    env.measured
        .get()
        .ok_or_else(|| "the speed measurement failed".to_string())
}

/// The model folder's training record when it has a logged training loss, or
/// Err(the text to show instead) when the record cannot be read: a broken log
/// is said in the lesson rather than stopping it.
fn train_record(env: &Env) -> Result<Option<TrainRecord>, String> {
    let Some(dir) = env.model_dir else {
        return Ok(None);
    };
    match TrainRecord::read(dir) {
        Ok(r) => Ok(r.filter(|r| !r.losses().is_empty())),
        Err(e) => Err(format!("(the training record cannot be read: {e})")),
    }
}

const NO_LOG: &str = "(not recorded: this model folder has no train-log.tsv)";

fn sparkline(xs: &[f64]) -> String {
    let bars = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = 48;
    let pts: Vec<f64> = if xs.len() <= width {
        xs.to_vec()
    } else {
        (0..width)
            .map(|i| xs[i * (xs.len() - 1) / (width - 1)])
            .collect()
    };
    let lo = pts.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(1e-12);
    pts.iter()
        .map(|x| bars[(((x - lo) / span) * 7.0).round().clamp(0.0, 7.0) as usize])
        .collect()
}

fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut s = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s.trim_end().to_string()
}

/// The value of a placeholder at a selection, as the text the lesson shows.
pub fn eval(ph: &Placeholder, env: &Env, sel: &Sel) -> Result<String, String> {
    let cfg = env.cfg();
    let tr = env.trace;
    let arg = |i: usize| ph.args.get(i).copied().unwrap_or(0.0);
    let n = arg(0) as usize;
    let dk = cfg.head_dim();
    let (l, h, p, k) = (sel.layer, sel.head, sel.pos, sel.key);
    let lt = &tr.layers[l];
    let name = ph.name.as_str();

    if let Some((which, field)) = name.split_once('.')
        && matches!(which, "ln_1" | "ln_2" | "ln_f")
    {
        let w = &env.gpt.weights;
        let (ln, x, g, b) = match which {
            "ln_1" => (
                &lt.ln_1,
                tr.resid_in(l),
                &w.layers[l].ln_1_g,
                &w.layers[l].ln_1_b,
            ),
            "ln_2" => (
                &lt.ln_2,
                &lt.resid_mid,
                &w.layers[l].ln_2_g,
                &w.layers[l].ln_2_b,
            ),
            _ => (&tr.ln_f, tr.resid_in(cfg.n_layer), &w.ln_f_g, &w.ln_f_b),
        };
        return Ok(match field {
            "mean" => num(ln.mean[p] as f64),
            "var" => num(ln.var[p] as f64),
            "std" => num((ln.var[p] as f64 + cfg.layer_norm_epsilon).sqrt()),
            "x" => list(x.row(p).iter().copied(), n),
            "xhat" => list(ln.xhat.row(p).iter().copied(), n),
            "gamma" => list(g.data().iter().copied(), n),
            "beta" => list(b.data().iter().copied(), n),
            "out" => list(ln.out.row(p).iter().copied(), n),
            _ => return Err(format!("unknown placeholder {name}")),
        });
    }

    let v = match name {
        "prompt" => env.prompt.to_string(),
        "model.name" => env
            .model_dir
            .and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "(unnamed model)".into()),
        "model.layers" => cfg.n_layer.to_string(),
        "model.heads" => cfg.n_head.to_string(),
        "model.width" => cfg.n_embd.to_string(),
        "model.head_dim" => dk.to_string(),
        "model.mlp_width" => cfg.mlp_dim().to_string(),
        "model.context" => cfg.n_positions.to_string(),
        "model.vocab" => count(cfg.vocab_size as f64),
        "model.params" | "cost.params" => count(Params::of(cfg).total),
        "model.eps" => format!("{:e}", cfg.layer_norm_epsilon),

        "tokens" => tr
            .tokens
            .iter()
            .map(|&t| format!("{}#{t}", env.tok(t)))
            .collect::<Vec<_>>()
            .join(" "),
        "tokens.count" => tr.len().to_string(),
        "tokens.chars" => env.prompt.chars().count().to_string(),
        "token" => env.tok(tr.tokens[p]),
        "token.id" => tr.tokens[p].to_string(),
        "token.at" => match tr.tokens.get(n) {
            Some(&t) => env.tok(t),
            None => {
                return Err(format!(
                    "position {n} is past the prompt's {} tokens",
                    tr.len()
                ));
            }
        },
        "token.back" => match p.checked_sub(n) {
            Some(i) => env.tok(tr.tokens[i]),
            None => {
                return Err(format!(
                    "{n} positions before position {p} is before the start"
                ));
            }
        },
        "position" => p.to_string(),
        "key.token" => env.tok(tr.tokens[k]),
        "key.position" => k.to_string(),

        "emb.tok" => list(tr.tok_emb.row(p).iter().copied(), n),
        "emb.pos" => list(tr.pos_emb.row(p).iter().copied(), n),
        "emb.sum" => list(tr.embed.row(p).iter().copied(), n),
        "emb.norm" => num(norm(tr.embed.row(p)) as f64),
        "emb.nearest" => {
            let wte = env.gpt.weights.wte.view2();
            let me = wte.row(tr.tokens[p] as usize);
            let mn = norm(me).max(1e-12);
            let sims: Vec<f32> = wte
                .rows()
                .into_iter()
                .map(|r| dot(me, r) / (mn * norm(r).max(1e-12)))
                .collect();
            ranked(&sims)
                .into_iter()
                .filter(|&i| i != tr.tokens[p] as usize)
                .take(n)
                .map(|i| format!("{} ({})", env.tok(i as u32), num(sims[i] as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        }

        "attn.q" => list(head_row(&lt.q, p, h, dk), n),
        "attn.k" => list(head_row(&lt.k, k, h, dk), n),
        "attn.v" => list(head_row(&lt.v, k, h, dk), n),
        "attn.dot" => {
            let q = head_row(&lt.q, p, h, dk);
            let kk = head_row(&lt.k, k, h, dk);
            num(q.iter().zip(&kk).map(|(a, b)| (a * b) as f64).sum())
        }
        "attn.sqrt_dk" => num((dk as f64).sqrt()),
        "attn.score" => num(lt.scores[h][p][k] as f64),
        "attn.scores" => list(lt.scores[h][p].iter().copied(), usize::MAX),
        "attn.weights" => list(lt.probs[h][p].iter().copied(), usize::MAX),
        "attn.weight" => num(lt.probs[h][p][k] as f64),
        "attn.row" => table(
            &["key", "token", "score q·k/√dₖ", "weight"],
            (0..lt.probs[h][p].len())
                .map(|j| {
                    vec![
                        j.to_string(),
                        env.tok(tr.tokens[j]),
                        num(lt.scores[h][p][j] as f64),
                        num(lt.probs[h][p][j] as f64),
                    ]
                })
                .collect(),
        ),
        "attn.masked" => (tr.len() - 1 - p).to_string(),
        "attn.top" => {
            let j = argmax(&lt.probs[h][p]);
            format!(
                "{} (position {j}, weight {})",
                env.tok(tr.tokens[j]),
                num(lt.probs[h][p][j] as f64)
            )
        }
        "attn.top.token" => env.tok(tr.tokens[argmax(&lt.probs[h][p])]),
        "attn.entropy" => num(entropy(&lt.probs[h][p])),
        "attn.out" => list(head_row(&lt.heads, p, h, dk), n),
        "attn.heads" => table(
            &["head", "weighs most", "weight", "entropy"],
            (0..cfg.n_head)
                .map(|hh| {
                    let row = &lt.probs[hh][p];
                    let j = argmax(row);
                    vec![
                        hh.to_string(),
                        format!("{} (position {j})", env.tok(tr.tokens[j])),
                        num(row[j] as f64),
                        num(entropy(row)),
                    ]
                })
                .collect(),
        ),
        "attn.concat" => list(lt.heads.row(p).iter().copied(), n),
        "attn.proj" => list(lt.attn_out.row(p).iter().copied(), n),

        "mlp.pre" => list(lt.mlp_pre.row(p).iter().copied(), n),
        "mlp.act" => list(lt.mlp_act.row(p).iter().copied(), n),
        "mlp.out" => list(lt.mlp_out.row(p).iter().copied(), n),
        "mlp.top" => {
            let act: Vec<f32> = lt.mlp_act.row(p).to_vec();
            table(
                &["unit", "before GELU", "after GELU"],
                ranked(&act)
                    .into_iter()
                    .take(n)
                    .map(|i| {
                        vec![
                            i.to_string(),
                            num(lt.mlp_pre[[p, i]] as f64),
                            num(act[i] as f64),
                        ]
                    })
                    .collect(),
            )
        }
        "mlp.active" => {
            let row = lt.mlp_pre.row(p);
            let on = row.iter().filter(|&&x| x > 0.0).count();
            format!(
                "{on} of {} ({:.1}%)",
                row.len(),
                100.0 * on as f64 / row.len() as f64
            )
        }

        "resid.in" => list(tr.resid_in(l).row(p).iter().copied(), n),
        "resid.mid" => list(lt.resid_mid.row(p).iter().copied(), n),
        "resid.post" => list(lt.resid_post.row(p).iter().copied(), n),
        "resid.norms" => (0..=cfg.n_layer)
            .map(|i| {
                let label = if i == 0 {
                    "embeddings".to_string()
                } else {
                    format!("after layer {}", i - 1)
                };
                format!("{label} {}", num(norm(tr.resid_in(i).row(p)) as f64))
            })
            .collect::<Vec<_>>()
            .join(" → "),
        "resid.attn_norm" => num(norm(lt.attn_out.row(p)) as f64),
        "resid.mlp_norm" => num(norm(lt.mlp_out.row(p)) as f64),
        "lens" => table(
            &["read after", "top next token", "probability"],
            (0..=cfg.n_layer)
                .map(|i| {
                    let probs = lens_probs(env, tr.resid_in(i).row(p));
                    let j = argmax(&probs);
                    let label = if i == 0 {
                        "embeddings".to_string()
                    } else {
                        format!("layer {}", i - 1)
                    };
                    vec![label, env.tok(j as u32), num(probs[j] as f64)]
                })
                .collect(),
        ),

        "lens.first" | "lens.when" => {
            // The earliest read-out from which the lens's top token stays the final one.
            let tops: Vec<usize> = (0..=cfg.n_layer)
                .map(|i| argmax(&lens_probs(env, tr.resid_in(i).row(p))))
                .collect();
            let fin = tops[cfg.n_layer];
            let mut first = cfg.n_layer;
            while first > 0 && tops[first - 1] == fin {
                first -= 1;
            }
            match (name, first) {
                ("lens.first", 0) => "the embeddings".into(),
                ("lens.first", f) => format!("layer {}", f - 1),
                (_, 0) => "from the embeddings".into(),
                (_, f) if f == cfg.n_layer => "only after the last layer".into(),
                _ => "somewhere in between".into(),
            }
        }
        "logits.top" => {
            let row = tr.logits.row(p);
            let probs = softmax_t(row, 1.0);
            table(
                &["rank", "token", "logit", "probability"],
                ranked(&probs)
                    .into_iter()
                    .take(n)
                    .enumerate()
                    .map(|(r, i)| {
                        vec![
                            (r + 1).to_string(),
                            env.tok(i as u32),
                            num(row[i] as f64),
                            num(probs[i] as f64),
                        ]
                    })
                    .collect(),
            )
        }
        "logits.top.token" => env.tok(argmax(&tr.logits.row(p).to_vec()) as u32),
        "logits.rank" => {
            let row = tr.logits.row(p).to_vec();
            let r = ranked(&row);
            match r.get(n.saturating_sub(1)) {
                Some(&i) => env.tok(i as u32),
                None => return Err(format!("rank {n} is past the vocabulary's {}", row.len())),
            }
        }
        "logits.values" => {
            let row = tr.logits.row(p).to_vec();
            list(ranked(&row).into_iter().map(|i| row[i]), n)
        }
        "logits.probs" => {
            let probs = softmax_t(tr.logits.row(p), 1.0);
            list(ranked(&probs).into_iter().map(|i| probs[i]), n)
        }
        "logits.lse" => {
            let row = tr.logits.row(p);
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            num(row
                .iter()
                .map(|&x| (x as f64 - max).exp())
                .sum::<f64>()
                .ln()
                + max)
        }
        "logits.check" => {
            let row = tr.logits.row(p);
            let j = argmax(&row.to_vec());
            let re = dot(tr.ln_f.out.row(p), env.gpt.weights.unembedding().view2().row(j));
            format!(
                "ln_f(x)·wte[{}] = {} (the logit the engine computed: {})",
                env.tok(j as u32),
                num(re as f64),
                num(row[j] as f64)
            )
        }
        "logits.temp" => {
            let probs = softmax_t(tr.logits.row(p), arg(0) as f32);
            let n = arg(1) as usize;
            ranked(&probs)
                .into_iter()
                .take(n)
                .map(|i| format!("{} {}", env.tok(i as u32), num(probs[i] as f64)))
                .collect::<Vec<_>>()
                .join(", ")
        }
        "logits.entropy" => num(entropy(&softmax_t(tr.logits.row(p), arg(0) as f32))),

        "sample.greedy" => continuation(env, p, n, &Sampling::greedy(), 0)?,
        "sample.run" => {
            let s = Sampling {
                temperature: arg(1) as f32,
                top_k: arg(2) as usize,
                top_p: arg(3) as f32,
                repetition_penalty: 1.0,
            };
            continuation(env, p, n, &s, arg(4) as u64)?
        }
        "sample.topk" => {
            let probs = softmax_t(tr.logits.row(p), arg(1) as f32);
            let kk = (arg(0) as usize).min(probs.len());
            let mass: f64 = ranked(&probs)
                .into_iter()
                .take(kk)
                .map(|i| probs[i] as f64)
                .sum();
            format!("the top {kk} tokens hold {} of the probability", num(mass))
        }
        "sample.topp" => {
            let s = Sampling {
                temperature: arg(1) as f32,
                top_p: arg(0) as f32,
                ..Sampling::default()
            };
            let pk = pick(
                tr.logits.row(p).as_slice().unwrap_or(&[]),
                &[],
                &s,
                &mut Rng::new(0),
                1,
            );
            format!(
                "{} token(s) holding {} of the probability",
                pk.kept,
                num(pk.kept_mass as f64)
            )
        }
        "beam" => {
            let bs = BeamSettings {
                width: arg(0) as usize,
                max_tokens: arg(1) as usize,
                length_penalty: arg(2) as f32,
                repetition_penalty: arg(3) as f32,
                end_token: env.tokenizer.end_of_text(),
            };
            let r = beam_search(env.gpt, &tr.tokens[..=p], &bs).map_err(|e| e.to_string())?;
            table(
                &["beam", "continuation", "log P", "score"],
                r.beams
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        vec![
                            (i + 1).to_string(),
                            b.tokens
                                .iter()
                                .map(|&t| env.tok(t))
                                .collect::<Vec<_>>()
                                .join(" "),
                            num(b.logprob as f64),
                            num(b.score as f64),
                        ]
                    })
                    .collect(),
            )
        }

        "loss.table" => {
            let lp = next_token_logprobs(env);
            if lp.is_empty() {
                return Err("the prompt is one token: there is no next token to score".into());
            }
            table(
                &["position", "reads", "next token", "P(next)", "−ln P"],
                lp.iter()
                    .enumerate()
                    .map(|(t, &x)| {
                        vec![
                            t.to_string(),
                            env.tok(tr.tokens[t]),
                            env.tok(tr.tokens[t + 1]),
                            num(x.exp()),
                            num(-x),
                        ]
                    })
                    .collect(),
            )
        }
        "loss.values" | "loss.probs" | "loss.sum" | "loss.mean" | "loss.ppl" | "loss.count" => {
            let lp = next_token_logprobs(env);
            if lp.is_empty() {
                return Err("the prompt is one token: there is no next token to score".into());
            }
            let mean = -lp.iter().sum::<f64>() / lp.len() as f64;
            match name {
                "loss.values" => list(lp.iter().map(|x| -x as f32), usize::MAX),
                "loss.probs" => list(lp.iter().map(|x| x.exp() as f32), usize::MAX),
                "loss.sum" => num(lp.iter().sum()),
                "loss.mean" => num(mean),
                "loss.ppl" => num(mean.exp()),
                _ => lp.len().to_string(),
            }
        }
        "loss.at" => {
            if p + 1 >= tr.len() {
                return Err(format!(
                    "loss.at needs a next token, but the step's position {p} is the last; select an earlier position"
                ));
            }
            num(-log_softmax_at(tr.logits.row(p), tr.tokens[p + 1] as usize))
        }
        "loss.uniform" => num((cfg.vocab_size as f64).ln()),

        "train.summary" => match train_record(env) {
            Err(msg) => msg,
            Ok(None) => "This model folder has no training record (the train-log.tsv that `gptlens train` writes), so there is no curve to show here. Train a tiny model with `gptlens train` and open its folder with `--model DIR` to see one.".into(),
            Ok(Some(r)) => {
                let l = r.losses();
                let (first, last) = (l[0], l[l.len() - 1]);
                let mut out = format!("The recorded run took {} optimizer steps", count(last.0 as f64));
                let summary = r.summary.as_ref();
                if let Some(t) = summary.and_then(|s| s.tokens_seen) {
                    out.push_str(&format!(" over {} tokens", count(t as f64)));
                }
                if let Some(secs) = summary.and_then(|s| s.elapsed_secs) {
                    out.push_str(&format!(" in {}", human_duration(secs)));
                }
                out.push_str(&format!(
                    ". The training loss went from {} at step {} to {} at step {}",
                    num(first.1), count(first.0 as f64), num(last.1), count(last.0 as f64)
                ));
                if let Some(v) = r.final_val() {
                    out.push_str(&format!("; on held-out text the final loss was {}", num(v)));
                }
                out.push_str(&format!(
                    ".\n\n`{}` (training loss, step {} → {})",
                    sparkline(&l.iter().map(|x| x.1).collect::<Vec<_>>()),
                    count(first.0 as f64),
                    count(last.0 as f64)
                ));
                out
            }
        },
        "train.baselines" => {
            let b = match train_record(env) {
                Err(msg) => return Ok(msg),
                Ok(r) => r.and_then(|r| {
                    let b = r.baselines()?;
                    Some((b.unigram?, b.bigram?, r.summary.as_ref()?.val_loss?))
                }),
            };
            match b {
                Some((u, bi, v)) => format!(
                    "On the same held-out text, a unigram model (token frequencies only) scores {} and a bigram model (the previous token only) {} nats per token; the transformer scores {}.",
                    num(u), num(bi), num(v)
                ),
                None => "(no baselines recorded: this model folder has no train-summary.json with them)".into(),
            }
        }
        "train.steps" | "train.first" | "train.last" | "train.val" | "train.curve" => {
            match train_record(env) {
                Err(msg) => msg,
                Ok(None) => NO_LOG.to_string(),
                Ok(Some(r)) => {
                    let l = r.losses();
                    let (first, last) = (l[0], l[l.len() - 1]);
                    match name {
                        "train.steps" => count(last.0 as f64),
                        "train.first" => num(first.1),
                        "train.last" => num(last.1),
                        "train.val" => match r.final_val() {
                            Some(v) => num(v),
                            None => "(no validation loss recorded)".into(),
                        },
                        _ => sparkline(&l.iter().map(|x| x.1).collect::<Vec<_>>()),
                    }
                }
            }
        }

        "cost.params_nonembed" => count(Params::of(cfg).non_embedding),
        "cost.flops_token" => num(2.0 * Params::of(cfg).non_embedding),
        "cost.train_flops_token" => num(6.0 * Params::of(cfg).non_embedding),
        "cost.ledger_flops_token" => num(next_token_ledger(env).flops()),
        "cost.attn_flops_token" => num(next_token_ledger(env).attention_flops()),
        "cost.unembed_flops_token" => match next_token_ledger(env).stage(crate::pass::Stage::Logits) {
            Some(st) => num(st.flops),
            None => return Err("the cost ledger has no `logits` (unembedding) stage".into()),
        },
        "cost.weight_bytes" => bytes(F32_BYTES * Params::of(cfg).total),
        "cost.kv_token" => bytes(Ledger::for_prompt(cfg, 1).kv_cache_bytes),
        "cost.kv_context" => bytes(Ledger::for_prompt(cfg, cfg.n_positions).kv_cache_bytes),
        "cost.measured" => num(measured(env)?.tokens_per_s),
        "cost.measured_flops" => num(measured(env)?.flops_per_s),
        "cost.measured_bytes" => bytes(measured(env)?.bytes_per_s),
        "cost.assumptions" => {
            let a = Assumptions::default();
            format!(
                "{} accelerators at {} FLOP/s peak, {}% of it sustained, ${} per accelerator-hour",
                a.accelerator,
                sig(a.peak_flops, 3),
                a.utilisation * 100.0,
                a.price_per_hour
            )
        }
        "cost.gpt3_ratio" => count(gpt3_params() / Params::of(cfg).total),
        "cost.gpt3_train_flops" => sig(gpt3(None)?.training_flops, 3),
        "cost.gpt3_gpu_hours" => count(gpt3(None)?.accelerator_hours),
        "cost.gpt3_dollars" => format!("${}", count(gpt3(None)?.price)),
        "cost.gpt3_here" => {
            let m = measured(env)?.flops_per_s;
            human_duration(gpt3(Some(m))?.this_machine_seconds.unwrap_or(f64::INFINITY))
        }
        "cost.gpt3_kv_token" => bytes(gpt3(None)?.kv_cache_bytes_per_token),
        "cost.gpt3_weight_bytes" => bytes(gpt3(None)?.weights_bytes),
        _ => return Err(format!("unknown placeholder {name}")),
    };
    Ok(v)
}

/// The cost ledger for running the token after the prompt (KV cache of the prompt, batch 1).
fn next_token_ledger(env: &Env) -> Ledger {
    Ledger::for_forward(env.cfg(), env.trace.len(), 1, false)
}

/// GPT-3's parameters as published (Brown et al. 2020, Table 2.1).
fn gpt3_params() -> f64 {
    crate::cost::preset("gpt3").map_or(175e9, |p| p.published_params)
}

/// `gptlens cost --preset gpt3 --train-tokens 300e9` with the default assumptions.
fn gpt3(measured_flops: Option<f64>) -> Result<Estimate, String> {
    let p = crate::cost::preset("gpt3").map_err(|e| e.to_string())?;
    Estimate::new(p.shape, 300e9, &Assumptions::default(), measured_flops)
        .map_err(|e| e.to_string())
}

/// The placeholder reference as a markdown table: docs/lesson-format.md embeds
/// it between markers, and a test keeps the two identical.
pub fn reference_markdown() -> String {
    let mut s = String::from("| placeholder | arguments (default) | shows |\n|---|---|---|\n");
    for sp in all() {
        let args = if sp.args.is_empty() {
            "—".to_string()
        } else {
            sp.args
                .iter()
                .map(|a| format!("{} ({})", a.name, a.default))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let usage = if sp.args.is_empty() {
            format!("`{{{{{}}}}}`", sp.name)
        } else {
            let names: Vec<&str> = sp.args.iter().map(|a| a.name).collect();
            format!("`{{{{{} {}}}}}`", sp.name, names.join(" "))
        };
        s.push_str(&format!(
            "| {usage} | {args} | {} |\n",
            sp.doc.replace('|', "\\|")
        ));
    }
    s
}
