//! What the forward pass costs: multiply-adds, FLOPs and bytes, stage by stage.
//!
//! The counts follow the shapes [`crate::model::Gpt::forward`] really uses, so a
//! view or a lesson can say where the work of the step it shows went. All counts
//! are `f64`: they are exact integers up to 2⁵³ (about 9·10¹⁵) and stay finite,
//! if rounded, for GPT-3-sized products that would overflow a `u64`.
//!
//! Conventions (printed by `gptlens cost` and explained in docs/cost.md):
//! - one multiply-add (MA) is 2 FLOPs; matrix stages count exactly 2·MA;
//! - elementwise stages count one FLOP per add, multiply, compare, division,
//!   exp or tanh, using the small per-element costs in [`elementwise`];
//! - weights are f32 (4 bytes) as the engine stores them; each parameter a step
//!   touches is counted once, however many tokens the step runs.

mod scale;
mod speed;

pub use scale::{
    Assumptions, Estimate, MAX_CTX, MAX_EMBD, MAX_LAYERS, MAX_TRAIN_TOKENS, MAX_VOCAB, PRESETS,
    Preset, Shape, footnotes, preset,
};
pub use speed::{Measurement, Speed, measure};

use std::fmt;

use serde::Serialize;

use crate::model::Config;
use crate::pass::Stage;

/// Bytes per number in the engine (f32 weights, activations and KV cache).
pub const F32_BYTES: f64 = 4.0;

/// Per-element FLOP costs of the elementwise stages (an exp or tanh counts one).
pub mod elementwise {
    /// LayerNorm per element: mean (add), variance (sub, mul, add), normalise
    /// (sub, mul), scale and shift (mul, add).
    pub const LAYER_NORM: f64 = 8.0;
    /// Softmax per score: scale by 1/√dₖ, max (compare), subtract, exp, sum, divide.
    pub const SOFTMAX: f64 = 6.0;
    /// GELU (tanh form) per element: x³ (2 mul), ·0.044715, +x, ·√(2/π), tanh,
    /// +1, ·x, ·0.5.
    pub const GELU: f64 = 9.0;
    /// RMSNorm per element (Llama): square and sum (mul, add), normalise
    /// (mul), scale (mul).
    pub const RMS_NORM: f64 = 4.0;
    /// SwiGLU's middle per element (Llama): SiLU (negate, exp, +1, divide),
    /// then the product with up (mul).
    pub const SWIGLU: f64 = 5.0;
    /// RoPE per rotated number (Llama): a pair costs 4 mul and 2 adds.
    pub const ROPE: f64 = 3.0;
}

/// Whether a stage is a matrix product (2 FLOPs per multiply-add) or
/// elementwise work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Matmul,
    Elementwise,
}

/// What a ledger row counts: one stage of the pass, or the bias and residual
/// adds, which the pass folds into the linear and residual stages but the
/// ledger sums in a row of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Stage(Stage),
    BiasResidual,
}

impl Key {
    /// The stage's name (`qkv`, `out-proj`, …), or `bias-residual`.
    pub fn name(self) -> &'static str {
        match self {
            Key::Stage(s) => s.name(),
            Key::BiasResidual => "bias-residual",
        }
    }

    /// The stages of the pass whose work the row counts.
    pub fn stages(self) -> Vec<Stage> {
        match self {
            Key::Stage(s) => vec![s],
            Key::BiasResidual => vec![
                Stage::Qkv,
                Stage::OutProj,
                Stage::Resid1,
                Stage::MlpUp,
                Stage::MlpDown,
                Stage::Resid2,
            ],
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// One row of the ledger: a stage of the forward pass, summed over all layers
/// where it repeats.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// Which stage (printed with the pass's stage names, e.g. `out-proj`).
    pub key: Key,
    /// What a reader sees.
    pub name: &'static str,
    pub kind: Kind,
    /// Coarse part of the model for a summary bar: "embedding", "attention",
    /// "mlp", "norm" (LayerNorms and adds) or "logits".
    pub group: &'static str,
    /// True if the stage runs once in each block (the counts are for all blocks).
    pub per_layer: bool,
    /// Multiply-adds (0 for elementwise stages).
    pub multiply_adds: f64,
    pub flops: f64,
    /// Bytes of parameters the stage reads.
    pub weight_bytes: f64,
    /// How many of those parameters sit in weight matrices (the token table
    /// included, biases and norms not): what `gptlens quantize` stores in
    /// its blocks, so [`Ledger::weight_bytes_in`] counts them in a format.
    #[serde(skip)]
    pub matrix_weights: f64,
    /// The length of those matrices' rows (their input width, along which
    /// a block runs; 0 without matrices).
    #[serde(skip)]
    pub matrix_row: f64,
}

/// Parameter counts of a GPT-2 shape.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Params {
    /// Every parameter, the tied unembedding counted once.
    pub total: f64,
    /// Token and position tables (wte, wpe).
    pub embedding: f64,
    /// total − embedding: Kaplan et al.'s N, with biases and LayerNorms.
    pub non_embedding: f64,
    /// Weight matrices of the blocks only, L·(4C² + 2CM) = 12·L·C² for M = 4C:
    /// the parameters each token multiplies by once.
    pub matrices: f64,
}

impl Params {
    pub fn of(cfg: &Config) -> Params {
        let (l, c, m) = dims(cfg);
        if cfg.is_llama() {
            // q and o C² each, k and v C·kv each, SwiGLU's three C·M; two
            // RMSNorm gains a block and the final one; no biases. The
            // embedding counts an untied head as well.
            let kv = cfg.kv_dim() as f64;
            let matrices = l * (2.0 * c * c + 2.0 * c * kv + 3.0 * c * m);
            let small = l * 2.0 * c + c;
            let heads = if cfg.tie_word_embeddings { 1.0 } else { 2.0 };
            let embedding = heads * cfg.vocab_size as f64 * c;
            return Params {
                total: embedding + matrices + small,
                embedding,
                non_embedding: matrices + small,
                matrices,
            };
        }
        let (v, p) = (cfg.vocab_size as f64, cfg.n_positions as f64);
        let matrices = l * (4.0 * c * c + 2.0 * c * m);
        // ln_1, ln_2 (2C each), biases 3C + C + M + C, then ln_f.
        let small = l * (4.0 * c + 5.0 * c + m) + 2.0 * c;
        let embedding = (v + p) * c;
        Params {
            total: embedding + matrices + small,
            embedding,
            non_embedding: matrices + small,
            matrices,
        }
    }
}

/// The cost of one call of the forward pass.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ledger {
    /// Positions already in the KV cache before the step.
    pub context_len: usize,
    /// Tokens the step runs.
    pub new_tokens: usize,
    /// Rows the unembedding produces logits for (all new tokens, or the last).
    pub logit_rows: usize,
    pub params: Params,
    /// One row per stage, in the order of the pass.
    #[serde(rename = "stages")]
    pub rows: Vec<Row>,
    /// Bytes of KV cache held after the step: 2·L·T·kv·4, kv = n_kv_head·dₖ
    /// (C without grouped-query attention).
    pub kv_cache_bytes: f64,
    /// Bytes of KV cache the attention reads (every cached row at least once).
    pub kv_read_bytes: f64,
    /// Parameters read from the position table (GPT-2's wpe rows): a matrix
    /// `quantize` keeps in f32 unless the whole file is F16.
    #[serde(skip)]
    pub position_weights: f64,
}

fn dims(cfg: &Config) -> (f64, f64, f64) {
    (cfg.n_layer as f64, cfg.n_embd as f64, cfg.mlp_dim() as f64)
}

impl Ledger {
    /// A step as the traced view runs it: `new_tokens` tokens at positions
    /// `context_len..`, logits for every one of them.
    pub fn for_step(cfg: &Config, context_len: usize, new_tokens: usize) -> Ledger {
        Ledger::for_forward(cfg, context_len, new_tokens, true)
    }

    /// A whole prompt run from an empty cache (prefill).
    pub fn for_prompt(cfg: &Config, prompt_len: usize) -> Ledger {
        Ledger::for_step(cfg, 0, prompt_len)
    }

    /// Mirrors `Gpt::forward(tokens, cache, .., all_logits)` with
    /// `cache.len() == context_len`: without a trace and `all_logits`, the
    /// engine unembeds only the last position.
    pub fn for_forward(
        cfg: &Config,
        context_len: usize,
        new_tokens: usize,
        all_logits: bool,
    ) -> Ledger {
        let (l, c, m) = dims(cfg);
        let (v, h) = (cfg.vocab_size as f64, cfg.n_head as f64);
        let n = new_tokens as f64;
        let s = context_len as f64;
        // Query i (0-based) sees keys 0..=s+i: Σ (s + i + 1) = n·s + n(n+1)/2.
        let keys = n * s + n * (n + 1.0) / 2.0;
        let logit_rows = if all_logits {
            new_tokens
        } else {
            new_tokens.min(1)
        };
        let r = logit_rows as f64;
        let b = F32_BYTES;
        // `matrix`: how many of `weights` are matrix entries (the rest are
        // biases, gains, position rows); `row`: their rows' length, the
        // matrices' input width (what a block of 32 runs along).
        let mat =
            |stage, name, group, per_layer, ma: f64, (weights, matrix, row): (f64, f64, f64)| Row {
                key: Key::Stage(stage),
                name,
                kind: Kind::Matmul,
                group,
                per_layer,
                multiply_adds: ma,
                flops: 2.0 * ma,
                weight_bytes: weights * b,
                matrix_weights: matrix,
                matrix_row: row,
            };
        let elem =
            |key, name, group, per_layer, flops: f64, (weights, matrix, row): (f64, f64, f64)| {
                Row {
                    key,
                    name,
                    kind: Kind::Elementwise,
                    group,
                    per_layer,
                    multiply_adds: 0.0,
                    flops,
                    weight_bytes: weights * b,
                    matrix_weights: matrix,
                    matrix_row: row,
                }
            };
        // Llama: RMSNorm (γ only), no biases, no position table, RoPE, keys
        // and values kv = n_kv_head·dₖ wide (C in GPT-2), SwiGLU's three matrices.
        let llama = cfg.is_llama();
        let kv = cfg.kv_dim() as f64;
        let bias = if llama { 0.0 } else { 1.0 };
        let (norm_flops, norm_weights) = if llama {
            (elementwise::RMS_NORM, 1.0)
        } else {
            (elementwise::LAYER_NORM, 2.0)
        };
        let ln = norm_flops * n * c;
        let st = Key::Stage;
        let rows = vec![
            // Rows of wte and wpe are looked up (read), then added.
            if llama {
                elem(
                    st(Stage::Embed),
                    "embedding (token only)",
                    "embedding",
                    false,
                    0.0,
                    (n * c, n * c, c),
                )
            } else {
                elem(
                    st(Stage::Embed),
                    "embedding (token + position)",
                    "embedding",
                    false,
                    n * c,
                    (2.0 * n * c, n * c, c),
                )
            },
            elem(
                st(Stage::Ln1),
                if llama { "RMSNorm 1" } else { "LayerNorm 1" },
                "norm",
                true,
                l * ln,
                (l * norm_weights * c, 0.0, 0.0),
            ),
            mat(
                Stage::Qkv,
                if llama {
                    "Q, K, V (grouped K, V)"
                } else {
                    "Q, K, V projection"
                },
                "attention",
                true,
                l * n * c * (c + 2.0 * kv),
                (
                    l * (c * (c + 2.0 * kv) + bias * (c + 2.0 * kv)),
                    l * c * (c + 2.0 * kv),
                    c,
                ),
            ),
            mat(
                Stage::Scores,
                "scores q·k",
                "attention",
                true,
                l * keys * c,
                (0.0, 0.0, 0.0),
            ),
            elem(
                st(Stage::Softmax),
                "scale and softmax",
                "attention",
                true,
                l * h * keys * elementwise::SOFTMAX,
                (0.0, 0.0, 0.0),
            ),
            mat(
                Stage::WeightedSum,
                "weighted sum of V",
                "attention",
                true,
                l * keys * c,
                (0.0, 0.0, 0.0),
            ),
            mat(
                Stage::OutProj,
                "output projection W_O",
                "attention",
                true,
                l * n * c * c,
                (l * (c * c + bias * c), l * c * c, c),
            ),
            // GPT-2: biases of the four linear layers, then the two residual
            // adds. Llama: no biases; RoPE's rotations of q and k instead.
            if llama {
                elem(
                    Key::BiasResidual,
                    "RoPE and residual adds",
                    "norm",
                    true,
                    l * n * (2.0 * c + elementwise::ROPE * (c + kv)),
                    (0.0, 0.0, 0.0),
                )
            } else {
                elem(
                    Key::BiasResidual,
                    "bias and residual adds",
                    "norm",
                    true,
                    l * n * (3.0 * c + c + m + c + 2.0 * c),
                    (0.0, 0.0, 0.0),
                )
            },
            elem(
                st(Stage::Ln2),
                if llama { "RMSNorm 2" } else { "LayerNorm 2" },
                "norm",
                true,
                l * ln,
                (l * norm_weights * c, 0.0, 0.0),
            ),
            if llama {
                mat(
                    Stage::MlpUp,
                    "MLP gate and up (C → 2·M)",
                    "mlp",
                    true,
                    l * n * c * 2.0 * m,
                    (l * 2.0 * c * m, l * 2.0 * c * m, c),
                )
            } else {
                mat(
                    Stage::MlpUp,
                    "MLP up (C → M)",
                    "mlp",
                    true,
                    l * n * c * m,
                    (l * (c * m + m), l * c * m, c),
                )
            },
            if llama {
                elem(
                    st(Stage::Gelu),
                    "SiLU(gate) ⊙ up",
                    "mlp",
                    true,
                    l * n * m * elementwise::SWIGLU,
                    (0.0, 0.0, 0.0),
                )
            } else {
                elem(
                    st(Stage::Gelu),
                    "GELU",
                    "mlp",
                    true,
                    l * n * m * elementwise::GELU,
                    (0.0, 0.0, 0.0),
                )
            },
            mat(
                Stage::MlpDown,
                "MLP down (M → C)",
                "mlp",
                true,
                l * n * m * c,
                (l * (m * c + bias * c), l * m * c, m),
            ),
            elem(
                st(Stage::FinalLn),
                if llama {
                    "final RMSNorm"
                } else {
                    "final LayerNorm"
                },
                "norm",
                false,
                ln,
                (norm_weights * c, 0.0, 0.0),
            ),
            mat(
                Stage::Logits,
                "unembedding (logits)",
                "logits",
                false,
                r * c * v,
                if r > 0.0 {
                    (v * c, v * c, c)
                } else {
                    (0.0, 0.0, 0.0)
                },
            ),
        ];
        let t = s + n;
        Ledger {
            context_len,
            new_tokens,
            logit_rows,
            params: Params::of(cfg),
            rows,
            kv_cache_bytes: 2.0 * l * t * kv * b,
            kv_read_bytes: 2.0 * l * t * kv * b,
            position_weights: if llama { 0.0 } else { n * c },
        }
    }

    /// FLOPs per group, in order of first appearance.
    pub fn groups(&self) -> Vec<(&'static str, f64)> {
        let mut out: Vec<(&'static str, f64)> = Vec::new();
        for s in &self.rows {
            match out.iter_mut().find(|(g, _)| *g == s.group) {
                Some((_, f)) => *f += s.flops,
                None => out.push((s.group, s.flops)),
            }
        }
        out
    }

    pub fn row(&self, key: Key) -> Option<&Row> {
        self.rows.iter().find(|s| s.key == key)
    }

    /// The row of a stage of the pass (None for stages the ledger does not
    /// count on their own: mask, the residual adds, pick, append).
    pub fn stage(&self, stage: Stage) -> Option<&Row> {
        self.row(Key::Stage(stage))
    }

    pub fn multiply_adds(&self) -> f64 {
        self.rows.iter().map(|s| s.multiply_adds).sum()
    }

    pub fn flops(&self) -> f64 {
        self.rows.iter().map(|s| s.flops).sum()
    }

    /// FLOPs of the matrix stages only (what 2N + attention approximates).
    pub fn matmul_flops(&self) -> f64 {
        self.rows
            .iter()
            .filter(|s| s.kind == Kind::Matmul)
            .map(|s| s.flops)
            .sum()
    }

    /// FLOPs of the attention's own products (scores and weighted sum), the
    /// part that grows with context.
    pub fn attention_flops(&self) -> f64 {
        [Stage::Scores, Stage::WeightedSum]
            .into_iter()
            .filter_map(|k| self.stage(k))
            .map(|s| s.flops)
            .sum()
    }

    pub fn weight_bytes(&self) -> f64 {
        self.rows.iter().map(|s| s.weight_bytes).sum()
    }

    /// The step's weight bytes with the model stored as `gptlens quantize
    /// --type ty` writes it: every matrix entry at `ty`'s bits per weight
    /// (scales included), or in F16 where a row is no whole number of
    /// `ty`'s blocks (as `quantize` keeps such a matrix); the position table
    /// in f32 unless `ty` is F16; biases and norms in f32.
    pub fn weight_bytes_in(&self, ty: crate::quant::GgmlType) -> f64 {
        use crate::quant::GgmlType;
        let per = |row: f64| {
            if (row as u64).is_multiple_of(ty.block_len() as u64) {
                ty.bits_per_weight() / 8.0
            } else {
                GgmlType::F16.bits_per_weight() / 8.0
            }
        };
        let saved: f64 = self
            .rows
            .iter()
            .map(|r| r.matrix_weights * (F32_BYTES - per(r.matrix_row)))
            .sum();
        let position = if ty == GgmlType::F16 {
            self.position_weights * (F32_BYTES - 2.0)
        } else {
            0.0
        };
        self.weight_bytes() - saved - position
    }

    /// Bytes the step must at least read: weights plus the KV cache.
    pub fn bytes_read(&self) -> f64 {
        self.weight_bytes() + self.kv_read_bytes
    }

    /// FLOPs per new token (the step's total shared evenly).
    pub fn flops_per_token(&self) -> f64 {
        self.flops() / self.new_tokens.max(1) as f64
    }

    /// FLOPs per byte read: low means memory-bound (decoding at batch 1).
    pub fn arithmetic_intensity(&self) -> f64 {
        let b = self.bytes_read();
        if b > 0.0 { self.flops() / b } else { 0.0 }
    }

    /// Share of the step's FLOPs in each row, in the order of `rows`.
    pub fn shares(&self) -> Vec<f64> {
        let total = self.flops();
        self.rows
            .iter()
            .map(|s| if total > 0.0 { s.flops / total } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests;
