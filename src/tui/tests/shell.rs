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
use crate::tui::player::{Entry, Lessons, Player, Shell};
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
        draw::help_overlay(
            a.theme(),
            &[(crate::i18n::Msg::HelpSectionKeys, &EXPLORER)],
            scroll,
            area,
            &mut buf,
        );
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

/// The lessons the shell's tests move between: the built-in ones, each
/// opened on the explorer's own (random) model, keeping its look.
struct TestLessons(Vec<Entry>);

impl TestLessons {
    fn new() -> TestLessons {
        TestLessons(
            lesson::all()
                .expect("lessons")
                .into_iter()
                .map(|l| Entry {
                    name: l.name,
                    title: l.title,
                    summary: l.summary,
                })
                .collect(),
        )
    }
}

impl Lessons for TestLessons {
    fn list(&self) -> &[Entry] {
        &self.0
    }

    fn open(&mut self, name: &str, from: &App) -> Result<Player, String> {
        let l = lesson::find(name).map_err(|e| e.to_string())?;
        let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("byte tokenizer");
        let trace = trace_prompt(&l, from.gpt(), &tok).map_err(|e| e.to_string())?;
        let vocab = (0..from.gpt().config.vocab_size as u32)
            .map(|i| tok.token_text(i))
            .collect();
        let o = Options {
            theme: *from.theme(),
            ..options()
        };
        let app =
            App::new(from.gpt().clone(), vocab, &trace.tokens, o).map_err(|e| e.to_string())?;
        Ok(Player::new(app, l, tok, None))
    }
}

#[test]
fn o_opens_the_lesson_list_and_enter_a_lesson_on_the_same_model() {
    let a = explorer("Once upon a time");
    let gpt = a.gpt().clone();
    let names: Vec<String> = TestLessons::new().0.into_iter().map(|e| e.name).collect();
    let mut s = Shell::explorer(a, Box::new(TestLessons::new()));
    press(&mut s, &[ch('o')]);
    assert_eq!(s.picker(), Some(0));
    let shot = draw_screen(&mut s, 80, 24);
    for n in &names {
        assert!(shot.contains(n.as_str()), "{n} not listed:\n{shot}");
    }
    assert!(
        shot.contains("enter open") && shot.contains("q quit"),
        "{shot}"
    );
    // Esc closes the list; the explorer is still there.
    press(&mut s, &[key(KeyCode::Esc)]);
    assert_eq!(s.picker(), None);
    assert!(s.player().is_none());
    // ↓ ↓ enter: the third lesson, at its first step, on the same model.
    press(
        &mut s,
        &[
            ch('o'),
            key(KeyCode::Down),
            key(KeyCode::Down),
            key(KeyCode::Enter),
        ],
    );
    assert_eq!(s.picker(), None);
    let p = s.player().expect("a lesson is open");
    assert_eq!(p.lesson().name, names[2]);
    assert_eq!(p.scene(), 0);
    assert!(Arc::ptr_eq(p.app().gpt(), &gpt), "the same model");
    assert!(draw_screen(&mut s, 120, 40).contains("step 1/"));
    // From the lesson, o again: the list, the lesson shown selected and marked.
    press(&mut s, &[ch('o')]);
    assert_eq!(s.picker(), Some(2));
    let shot = draw_screen(&mut s, 120, 40);
    let row = shot
        .lines()
        .find(|l| l.contains(&format!(" 3 {}", names[2])))
        .unwrap_or_else(|| panic!("{shot}"));
    assert!(row.contains('•'), "{row}");
    // q quits from the list, as everywhere.
    press(&mut s, &[ch('q')]);
    assert!(s.app().should_quit());
}

#[test]
fn pgdn_at_a_lessons_last_step_offers_the_next_lesson_then_opens_it() {
    let mut l = TestLessons::new();
    let names: Vec<Entry> = l.0.clone();
    let mut a = explorer("x");
    apply(&mut a, &ch('z'));
    let p = l.open(&names[0].name, &a).expect("the first lesson");
    let mut s = Shell::lesson(p, Box::new(l));
    let n = s.player().expect("lesson").n_scenes();
    for _ in 1..n {
        press(&mut s, &[key(KeyCode::PageDown)]);
    }
    assert_eq!(s.player().expect("lesson").scene(), n - 1);
    assert!(
        draw_screen(&mut s, 200, 60).contains("pgdn next lesson"),
        "the key line names it"
    );
    // The first PgDn at the end offers, naming the next lesson.
    press(&mut s, &[key(KeyCode::PageDown)]);
    let p = s.player().expect("lesson");
    assert_eq!(p.lesson().name, names[0].name);
    let said = s.app().status().unwrap_or_default().to_string();
    assert!(
        said.contains(&names[1].title) && said.contains("pgdn again"),
        "{said}"
    );
    // The second takes it: the next lesson's first step, still presenting.
    press(&mut s, &[key(KeyCode::PageDown)]);
    let p = s.player().expect("lesson");
    assert_eq!(
        (p.lesson().name.as_str(), p.scene()),
        (names[1].name.as_str(), 0)
    );
    assert!(p.app().theme().present);
    // The last lesson offers none.
    let mut l = TestLessons::new();
    let last = names.last().expect("lessons");
    let p = l.open(&last.name, &a).expect("the last lesson");
    let mut s = Shell::lesson(p, Box::new(l));
    assert_eq!(s.player().and_then(Player::next_lesson), None);
    let n = s.player().expect("lesson").n_scenes();
    for _ in 0..n + 2 {
        press(&mut s, &[key(KeyCode::PageDown)]);
    }
    assert_eq!(s.player().expect("lesson").lesson().name, last.name);
}

/// `gptlens lesson attention --present` at a projector's sizes: at every
/// step (questions answered) the formula card is there, the view fills the
/// screen beside the text, and nothing is drawn over a border.
#[test]
fn the_lesson_player_in_presenter_mode_at_120x35_and_200x60() {
    use super::support::{built_in, vocab_of};
    let (gpt, tok) = built_in();
    let l = lesson::find("attention").expect("attention");
    let trace = trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
    let vocab = vocab_of(&gpt, &tok);
    let mut o = options();
    o.theme.present = true;
    let app = App::new(gpt, vocab, &trace.tokens, o).expect("app");
    let mut p = Player::new(app, l, tok, None);
    for i in 0..p.n_scenes() {
        p.goto(i);
        let open = p.checks()[i].len();
        for _ in 0..open {
            press(&mut p, &[ch('=')]);
        }
        for (w, h) in [(120u16, 35u16), (200, 60)] {
            let s = draw_screen(&mut p, w, h);
            if let Err(row) = bottoms_are_clean(&s) {
                panic!(
                    "step {} at {w}×{h}: a bottom border is overdrawn: {row}\n{s}",
                    i + 1
                );
            }
            assert!(
                s.contains("the formula, live"),
                "step {} at {w}×{h}: no card\n{s}",
                i + 1
            );
            // The explorer reaches the right edge and the bottom row.
            let rows: Vec<&str> = s.lines().collect();
            assert_eq!(rows.len(), h as usize);
            assert!(
                rows.iter()
                    .any(|r| r.trim_end().chars().count() == w as usize),
                "step {} at {w}×{h}: nothing reaches the right edge\n{s}",
                i + 1
            );
            assert!(!rows[h as usize - 1].trim().is_empty(), "{s}");
            if i == 1 {
                insta::assert_snapshot!(format!("player_present_attention_step2_{w}x{h}"), s);
            }
        }
    }
}

/// Issue 12 point 5: no Rust range syntax (`0..=8`, `4..10`) in what a
/// student reads: every lesson's text in both languages filled on the
/// built-in model, the player's screen at every step, the explorer at every
/// stage of the pass in every view, and the keys' help.
#[test]
fn no_user_text_prints_rust_range_syntax() {
    use super::support::{built_in, vocab_of};
    fn check(what: &str, s: &str) {
        let b = s.as_bytes();
        let digit_range = b
            .windows(4)
            .any(|w| w[0].is_ascii_digit() && &w[1..3] == b".." && w[3].is_ascii_digit());
        assert!(!s.contains("..=") && !digit_range, "{what}:\n{s}");
    }
    let (gpt, tok) = built_in();
    for lang in [crate::i18n::Lang::En, crate::i18n::Lang::Zh] {
        for l in lesson::all_in(lang).expect("lessons") {
            let trace = trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
            let env = lesson::Env::new(&gpt, &tok, &trace, &l.prompt, None);
            let md = lesson::render::markdown(&l, &env).unwrap_or_else(|e| panic!("{e}"));
            check(&format!("lesson {} ({lang:?})", l.name), &md);
            if lang == crate::i18n::Lang::En {
                let vocab = vocab_of(&gpt, &tok);
                let app = App::new(gpt.clone(), vocab, &trace.tokens, options()).expect("app");
                let name = l.name.clone();
                let mut p = Player::new(app, l, tok.clone(), None);
                for i in 0..p.n_scenes() {
                    p.goto(i);
                    for _ in 0..p.checks()[i].len() {
                        press(&mut p, &[ch('=')]);
                    }
                    check(
                        &format!("lesson {name} step {}", i + 1),
                        &draw_screen(&mut p, 120, 40),
                    );
                }
            }
        }
    }
    let ids = tok
        .encode("Once upon a time, there was a little girl")
        .expect("encode");
    let mut a = App::new(gpt.clone(), vocab_of(&gpt, &tok), &ids, options()).expect("app");
    a.set_tokenizer(tok.clone());
    for i in 0..a.pass().len() {
        a.goto_point(i);
        a.select_pos(4);
        check(
            &format!("{:?}", a.stage()),
            &screen(&render(&mut a, 200, 60)),
        );
    }
    for v in View::ALL {
        apply(&mut a, &ch(v.key()));
        check(&format!("{v:?}"), &screen(&render(&mut a, 120, 40)));
    }
    for r in EXPLORER
        .rows
        .iter()
        .chain(PLAYER.rows)
        .chain(crate::tui::keymap::PICKER.rows)
    {
        for l in crate::i18n::Lang::ALL {
            check(r.keys, r.help.get(l));
        }
    }
}

/// Issue 12 point 7: the tokens view replays byte-level BPE for the
/// selected position's word, and what it shows is readout's: the bytes,
/// each merge (rank and pair) in order, and last the tokens themselves.
#[test]
fn the_tokens_view_shows_the_selected_words_merges_step_by_step() {
    use super::support::{built_in, vocab_of};
    use crate::readout::bpe;
    use crate::tui::views::tokens::pieces_text;
    let (gpt, tok) = built_in();
    let ids = tok
        .encode("Once upon a time, there was a little girl")
        .expect("encode");
    let mut a = App::new(gpt.clone(), vocab_of(&gpt, &tok), &ids, options()).expect("app");
    a.set_tokenizer(tok.clone());
    apply(&mut a, &ch('1'));
    let mut merges_seen = 0;
    for pos in 0..ids.len() {
        a.select_pos(pos);
        let word = bpe::word_at(&tok, &ids, pos).expect("a word");
        let steps = bpe::steps(&tok, &word.bytes);
        // The last state is the tokens on screen for this word.
        let want: Vec<Vec<u8>> = ids[word.tokens.clone()]
            .iter()
            .map(|&id| tok.token_bytes(id).expect("bytes"))
            .collect();
        assert_eq!(steps.last().expect("a step").pieces, want);
        for (w, h) in [(80, 24), (120, 40)] {
            let s = screen(&render(&mut a, w, h));
            let lines: Vec<&str> = s.lines().collect();
            let mut at = 0;
            for st in &steps {
                let label = match &st.merge {
                    None => "bytes".to_string(),
                    Some((rank, l, r)) => format!(
                        "rank {rank}: {} + {}",
                        crate::text::visible_token(&crate::tokenizer::bytes_display(l)),
                        crate::text::visible_token(&crate::tokenizer::bytes_display(r))
                    ),
                };
                let pieces = pieces_text(&st.pieces);
                let found = lines[at..]
                    .iter()
                    .position(|l| l.contains(&label) && l.contains(&pieces))
                    .unwrap_or_else(|| {
                        panic!("pos {pos} at {w}×{h}: {label} / {pieces} not shown in order:\n{s}")
                    });
                at += found + 1;
                merges_seen += usize::from(st.merge.is_some());
            }
            assert!(
                lines[at - 1].contains("= tokens") || steps.len() == 1,
                "{s}"
            );
        }
    }
    assert!(merges_seen > 20, "a prompt of real merges: {merges_seen}");
    if std::env::var("SHOW").is_ok() {
        a.select_pos(8);
        eprintln!("{}", screen(&render(&mut a, 80, 24)));
        eprintln!("{}", screen(&render(&mut a, 120, 40)));
    }
}
