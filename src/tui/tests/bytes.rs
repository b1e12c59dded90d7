//! Partial UTF-8 tokens (issue 12, point 7): a Chinese prompt on the built-in
//! tokenizer and on GPT-2's shows each token's real bytes (`<e5>`), never a
//! bare `�`, in the token strip, the tokens view (text and bytes columns) and
//! the attention axes.

use std::sync::Arc;

use super::support::{built_in, render_buffer as render, screen, vocab_of};
use crate::model::{Config, Gpt, random_model};
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;

const PROMPT: &str = "小猫很开心";

fn gpt2() -> Tokenizer {
    let here = env!("CARGO_MANIFEST_DIR");
    let path = [
        format!("{here}/../shared/data/gpt2-tokenizer/tokenizer.json"),
        format!("{here}/../../shared/data/gpt2-tokenizer/tokenizer.json"),
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).is_file())
    .expect("GPT-2's tokenizer.json in ../shared/data/gpt2-tokenizer/ beside the clone");
    Tokenizer::open(std::path::Path::new(&path)).expect("GPT-2's tokenizer")
}

fn app_for(gpt: Arc<Gpt>, tok: &Tokenizer) -> App {
    let ids = tok.encode(PROMPT).expect("encode");
    let opts = Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    };
    App::new(gpt.clone(), vocab_of(&gpt, tok), &ids, opts).expect("app")
}

#[test]
fn a_chinese_prompt_shows_real_bytes_everywhere() {
    let (gpt, tok) = built_in();
    let g2 = gpt2();
    // GPT-2's vocabulary with a tiny random model of its size.
    let big = Arc::new(random_model(&Config::new(1, 2, 16, 50257, 64), 3, false));
    for (name, mut a, tok) in [
        ("built-in", app_for(gpt, &tok), tok),
        ("GPT-2", app_for(big, &g2), g2),
    ] {
        let ids = a.tokens().to_vec();
        let partial: Vec<u32> = ids
            .iter()
            .copied()
            .filter(|&id| tok.token_text(id).contains('\u{fffd}'))
            .collect();
        assert!(!partial.is_empty(), "{name}: the prompt has partial tokens");
        // The strip (every screen) and the tokens view.
        a.show_view(View::Tokens);
        for (w, h) in [(80, 24), (120, 40)] {
            let s = screen(&render(&mut a, w, h));
            assert!(!s.contains('\u{fffd}'), "{name} {w}×{h}:\n{s}");
            assert!(!s.contains("ef bf bd"), "{name} {w}×{h}:\n{s}");
            assert!(s.contains("<e"), "{name} {w}×{h}:\n{s}");
        }
        // The bytes column holds each token's real bytes.
        for (pos, &id) in ids.iter().enumerate() {
            a.select_pos(pos);
            let s = screen(&render(&mut a, 120, 40));
            let want: Vec<String> = tok
                .token_bytes(id)
                .expect("bytes")
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect();
            let want = want.join(" ");
            let row = s
                .lines()
                .find(|l| l.contains(&format!("  {id:>6}  ")))
                .unwrap_or_else(|| panic!("{name}: no row for id {id}:\n{s}"));
            assert!(
                row.contains(&want),
                "{name}: id {id} row {row:?} lacks {want:?}"
            );
        }
        // The attention axes.
        assert!(a.goto_stage(Stage::Softmax, 0));
        a.set_zoom(true);
        let s = screen(&render(&mut a, 120, 40));
        assert!(!s.contains('\u{fffd}') && s.contains("<e"), "{name}:\n{s}");
    }
}
