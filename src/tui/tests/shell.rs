//! The explorer's shell: the hint bar, the help overlay, the header at 80×24,
//! presenter mode's key, the sub-layer jump, the prompt editor and the
//! loading frame.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::support::{ch, key, render_buffer as render, screen};
use crate::lesson;
use crate::lesson::render::trace_prompt;
use crate::model::{Config, Gpt, random_model};
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tokenizer::{Tokenizer, bytes_tokenizer_json};
use crate::tui::app::{App, Options};
use crate::tui::draw::{self, Loading, caption};
use crate::tui::event::apply;
use crate::tui::heatmap::Theme;
use crate::tui::keymap::{EXPLORER, PLAYER};
use crate::tui::player::Player;
use crate::tui::run::Screen;

/// A random 2-layer, 4-head model on bytes with a context of 128.
fn random() -> (Arc<Gpt>, Tokenizer) {
    let gpt = random_model(&Config::new(2, 4, 64, 257, 128), 7, true);
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("byte tokenizer");
    (Arc::new(gpt), tok)
}

fn options() -> Options {
    Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    }
}

/// An explorer on `prompt`, with its tokenizer (so the prompt can be edited).
fn explorer(prompt: &str) -> App {
    let (gpt, tok) = random();
    let ids = tok.encode(prompt).expect("encode");
    let vocab = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_text(i))
        .collect();
    let mut app = App::new(gpt, vocab, &ids, options()).expect("app");
    app.set_tokenizer(tok);
    app
}

fn attention_lesson() -> Player {
    let (gpt, tok) = random();
    let l = lesson::find("attention").expect("attention");
    let trace = trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
    let vocab = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_text(i))
        .collect();
    let app = App::new(gpt, vocab, &trace.tokens, options()).expect("app");
    Player::new(app, l, tok, None)
}

fn draw_screen<S: Screen>(s: &mut S, w: u16, h: u16) -> String {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    s.draw(area, &mut buf);
    screen(&buf)
}

fn press<S: Screen>(s: &mut S, keys: &[Event]) {
    for k in keys {
        s.handle(k);
        crate::tui::event::run_jobs_blocking(s.app_mut());
    }
}

fn typed(text: &str) -> Vec<Event> {
    text.chars().map(ch).collect()
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap_or("")
}

#[test]
fn the_hint_bar_names_help_and_quit_in_every_view_at_80x24() {
    let mut a = explorer("Once upon a time");
    for v in View::ALL {
        apply(&mut a, &ch(v.key()));
        for (w, h) in [(80, 24), (60, 18), (120, 35)] {
            let s = screen(&render(&mut a, w, h));
            let bar = last_line(&s);
            assert!(
                bar.contains("? help") && bar.contains("q quit"),
                "{v:?} at {w}×{h}: the hint bar lacks help or quit: {bar:?}"
            );
            assert!(
                bar.contains(v.name()),
                "{v:?}: the current view is named: {bar:?}"
            );
            // Whole entries only: nothing is cut with an ellipsis.
            assert!(!bar.contains('…'), "{v:?} at {w}×{h}: {bar:?}");
        }
    }
    // A message keeps them too.
    a.set_status(Some("at the prompt: nothing to take back".into()));
    let s = screen(&render(&mut a, 80, 24));
    assert!(last_line(&s).contains("nothing to take back") && last_line(&s).contains("q quit"));
}

#[test]
fn the_header_never_cuts_a_stage_caption() {
    let mut a = explorer("Once upon a time");
    for i in 0..a.pass().len() {
        a.goto_point(i);
        for w in [60, 80, 120] {
            let s = screen(&render(&mut a, w, 24));
            let head: String = s.lines().take(2).collect::<Vec<_>>().join("\n");
            let title = a.stage().title();
            assert!(
                head.contains(title),
                "{:?} at width {w}: the header lacks {title:?}:\n{head}",
                a.stage()
            );
            assert!(!head.contains('…'), "cut header at {w}: {head}");
        }
    }
    for v in [View::Loss, View::Cost, View::Training] {
        a.show_view(v);
        let s = screen(&render(&mut a, 80, 24));
        let head: String = s.lines().take(2).collect::<Vec<_>>().join("\n");
        assert!(head.contains(caption(&a)), "{v:?}: {head}");
    }
}

/// Every row's keys, as the overlay names them (the first 13 characters: a
/// narrow overlay cuts longer key lists), seen on the screens in `shots`.
fn missing_rows(shots: &[String], maps: &[&crate::tui::keymap::Keymap]) -> Vec<&'static str> {
    maps.iter()
        .flat_map(|m| m.rows.iter())
        .filter(|r| {
            let k: String = r.keys.chars().take(13).collect();
            !shots
                .iter()
                .any(|s| s.lines().any(|l| l.contains(k.trim_end())))
        })
        .map(|r| r.keys)
        .collect()
}

#[test]
fn the_help_overlay_shows_every_key_at_80x24_with_q_on_the_first_page() {
    let mut a = explorer("Once upon a time");
    apply(&mut a, &ch('?'));
    // 80×24: every key at once (two columns, a long help cut to its line).
    let first = screen(&render(&mut a, 80, 24));
    assert!(
        first.contains("q ctrl-c") && first.contains("quit"),
        "{first}"
    );
    assert_eq!(
        missing_rows(std::slice::from_ref(&first), &[&EXPLORER]),
        Vec::<&str>::new(),
        "{first}"
    );
    assert!(!first.contains("more rows"), "{first}");
    // In a box too small for every row: q on the first page, a line says
    // there is more, and scrolling shows every row on some page.
    let overlay = |scroll: usize| {
        let area = Rect::new(0, 0, 50, 12);
        let mut buf = Buffer::empty(area);
        draw::help_overlay(a.theme(), &[("keys", &EXPLORER)], scroll, area, &mut buf);
        screen(&buf)
    };
    let first = overlay(0);
    assert!(first.contains("q ctrl-c"), "{first}");
    assert!(first.contains("more rows"), "says there is more: {first}");
    let shots: Vec<String> = (0..40).map(overlay).collect();
    assert_eq!(missing_rows(&shots, &[&EXPLORER]), Vec::<&str>::new());
    // ↓ scrolls, it does not close the help.
    apply(&mut a, &key(KeyCode::Down));
    assert!(a.help() && a.help_scroll() == 1);
    // Any other key closes it.
    apply(&mut a, &ch('x'));
    assert!(!a.help());

    // Wide enough, it is all on one page (two columns), wrapped, not cut.
    apply(&mut a, &ch('?'));
    let wide = screen(&render(&mut a, 120, 35));
    assert_eq!(
        missing_rows(std::slice::from_ref(&wide), &[&EXPLORER]),
        Vec::<&str>::new()
    );
    assert!(!wide.contains("more rows"), "{wide}");
    assert!(!wide.contains('…'), "{wide}");
    if std::env::var("SHOW").is_ok() {
        eprintln!("{}\n{wide}", shots[3]);
        a.set_help(false);
        for v in View::ALL {
            apply(&mut a, &ch(v.key()));
            eprintln!("{}", screen(&render(&mut a, 80, 24)));
        }
    }
}

#[test]
fn the_player_uses_the_same_overlay_with_both_keymaps() {
    let mut p = attention_lesson();
    press(&mut p, &[ch('?')]);
    let first = draw_screen(&mut p, 80, 24);
    assert!(first.contains("lesson keys"), "{first}");
    if std::env::var("SHOW").is_ok() {
        eprintln!("{first}");
    }
    // 80×24: every lesson and explorer key on the one page.
    let shots = vec![first];
    assert_eq!(
        missing_rows(&shots, &[&PLAYER, &EXPLORER]),
        Vec::<&str>::new()
    );
    // Any key closes it (? too); ? opens it again at the top.
    press(&mut p, &[ch('?')]);
    assert!(!p.app().help());
    press(&mut p, &[ch('?')]);
    let wide = draw_screen(&mut p, 200, 60);
    assert_eq!(
        missing_rows(&[wide], &[&PLAYER, &EXPLORER]),
        Vec::<&str>::new()
    );
}

#[test]
fn z_toggles_presenter_mode_in_the_explorer_and_the_player() {
    let mut a = explorer("Once upon a time");
    assert!(!a.theme().present);
    apply(&mut a, &ch('z'));
    assert!(a.theme().present);
    apply(&mut a, &key(KeyCode::F(5)));
    assert!(!a.theme().present);

    let mut p = attention_lesson();
    press(&mut p, &[ch('z')]);
    assert!(p.app().theme().present);
    press(&mut p, &[ch('z')]);
    assert!(!p.app().theme().present);
}

#[test]
fn j_jumps_sub_layer_by_sub_layer_and_back() {
    let mut a = explorer("Once upon a time");
    let mut seen = vec![(a.stage(), a.current().layer)];
    for _ in 0..13 {
        apply(&mut a, &ch('j'));
        seen.push((a.stage(), a.current().layer));
    }
    use Stage::*;
    assert_eq!(
        seen,
        [
            (Embed, 0),
            (Ln1, 0),
            (Qkv, 0),
            (Resid1, 0),
            (Ln2, 0),
            (MlpUp, 0),
            (Resid2, 0),
            (Ln1, 1),
            (Qkv, 1),
            (Resid1, 1),
            (Ln2, 1),
            (MlpUp, 1),
            (Resid2, 1),
            (FinalLn, 0),
        ]
    );
    // Each jump shows a different view than the one before.
    for p in seen.windows(2) {
        assert_ne!(p[0].0.view(), p[1].0.view());
    }
    let n = a.tokens().len();
    apply(&mut a, &ch('j'));
    assert_eq!(a.stage(), Logits);
    apply(&mut a, &ch('j'));
    assert_eq!(
        (a.stage(), a.tokens().len()),
        (Embed, n + 1),
        "past the end: the next token"
    );
    // J goes back group by group, across the token too.
    apply(&mut a, &ch('J'));
    assert_eq!((a.stage(), a.tokens().len()), (Logits, n));
    apply(&mut a, &ch('J'));
    assert_eq!(a.stage(), FinalLn);
    apply(&mut a, &ch('J'));
    assert_eq!((a.stage(), a.current().layer), (Resid2, 1));
    // From inside a group, J goes to the previous group's start.
    a.goto_stage(Softmax, 0);
    apply(&mut a, &ch('J'));
    assert_eq!(a.stage(), Ln1);
}

#[test]
fn the_prompt_editor_reruns_the_trace_or_cancels() {
    let mut a = explorer("a girl");
    apply(&mut a, &ch('i'));
    assert_eq!(a.editor().map(|e| e.text.as_str()), Some("a girl"));
    let s = screen(&render(&mut a, 80, 24));
    assert!(last_line(&s).contains("prompt: a girl"), "{s}");
    assert!(last_line(&s).contains("esc cancels"), "{s}");
    // Every key is text while editing: q does not quit, n does not step.
    let mut keys = vec![key(KeyCode::Backspace); 4];
    keys.extend(typed("boyqn"));
    keys.extend([key(KeyCode::Backspace), key(KeyCode::Backspace)]);
    for k in &keys {
        apply(&mut a, k);
    }
    assert!(!a.should_quit());
    assert_eq!(a.editor().map(|e| e.text.as_str()), Some("a boy"));
    apply(&mut a, &key(KeyCode::Enter));
    assert!(!a.editing());
    let want: Vec<u32> = "a boy".bytes().map(u32::from).collect();
    assert_eq!(a.tokens(), want.as_slice());
    let tr = a.trace().expect("trace");
    assert_eq!(tr.len(), want.len(), "the trace was run again");
    assert_eq!(a.pos(), want.len() - 1);
    // The new trace equals a fresh run of the new prompt.
    let (gpt, _) = random();
    let fresh = gpt.trace(&want, &Default::default()).expect("trace");
    assert_eq!(
        tr.logits.row(want.len() - 1).to_vec(),
        fresh.logits.row(want.len() - 1).to_vec()
    );

    // Esc leaves everything as it was.
    apply(&mut a, &ch('i'));
    for k in typed(" and a dog") {
        apply(&mut a, &k);
    }
    apply(&mut a, &key(KeyCode::Esc));
    assert!(!a.editing());
    assert_eq!(a.tokens(), want.as_slice());
}

#[test]
fn a_prompt_longer_than_the_context_is_refused_with_a_notice() {
    let mut a = explorer("a girl");
    let before = a.tokens().to_vec();
    apply(&mut a, &ch('i'));
    let long = "x".repeat(200);
    for k in typed(&long) {
        apply(&mut a, &k);
    }
    apply(&mut a, &key(KeyCode::Enter));
    assert!(a.editing(), "the editor stays open to shorten the prompt");
    assert_eq!(a.tokens(), before.as_slice());
    let s = screen(&render(&mut a, 80, 24));
    let notice = s.lines().rev().nth(1).unwrap_or("");
    assert!(
        notice.contains("refused") && notice.contains("206 tokens") && notice.contains("128"),
        "{s}"
    );
    // An empty prompt is refused too.
    let ctrl_u = Event::Key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    apply(&mut a, &ctrl_u);
    apply(&mut a, &key(KeyCode::Enter));
    assert!(a.editing() && a.status().is_some_and(|s| s.contains("empty")));
    assert_eq!(a.tokens(), before.as_slice());
}

#[test]
fn in_a_lesson_the_editor_takes_the_answer_keys() {
    let mut p = attention_lesson();
    let checks = p.checks().to_vec();
    press(&mut p, &[ch('i')]);
    assert!(p.app().editing());
    press(&mut p, &typed("abcdefgh"));
    assert_eq!(p.checks(), checks.as_slice(), "no question was answered");
    press(&mut p, &[key(KeyCode::Esc)]);
    assert!(!p.app().editing());
}

#[test]
fn the_loading_frame_names_the_model_and_its_size() {
    let what = Loading {
        name: "gpt2-small".into(),
        details: vec!["124M parameters · 12 layers".into()],
    };
    for (w, h) in [(80, 24), (200, 60)] {
        let area = Rect::new(0, 0, w, h);
        let mut buf = Buffer::empty(area);
        draw::loading(&what, &Theme::default(), area, &mut buf);
        let s = screen(&buf);
        assert!(s.contains("loading gpt2-small"), "{s}");
        assert!(s.contains("124M parameters · 12 layers"), "{s}");
    }
}

/// The five big-digit rows and the label row of the presenter card.
fn card_rows(s: &str) -> (Vec<&str>, &str) {
    let lines: Vec<&str> = s.lines().collect();
    let top = lines
        .iter()
        .position(|l| l.contains("the formula, live"))
        .unwrap_or_else(|| panic!("no formula card:\n{s}"));
    (lines[top + 2..top + 7].to_vec(), lines[top + 7])
}

fn presenting(prompt: &str) -> App {
    let mut a = explorer(prompt);
    apply(&mut a, &ch('z'));
    a
}

#[test]
fn presenter_mode_shows_the_stages_formula_large_with_the_live_numbers() {
    use crate::fmt::num;
    use crate::readout::{attention, layernorm};
    let mut a = presenting("Once upon a time");
    a.goto_stage(Stage::Softmax, 1);
    apply(&mut a, &key(KeyCode::Down));
    for (w, h) in [(120, 35), (200, 60)] {
        let s = screen(&render(&mut a, w, h));
        let (big, labels) = card_rows(&s);
        let tr = a.trace().expect("trace");
        let c = attention::cell(tr, 1, a.head(), a.pos(), a.cell(), true);
        let want = format!(
            "{}÷{}={}",
            num(c.exp as f64),
            num(c.sum_exp as f64),
            num(c.weight as f64)
        );
        assert_eq!(crate::tui::present::read_big(&big), want, "{w}×{h}:\n{s}");
        for l in ["exp(s − m)", "Σ over the row", "weight p"] {
            assert!(labels.contains(l), "{w}×{h}: labels {labels:?}");
        }
        assert!(s.contains("softmax: p = exp(s − m) ÷ Σ exp(s − m)"), "{s}");
    }
    // The LayerNorm card: the numbers readout gives.
    a.goto_stage(Stage::Ln2, 0);
    let s = screen(&render(&mut a, 200, 60));
    let (big, _) = card_rows(&s);
    let tr = a.trace().expect("trace");
    let ln = layernorm::at(a.gpt(), tr, layernorm::Site::Ln2(0));
    let e = ln.element(a.pos(), a.cell());
    let want = format!(
        "({}-{})÷{}={}",
        num(e.x as f64),
        num(e.mean as f64),
        num(ln.std(a.pos(), ln.eps as f64)),
        num(e.xhat as f64)
    );
    assert_eq!(crate::tui::present::read_big(&big), want, "{s}");
    // Off again: no card.
    apply(&mut a, &ch('z'));
    assert!(!screen(&render(&mut a, 200, 60)).contains("the formula, live"));
}

/// Every run from '└' to the next '┘' on a row is border only: nothing
/// was drawn over a panel's bottom edge.
fn bottoms_are_clean(s: &str) -> Result<(), String> {
    for l in s.lines() {
        let cs: Vec<char> = l.chars().collect();
        let mut i = 0;
        while i < cs.len() {
            if cs[i] == '└' {
                let end = cs[i..].iter().position(|&c| c == '┘').map(|e| i + e);
                if let Some(e) = end {
                    if cs[i + 1..e].iter().any(|&c| c != '─' && c != '┴') {
                        return Err(l.to_string());
                    }
                    i = e;
                }
            }
            i += 1;
        }
    }
    Ok(())
}

#[test]
fn presenter_mode_draws_nothing_over_a_border_in_any_view_or_stage() {
    let mut a = presenting("Once upon a time");
    for i in 0..a.pass().len() {
        a.goto_point(i);
        for (w, h) in [(120, 35), (200, 60)] {
            let s = screen(&render(&mut a, w, h));
            if let Err(row) = bottoms_are_clean(&s) {
                panic!(
                    "{:?} at {w}×{h}: a bottom border is overdrawn: {row}\n{s}",
                    a.stage()
                );
            }
        }
    }
    for v in View::ALL {
        apply(&mut a, &ch(v.key()));
        let s = screen(&render(&mut a, 200, 60));
        assert!(bottoms_are_clean(&s).is_ok(), "{v:?}:\n{s}");
    }
}

#[test]
fn presenter_screens_at_120x35_and_200x60() {
    use super::support::{built_in, vocab_of};
    let (gpt, tok) = built_in();
    let ids = tok
        .encode("Once upon a time, there was a little girl named Lily. She")
        .expect("encode");
    let vocab = vocab_of(&gpt, &tok);
    let mut a = App::new(gpt, vocab, &ids, options()).expect("app");
    apply(&mut a, &ch('z'));
    a.goto_stage(Stage::Softmax, 1);
    event_settle(&mut a);
    for (w, h) in [(120, 35), (200, 60)] {
        let s = screen(&render(&mut a, w, h));
        insta::assert_snapshot!(format!("presenter_softmax_{w}x{h}"), s);
    }
    a.goto_stage(Stage::Ln1, 2);
    event_settle(&mut a);
    let s = screen(&render(&mut a, 200, 60));
    insta::assert_snapshot!("presenter_layernorm_200x60", s);
}

fn event_settle(a: &mut App) {
    crate::tui::event::settle(a);
}
