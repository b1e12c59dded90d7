//! Rendering and state tests: every view drawn into a `TestBackend`, stepping
//! forward and back, every key, mouse clicks, resizing, interventions, and
//! untrusted token text.

use std::sync::Arc;

use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::style::Color;

use super::support::{ch, key, render_buffer as render, screen};
use crate::model::{Config, random_model};
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tui::app::{App, Hit, Options};
use crate::tui::draw::{MIN_H, MIN_W};
use crate::tui::event::apply;
use crate::tui::heatmap::{ColorMode, MASKED_RGB, Theme};
use crate::tui::views::selection_count as cell_count;

/// Token texts a real vocabulary can hold: escapes, controls, zero-width,
/// combining and double-width characters.
const NASTY: &[&str] = &[
    "\u{1b}[31m",
    "a\u{200b}b",
    "e\u{301}",
    "日本",
    "\n",
    " the",
    "\u{7}",
    "\u{202e}evil",
];

fn vocab(v: usize) -> Vec<String> {
    (0..v)
        .map(|i| match NASTY.get(i) {
            Some(s) => s.to_string(),
            None => format!("t{i}"),
        })
        .collect()
}

fn app_with(theme: Theme, prompt: &[u32]) -> App {
    let cfg = Config::new(2, 2, 16, 64, 32);
    let gpt = Arc::new(random_model(&cfg, 7, false));
    App::new(
        gpt,
        vocab(64),
        prompt,
        Options {
            theme,
            sampling: Sampling::default(),
            seed: 1,
        },
    )
    .expect("app")
}

fn app() -> App {
    app_with(Theme::default(), &[0, 1, 2, 3, 4, 5, 6, 7, 9, 10])
}

fn click(x: u16, y: u16) -> Event {
    Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: x,
        row: y,
        modifiers: KeyModifiers::NONE,
    })
}

#[test]
fn every_view_renders_its_content_at_80x24_and_200x60() {
    let expect: &[(View, &[&str])] = &[
        (
            View::Tokens,
            &["tokens: position, id, text, bytes", "prompt"],
        ),
        (
            View::Embeddings,
            &["wte[token]", "wpe[position]", "x = wte + wpe"],
        ),
        (View::Attention, &["rows: query, cols: key", "H0", "H1"]),
        (View::LayerNorm, &["LN1 of layer 0", "mean μ", "var σ²"]),
        (View::Mlp, &["before GELU", "after GELU", "64 neurons"]),
        (View::Residual, &["residual stream", "embed"]),
        (View::Logits, &["next token", "pick:", "entropy"]),
        (View::Loss, &["mean loss", "perplexity", "−ln P"]),
        (
            View::Cost,
            &["FLOPs by stage", "Q, K, V projection", "share"],
        ),
        (View::Training, &["no training record", "gptlens train"]),
        (View::Quant, &["h.0.attn.c_attn.weight", "F32", "Q4_0"]),
    ];
    for &(w, h) in &[(80, 24), (200, 60)] {
        for (i, (view, words)) in expect.iter().enumerate() {
            let mut a = app();
            apply(&mut a, &ch(View::ALL[i].key()));
            assert_eq!(a.view(), *view);
            let s = screen(&render(&mut a, w, h));
            for word in *words {
                assert!(s.contains(word), "{view} at {w}×{h} lacks {word:?}:\n{s}");
            }
            assert!(s.contains("[█"), "progress bar missing:\n{s}");
        }
    }
    // The wide screen has room for the side panels.
    let mut a = app();
    apply(&mut a, &ch('3'));
    let s = screen(&render(&mut a, 200, 60));
    assert!(
        s.contains("the selected cell, step by step") && s.contains("softmax ="),
        "{s}"
    );
    apply(&mut a, &ch('6'));
    let s = screen(&render(&mut a, 200, 60));
    assert!(s.contains("logit lens") && s.contains("after L1"), "{s}");
}

#[test]
fn stepping_walks_the_pass_and_crosses_tokens_both_ways() {
    let mut a = app();
    let n0 = a.tokens().len();
    let total = a.pass().len();
    assert_eq!(a.stage(), Stage::Embed);
    apply(&mut a, &ch(' '));
    assert_eq!((a.stage(), a.layer()), (Stage::Ln1, 0));
    assert_eq!(a.view(), View::LayerNorm);
    for _ in 1..total - 1 {
        apply(&mut a, &key(KeyCode::Right));
    }
    assert_eq!(a.stage(), Stage::Append);
    assert_eq!(a.tokens().len(), n0);
    let expected = a.preview().map(|p| p.token);
    apply(&mut a, &ch(' '));
    assert_eq!(
        a.tokens().len(),
        n0 + 1,
        "past append the token is appended"
    );
    assert_eq!(
        a.tokens().last().copied(),
        expected,
        "the preview is what gets picked"
    );
    assert_eq!(a.stage(), Stage::Embed);
    assert_eq!(a.pos(), n0, "the cursor follows the new token");
    apply(&mut a, &key(KeyCode::Left));
    assert_eq!(
        a.tokens().len(),
        n0,
        "back before embed takes the token back"
    );
    assert_eq!(a.stage(), Stage::Append);
    apply(&mut a, &key(KeyCode::Backspace));
    assert_eq!(a.stage(), Stage::Pick);
    // At the prompt's first stage, back says so instead of doing anything.
    let mut b = app();
    apply(&mut b, &key(KeyCode::Left));
    assert_eq!(b.tokens().len(), n0);
    assert!(b.status().is_some_and(|s| s.contains("prompt")));
    let s = screen(&render(&mut b, 80, 24));
    assert!(s.contains("nothing to take back"), "{s}");
}

#[test]
fn token_layer_and_head_keys() {
    let mut a = app();
    let n0 = a.tokens().len();
    apply(&mut a, &ch('n'));
    apply(&mut a, &ch('n'));
    assert_eq!(a.tokens().len(), n0 + 2);
    apply(&mut a, &ch('N'));
    apply(&mut a, &ch('b'));
    assert_eq!(a.tokens().len(), n0);
    // ] on an in-layer stage keeps the stage and moves the layer.
    for _ in 0..5 {
        apply(&mut a, &ch(' '));
    }
    assert_eq!(a.stage(), Stage::Softmax);
    apply(&mut a, &ch(']'));
    assert_eq!(
        (a.stage(), a.layer(), a.current().layer),
        (Stage::Softmax, 1, 1)
    );
    apply(&mut a, &ch(']'));
    assert_eq!(a.layer(), 1, "clamped at the last layer");
    apply(&mut a, &ch('['));
    assert_eq!(a.layer(), 0);
    apply(&mut a, &ch('}'));
    apply(&mut a, &ch('}'));
    assert_eq!(a.head(), 1, "clamped at the last head");
    apply(&mut a, &ch('{'));
    assert_eq!(a.head(), 0);
    let p = a.pos();
    apply(&mut a, &ch('h'));
    assert_eq!(a.pos(), p - 1);
    apply(&mut a, &ch('l'));
    apply(&mut a, &ch('l'));
    assert_eq!(a.pos(), p, "clamped at the last position");
    apply(&mut a, &key(KeyCode::Down));
    apply(&mut a, &key(KeyCode::Down));
    assert_eq!(a.cell(), 2);
    apply(&mut a, &key(KeyCode::Up));
    assert_eq!(a.cell(), 1);
    for _ in 0..100 {
        apply(&mut a, &key(KeyCode::Down));
    }
    assert_eq!(
        a.cell(),
        cell_count(&a) - 1,
        "a key index stops at the query (causal)"
    );
    assert_eq!(a.cell(), a.pos());
}

#[test]
fn view_zoom_help_palette_and_quit_keys() {
    let mut a = app();
    apply(&mut a, &key(KeyCode::Tab));
    assert_eq!(a.view(), View::Attention);
    apply(&mut a, &key(KeyCode::BackTab));
    apply(&mut a, &key(KeyCode::BackTab));
    assert_eq!(a.view(), View::Tokens);
    apply(&mut a, &ch('3'));
    apply(&mut a, &key(KeyCode::Enter));
    assert!(a.zoom());
    let s = screen(&render(&mut a, 120, 40));
    assert!(
        s.contains("query ↓ key →") && s.contains("layer 0 head 0"),
        "{s}"
    );
    apply(&mut a, &key(KeyCode::Esc));
    assert!(!a.zoom());
    // Enter in another view drops the side panels; the views in the hint bar are clickable.
    apply(&mut a, &ch('2'));
    assert!(screen(&render(&mut a, 160, 40)).contains("nearest tokens"));
    apply(&mut a, &key(KeyCode::Enter));
    assert!(!screen(&render(&mut a, 160, 40)).contains("nearest tokens"));
    let (r, _) = *a
        .hits()
        .iter()
        .find(|(_, h)| *h == Hit::View(View::Logits))
        .expect("logits in the hint bar");
    apply(&mut a, &click(r.x, r.y));
    assert_eq!(a.view(), View::Logits);
    apply(&mut a, &ch('3'));
    apply(&mut a, &ch('?'));
    assert!(a.help());
    let s = screen(&render(&mut a, 100, 30));
    assert!(
        s.contains("keys (any key closes)") && s.contains("ablate the selected head"),
        "{s}"
    );
    apply(&mut a, &ch('x'));
    assert!(!a.help() && !a.should_quit());
    let p0 = a.theme().palette;
    apply(&mut a, &ch('v'));
    assert_ne!(a.theme().palette, p0);
    apply(&mut a, &ch('q'));
    assert!(a.should_quit());
    let mut b = app();
    apply(
        &mut b,
        &Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(b.should_quit());
}

#[test]
fn sampling_keys_redraw_the_distribution_at_once() {
    let mut a = app();
    apply(&mut a, &ch('7'));
    let before = a.preview().cloned().expect("preview");
    for _ in 0..10 {
        apply(&mut a, &ch('t'));
    }
    assert_eq!(a.sampling().temperature, 0.0);
    let p = a.preview().cloned().expect("preview");
    assert!(p.greedy);
    assert_eq!(
        p.token, p.ranked[0].id,
        "greedy picks the most likely token"
    );
    assert!(screen(&render(&mut a, 100, 30)).contains("0 = greedy"));
    apply(&mut a, &ch('T'));
    assert!((a.sampling().temperature - 0.1).abs() < 1e-6);
    apply(&mut a, &ch('k'));
    assert_eq!(a.sampling().top_k, 100);
    for _ in 0..10 {
        apply(&mut a, &ch('k'));
    }
    assert_eq!(a.sampling().top_k, 1);
    assert_eq!(a.preview().map(|p| p.kept), Some(1));
    apply(&mut a, &ch('K'));
    assert_eq!(a.sampling().top_k, 2);
    apply(&mut a, &ch('p'));
    assert!((a.sampling().top_p - 0.95).abs() < 1e-6);
    apply(&mut a, &ch('P'));
    assert_eq!(a.sampling().top_p, 1.0);
    assert_ne!(a.preview().map(|p| p.entropy), Some(before.entropy));
    // Beam search draws its tree.
    apply(&mut a, &ch('B'));
    assert!(a.beam_on() && a.beam().is_some());
    let s = screen(&render(&mut a, 160, 40));
    assert!(
        s.contains("beam search") && s.contains("best (score"),
        "{s}"
    );
}

#[test]
fn interventions_are_marked_recomputed_and_reversible() {
    let mut a = app();
    apply(&mut a, &ch('3'));
    apply(&mut a, &ch('a'));
    assert_eq!(a.iv().ablate, vec![(0, 0)]);
    let alt = a.alt().expect("recomputed trace");
    assert!(
        alt.layers[0].heads.column(0).iter().all(|&v| v == 0.0),
        "ablated head outputs zero"
    );
    let s = screen(&render(&mut a, 200, 60));
    assert!(s.contains("INTERVENTION: head L0H0 ablated"), "{s}");
    assert!(s.contains("H0 ablated"), "{s}");
    assert!(s.contains("its output is zeroed"), "{s}");
    apply(&mut a, &ch('6'));
    let s = screen(&render(&mut a, 200, 60));
    assert!(s.contains("without interventions: embed"), "{s}");
    apply(&mut a, &ch('3'));
    apply(&mut a, &ch('s'));
    apply(&mut a, &ch('m'));
    apply(&mut a, &ch('L'));
    let s = screen(&render(&mut a, 200, 60));
    assert!(
        s.contains("no ÷√dₖ") && s.contains("no causal mask") && s.contains("LayerNorm skipped"),
        "{s}"
    );
    assert!(
        s.contains("÷ √dₖ dropped") && s.contains("without interventions: p ="),
        "{s}"
    );
    // Without the mask a query sees later keys too.
    assert_eq!(
        a.alt().map(|t| t.layers[0].probs[0][0].len()),
        Some(a.tokens().len())
    );
    apply(&mut a, &ch('7'));
    let s = screen(&render(&mut a, 200, 60));
    assert!(s.contains("p with interventions"), "{s}");
    apply(&mut a, &ch('c'));
    assert!(!a.iv().is_active() && a.alt().is_none());
    let s = screen(&render(&mut a, 200, 60));
    assert!(!s.contains("INTERVENTION"), "{s}");
    // A new token recomputes the intervened trace too.
    apply(&mut a, &ch('s'));
    apply(&mut a, &ch('n'));
    assert_eq!(a.alt().map(|t| t.len()), Some(a.tokens().len()));
}

#[test]
fn the_arithmetic_matches_the_engine() {
    let mut a = app();
    apply(&mut a, &ch('3'));
    apply(&mut a, &ch('}'));
    apply(&mut a, &ch('h'));
    apply(&mut a, &key(KeyCode::Down));
    let tr = a.trace().expect("trace");
    let lines: Vec<String> = crate::tui::views::attention::arithmetic(&a, tr)
        .iter()
        .map(|l| l.to_string())
        .collect();
    let p = tr.layers[0].probs[1][a.pos()][1];
    let soft = lines
        .iter()
        .find(|l| l.starts_with("softmax ="))
        .expect("softmax line");
    assert!(soft.ends_with(&crate::fmt::compact(p)), "{soft} vs {p}");
    let score = lines
        .iter()
        .find(|l| l.starts_with("score s ="))
        .expect("score line");
    assert!(
        score.ends_with(&crate::fmt::compact(tr.layers[0].scores[1][a.pos()][1])),
        "{score}"
    );
}

#[test]
fn heatmap_colours_show_weights_and_the_mask() {
    let mut a = app();
    apply(&mut a, &ch('3'));
    for _ in 0..5 {
        apply(&mut a, &ch(' '));
    }
    assert_eq!(a.stage(), Stage::Softmax);
    apply(&mut a, &key(KeyCode::Enter));
    let buf = render(&mut a, 120, 40);
    let g = a
        .hits()
        .iter()
        .find_map(|(_, h)| match h {
            Hit::AttnCells(g) => Some(*g),
            _ => None,
        })
        .expect("zoomed heatmap");
    // Query 0 puts all its weight on key 0 (viridis top) and cannot see key 1.
    let c00 = &buf[(g.x_of_col(0), g.y_of_row(0))];
    let c01 = &buf[(g.x_of_col(1), g.y_of_row(0))];
    let (r, gg, b) = MASKED_RGB;
    let colour = |c: &ratatui::buffer::Cell| if c.symbol() == "▀" { c.fg } else { c.bg };
    assert_eq!(colour(c00), Color::Rgb(253, 231, 37));
    assert_eq!(colour(c01), Color::Rgb(r, gg, b));
    // Clicking a cell selects that query and key.
    apply(&mut a, &click(g.x_of_col(2), g.y_of_row(5)));
    assert_eq!((a.pos(), a.cell()), (5, 2));
}

#[test]
fn no_colour_and_ascii_modes_draw_without_colour_or_blocks() {
    let theme = Theme {
        mode: ColorMode::None,
        ascii: true,
        ..Theme::default()
    };
    let mut a = app_with(theme, &[10, 11, 12, 13]);
    for v in "1234567890".chars() {
        apply(&mut a, &ch(v));
        let buf = render(&mut a, 100, 30);
        for cell in buf.content() {
            assert!(
                cell.fg == Color::Reset && cell.bg == Color::Reset,
                "{v}: colour used"
            );
            assert!(
                !"▀█░─│┌".contains(cell.symbol()) || cell.symbol().is_empty(),
                "{v}: block glyph {:?}",
                cell.symbol()
            );
        }
    }
    apply(&mut a, &ch('3'));
    let s = screen(&render(&mut a, 100, 30));
    assert!(s.contains('@'), "the glyph ramp shows the weights:\n{s}");
}

#[test]
fn resizing_from_tiny_to_huge_never_panics_and_says_what_is_needed() {
    let mut a = app();
    let s = screen(&render(&mut a, 20, 10));
    assert!(s.contains("too small"), "{s}");
    let s = screen(&render(&mut a, MIN_W - 1, MIN_H));
    assert!(s.contains(&format!("{MIN_W}×{MIN_H}")), "{s}");
    for v in "1234567890".chars() {
        apply(&mut a, &ch(v));
        for &(w, h) in &[(20, 10), (MIN_W, MIN_H), (80, 24), (133, 41), (300, 100)] {
            render(&mut a, w, h);
        }
        apply(&mut a, &key(KeyCode::Enter));
        render(&mut a, 300, 100);
        render(&mut a, MIN_W, MIN_H);
        apply(&mut a, &Event::Resize(300, 100));
        assert!(a.is_dirty());
    }
}

#[test]
fn untrusted_token_text_is_escaped_and_columns_stay_aligned() {
    let mut a = app_with(Theme::default(), &[0, 1, 2, 3, 4, 5, 6, 7, 9]);
    let buf = render(&mut a, 160, 30);
    let s = screen(&buf);
    assert!(
        !s.contains('\u{1b}') && !s.contains('\u{7}') && !s.contains('\u{202e}'),
        "{s:?}"
    );
    assert!(
        s.contains("␛[31m") && s.contains("\\n") && s.contains("·the") && s.contains("日本"),
        "{s}"
    );
    // The separators of the text row and the id row line up.
    let seps = |y: u16| -> Vec<u16> {
        (0..buf.area.width)
            .filter(|&x| buf[(x, y)].symbol() == "│")
            .collect()
    };
    assert_eq!(seps(1), seps(2));
    assert!(seps(1).len() >= 9);
    apply(&mut a, &ch('1'));
    let s = screen(&render(&mut a, 160, 30));
    assert!(!s.contains('\u{1b}') && s.contains("e\\u{301}"), "{s}");
    // Clicking a token in the strip selects it.
    let (r, _) = *a
        .hits()
        .iter()
        .find(|(_, h)| *h == Hit::Token(3))
        .expect("token 3 target");
    apply(&mut a, &click(r.x, r.y));
    assert_eq!(a.pos(), 3);
}

#[test]
fn clicking_a_head_in_the_grid_selects_it() {
    let mut a = app();
    apply(&mut a, &ch('3'));
    render(&mut a, 120, 40);
    let (r, _) = *a
        .hits()
        .iter()
        .find(|(_, h)| *h == Hit::Head(1))
        .expect("head 1 target");
    apply(&mut a, &click(r.x + 1, r.y + 1));
    assert_eq!(a.head(), 1);
}

#[test]
fn presenter_mode_drops_side_panels_and_keeps_the_picture() {
    let theme = Theme {
        present: true,
        ..Theme::default()
    };
    let mut a = app_with(theme, &[10, 11, 12, 13]);
    apply(&mut a, &ch('3'));
    let s = screen(&render(&mut a, 100, 30));
    assert!(!s.contains("the selected cell, step by step"), "{s}");
    assert!(
        s.contains("softmax ="),
        "one line of arithmetic stays:\n{s}"
    );
}

#[test]
fn goto_stage_lands_on_the_named_stage_and_its_view() {
    let mut a = app();
    let st: Stage = "softmax".parse().expect("name");
    assert!(a.goto_stage(st, 1));
    assert_eq!(
        (a.stage(), a.layer(), a.view()),
        (Stage::Softmax, 1, View::Attention)
    );
    assert!(!a.goto_stage(st, 9), "no layer 9");
    assert!(a.goto_stage("final-ln".parse().expect("name"), 0));
    assert_eq!(a.view(), View::LayerNorm);
    let s = screen(&render(&mut a, 120, 40));
    assert!(s.contains("final LayerNorm ln_f"), "{s}");
}

#[test]
fn out_proj_shows_the_concatenated_heads_and_w_o() {
    let mut a = app();
    assert!(a.goto_stage(Stage::OutProj, 0));
    let s = screen(&render(&mut a, 120, 40));
    assert!(s.contains("concat(heads)") && s.contains("·W_O"), "{s}");
}

#[test]
fn colour_fallbacks_stay_inside_their_palettes() {
    for mode in [ColorMode::Indexed256, ColorMode::Basic16] {
        let theme = Theme {
            mode,
            ..Theme::default()
        };
        let mut a = app_with(theme, &[10, 11, 12, 13, 14]);
        for v in "1234567890".chars() {
            apply(&mut a, &ch(v));
            let buf = render(&mut a, 160, 40);
            for cell in buf.content() {
                for c in [cell.fg, cell.bg] {
                    match (mode, c) {
                        (_, Color::Rgb(..)) => panic!("{mode:?} view {v}: truecolor used"),
                        (ColorMode::Basic16, Color::Indexed(_)) => {
                            panic!("16-colour mode used an indexed colour in view {v}")
                        }
                        _ => {}
                    }
                }
            }
        }
        // The heatmaps really are coloured in these modes.
        apply(&mut a, &ch('3'));
        let buf = render(&mut a, 160, 40);
        let coloured = buf
            .content()
            .iter()
            .filter(|c| !matches!(c.bg, Color::Reset | Color::Black))
            .count();
        assert!(coloured > 20, "{mode:?}: only {coloured} coloured cells");
    }
}
