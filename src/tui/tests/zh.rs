//! Chinese in the lesson player (issue 18 point 6): the Chinese lessons'
//! text wrapped by display width, broken between characters, with no line
//! starting with closing punctuation and no space where two source lines of
//! a Chinese sentence meet; a Chinese lesson's screens pinned at 80×24 and
//! 200×60. To accept an intended change: `INSTA_UPDATE=always cargo test
//! --release --lib tui::tests::zh`, then review the diff.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::layout::Rect;

use super::support::{built_in, built_in_dir, ch, key, screen, vocab_of};
use crate::i18n::Lang;
use crate::lesson::{self, Env, render};
use crate::sample::Sampling;
use crate::text::wrap::{is_cjk, no_line_start};
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;
use crate::tui::markdown::markdown;
use crate::tui::player::{Player, layout};
use crate::tui::run::Screen;
use crate::tui::views::width;

fn zh_player(name: &str) -> Player {
    let (gpt, tok) = built_in();
    let l = lesson::find_in(name, Lang::Zh).expect("the lesson");
    assert_eq!(l.lang, Lang::Zh, "{name} is translated");
    let trace = render::trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{e}"));
    let vocab = vocab_of(&gpt, &tok);
    let options = Options {
        theme: zh_theme(),
        sampling: Sampling::default(),
        seed: 1,
    };
    let app = App::new(gpt, vocab, &trace.tokens, options).expect("app");
    Player::new(app, l, tok, Some(built_in_dir()))
}

fn draw(p: &mut Player, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    p.draw(area, &mut buf);
    buf
}

fn rows(b: &Buffer, r: Rect) -> Vec<String> {
    (r.top()..r.bottom())
        .map(|y| {
            let mut s = String::new();
            let mut x = r.left();
            while x < r.right() {
                let sym = b[(x, y)].symbol();
                s.push_str(sym);
                x += width(sym).max(1) as u16;
            }
            s
        })
        .collect()
}

/// A space between two CJK characters: what joining Chinese lines with a
/// space, as English is joined, would leave.
fn cjk_gap(s: &str) -> Option<String> {
    let c: Vec<char> = s.chars().collect();
    (1..c.len().saturating_sub(1))
        .find(|&i| c[i] == ' ' && is_cjk(c[i - 1]) && is_cjk(c[i + 1]))
        .map(|i| {
            c[i.saturating_sub(4)..(i + 5).min(c.len())]
                .iter()
                .collect()
        })
}

/// Every Chinese lesson's every step, as the player lays its text out at
/// three widths: no line wider than the panel, none starting with closing
/// punctuation, no space put between Chinese characters.
#[test]
fn chinese_lesson_text_wraps_by_width_and_punctuation_rules() {
    let (gpt, tok) = built_in();
    let dir = built_in_dir();
    let mut lines_seen = 0;
    for l in lesson::written_in(Lang::Zh).expect("Chinese lessons") {
        let trace = render::trace_prompt(&l, &gpt, &tok).expect("trace");
        let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(&dir));
        let mut texts = vec![render::fill_intro(&l, &env).expect("intro")];
        for s in render::fill_scenes(&l, &env).expect("steps") {
            for b in s.blocks {
                if let render::FilledBlock::Text(t) = b {
                    texts.push(t);
                }
            }
        }
        for t in &texts {
            let unmarked = t.replace(['*', '`'], "");
            let source_gap = unmarked.lines().any(|x| cjk_gap(x).is_some());
            for w in [38usize, 58, 78, 118] {
                for line in markdown(t, w) {
                    let s = line.to_string();
                    lines_seen += 1;
                    let at = format!("{} at {w} columns: {s:?}", l.name);
                    assert!(width(&s) <= w, "{at} is too wide");
                    assert!(
                        !s.chars().next().is_some_and(no_line_start),
                        "{at} starts with closing punctuation"
                    );
                    if !source_gap {
                        assert!(
                            cjk_gap(&s).is_none(),
                            "{at}: a space between Chinese characters"
                        );
                    }
                }
            }
        }
    }
    assert!(lines_seen > 1000, "{lines_seen}");
}

/// The Chinese attention lesson on screen, pinned: its first step (the
/// question open) and its second (the scores, zoomed), at 80×24 — text full
/// screen, `x` for the explorer — and at 200×60, side by side.
#[test]
fn the_chinese_attention_lesson_at_80x24_and_200x60() {
    let mut p = zh_player("attention");
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let b = draw(&mut p, w, h);
        let (text_r, _) = layout(&p, b.area);
        let text = rows(&b, text_r);
        assert!(
            text.iter().any(|r| r.contains("查询、键和值")),
            "{w}×{h}:\n{}",
            screen(&b)
        );
        for r in &text {
            let t = r.trim_start_matches([' ', '│', '|']);
            assert!(
                !t.chars().next().is_some_and(no_line_start),
                "{w}×{h}: {r:?}"
            );
        }
        if w == 200 {
            // The player's own words are Chinese too (i18n::Msg).
            let s = screen(&b);
            assert!(
                s.contains("先猜一猜：对于查询") && s.contains("第 1/6 步"),
                "{s}"
            );
            assert!(s.contains("回答问题之前先不显示视图"), "{s}");
            for en in ["Predict:", "Press ", "step 1/6", "predict first"] {
                assert!(!s.contains(en), "{en}:\n{s}");
            }
        }
        insta::assert_snapshot!(format!("zh_attention_step1_{w}x{h}"), screen(&b));
    }
    p.handle(&ch('='));
    p.handle(&key(KeyCode::PageDown));
    crate::tui::event::run_jobs_blocking(p.app_mut());
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        let b = draw(&mut p, w, h);
        let s = screen(&b);
        assert!(s.contains("分数"), "{w}×{h}:\n{s}");
        insta::assert_snapshot!(format!("zh_attention_step2_{w}x{h}"), s);
    }
    // 80×24: x shows the explorer under the lesson bar.
    p.handle(&ch('x'));
    let b = draw(&mut p, 80, 24);
    insta::assert_snapshot!("zh_attention_step2_explorer_80x24", screen(&b));
}

/// The English phrases of the interface's string table: in each string's
/// English text (between its `{}` slots), every run of two or more English
/// words, leaving out runs the Chinese side keeps too (names such as
/// "SiLU(gate)" stay in both). Derived from the table, so a string added in
/// English is checked as soon as it is added.
pub(super) fn english_phrases() -> Vec<String> {
    use crate::i18n::Msg;
    let kept: Vec<&str> = Msg::ALL.iter().map(|m| m.get(Lang::Zh)).collect();
    let mut out: Vec<String> = vec![];
    for m in Msg::ALL {
        let en = m.get(Lang::En);
        if en == m.get(Lang::Zh) {
            continue;
        }
        let mut run = String::new();
        let mut flush = |run: &mut String| {
            let p = run.trim().to_string();
            run.clear();
            if p.split(' ').filter(|w| !w.is_empty()).count() >= 2
                && !kept.iter().any(|z| z.contains(&p))
                && !out.contains(&p)
            {
                out.push(p);
            }
        };
        for c in en.chars() {
            let in_word = c.is_ascii_alphabetic() || c == '\'' || c == '-';
            if in_word || (c == ' ' && !run.ends_with(' ') && !run.is_empty()) {
                run.push(c);
            } else {
                flush(&mut run);
            }
        }
        flush(&mut run);
    }
    out
}

/// The English interface phrases `s` shows.
pub(super) fn english_on(s: &str, phrases: &[String]) -> Vec<String> {
    // A phrase wrapped or cut at the screen's edge is looked for line by line.
    phrases
        .iter()
        .filter(|p| s.lines().any(|l| l.contains(p.as_str())))
        .cloned()
        .collect()
}

/// The interface's own text on an explorer screen: the header (its two
/// rows), the hint bar (the last row) and every panel's title (a top border,
/// from ┌ to ┐). The views' bodies — numbers and row labels — stay English
/// and are not part of it.
pub(super) fn frame_of(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    let mut out: Vec<String> = lines.iter().take(2).map(|l| l.to_string()).collect();
    out.extend(lines.last().map(|l| l.to_string()));
    for l in &lines {
        let mut rest = *l;
        while let Some(i) = rest.find('┌') {
            let from = &rest[i..];
            let end = from.find('┐').map_or(from.len(), |j| j + '┐'.len_utf8());
            out.push(from[..end].to_string());
            rest = &from[end..];
        }
    }
    out.join("\n")
}

/// The help overlay alone, drawn into an empty `w`×`h` screen.
fn overlay(
    theme: &Theme,
    sections: &[(crate::i18n::Msg, &crate::tui::keymap::Keymap)],
    scroll: usize,
    (w, h): (u16, u16),
) -> String {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    crate::tui::draw::help_overlay(theme, sections, scroll, area, &mut buf);
    screen(&buf)
}

pub(super) fn zh_theme() -> Theme {
    Theme {
        lang: Lang::Zh,
        ..Theme::default()
    }
}

pub(super) fn explorer_in(theme: Theme) -> App {
    let (gpt, tok) = built_in();
    let ids = tok
        .encode("Once upon a time, there was a little girl")
        .expect("ids");
    let vocab = vocab_of(&gpt, &tok);
    let options = Options {
        theme,
        sampling: Sampling::default(),
        seed: 1,
    };
    let mut a = App::new(gpt, vocab, &ids, options).expect("app");
    a.set_tokenizer(tok);
    a
}

/// Issue 18 point 5: under zh, the explorer's frame — header and stage
/// caption, every view's title, the hint bar, the help overlay, the status
/// line — shows none of the interface's English phrases, at every stage of
/// the pass, in every view, zoomed, at 80×24 and 200×60; the lesson player's
/// keys and help likewise. The explorer's zh screens are pinned.
#[test]
fn under_zh_no_interface_string_shows_its_english() {
    use crate::tui::event::apply;
    let phrases = english_phrases();
    assert!(phrases.len() > 100, "{}", phrases.len());
    // The list would catch the English screen: the check can fail.
    let mut en = explorer_in(Theme::default());
    let s = screen(&super::support::render_buffer(&mut en, 200, 60));
    assert!(english_on(&frame_of(&s), &phrases).len() >= 3, "{s}");

    let sizes = [(80u16, 24u16), (200, 60)];
    let mut a = explorer_in(zh_theme());
    let mut checked = 0;
    let mut check = |a: &mut App, what: &str| {
        for (w, h) in sizes {
            let s = screen(&super::support::render_buffer(a, w, h));
            let found = english_on(&frame_of(&s), &phrases);
            assert!(found.is_empty(), "{what} at {w}×{h}: {found:?}\n{s}");
            checked += 1;
        }
    };
    // Every stage of the pass (the last, append, would take the next token).
    let n = a.pass().len();
    for i in 0..n - 1 {
        let st = a.current();
        check(
            &mut a,
            &format!("stage {i} {:?} layer {}", st.stage, st.layer),
        );
        apply(&mut a, &ch(' '));
    }
    for v in crate::pass::View::ALL {
        apply(&mut a, &ch(v.key()));
        check(&mut a, &format!("view {v:?}"));
        apply(&mut a, &key(KeyCode::Enter));
        check(&mut a, &format!("view {v:?} zoomed"));
        apply(&mut a, &key(KeyCode::Esc));
    }
    apply(&mut a, &ch('?'));
    check(&mut a, "help");
    apply(&mut a, &key(KeyCode::Down));
    check(&mut a, "help scrolled");
    apply(&mut a, &ch('?'));
    assert!(!a.help());
    // The help overlays themselves, every row, scrolled or not: the
    // explorer's and the lesson player's.
    use crate::i18n::Msg;
    use crate::tui::keymap::{EXPLORER, PLAYER};
    let explorer = [(Msg::HelpSectionKeys, &EXPLORER)];
    let player = [
        (Msg::HelpSectionLesson, &PLAYER),
        (Msg::HelpSectionExplorer, &EXPLORER),
    ];
    for sections in [&explorer[..], &player[..]] {
        for size in [(60u16, 18u16), (80, 24), (200, 60)] {
            for scroll in [0, 5, 100] {
                let s = overlay(&zh_theme(), sections, scroll, size);
                let found = english_on(&s, &phrases);
                assert!(
                    found.is_empty(),
                    "help {size:?} scrolled {scroll}: {found:?}\n{s}"
                );
            }
        }
    }
    let en_help = overlay(&Theme::default(), &explorer, 0, (200, 60));
    assert!(english_on(&en_help, &phrases).len() > 20, "{en_help}");
    // A status message: nothing to take back at the prompt.
    apply(&mut a, &ch('3'));
    apply(&mut a, &ch('b'));
    let s = screen(&super::support::render_buffer(&mut a, 120, 40));
    assert!(s.contains("已经在提示处"), "{s}");
    assert!(checked > 100, "{checked}");

    // Pinned: the attention view and the help overlay.
    apply(&mut a, &ch('3'));
    for (w, h) in sizes {
        let s = screen(&super::support::render_buffer(&mut a, w, h));
        insta::assert_snapshot!(format!("zh_explorer_attention_{w}x{h}"), s);
    }
    apply(&mut a, &ch('?'));
    for (w, h) in sizes {
        let s = screen(&super::support::render_buffer(&mut a, w, h));
        insta::assert_snapshot!(format!("zh_explorer_help_{w}x{h}"), s);
    }

    // The lesson player: its text panel (the key line, the scroll marker)
    // whole, and the explorer's frame beside it.
    let mut p = zh_player("attention");
    for step in 0..p.n_scenes() {
        p.goto(step);
        crate::tui::event::run_jobs_blocking(p.app_mut());
        for (w, h) in sizes {
            let b = draw(&mut p, w, h);
            let (text_r, _) = layout(&p, b.area);
            let text = rows(&b, text_r).join("\n");
            let found = english_on(&format!("{text}\n{}", frame_of(&screen(&b))), &phrases);
            assert!(
                found.is_empty(),
                "player step {step} {w}×{h}: {found:?}\n{}",
                screen(&b)
            );
        }
    }
    let s = screen(&draw(&mut p, 80, 24));
    assert!(s.contains("帮助") && s.contains("退出"), "{s}");
}

/// `lesson NAME --present --lang zh`: presenter mode in Chinese — the
/// formula card's title, the header and keys — at every step of the Chinese
/// attention lesson, at 120×35 and 200×60.
#[test]
fn presenter_mode_under_zh_is_chinese() {
    let phrases = english_phrases();
    let mut p = zh_player("attention");
    p.app_mut().set_present(true);
    let mut cards = 0;
    for step in 0..p.n_scenes() {
        p.goto(step);
        crate::tui::event::run_jobs_blocking(p.app_mut());
        for (w, h) in [(120u16, 35u16), (200, 60)] {
            let b = draw(&mut p, w, h);
            let s = screen(&b);
            let (text_r, _) = layout(&p, b.area);
            let text = rows(&b, text_r).join("\n");
            let found = english_on(&format!("{text}\n{}", frame_of(&s)), &phrases);
            assert!(found.is_empty(), "step {step} {w}×{h}: {found:?}\n{s}");
            cards += usize::from(s.contains("公式（实时数字）"));
        }
    }
    assert!(cards > 0, "no formula card was drawn");
}
