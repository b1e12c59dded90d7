//! Whole screens pinned with `insta`: every explorer view, the help overlay,
//! the too-small screen and the lesson player, at 80×24 and 120×40, on the
//! built-in model with a fixed prompt and seed. They are the safety net for
//! refactoring: a change in what any screen shows (text, or the colours of a
//! row) shows up as a snapshot diff.
//!
//! Each screen is reached with keys, as a person would, so the snapshots do not
//! depend on how the state is laid out inside. To accept an intended change:
//! `INSTA_UPDATE=always cargo test --release --lib tui::tests::snapshots`, then
//! review the diff of `src/tui/tests/snapshots/` before committing.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode};
use ratatui::layout::Rect;

use super::support::{built_in, built_in_dir, ch, key, screen, vocab_of};
use crate::lesson::{self, render};
use crate::sample::Sampling;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;
use crate::tui::player::Player;
use crate::tui::run::Screen;

const PROMPT: &str = "Once upon a time, there was a little girl named Lily. She";
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn options() -> Options {
    Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    }
}

fn explorer() -> App {
    let (gpt, tok) = built_in();
    let prompt = tok.encode(PROMPT).expect("encode");
    let vocab = vocab_of(&gpt, &tok);
    // As `gptlens explore` opens it: with the tokenizer (the tokens view
    // replays its merges).
    let mut app = App::new(gpt, vocab, &prompt, options()).expect("app");
    app.set_tokenizer(tok);
    app
}

fn attention_lesson() -> Player {
    let (gpt, tok) = built_in();
    let l = lesson::find("attention").expect("the attention lesson");
    let trace = render::trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
    let vocab = vocab_of(&gpt, &tok);
    let app = App::new(gpt, vocab, &trace.tokens, options()).expect("app");
    Player::new(app, l, tok, Some(built_in_dir()))
}

/// Sends the keys one by one, running the engine work each one queues.
fn press<S: Screen>(s: &mut S, keys: &[Event]) {
    for k in keys {
        s.handle(k);
        crate::tui::event::run_jobs_blocking(s.app_mut());
    }
}

fn spaces(n: usize) -> Vec<Event> {
    vec![ch(' '); n]
}

/// `keys` followed by `more`.
fn then(mut keys: Vec<Event>, more: &[Event]) -> Vec<Event> {
    keys.extend_from_slice(more);
    keys
}

fn draw<S: Screen>(s: &mut S, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    s.draw(area, &mut buf);
    buf
}

/// 64-bit FNV-1a: stable across Rust versions and machines (std's hasher is not
/// promised to be).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The screen's text, then one hash per row of every cell's colours and
/// modifiers: a colour change shows which rows changed without pinning
/// thousands of cell styles.
fn snapshot(b: &Buffer) -> String {
    let mut s = screen(b);
    s.push_str("--- style hash per row ---\n");
    for y in 0..b.area.height {
        let mut row = String::new();
        for x in 0..b.area.width {
            let c = &b[(x, y)];
            row.push_str(&format!("{:?}{:?}{:?};", c.fg, c.bg, c.modifier));
        }
        s.push_str(&format!("{y:2} {:016x}\n", fnv(row.as_bytes())));
    }
    s
}

/// The explorer screens: a name and the keys that reach it from the start
/// (the first stage, the embeddings view, the last prompt token selected).
fn explorer_screens() -> Vec<(&'static str, Vec<Event>)> {
    vec![
        ("tokens", vec![ch('1')]),
        ("embeddings", vec![]),
        // Five stages on is layer 0's softmax; `]` is the same stage in layer 1.
        ("attention", then(spaces(5), &[ch(']')])),
        (
            "attention_zoomed_scale_dropped",
            then(spaces(5), &[ch(']'), key(KeyCode::Enter), ch('s')]),
        ),
        ("layernorm", then(spaces(1), &[ch(']')])),
        ("mlp", then(spaces(11), &[ch(']')])),
        ("residual", then(spaces(8), &[ch(']')])),
        // 1 + 13 stages × 4 layers + final LayerNorm: the logits stage.
        ("logits", spaces(54)),
        ("loss", vec![ch('8')]),
        ("cost", vec![ch('9')]),
        ("training", vec![ch('0')]),
        ("quant", vec![ch('-')]),
        ("help", vec![ch('?')]),
    ]
}

#[test]
fn every_explorer_screen_at_80x24_and_120x40() {
    for (name, keys) in explorer_screens() {
        let mut app = explorer();
        press(&mut app, &keys);
        for (w, h) in SIZES {
            insta::assert_snapshot!(
                format!("explorer_{name}_{w}x{h}"),
                snapshot(&draw(&mut app, w, h))
            );
        }
    }
}

#[test]
fn the_too_small_screen() {
    let mut app = explorer();
    insta::assert_snapshot!(
        "explorer_too_small_50x15",
        snapshot(&draw(&mut app, 50, 15))
    );
}

#[test]
fn the_lesson_player_at_its_second_step() {
    let mut p = attention_lesson();
    press(&mut p, &[key(KeyCode::PageDown)]);
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("player_attention_step2_{w}x{h}"),
            snapshot(&draw(&mut p, w, h))
        );
    }
}

#[test]
fn the_lesson_player_with_its_help_open() {
    let mut p = attention_lesson();
    press(&mut p, &[ch('?')]);
    for (w, h) in SIZES {
        insta::assert_snapshot!(
            format!("player_help_{w}x{h}"),
            snapshot(&draw(&mut p, w, h))
        );
    }
}
