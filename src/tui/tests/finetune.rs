//! The loss mask in the explorer: on a fine-tuned model (its folder carries a
//! chat template) a templated turn and reply shows which predictions
//! fine-tuning counts — the loss view greys the prompt's rows and gives the
//! response-only mean, the token strip greys the prompt's tokens.

use std::sync::Arc;

use super::support::{render_buffer, screen, vocab_of};
use crate::fmt::num;
use crate::model::Gpt;
use crate::pass::View;
use crate::readout::loss::token_losses;
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;
use crate::tui::views::loss::response_start;

const PAIR: &str =
    "Q: Write a story about Thepak.\nA: Once upon a time, there was a little girl named Thepak.";

fn app(model: &str, set_dir: bool) -> App {
    let dir = crate::paths::builtin_model(model).expect("built-in model");
    let gpt = Arc::new(Gpt::open(&dir).expect("open"));
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let ids = tok.encode(PAIR).expect("encode");
    let opts = Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    };
    let mut app = App::new(gpt.clone(), vocab_of(&gpt, &tok), &ids, opts).expect("app");
    if set_dir {
        app.set_model_dir(&dir);
    }
    app.show_view(View::Loss);
    app
}

#[test]
fn the_loss_view_and_strip_mark_what_fine_tuning_counts() {
    let mut a = app("tinystories-instruct", true);
    // "Q: Write a story about Thepak.\nA:" is 15 tokens.
    assert_eq!(response_start(&a), Some(15));
    let tr = a.trace().expect("trace").clone();
    let counted: Vec<f64> = token_losses(&tr)
        .iter()
        .filter(|l| l.pos + 1 >= 15)
        .map(|l| l.loss)
        .collect();
    let mean = counted.iter().sum::<f64>() / counted.len() as f64;
    for (w, h) in [(80, 24), (200, 60)] {
        let b = render_buffer(&mut a, w, h);
        let s = screen(&b);
        assert!(
            s.contains("fine-tuning counts only the reply"),
            "{w}×{h}:\n{s}"
        );
        if w == 200 {
            assert!(
                s.contains(&format!(
                    "mean {} nats over its {} predictions",
                    num(mean),
                    counted.len()
                )),
                "{s}"
            );
        }
    }
    // Position 0 predicts a prompt token: its row is grey; the selected
    // (last) position is in the reply.
    a.select_pos(0);
    let b = render_buffer(&mut a, 200, 60);
    let s = screen(&b);
    let row_of = |pos: usize, tok: &str| -> (u16, u16) {
        let y = s
            .lines()
            .position(|l| l.contains(&format!("{pos:>5} {tok} ")) && l.contains('→'))
            .unwrap_or_else(|| panic!("the row of position {pos}:\n{s}")) as u16;
        let line: Vec<&str> = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
        let x = (0..line.len())
            .find(|&x| line[x..].concat().starts_with(&format!("{tok} ")))
            .expect("token on the row") as u16;
        (x, y)
    };
    let grey = ratatui::style::Color::DarkGray;
    let (x, y) = row_of(0, "Q");
    assert_eq!(b[(x, y)].fg, grey, "the prompt's row is grey:\n{s}");
    let (x, y) = row_of(16, "Once");
    assert_ne!(b[(x, y)].fg, grey, "a counted row is not grey:\n{s}");
    // The strip (the second line): the prompt grey, the reply coloured.
    let strip: String = (0..b.area.width).map(|x| b[(x, 1)].symbol()).collect();
    assert!(strip.starts_with("Q "), "{strip}");
    assert_eq!(b[(0, 1)].fg, grey, "{strip}");
    let once = strip.find("Once").expect("Once in the strip");
    let x = strip[..once].chars().count() as u16;
    assert_eq!(
        b[(x, 1)].fg,
        a.theme().accent().fg.expect("a colour"),
        "{strip}"
    );
    // The base model's folder has no template: no mask.
    let mut base = app("tinystories", true);
    assert_eq!(response_start(&base), None);
    let s = screen(&render_buffer(&mut base, 200, 60));
    assert!(!s.contains("fine-tuning counts"), "{s}");
    // Nor without a folder.
    assert_eq!(response_start(&app("tinystories-instruct", false)), None);
}
