//! The vocabulary of one forward pass: its stages, the views that show them,
//! and the points (stage, layer) a step-through visits, in order.
//!
//! No terminal in here: the explorer, the lessons and the cost ledger all name
//! stages and views with these types. Lesson files use the lowercase names
//! below (see docs/views-and-stages.md), so both enums parse from and print to
//! them, and an unknown name lists the valid ones.

use std::fmt;
use std::str::FromStr;

use crate::suggest::did_you_mean;

/// One stage of the forward pass, in the order the BRIEF lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    Embed,
    Ln1,
    Qkv,
    Scores,
    Mask,
    Softmax,
    WeightedSum,
    OutProj,
    Resid1,
    Ln2,
    MlpUp,
    Gelu,
    MlpDown,
    Resid2,
    FinalLn,
    Logits,
    Pick,
    Append,
}

impl Stage {
    pub const ALL: [Stage; 18] = [
        Stage::Embed,
        Stage::Ln1,
        Stage::Qkv,
        Stage::Scores,
        Stage::Mask,
        Stage::Softmax,
        Stage::WeightedSum,
        Stage::OutProj,
        Stage::Resid1,
        Stage::Ln2,
        Stage::MlpUp,
        Stage::Gelu,
        Stage::MlpDown,
        Stage::Resid2,
        Stage::FinalLn,
        Stage::Logits,
        Stage::Pick,
        Stage::Append,
    ];

    /// The stages repeated once per transformer block.
    pub const PER_LAYER: [Stage; 13] = [
        Stage::Ln1,
        Stage::Qkv,
        Stage::Scores,
        Stage::Mask,
        Stage::Softmax,
        Stage::WeightedSum,
        Stage::OutProj,
        Stage::Resid1,
        Stage::Ln2,
        Stage::MlpUp,
        Stage::Gelu,
        Stage::MlpDown,
        Stage::Resid2,
    ];

    /// The name lesson files use.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Embed => "embed",
            Stage::Ln1 => "ln1",
            Stage::Qkv => "qkv",
            Stage::Scores => "scores",
            Stage::Mask => "mask",
            Stage::Softmax => "softmax",
            Stage::WeightedSum => "weighted-sum",
            Stage::OutProj => "out-proj",
            Stage::Resid1 => "residual1",
            Stage::Ln2 => "ln2",
            Stage::MlpUp => "mlp-up",
            Stage::Gelu => "gelu",
            Stage::MlpDown => "mlp-down",
            Stage::Resid2 => "residual2",
            Stage::FinalLn => "final-ln",
            Stage::Logits => "logits",
            Stage::Pick => "pick",
            Stage::Append => "append",
        }
    }

    /// What the header says the stage computes.
    pub fn title(self) -> &'static str {
        match self {
            Stage::Embed => "embed: x = wte[token] + wpe[position]",
            Stage::Ln1 => "LN1: normalise the residual before attention",
            Stage::Qkv => "Q, K, V = LN1(x)·W_qkv + b",
            Stage::Scores => "scores = Q·Kᵀ/√dₖ",
            Stage::Mask => "causal mask: a query sees only earlier keys",
            Stage::Softmax => "softmax over each query's row",
            Stage::WeightedSum => "weighted sum: softmax(QKᵀ/√dₖ)·V",
            Stage::OutProj => "output projection: concat(heads)·W_O",
            Stage::Resid1 => "residual add: x + attn",
            Stage::Ln2 => "LN2: normalise before the MLP",
            Stage::MlpUp => "MLP up: h = LN2(x)·W_fc + b (4× wider)",
            Stage::Gelu => "GELU(h)",
            Stage::MlpDown => "MLP down: GELU(h)·W_proj + b",
            Stage::Resid2 => "residual add: x + mlp",
            Stage::FinalLn => "final LayerNorm",
            Stage::Logits => "logits = LN_f(x)·wteᵀ (tied unembedding)",
            Stage::Pick => "pick: temperature, top-k, top-p, draw",
            Stage::Append => "append the picked token",
        }
    }

    /// The header's title for a model of architecture `arch`: GPT-2's
    /// [`Stage::title`], or what a Llama block (RMSNorm, RoPE, SwiGLU, no
    /// biases) or an untied head does instead.
    pub fn title_in(self, arch: &crate::model::Arch) -> &'static str {
        use crate::model::Family;
        match (arch.family, self) {
            (Family::Llama, Stage::Embed) => "embed: x = wte[token] (no position table: RoPE)",
            (Family::Llama, Stage::Ln1) => "RMSNorm before attention: x/√(mean(x²) + ε)·γ",
            (Family::Llama, Stage::Qkv) => "Q, K, V = RMSNorm(x)·Wᵀ; RoPE turns Q and K",
            (Family::Llama, Stage::OutProj) => "output projection: concat(heads)·W_O (no bias)",
            (Family::Llama, Stage::Ln2) => "RMSNorm before the MLP",
            (Family::Llama, Stage::MlpUp) => "MLP: gate = x·W_gateᵀ, up = x·W_upᵀ",
            (Family::Llama, Stage::Gelu) => "SwiGLU: SiLU(gate) ⊙ up",
            (Family::Llama, Stage::MlpDown) => "MLP down: (SiLU(gate) ⊙ up)·W_downᵀ",
            (Family::Llama, Stage::FinalLn) => "final RMSNorm",
            (Family::Llama, Stage::Logits) if arch.tied_unembedding => {
                "logits = RMSNorm_f(x)·wteᵀ (tied unembedding)"
            }
            (Family::Llama, Stage::Logits) => "logits = RMSNorm_f(x)·lm_headᵀ (untied head)",
            (Family::Gpt2, Stage::Logits) if !arch.tied_unembedding => {
                "logits = LN_f(x)·lm_headᵀ (untied head)"
            }
            _ => self.title(),
        }
    }

    /// Whether the stage belongs to a transformer block.
    pub fn in_layer(self) -> bool {
        Stage::PER_LAYER.contains(&self)
    }

    /// The view that shows this stage best.
    pub fn view(self) -> View {
        match self {
            Stage::Embed => View::Embeddings,
            Stage::Ln1 | Stage::Ln2 | Stage::FinalLn => View::LayerNorm,
            Stage::Qkv
            | Stage::Scores
            | Stage::Mask
            | Stage::Softmax
            | Stage::WeightedSum
            | Stage::OutProj => View::Attention,
            Stage::Resid1 | Stage::Resid2 => View::Residual,
            Stage::MlpUp | Stage::Gelu | Stage::MlpDown => View::Mlp,
            Stage::Logits | Stage::Pick | Stage::Append => View::Logits,
        }
    }
}

/// Error for an unknown stage or view name: suggests the nearest and lists the valid names.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown {kind} `{name}`{hint}; the {kind}s are {valid}")]
pub struct UnknownName {
    pub kind: &'static str,
    /// The name as written (trimmed).
    pub name: String,
    /// " (did you mean `x`?)" or "".
    pub hint: String,
    pub valid: String,
}

/// Case-insensitive lookup of `s` among `names`.
fn lookup<T: Copy>(
    kind: &'static str,
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<T, UnknownName> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    all.iter()
        .copied()
        .find(|&x| name(x) == lower)
        .ok_or_else(|| UnknownName {
            kind,
            name: s.to_string(),
            hint: did_you_mean(&lower, all.iter().map(|&x| name(x))),
            valid: all.iter().map(|&x| name(x)).collect::<Vec<_>>().join(", "),
        })
}

impl FromStr for Stage {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        lookup("stage", s, &Stage::ALL, Stage::name)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The explorer's views (one module each under `tui::views`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum View {
    Tokens,
    Embeddings,
    Attention,
    LayerNorm,
    Mlp,
    Residual,
    Logits,
    Loss,
    Cost,
    Training,
    /// One block of a weight matrix in ggml's block formats.
    Quant,
}

impl View {
    pub const ALL: [View; 11] = [
        View::Tokens,
        View::Embeddings,
        View::Attention,
        View::LayerNorm,
        View::Mlp,
        View::Residual,
        View::Logits,
        View::Loss,
        View::Cost,
        View::Training,
        View::Quant,
    ];

    pub fn name(self) -> &'static str {
        match self {
            View::Tokens => "tokens",
            View::Embeddings => "embeddings",
            View::Attention => "attention",
            View::LayerNorm => "layernorm",
            View::Mlp => "mlp",
            View::Residual => "residual",
            View::Logits => "logits",
            View::Loss => "loss",
            View::Cost => "cost",
            View::Training => "training",
            View::Quant => "quant",
        }
    }

    /// The key that selects the view: 1–9, then 0 and - (the keyboard's
    /// number row) for the tenth and eleventh.
    pub fn key(self) -> char {
        match self.index() {
            i @ 0..=8 => char::from_digit(i as u32 + 1, 10).unwrap_or('?'),
            9 => '0',
            _ => '-',
        }
    }

    pub fn index(self) -> usize {
        View::ALL.iter().position(|&v| v == self).unwrap_or(0)
    }
}

impl FromStr for View {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        lookup("view", s, &View::ALL, View::name)
    }
}

impl fmt::Display for View {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A point in the pass: a stage, and the layer when the stage is in a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Point {
    pub stage: Stage,
    /// 0 for stages outside the blocks.
    pub layer: usize,
}

/// Every point of one token's pass, in order: embed, n_layer blocks, then the head.
pub fn points(n_layer: usize) -> Vec<Point> {
    let mut v = vec![Point {
        stage: Stage::Embed,
        layer: 0,
    }];
    for layer in 0..n_layer {
        v.extend(Stage::PER_LAYER.iter().map(|&stage| Point { stage, layer }));
    }
    for stage in [Stage::FinalLn, Stage::Logits, Stage::Pick, Stage::Append] {
        v.push(Point { stage, layer: 0 });
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_valid_ones() {
        for s in Stage::ALL {
            assert_eq!(s.name().parse::<Stage>(), Ok(s));
        }
        for v in View::ALL {
            assert_eq!(v.name().parse::<View>(), Ok(v));
        }
        assert_eq!("Attention".parse::<View>(), Ok(View::Attention));
        let e = "atention".parse::<View>().unwrap_err().to_string();
        assert!(e.contains("attention") && e.contains("atention"), "{e}");
        assert!(e.contains("(did you mean `attention`?)"), "{e}");
        let e = " Softmx".parse::<Stage>().unwrap_err().to_string();
        assert!(
            e.starts_with(
                "unknown stage `Softmx` (did you mean `softmax`?); the stages are embed, ln1,"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_pass_has_every_stage_once_per_layer_in_order() {
        let p = points(2);
        assert_eq!(p.len(), 1 + 2 * 13 + 4);
        assert_eq!(p[0].stage, Stage::Embed);
        assert_eq!(
            p[1],
            Point {
                stage: Stage::Ln1,
                layer: 0
            }
        );
        assert_eq!(
            p[14],
            Point {
                stage: Stage::Ln1,
                layer: 1
            }
        );
        assert_eq!(p.last().map(|s| s.stage), Some(Stage::Append));
    }
}
