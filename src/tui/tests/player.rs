//! The lesson player: rendering at small and large sizes, step moves, free
//! exploration and `r`, checkpoints, and every lesson stepped through.

use std::path::PathBuf;
use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyModifiers, MouseEvent, MouseEventKind};

use super::support::{ch, key, screen};
use crate::lesson::{self, Lesson, render};
use crate::model::{Config, Gpt, random_model};
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tokenizer::{Tokenizer, bytes_tokenizer_json};
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;
use crate::tui::markdown::markdown;
use crate::tui::player::{Check, Player, draw_player};

/// A random 2-layer, 4-head model on bytes: every lesson's selections fit it.
fn random() -> (Arc<Gpt>, Tokenizer) {
    let gpt = random_model(&Config::new(2, 4, 64, 257, 128), 7, true);
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("byte tokenizer");
    (Arc::new(gpt), tok)
}

fn player(l: Lesson, gpt: Arc<Gpt>, tok: Tokenizer, dir: Option<PathBuf>) -> Player {
    let trace = render::trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
    let vocab = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_text(i))
        .collect();
    let app = App::new(
        gpt,
        vocab,
        &trace.tokens,
        Options {
            theme: Theme::default(),
            sampling: Sampling::default(),
            seed: 0,
        },
    )
    .expect("app");
    Player::new(app, l, tok, dir)
}

fn attention() -> Player {
    let (gpt, tok) = random();
    player(
        lesson::find("attention").expect("attention"),
        gpt,
        tok,
        None,
    )
}

fn render(p: &mut Player, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    p.sync();
    let mut hits = vec![];
    t.draw(|f| hits = draw_player(p, f.area(), f.buffer_mut()))
        .expect("draw");
    p.app_mut().drawn(hits);
    screen(t.backend().buffer())
}

/// The number printed right after `label` somewhere on the screen.
fn number_after(screen: &str, label: &str) -> Option<f64> {
    let i = screen.find(label)? + label.len();
    let rest = screen[i..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '.' | 'e')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[test]
fn a_step_shows_its_text_with_the_engines_numbers_at_80x24_and_200x60() {
    for &(w, h) in &[(80u16, 24u16), (200, 60)] {
        let mut p = attention();
        p.apply(&key(KeyCode::PageDown));
        assert_eq!(p.scene(), 1);
        // Scroll through the text collecting every screen: at 80×24 it is
        // a few lines at a time.
        let mut all = String::new();
        for _ in 0..20 {
            let s = render(&mut p, w, h);
            all.push_str(&s);
            p.apply(&ch('d'));
        }
        let first = render(&mut p, w, h);
        assert!(first.contains("step 2/6"), "{w}×{h}:\n{first}");
        // The step zooms on its cell; the header names the stage's formula.
        // At 80×24 the text has the screen and `x` shows the explorer.
        if h < 30 {
            p.apply(&ch('x'));
        }
        let view = render(&mut p, w, h);
        assert!(
            view.contains("scores = Q·Kᵀ/√dₖ"),
            "view title {w}×{h}:\n{view}"
        );
        if h < 30 {
            p.apply(&ch('x'));
        }
        assert!(all.contains("2. Scores: q·k / √dₖ"), "{all}");
        // The score shown is the engine's q·k/√dₖ for the step's selection.
        let shown = number_after(&all, "score = q·k/√dₖ =").expect("score on screen");
        let tr = p.app().trace().expect("trace");
        let sel = p.filled().as_ref().map(|f| f.sel).expect("filled");
        assert_eq!(sel.pos, tr.len() - 1, "the step selects the last position");
        let engine = tr.layers[sel.layer].scores[sel.head][sel.pos][sel.key] as f64;
        assert!(
            (shown - engine).abs() <= 1e-3 * engine.abs().max(1.0),
            "{w}×{h}: shown {shown}, engine {engine}"
        );
    }
}

#[test]
fn text_and_view_sit_side_by_side_when_wide_and_stacked_when_narrow() {
    let mut p = attention();
    p.apply(&ch('=')); // the first step hides the view until its question is answered
    let wide = render(&mut p, 200, 60);
    let row = wide.lines().nth(1).unwrap_or_default();
    // The lesson's title and the explorer's header share the top rows.
    assert!(
        wide.lines()
            .next()
            .unwrap_or_default()
            .contains("step 1/6 · Attention")
    );
    assert!(
        wide.lines()
            .any(|l| l.contains("1. Queries, keys and values") && l.contains("│")),
        "{wide}"
    );
    assert!(row.chars().count() <= 200);
    // Narrow and tall enough: the text above the explorer.
    let narrow = render(&mut p, 80, 40);
    let lines: Vec<&str> = narrow.lines().collect();
    assert!(lines[0].contains("step 1/6 · Attention"), "{narrow}");
    // The explorer's header (progress bar) comes below the text.
    let header = lines.iter().position(|l| l.contains("[█")).expect("header");
    assert!(header >= 12, "{narrow}");
    // x gives the text the whole screen.
    p.apply(&ch('x'));
    let full = render(&mut p, 80, 40);
    assert!(!full.contains("[█"), "{full}");
    p.apply(&ch('x'));
    assert!(render(&mut p, 80, 40).contains("[█"));
    // 80×24 is too short for both: the text, and x the explorer.
    let short = render(&mut p, 80, 24);
    assert!(
        short.contains("1. Queries, keys and values") && !short.contains("[█"),
        "{short}"
    );
    p.apply(&ch('x'));
    let view = render(&mut p, 80, 24);
    assert!(
        view.contains("[█") && view.lines().next().unwrap_or_default().contains("step 1/6"),
        "{view}"
    );
}

#[test]
fn next_and_previous_step_move_the_explorer_to_each_steps_selection() {
    let mut p = attention();
    assert_eq!(p.scene(), 0);
    assert_eq!(
        (p.app().stage(), p.app().view()),
        (Stage::Qkv, View::Attention)
    );
    p.apply(&key(KeyCode::PageDown));
    assert_eq!(p.app().stage(), Stage::Scores);
    p.apply(&ch('>'));
    // The mask step selects position 3 and key 0.
    assert_eq!(
        (p.scene(), p.app().stage(), p.app().pos(), p.app().cell()),
        (2, Stage::Mask, 3, 0)
    );
    p.apply(&key(KeyCode::PageUp));
    assert_eq!((p.scene(), p.app().stage()), (1, Stage::Scores));
    assert_eq!(p.app().pos(), p.app().tokens().len() - 1);
    p.apply(&ch('<'));
    p.apply(&ch('<'));
    assert_eq!(p.scene(), 0);
    assert!(p.app().status().is_some(), "the first step says so");
    for _ in 0..10 {
        p.apply(&key(KeyCode::PageDown));
    }
    assert_eq!(p.scene(), p.n_scenes() - 1);
    assert!(!p.is_free());
}

#[test]
fn r_returns_to_the_steps_selection_after_free_exploration() {
    let mut p = attention();
    p.apply(&key(KeyCode::PageDown));
    let prompt = p.app().tokens().to_vec();
    let want = (
        p.app().at(),
        p.app().view(),
        p.app().layer(),
        p.app().head(),
        p.app().pos(),
        p.app().cell(),
    );
    let caption = |p: &Player| {
        p.filled()
            .as_ref()
            .map(|f| f.caption.clone())
            .expect("filled")
    };
    let before = caption(&p);
    // Explore: another layer, head, position, view, a new token, an ablation.
    for e in [ch(']'), ch('}'), ch('h'), ch('5'), ch('n'), ch('s')] {
        p.apply(&e);
    }
    assert!(p.is_free());
    assert_eq!(p.app().tokens().len(), prompt.len() + 1);
    // The text follows the tokens: `position: last` is the new token now.
    assert_ne!(caption(&p), before);
    assert!(p.app().iv().is_active());
    let s = render(&mut p, 200, 60);
    assert!(s.contains("exploring freely"), "{s}");
    p.apply(&ch('r'));
    assert!(!p.is_free());
    assert_eq!(p.app().tokens(), &prompt[..]);
    assert!(!p.app().iv().is_active());
    let got = (
        p.app().at(),
        p.app().view(),
        p.app().layer(),
        p.app().head(),
        p.app().pos(),
        p.app().cell(),
    );
    assert_eq!(got, want);
    assert_eq!(caption(&p), before);
    assert!(!render(&mut p, 200, 60).contains("exploring freely"));
}

/// A lesson whose question has a known right answer: the first token.
fn quiz() -> Player {
    let text = "---\ntitle: Quiz\nsummary: s\nprompt: xyz\norder: 1\n---\n\n## Ask\n\n```step\nview: attention\nstage: softmax\n```\n\nSome text.\n\n```predict\nquestion: Which token comes first?\na: {{token.at 1}}\nb: {{token.at 0}}\nc: {{token.at 2}}\nanswer: it is {{token.at 0}}\nmatch: {{token.at 0}}\n```\n";
    let l = lesson::parse("quiz", "quiz.md", text).expect("parse");
    let (gpt, tok) = random();
    player(l, gpt, tok, None)
}

#[test]
fn a_checkpoint_answered_wrong_then_right_shows_the_engines_answer() {
    let mut p = quiz();
    let s = render(&mut p, 200, 60);
    assert!(s.contains("Predict: Which token comes first?"), "{s}");
    assert!(s.contains("Press a, b, c to answer"), "{s}");
    assert!(
        !s.contains("it is 'x'"),
        "the answer is hidden until the student answers"
    );
    // While the question is open its keys answer it: `a` does not ablate.
    p.apply(&ch('a'));
    assert_eq!(p.checks()[0], vec![Check::Answered('a')]);
    assert!(!p.app().iv().is_active());
    let s = render(&mut p, 200, 60);
    assert!(
        s.contains("Not quite: you chose a, the model's choice is b"),
        "{s}"
    );
    assert!(s.contains("The model's answer: it is 'x'"), "{s}");
    // Answered: `a` is the explorer's ablation key again.
    p.apply(&ch('a'));
    assert!(p.app().iv().is_active());

    let mut p = quiz();
    p.apply(&ch('b'));
    let s = render(&mut p, 80, 24);
    let mut all = s.clone();
    for _ in 0..6 {
        p.apply(&ch('d'));
        all.push_str(&render(&mut p, 80, 24));
    }
    assert!(all.contains("Right (b)."), "{all}");
    assert!(all.contains("it is 'x'"), "{all}");

    let mut p = quiz();
    p.apply(&ch('='));
    assert_eq!(p.checks()[0], vec![Check::Revealed]);
    assert!(render(&mut p, 200, 60).contains("The model's choice is b"));
}

#[test]
fn the_mouse_wheel_over_the_text_scrolls_it_and_elsewhere_goes_to_the_view() {
    let mut p = attention();
    render(&mut p, 120, 24);
    let wheel = |col| {
        Event::Mouse(MouseEvent {
            kind: MouseEventKind::ScrollDown,
            column: col,
            row: 10,
            modifiers: KeyModifiers::NONE,
        })
    };
    // Draw through the Screen trait so the player knows where its text is.
    let mut t = Terminal::new(TestBackend::new(120, 24)).expect("terminal");
    t.draw(|f| {
        crate::tui::run::Screen::draw(&mut p, f.area(), f.buffer_mut());
    })
    .expect("draw");
    p.apply(&wheel(5));
    assert_eq!(p.scroll(), 1);
    let cell = p.app().cell();
    p.apply(&wheel(100));
    assert_eq!(p.scroll(), 1);
    assert_ne!(p.app().cell(), cell, "the view's wheel moves its selection");
    // Scrolling stops at the end of the text.
    for _ in 0..200 {
        p.apply(&ch('d'));
    }
    let end = p.scroll();
    assert!(end > 1 && end < 200, "{end}");
    p.apply(&ch('u'));
    assert_eq!(p.scroll(), end - 3);
}

#[test]
fn markdown_is_wrapped_to_the_width_with_tables_aligned_and_markers_dropped() {
    let md = "Some **bold** and *italic* text that is long enough to wrap twice here.\n\n| key | weight |\n|---|---|\n| 'a' | 0.5 |\n| 'long' | 0.25 |\n\n```\ncode  kept\n```\n";
    let lines = markdown(md, 20);
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    assert!(
        text.iter().all(|l| crate::tui::views::width(l) <= 20),
        "{text:?}"
    );
    assert_eq!(text[0], "Some bold and italic");
    assert!(
        !text.iter().any(|l| l.contains('*') || l.contains("---")),
        "{text:?}"
    );
    assert!(text.contains(&"key     weight".to_string()), "{text:?}");
    assert!(text.contains(&"'long'  0.25".to_string()), "{text:?}");
    assert!(text.contains(&"code  kept".to_string()), "{text:?}");
}

/// Every lesson at every step, at 80×24 and 120×40: no panic, the progress
/// and the step's title on screen, and no step whose text cannot be filled.
fn every_lesson_every_step(gpt: Arc<Gpt>, tok: &dyn Fn() -> Tokenizer, dir: Option<PathBuf>) {
    for l in lesson::every_language().expect("lessons") {
        let name = format!("{} ({})", l.name, l.lang);
        let mut p = player(l, gpt.clone(), tok(), dir.clone());
        let n = p.n_scenes();
        assert!(n > 0, "{name}");
        for i in 0..n {
            assert_eq!(p.scene(), i, "{name}");
            if let Err(e) = &p.filled() {
                panic!("{name} step {}: {e}", i + 1);
            }
            for &(w, h) in &[(80u16, 24u16), (120, 40)] {
                let s = render(&mut p, w, h);
                let progress = crate::i18n::Msg::PlayerStep.fill(p.lesson().lang, &[&(i + 1), &n]);
                assert!(s.contains(&progress), "{name} {w}×{h}:\n{s}");
                let title: String = p.lesson().scenes[i].title.chars().take(12).collect();
                assert!(s.contains(&title), "{name} step {} {w}×{h}:\n{s}", i + 1);
            }
            // Every question answered: the reveal renders too.
            p.apply(&ch('='));
            render(&mut p, 80, 24);
            p.apply(&key(KeyCode::PageDown));
        }
    }
}

#[test]
fn every_lesson_opens_and_steps_through_on_a_random_model() {
    let (gpt, _) = random();
    let tok = || Tokenizer::from_json(&bytes_tokenizer_json()).expect("byte tokenizer");
    every_lesson_every_step(gpt, &tok, None);
}

#[test]
fn every_lesson_opens_and_steps_through_on_the_built_in_model() {
    let dir = super::support::built_in_dir();
    let gpt = Gpt::open(&dir).expect("built-in model");
    let path = dir.join("tokenizer.json");
    let tok = || Tokenizer::open(&path).expect("tokenizer");
    every_lesson_every_step(Arc::new(gpt), &tok, Some(dir.clone()));
}

/// The training lesson's `view: training` steps show the training view, drawn
/// from the record in the lesson's model folder.
#[test]
fn the_training_lesson_shows_the_training_view_with_the_record() {
    use crate::train::record::{LOG_FILE, SUMMARY_FILE};
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join(LOG_FILE), super::training::LOG).expect("log");
    std::fs::write(tmp.path().join(SUMMARY_FILE), super::training::SUMMARY).expect("summary");
    let (gpt, tok) = random();
    let l = lesson::find("training").expect("training lesson");
    let training_steps: Vec<usize> = (0..l.scenes.len())
        .filter(|&i| l.scenes[i].view == View::Training)
        .collect();
    assert!(training_steps.len() >= 2, "the lesson has training steps");
    let mut p = player(l, gpt, tok, Some(tmp.path().to_path_buf()));
    for i in 0..p.n_scenes() {
        p.goto(i);
        let s = render(&mut p, 200, 60);
        if training_steps.contains(&i) && p.lesson().scenes[i].show.zoom {
            // Zoomed on a head: the heads' curves, or the loss chart alone
            // when the record has no heads' scores (as here).
            assert_eq!(p.app().view(), View::Training, "step {}", i + 1);
            assert!(
                s.contains("train loss") && s.contains("3.0625"),
                "step {}:\n{s}",
                i + 1
            );
        } else if training_steps.contains(&i) {
            assert_eq!(p.app().view(), View::Training, "step {}", i + 1);
            assert!(
                s.contains("train loss") && s.contains("1.9375") && s.contains("3.0625"),
                "step {}:\n{s}",
                i + 1
            );
        } else {
            assert_ne!(p.app().view(), View::Training, "step {}", i + 1);
        }
    }
}

#[test]
fn the_markdown_widget_draws_the_lines_markdown_gives() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;
    use ratatui::widgets::Widget;
    let src = "# Title\n\nSome **bold** and *italic* text that wraps over the width.\n\n| a | b |\n|---|---|\n| 1 | 22 |";
    let area = Rect::new(0, 0, 24, 12);
    let mut buf = Buffer::empty(area);
    crate::tui::markdown::Markdown(src).render(area, &mut buf);
    let drawn = screen(&buf);
    let lines = markdown(src, 24);
    assert!(lines.len() > 4, "{lines:?}");
    for (y, l) in lines.iter().enumerate() {
        let want: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
        let row = drawn.lines().nth(y).unwrap_or_default();
        assert_eq!(row.trim_end(), want.trim_end(), "row {y}:\n{drawn}");
    }
    let bold = (0..area.width).any(|x| {
        buf[(x, 2)]
            .modifier
            .contains(ratatui::style::Modifier::BOLD)
    });
    assert!(bold, "**bold** is drawn bold:\n{drawn}");
}

fn ctrl_d() -> Event {
    Event::Key(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('d'),
        KeyModifiers::CONTROL,
    ))
}

/// The text in `r` of a drawn buffer, row by row.
fn region(b: &ratatui::buffer::Buffer, r: ratatui::layout::Rect) -> String {
    let mut s = String::new();
    for y in r.top()..r.bottom() {
        let mut x = r.left();
        while x < r.right() {
            let sym = b[(x, y)].symbol();
            s.push_str(sym);
            x += crate::tui::views::width(sym).max(1) as u16;
        }
        s.push('\n');
    }
    s
}

/// The numbers written in `s`, as written (signs dropped).
fn number_words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_string)
        .collect()
}

/// The quoted token texts ('·Tom') in `s`.
fn quoted(s: &str) -> Vec<String> {
    s.split('\'')
        .skip(1)
        .step_by(2)
        .filter(|t| !t.is_empty())
        .map(|t| format!("'{t}'"))
        .collect()
}

/// What would give an open question's answer away: the answer's numbers
/// (with a decimal point or two digits or more) and quoted tokens, and the
/// tokens of the right choice, less what the question and the other choices
/// show anyway.
fn answer_values(c: &crate::lesson::render::FilledCheckpoint) -> (Vec<String>, Vec<String>) {
    let others: String = std::iter::once(c.question.as_str())
        .chain(
            c.choices
                .iter()
                .filter(|(k, _)| Some(*k) != c.correct)
                .map(|(_, t)| t.as_str()),
        )
        .collect::<Vec<_>>()
        .join(" ");
    let all_choices: String = c
        .choices
        .iter()
        .map(|(_, t)| t.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let shown_nums = number_words(&format!("{others} {all_choices}"));
    let nums = number_words(&c.answer)
        .into_iter()
        .filter(|n| n.contains('.') || n.len() >= 2)
        .filter(|n| !shown_nums.contains(n))
        .collect();
    let right = c
        .correct
        .and_then(|k| c.choices.iter().find(|(k2, _)| *k2 == k))
        .map_or(String::new(), |(_, t)| t.clone());
    let shown_toks = quoted(&others);
    let mut toks: Vec<String> = quoted(&c.answer);
    toks.extend(quoted(&right));
    toks.retain(|t| !shown_toks.contains(t));
    toks.dedup();
    (nums, toks)
}

fn text_of(f: &crate::tui::player::Filled, upto: Option<usize>) -> String {
    use crate::lesson::render::FilledBlock;
    let mut s = f.intro.clone().unwrap_or_default();
    let mut q = 0;
    for b in &f.blocks {
        match b {
            FilledBlock::Text(t) => s.push_str(t),
            FilledBlock::Predict(c) => {
                if Some(q) == upto {
                    break;
                }
                q += 1;
                s.push_str(&format!("{} {}", c.question, c.answer));
            }
        }
        s.push('\n');
    }
    s
}

/// Predict, then reveal: for every question of every lesson, nothing shown
/// before it is answered — the lesson's earlier steps, the step's text before
/// the question, its caption, the explorer's picture at every size and scroll
/// — holds the answer's numbers, and the step's text and view hold none of
/// its tokens.
#[test]
fn no_open_question_gives_its_answer_away() {
    use crate::lesson::render::FilledBlock;
    let dir = super::support::built_in_dir();
    let gpt = Arc::new(Gpt::open(&dir).expect("built-in model"));
    let path = dir.join("tokenizer.json");
    let mut asked = 0;
    for l in lesson::every_language().expect("lessons") {
        let name = format!("{} ({})", l.name, l.lang);
        let mut p = player(
            l,
            gpt.clone(),
            Tokenizer::open(&path).expect("tok"),
            Some(dir.clone()),
        );
        let mut earlier = String::new();
        for i in 0..p.n_scenes() {
            p.goto(i);
            let f = p.filled().as_ref().expect("filled");
            let questions: Vec<_> = f
                .blocks
                .iter()
                .filter_map(|b| match b {
                    FilledBlock::Predict(c) => Some(c),
                    FilledBlock::Text(_) => None,
                })
                .collect();
            let all_text = text_of(f, None);
            for (qi, c) in questions.iter().enumerate() {
                asked += 1;
                let (nums, toks) = answer_values(c);
                let at = format!("{name} step {} question {}", i + 1, qi + 1);
                let before = format!("{}\n{}", f.caption, text_of(f, Some(qi)));
                let before = if p.lesson().scenes[i].show.hide_view {
                    text_of(f, Some(qi))
                } else {
                    before
                };
                let earlier_nums = number_words(&earlier);
                let before_nums = number_words(&before);
                for n in &nums {
                    assert!(!earlier_nums.contains(n), "{at}: an earlier step shows {n}");
                    assert!(
                        !before_nums.contains(n),
                        "{at}: the text before the question shows {n}:\n{before}"
                    );
                }
                for t in &toks {
                    assert!(
                        !before.contains(t.as_str()),
                        "{at}: the text before the question shows {t}:\n{before}"
                    );
                }
                // The screen, at every size, scrolled all the way.
                for &(w, h) in &[(80u16, 24u16), (120, 40), (200, 60)] {
                    let mut q = player(
                        p.lesson().clone(),
                        gpt.clone(),
                        Tokenizer::open(&path).expect("tok"),
                        Some(dir.clone()),
                    );
                    q.goto(i);
                    for _ in 0..qi {
                        q.apply(&ch('='));
                    }
                    for _ in 0..30 {
                        let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
                        q.sync();
                        t.draw(|fr| {
                            draw_player(&q, fr.area(), fr.buffer_mut());
                        })
                        .expect("draw");
                        let buf = t.backend().buffer();
                        let (text_r, view_r) = crate::tui::player::layout(&q, buf.area);
                        let text_nums = number_words(&region(buf, text_r));
                        for n in &nums {
                            assert!(
                                !text_nums.contains(n),
                                "{at} {w}×{h}: the text panel shows {n}:\n{}",
                                screen(buf)
                            );
                        }
                        if let Some(v) = view_r {
                            let view = region(buf, v);
                            let vn = number_words(&view);
                            for n in &nums {
                                assert!(
                                    !vn.contains(n),
                                    "{at} {w}×{h}: the view shows {n}:\n{view}"
                                );
                            }
                            for t in &toks {
                                assert!(
                                    !view.contains(t.as_str()),
                                    "{at} {w}×{h}: the view shows {t}:\n{view}"
                                );
                            }
                        }
                        q.apply(&ctrl_d());
                    }
                    assert_eq!(
                        q.checks()[i][qi],
                        Check::Open,
                        "{at}: scrolling left it open"
                    );
                }
            }
            earlier.push_str(&format!("{}\n{all_text}", f.caption));
        }
    }
    assert!(asked >= 6, "the lessons ask {asked} questions");
}

/// `zoom: on` zooms the explorer for that step only; bad values are errors at their line.
#[test]
fn a_step_can_ask_for_zoom_and_its_cell() {
    let mut p = attention();
    assert!(!p.app().zoom(), "step 1 does not zoom");
    p.apply(&ch('='));
    p.apply(&key(KeyCode::PageDown));
    assert!(p.app().zoom(), "the scores step zooms on its cell");
    let sel = p.filled().as_ref().map(|f| f.sel).expect("filled");
    assert_eq!((p.app().head(), p.app().cell()), (sel.head, sel.key));
    p.apply(&key(KeyCode::PageUp));
    assert!(!p.app().zoom());
    let bad = "---\ntitle: T\nsummary: S\nprompt: ab\norder: 1\n---\n## A\n```step\nview: attention\nzoom: yes\n```\n";
    let e = lesson::parse("t", "t.md", bad)
        .expect_err("zoom: yes")
        .to_string();
    assert!(e.contains("t.md:10") && e.contains("`on` or `off`"), "{e}");
    let e = lesson::parse("t", "t.md", &bad.replace("zoom: yes", "hide: all"))
        .expect_err("hide: all")
        .to_string();
    assert!(e.contains("t.md:10") && e.contains("`view`"), "{e}");
}

/// At 80×24 a lesson is readable: the text gets most of the screen (at
/// least 10 rows of it), says when there is more above or below, and the
/// key line always names help and quit; `x` shows the explorer under a
/// lesson bar that names them too; `?` lists every key, q among them.
#[test]
fn at_80x24_the_text_is_readable_with_markers_help_and_quit() {
    let mut p = attention();
    p.apply(&ch('='));
    p.apply(&key(KeyCode::PageDown));
    let s = render(&mut p, 80, 24);
    let (text_r, view_r) = crate::tui::player::layout(&p, ratatui::layout::Rect::new(0, 0, 80, 24));
    assert!(view_r.is_none() && text_r.height == 24, "{s}");
    let shown: Vec<String> = markdown(
        &match &p.filled().as_ref().expect("filled").blocks[0] {
            crate::lesson::render::FilledBlock::Text(t) => t.clone(),
            _ => panic!("text first"),
        },
        78,
    )
    .iter()
    .map(|l| l.to_string())
    .filter(|l| !l.trim().is_empty())
    .collect();
    let visible = shown.iter().filter(|l| s.contains(l.trim())).count();
    assert!(
        visible >= 10,
        "only {visible} lines of the step's text:\n{s}"
    );
    let last = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth_back(1)
        .unwrap_or_default();
    assert!(last.contains("? help") && last.contains("q quit"), "{s}");
    // Text cut below: the marker says so; scrolled: it says there is text above.
    let mut q = player(
        lesson::find("sampling").expect("sampling"),
        random().0,
        random().1,
        None,
    );
    q.goto(4);
    let s = render(&mut q, 80, 24);
    assert!(s.contains("more ↓"), "{s}");
    q.apply(&ch('d'));
    let s = render(&mut q, 80, 24);
    assert!(s.contains("↑"), "{s}");
    // x: the explorer, under a bar with the step, help and quit.
    p.apply(&ch('x'));
    let s = render(&mut p, 80, 24);
    let bar = s.lines().next().unwrap_or_default();
    assert!(
        bar.contains("step 2/6") && bar.contains("? help") && bar.contains("q quit"),
        "{s}"
    );
    assert!(s.contains("[█"), "the explorer's header:\n{s}");
    p.apply(&ch('x'));
    // ?: every lesson and explorer key, q included.
    p.apply(&ch('?'));
    let s = render(&mut p, 80, 24);
    for r in crate::tui::keymap::PLAYER
        .rows
        .iter()
        .chain(crate::tui::keymap::EXPLORER.rows)
    {
        let k: String = r.keys.chars().take(13).collect();
        assert!(
            s.contains(k.trim_end()),
            "{:?} missing from the keys overlay:\n{s}",
            r.keys
        );
    }
    assert!(s.contains("q ctrl-c") && s.contains("quit"), "{s}");
}

/// The training lesson's one `run: classroom` step names the key that starts
/// the classroom run on its key line (from the keymap), and only there does
/// the key ask for the run; elsewhere it does nothing.
#[test]
fn the_training_lessons_run_step_offers_the_classroom_run_on_its_key() {
    use crate::tui::keymap::{Action, PLAYER};
    let (gpt, tok) = random();
    let l = lesson::find("training").expect("training lesson");
    let run: Vec<usize> = (0..l.scenes.len())
        .filter(|&i| l.scenes[i].show.run_classroom)
        .collect();
    assert_eq!(run.len(), 1, "one step offers the run");
    let key = PLAYER.hint_keys(Action::TrainLive);
    assert_eq!(key, "g");
    let hint = format!("{key} train live");
    let mut p = player(l, gpt, tok, None);
    for i in 0..p.n_scenes() {
        p.goto(i);
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&mut p, w, h);
            assert_eq!(
                s.contains(&hint),
                run.contains(&i),
                "step {} {w}×{h}:\n{s}",
                i + 1
            );
        }
        p.apply(&ch('g'));
        assert_eq!(p.take_run_request(), run.contains(&i), "step {}", i + 1);
        assert!(!p.take_run_request(), "asked once, taken once");
    }
}
