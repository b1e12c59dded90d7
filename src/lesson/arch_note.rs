//! A lesson is written for one architecture (`architecture:` in its front
//! matter, GPT-2 unless it says otherwise). Opened on a model of the other
//! family, its text still names the parts it was written about (wpe,
//! LayerNorm, GELU) while the numbers are the model's own; so the lesson
//! starts with a note of what this model does instead, for the parts the
//! lesson touches, and points to the `modern` lesson.

use super::{Block, Lesson, Part, Text};
use crate::i18n::Lang;
use crate::model::{Arch, Family, Mlp, Norm, Positions};
use crate::pass::{Stage, View};

/// The parts of the pass whose architecture differs, each once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Piece {
    Norm,
    Positions,
    Mlp,
    Kv,
    Head,
}

/// Which parts a lesson touches: its steps' views and stages, its
/// placeholders, and the words of its text.
fn touches(l: &Lesson) -> Vec<Piece> {
    let mut on = [false; 5];
    let mut mark = |p: Piece| on[p as usize] = true;
    let mut text = String::new();
    let mut read = |t: &Text, mark: &mut dyn FnMut(Piece)| {
        for part in &t.parts {
            match part {
                Part::Lit(s) => text.push_str(s),
                Part::Ph(ph) => {
                    let n = ph.name.as_str();
                    if n.starts_with("ln_") || n.starts_with("lens.") || n == "model.eps" {
                        mark(Piece::Norm);
                    }
                    if n.starts_with("emb.") {
                        mark(Piece::Positions);
                    }
                    if n.starts_with("mlp.") || n == "model.mlp_width" {
                        mark(Piece::Mlp);
                    }
                    if n.starts_with("attn.") || n == "model.heads" {
                        mark(Piece::Kv);
                    }
                    if n.starts_with("logits.") || n.starts_with("lens.") {
                        mark(Piece::Head);
                    }
                }
            }
        }
    };
    read(&l.intro, &mut mark);
    for s in &l.scenes {
        match s.view {
            View::LayerNorm => mark(Piece::Norm),
            View::Embeddings => mark(Piece::Positions),
            View::Mlp => mark(Piece::Mlp),
            View::Attention => {
                mark(Piece::Kv);
                // RoPE happens inside attention.
                mark(Piece::Positions);
            }
            View::Logits => mark(Piece::Head),
            _ => {}
        }
        match s.stage {
            Some(Stage::Ln1 | Stage::Ln2 | Stage::FinalLn) => mark(Piece::Norm),
            Some(Stage::Embed) => mark(Piece::Positions),
            Some(Stage::MlpUp | Stage::Gelu | Stage::MlpDown) => mark(Piece::Mlp),
            _ => {}
        }
        for b in &s.body {
            match b {
                Block::Text(t) => read(t, &mut mark),
                Block::Predict(c) => {
                    read(&c.question, &mut mark);
                    read(&c.answer, &mut mark);
                    for (_, t) in &c.choices {
                        read(t, &mut mark);
                    }
                }
            }
        }
    }
    // The words the text uses for each part, in either language.
    let said = |words: &[&str]| words.iter().any(|w| text.contains(w));
    if said(&["LayerNorm", "RMSNorm", "层归一化", "β"]) {
        mark(Piece::Norm);
    }
    if said(&["wpe", "position embedding", "RoPE", "位置编码"]) {
        mark(Piece::Positions);
    }
    if said(&["GELU", "SwiGLU"]) {
        mark(Piece::Mlp);
    }
    if said(&["tied", "same table", "lm_head", "wte"]) {
        mark(Piece::Head);
    }
    [
        Piece::Norm,
        Piece::Positions,
        Piece::Mlp,
        Piece::Kv,
        Piece::Head,
    ]
    .into_iter()
    .filter(|p| on[*p as usize])
    .collect()
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Gpt2 => "GPT-2",
        Family::Llama => "Llama",
    }
}

/// What `arch` does instead of `written` for `part`, if it differs.
fn difference(part: Piece, written: Family, arch: &Arch, lang: Lang) -> Option<String> {
    let zh = lang == Lang::Zh;
    let llama = arch.family == Family::Llama;
    Some(match part {
        Piece::Norm => match (written, arch.norm) {
            (Family::Gpt2, Norm::RmsNorm) if zh => "**RMSNorm，而不是 LayerNorm**：每个向量除以它的均方根，再乘以 γ；不减均值，也没有 β（文中的 μ 和 β，在这里是 0 和不存在）。".into(),
            (Family::Gpt2, Norm::RmsNorm) => "**RMSNorm, not LayerNorm**: each vector is divided by its root mean square and scaled by γ; no mean is subtracted and there is no β (where the text has μ and β, this model has 0 and nothing).".into(),
            (Family::Llama, Norm::LayerNorm) if zh => "**LayerNorm，而不是 RMSNorm**：先减去均值，再除以标准差，乘以 γ 并加上 β。".into(),
            (Family::Llama, Norm::LayerNorm) => "**LayerNorm, not RMSNorm**: the mean is subtracted first, then the vector is divided by its standard deviation, scaled by γ and shifted by β.".into(),
            _ => return None,
        },
        Piece::Positions => match (written, arch.positions) {
            (Family::Gpt2, Positions::Rotary) if zh => "**没有位置编码表 wpe**：嵌入只是词元在 wte 中的那一行；位置在每一层的注意力里进入，方式是旋转 q 和 k（RoPE）。".into(),
            (Family::Gpt2, Positions::Rotary) => "**no position table wpe**: the embedding is the token's row of wte alone; the position enters inside every attention layer, as a rotation of q and k (RoPE).".into(),
            (Family::Llama, Positions::Learned) if zh => "**一张学到的位置编码表 wpe**：它在该位置的那一行加到词元嵌入上；q 和 k 不旋转（没有 RoPE）。".into(),
            (Family::Llama, Positions::Learned) => "**a learned position table wpe**: its row for the position is added to the token's embedding; q and k are not rotated (no RoPE).".into(),
            _ => return None,
        },
        Piece::Mlp => match (written, arch.mlp) {
            (Family::Gpt2, Mlp::SwiGlu) if zh => "**SwiGLU，而不是 GELU**：前馈网络计算 SiLU(x·W_gate) ⊙ (x·W_up)，再做向下投影——三个矩阵，而不是两个。".into(),
            (Family::Gpt2, Mlp::SwiGlu) => "**SwiGLU, not GELU**: the MLP computes SiLU(x·W_gate) ⊙ (x·W_up), then the down projection — three matrices instead of two.".into(),
            (Family::Llama, Mlp::Plain(_)) if zh => "**GELU，而不是 SwiGLU**：一次向上投影、GELU、向下投影——两个矩阵。".into(),
            (Family::Llama, Mlp::Plain(_)) => "**GELU, not SwiGLU**: one up projection, GELU, the down projection — two matrices.".into(),
            _ => return None,
        },
        Piece::Kv => {
            let (n, k) = (arch.n_head, arch.n_kv_head);
            match written {
                Family::Gpt2 if k < n && zh => format!(
                    "**分组查询注意力（GQA）**：{n} 个查询头共享 {k} 个键/值头，每 {} 个查询头读同一份键和值。",
                    arch.heads_per_kv()
                ),
                Family::Gpt2 if k < n => format!(
                    "**grouped-query attention**: its {n} query heads share {k} key/value heads, {} query heads reading the same keys and values.",
                    arch.heads_per_kv()
                ),
                Family::Llama if k == n && zh => {
                    "**每个查询头都有自己的键和值**（多头注意力，没有分组）。".into()
                }
                Family::Llama if k == n => {
                    "**every query head has its own keys and values** (multi-head attention, no groups).".into()
                }
                _ => return None,
            }
        }
        Piece::Head => match written {
            Family::Gpt2 if llama && !arch.tied_unembedding && zh => {
                "**不绑定的输出矩阵**：logits 来自单独的矩阵 lm_head，而不是再用一次 wte。".into()
            }
            Family::Gpt2 if llama && !arch.tied_unembedding => {
                "**an untied output matrix**: the logits come from lm_head, a matrix of its own, not from wte again.".into()
            }
            _ => return None,
        },
    })
}

/// The note a lesson starts with when the model on screen is not of the
/// family it is written for (a markdown block quote), or None.
pub fn note(l: &Lesson, arch: &Arch) -> Option<String> {
    let written = l.architecture?;
    if written == arch.family {
        return None;
    }
    let zh = l.lang == Lang::Zh;
    let (w, m) = (family_name(written), family_name(arch.family));
    let diffs: Vec<String> = touches(l)
        .into_iter()
        .filter_map(|p| difference(p, written, arch, l.lang))
        .collect();
    let mut out = if zh {
        format!("> **本课按 {w} 编写；屏幕上的模型是 {m}。**")
    } else {
        format!("> **This lesson is written for {w}; the model on screen is a {m}.**")
    };
    if diffs.is_empty() {
        out.push_str(if zh {
            " 本课讲的内容在两者中是一样的；`gptlens lesson modern` 讲它们的不同。"
        } else {
            " What this lesson shows works the same way in both; `gptlens lesson modern` shows where they differ."
        });
        return Some(out);
    }
    out.push_str(&if zh {
        format!(
            " 数字都来自这个模型本身（`gptlens lesson modern` 把两者并排对比）。下文讲 {w} 的地方，这个模型不同："
        )
    } else {
        format!(
            " The numbers are this model's own (`gptlens lesson modern` sets the two side by side). Where the text below describes {w}, this model differs:"
        )
    });
    for d in diffs {
        out.push_str(&format!("\n> - {d}"));
    }
    Some(out)
}
