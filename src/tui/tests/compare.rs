//! Compare mode: the built-in model (A) and its fine-tune (B) on one pair,
//! drawn in the loss, logits and attention views at 80×24 and 200×60; the
//! numbers on screen are readout::compare's, the difference B − A marked;
//! the other views draw A alone; snapshots pin the screens.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::support::{screen, vocab_of};
use crate::fmt::{compact, num};
use crate::model::Gpt;
use crate::pass::View;
use crate::readout::compare::{self as cmp, CompareModel};
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;

const PAIR: &str =
    "Q: Write a story about Thepak.\nA: Once upon a time, there was a little girl named Thepak.";
const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

fn open(name: &str) -> (Arc<Gpt>, Tokenizer) {
    let dir = crate::paths::builtin_model(name).expect("built-in model");
    let gpt = Arc::new(Gpt::open(&dir).expect("open"));
    (
        gpt,
        Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer"),
    )
}

/// A = the built-in base, B = tinystories-instruct, the pair's tokens.
fn app() -> App {
    app_in(Theme::default())
}

/// [`app`] drawn with `theme` (zh_other draws it in Chinese).
pub(super) fn app_in(theme: Theme) -> App {
    let (a, tok) = open("tinystories");
    let (b, tok_b) = open("tinystories-instruct");
    cmp::same_vocabulary(&tok, &tok_b).expect("one tokenizer");
    let ids = tok.encode(PAIR).expect("encode");
    let opts = Options {
        theme,
        sampling: Sampling::default(),
        seed: 1,
    };
    let mut app = App::new(a.clone(), vocab_of(&a, &tok), &ids, opts).expect("app");
    app.set_model_dir(&crate::paths::builtin_model("tinystories").expect("dir"));
    app.set_compare(CompareModel::new(b, "tinystories-instruct"));
    app
}

fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    super::support::render_buffer(app, w, h)
}

fn traces(app: &App) -> (crate::model::Trace, Arc<crate::model::Trace>) {
    let a = app.trace().expect("trace").clone();
    let b = app.compare().expect("compare").trace(&a.tokens).expect("B");
    (a, b)
}

#[test]
fn the_loss_view_shows_both_losses_and_the_difference() {
    let mut app = app();
    app.show_view(View::Loss);
    let (a, b) = traces(&app);
    let s = cmp::summary(&a, &b);
    assert!(s.mean_b < s.mean_a, "the fine-tune reads the pair better");
    for (w, h) in SIZES {
        let text = screen(&draw(&mut app, w, h));
        assert!(
            text.contains("A = tinystories · B = tinystories-instruct"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "mean loss A {} · B {}",
                num(s.mean_a),
                num(s.mean_b)
            )),
            "{w}×{h}:\n{text}"
        );
        assert!(
            text.contains(&compact((s.mean_b - s.mean_a) as f32)),
            "{text}"
        );
    }
    // The selected (last scored) row: both losses and Δloss = B − A.
    app.select_pos(a.len() - 2);
    let text = screen(&draw(&mut app, 200, 60));
    let p = &cmp::losses(&a, &b)[a.len() - 2];
    let row = text
        .lines()
        .find(|l| l.contains(&format!("{:>4} ", p.pos)) && l.contains('→'))
        .expect("the selected row");
    for v in [
        compact(p.a.loss as f32),
        compact(p.b.loss as f32),
        compact(p.d_loss() as f32),
    ] {
        assert!(row.contains(&v), "{v} in {row}");
    }
}

#[test]
fn the_logits_view_shows_both_distributions_where_the_reply_starts() {
    let mut app = app();
    app.show_view(View::Logits);
    app.select_pos(14); // ':' of "A:", the last prompt token
    let (a, b) = traces(&app);
    let c = cmp::candidates(&a, &b, 14, 3);
    let text = screen(&draw(&mut app, 200, 60));
    assert!(text.contains("next token after position 14"), "{text}");
    let (pa, pb) = (cmp::probs(&a, 14), cmp::probs(&b, 14));
    assert!(
        text.contains(&format!("KL(A‖B) here {} nats", num(cmp::kl(&pa, &pb)))),
        "{text}"
    );
    assert!(
        text.contains("they differ"),
        "the base and the fine-tune disagree here:\n{text}"
    );
    for x in &c[..3] {
        let line = text
            .lines()
            .find(|l| l.contains(&compact(x.p_a as f32)) && l.contains(&compact(x.p_b as f32)))
            .unwrap_or_else(|| panic!("a row with P(A) and P(B) of {x:?}:\n{text}"));
        assert!(line.contains(&compact(x.d_p() as f32)), "{line}");
    }
    let small = screen(&draw(&mut app, 80, 24));
    assert!(small.contains("P(A)") && small.contains("Δp"), "{small}");
}

#[test]
fn the_attention_view_compares_one_head_and_other_views_draw_a_alone() {
    let mut app = app();
    app.show_view(View::Attention);
    app.select_layer(3);
    app.select_head(2);
    app.select_pos(26); // '·named', just before the reply writes the name
    let (a, b) = traces(&app);
    let row = cmp::attention_row(&a, &b, 3, 2, 26).expect("row");
    let text = screen(&draw(&mut app, 200, 60));
    assert!(
        text.contains("attention of layer 3 head 2 from position 26"),
        "{text}"
    );
    // The instruction's first name piece (position 8): B weighs it far more.
    let (wa, wb) = row[8];
    assert!(wb > wa + 0.3, "{wa} {wb}");
    let line = text
        .lines()
        .find(|l| l.contains("   8 ") && l.contains(&compact(wb)))
        .unwrap_or_else(|| panic!("key 8's row:\n{text}"));
    assert!(
        line.contains(&compact(wa)) && line.contains(&format!("+{}", compact(wb - wa))),
        "{line}"
    );
    app.show_view(View::Embeddings);
    let text = screen(&draw(&mut app, 200, 60));
    assert!(!text.contains("compare ·"), "{text}");
}

#[test]
fn compare_screens_at_80x24_and_200x60() {
    for (name, view) in [
        ("loss", View::Loss),
        ("logits", View::Logits),
        ("attention", View::Attention),
    ] {
        let mut app = app();
        app.show_view(view);
        for (w, h) in SIZES {
            let b = draw(&mut app, w, h);
            insta::assert_snapshot!(format!("compare_{name}_{w}x{h}"), screen(&b));
            assert_eq!(b.area, Rect::new(0, 0, w, h));
        }
    }
}
