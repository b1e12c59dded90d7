//! A lesson is written for one architecture (`architecture:` in its front
//! matter, GPT-2 unless it says otherwise). Opened on a model of the other
//! family, its text still names the parts it was written about (wpe,
//! LayerNorm, GELU) while the numbers are the model's own; so the lesson
//! starts with a note of what this model does instead, for the parts the
//! lesson touches, and points to the `modern` lesson.

use super::{Block, Lesson, Part, Text};
use crate::i18n::{Lang, Msg};
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
    let llama = arch.family == Family::Llama;
    let m = match part {
        Piece::Norm => match (written, arch.norm) {
            (Family::Gpt2, Norm::RmsNorm) => Msg::NoteRmsNorm,
            (Family::Llama, Norm::LayerNorm) => Msg::NoteLayerNorm,
            _ => return None,
        },
        Piece::Positions => match (written, arch.positions) {
            (Family::Gpt2, Positions::Rotary) => Msg::NoteRope,
            (Family::Llama, Positions::Learned) => Msg::NoteWpe,
            _ => return None,
        },
        Piece::Mlp => match (written, arch.mlp) {
            (Family::Gpt2, Mlp::SwiGlu) => Msg::NoteSwiGlu,
            (Family::Llama, Mlp::Plain(_)) => Msg::NoteGelu,
            _ => return None,
        },
        Piece::Kv => {
            let (n, k) = (arch.n_head, arch.n_kv_head);
            match written {
                Family::Gpt2 if k < n => {
                    return Some(Msg::NoteGqa.fill(lang, &[&n, &k, &arch.heads_per_kv()]));
                }
                Family::Llama if k == n => Msg::NoteMha,
                _ => return None,
            }
        }
        Piece::Head => match written {
            Family::Gpt2 if llama && !arch.tied_unembedding => Msg::NoteUntied,
            _ => return None,
        },
    };
    Some(m.get(lang).to_string())
}

/// The note a lesson starts with when the model on screen is not of the
/// family it is written for (a markdown block quote), or None.
pub fn note(l: &Lesson, arch: &Arch) -> Option<String> {
    let written = l.architecture?;
    if written == arch.family {
        return None;
    }
    let (w, m) = (family_name(written), family_name(arch.family));
    let diffs: Vec<String> = touches(l)
        .into_iter()
        .filter_map(|p| difference(p, written, arch, l.lang))
        .collect();
    let mut out = Msg::NoteWrittenFor.fill(l.lang, &[&w, &m]);
    if diffs.is_empty() {
        out.push_str(Msg::NoteSame.get(l.lang));
        return Some(out);
    }
    out.push_str(&Msg::NoteDiffers.fill(l.lang, &[&w]));
    for d in diffs {
        out.push_str(&format!("\n> - {d}"));
    }
    Some(out)
}
