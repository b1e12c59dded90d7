//! The vocabulary of one forward pass: its stages, the views that show them,
//! and the points (stage, layer) a step-through visits, in order.
//!
//! No terminal in here: the explorer, the lessons and the cost ledger all name
//! stages and views with these types. Lesson files use the lowercase names
//! below (see docs/views-and-stages.md), so both enums parse from and print to
//! them, and an unknown name lists the valid ones.

use std::fmt;
use std::str::FromStr;

use crate::i18n::{Lang, Msg};
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

    /// What the header says the stage computes (GPT-2's, in English).
    pub fn title(self) -> &'static str {
        self.gpt2_title().get(Lang::En)
    }

    /// GPT-2's caption of the stage, in the string table.
    fn gpt2_title(self) -> Msg {
        match self {
            Stage::Embed => Msg::StageEmbed,
            Stage::Ln1 => Msg::StageLn1,
            Stage::Qkv => Msg::StageQkv,
            Stage::Scores => Msg::StageScores,
            Stage::Mask => Msg::StageMask,
            Stage::Softmax => Msg::StageSoftmax,
            Stage::WeightedSum => Msg::StageWeightedSum,
            Stage::OutProj => Msg::StageOutProj,
            Stage::Resid1 => Msg::StageResid1,
            Stage::Ln2 => Msg::StageLn2,
            Stage::MlpUp => Msg::StageMlpUp,
            Stage::Gelu => Msg::StageGelu,
            Stage::MlpDown => Msg::StageMlpDown,
            Stage::Resid2 => Msg::StageResid2,
            Stage::FinalLn => Msg::StageFinalLn,
            Stage::Logits => Msg::StageLogits,
            Stage::Pick => Msg::StagePick,
            Stage::Append => Msg::StageAppend,
        }
    }

    /// The header's title for a model of architecture `arch`: GPT-2's
    /// [`Stage::title`], or what a Llama block (RMSNorm, RoPE, SwiGLU, no
    /// biases) or an untied head does instead.
    pub fn title_in(self, arch: &crate::model::Arch) -> &'static str {
        self.title_in_lang(arch, Lang::En)
    }

    /// [`Stage::title_in`] in `lang`.
    pub fn title_in_lang(self, arch: &crate::model::Arch, lang: Lang) -> &'static str {
        use crate::model::Family;
        let m = match (arch.family, self) {
            (Family::Llama, Stage::Embed) => Msg::StageLlamaEmbed,
            (Family::Llama, Stage::Ln1) => Msg::StageLlamaLn1,
            (Family::Llama, Stage::Qkv) => Msg::StageLlamaQkv,
            (Family::Llama, Stage::OutProj) => Msg::StageLlamaOutProj,
            (Family::Llama, Stage::Ln2) => Msg::StageLlamaLn2,
            (Family::Llama, Stage::MlpUp) => Msg::StageLlamaMlpUp,
            (Family::Llama, Stage::Gelu) => Msg::StageLlamaGelu,
            (Family::Llama, Stage::MlpDown) => Msg::StageLlamaMlpDown,
            (Family::Llama, Stage::FinalLn) => Msg::StageLlamaFinalLn,
            (Family::Llama, Stage::Logits) if arch.tied_unembedding => Msg::StageLlamaLogitsTied,
            (Family::Llama, Stage::Logits) => Msg::StageLlamaLogits,
            (Family::Gpt2, Stage::Logits) if !arch.tied_unembedding => Msg::StageLogitsUntied,
            _ => self.gpt2_title(),
        };
        m.get(lang)
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

    /// The view's name as the hint bar shows it in `lang` (the CLI and
    /// lessons keep [`View::name`]).
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            View::Tokens => Msg::ViewTokens,
            View::Embeddings => Msg::ViewEmbeddings,
            View::Attention => Msg::ViewAttention,
            View::LayerNorm => Msg::ViewLayerNorm,
            View::Mlp => Msg::ViewMlp,
            View::Residual => Msg::ViewResidual,
            View::Logits => Msg::ViewLogits,
            View::Loss => Msg::ViewLoss,
            View::Cost => Msg::ViewCost,
            View::Training => Msg::ViewTraining,
            View::Quant => Msg::ViewQuant,
        }
        .get(lang)
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
