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
        theme: Theme::default(),
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
