//! What the heatmaps draw against what their legends and axes say (issue 12,
//! points 1, 3, 6 and 9): colours read back from the buffer, on the built-in
//! model, in every colour mode the app has.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::support::{built_in, render_buffer as render, screen, vocab_of};
use crate::pass::Stage;
use crate::sample::Sampling;
use crate::tui::app::{App, Hit, Options};
use crate::tui::heatmap::{
    BASIC16_SEQ, ColorMode, Geometry, NEG_GLYPHS, POS_GLYPHS, Palette, Scale, Theme,
};

/// The snapshots' prompt (14 tokens: keys up to 13).
const PROMPT: &str = "Once upon a time, there was a little girl named Lily. She";

fn app_in(theme: Theme, prompt: &str) -> App {
    let (gpt, tok) = built_in();
    let ids = tok.encode(prompt).expect("encode");
    let vocab = vocab_of(&gpt, &tok);
    let opts = Options {
        theme,
        sampling: Sampling::default(),
        seed: 1,
    };
    App::new(gpt, vocab, &ids, opts).expect("app")
}

fn theme(mode: ColorMode) -> Theme {
    Theme {
        mode,
        ..Theme::default()
    }
}

/// The first (layer, head) whose scores all have one sign `negative`.
fn one_signed_head(a: &App, negative: bool) -> Option<(usize, usize)> {
    let tr = a.trace()?;
    for (l, lt) in tr.layers.iter().enumerate() {
        for (h, rows) in lt.scores.iter().enumerate() {
            if rows.iter().flatten().all(|&s| (s < 0.0) == negative) {
                return Some((l, h));
            }
        }
    }
    None
}

/// A head whose scores have both signs.
fn mixed_head(a: &App) -> (usize, usize) {
    let tr = a.trace().expect("trace");
    for (l, lt) in tr.layers.iter().enumerate() {
        for (h, rows) in lt.scores.iter().enumerate() {
            let v: Vec<f32> = rows.iter().flatten().copied().collect();
            if v.iter().any(|&s| s < -0.5) && v.iter().any(|&s| s > 0.5) {
                return (l, h);
            }
        }
    }
    panic!("no head with scores of both signs")
}

fn zoom_on(a: &mut App, stage: Stage, layer: usize, head: usize) {
    assert!(a.goto_stage(stage, layer));
    a.select_head(head);
    a.set_zoom(true);
}

fn attn_geometry(a: &App) -> Geometry {
    a.hits()
        .iter()
        .find_map(|(_, h)| match h {
            Hit::AttnCells(g) => Some(*g),
            _ => None,
        })
        .expect("the zoomed heatmap")
}

/// The line of text at row y, from column x0 to x1.
fn row_text(b: &Buffer, y: u16, x0: u16, x1: u16) -> String {
    (x0..x1.min(b.area.width))
        .map(|x| b[(x, y)].symbol())
        .collect()
}

fn numbers(s: &str) -> Vec<f32> {
    s.split(|c: char| c.is_whitespace() || c == '…' || c == '│')
        .filter(|w| w.contains('.'))
        .filter_map(|w| w.parse::<f32>().ok())
        .collect()
}

fn rgb(c: Color) -> (i32, i32, i32) {
    match c {
        Color::Rgb(r, g, b) => (r as i32, g as i32, b as i32),
        other => panic!("not a truecolor cell: {other:?}"),
    }
}

/// Point 1: the lesson's kind of head (all scores negative) is drawn with the
/// diverging colours its legend names, at the legend's range.
#[test]
fn a_head_with_only_negative_scores_is_drawn_in_its_legends_colours() {
    let th = theme(ColorMode::TrueColor);
    let mut a = app_in(th, PROMPT);
    let (layer, head) = one_signed_head(&a, true).expect("a head whose scores are all negative");
    zoom_on(&mut a, Stage::Scores, layer, head);
    let buf = render(&mut a, 120, 40);
    let g = attn_geometry(&a);
    assert!(g.one_row_per_line(), "{g:?}");
    // The legend sits on the line under the map: "-m <gradient> m blue−white−red".
    let ly = g.area.y + g.height;
    let legend = row_text(&buf, ly, 0, buf.area.width);
    let legend = legend.split('│').nth(1).unwrap_or("").to_string();
    assert!(legend.contains("blue−white−red"), "{legend:?}");
    let ends = numbers(&legend);
    assert_eq!(ends.len(), 2, "{legend:?}");
    assert!((ends[0] + ends[1]).abs() < 1e-3, "centred on 0: {legend:?}");
    let scale = Scale::Signed { max_abs: ends[1] };
    let tr = a.trace().expect("trace");
    let scores = &tr.layers[layer].scores[head];
    let (sel_q, sel_k) = (a.pos(), a.cell());
    let mut checked = 0;
    for (q, row) in scores.iter().enumerate() {
        for (k, &s) in row.iter().enumerate() {
            if (q, k) == (sel_q, sel_k) {
                continue;
            }
            let cell = &buf[(g.x_of_col(k), g.y_of_row(q))];
            let drawn = cell.bg;
            let want = th.color(scale.unit(s), true).expect("colour");
            let (d, w) = (rgb(drawn), rgb(want));
            assert!(
                (d.0 - w.0).abs() <= 3 && (d.1 - w.1).abs() <= 3 && (d.2 - w.2).abs() <= 3,
                "score {s} at ({q}, {k}) drawn {d:?}, the legend says {w:?}"
            );
            // Negative: the blue half of the map.
            assert!(d.2 >= d.0, "score {s} drawn {d:?}, not blue");
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} cells checked");
    // The grid of all heads shares one signed scale: this head stays blue there.
    a.set_zoom(false);
    let buf = render(&mut a, 120, 40);
    let s = screen(&buf);
    assert_eq!(s.matches("blue−white−red").count(), 1, "one legend:\n{s}");
    let rect = a
        .hits()
        .iter()
        .find_map(|(r, h)| (*h == Hit::Head(head)).then_some(*r))
        .expect("the head's area");
    for y in rect.y + 1..rect.bottom() {
        for x in rect.x..rect.right() {
            let c = &buf[(x, y)];
            for col in [c.fg, c.bg] {
                if let Color::Rgb(r, g, b) = col
                    && (r, g, b) != crate::tui::heatmap::MASKED_RGB
                    && c.symbol() != "◆"
                {
                    assert!(
                        b >= r,
                        "head {head} (all negative) drawn ({r},{g},{b}) at {x},{y}"
                    );
                }
            }
        }
    }
}

/// Point 3: the selected (query, key) cell is marked in the zoom and in every
/// head of the grid, with colour and without.
#[test]
fn the_selected_cell_is_marked_in_every_heatmap_with_and_without_colour() {
    for mode in [ColorMode::TrueColor, ColorMode::None] {
        let mut a = app_in(theme(mode), PROMPT);
        assert!(a.goto_stage(Stage::Softmax, 1));
        a.select_pos(5);
        a.select_cell(2);
        let marked = |c: &ratatui::buffer::Cell| match mode {
            ColorMode::None => c.modifier.contains(Modifier::REVERSED),
            _ => c.symbol() == "◆",
        };
        let buf = render(&mut a, 120, 40);
        let heads: Vec<_> = a
            .hits()
            .iter()
            .filter_map(|(r, h)| matches!(h, Hit::Head(_)).then_some(*r))
            .collect();
        assert_eq!(heads.len(), a.n_head());
        for r in heads {
            // Below the head's title line.
            let n = (r.y + 1..r.bottom())
                .flat_map(|y| (r.x..r.right()).map(move |x| (x, y)))
                .filter(|&p| marked(&buf[p]))
                .count();
            assert!(n >= 1, "{mode:?}: a head without the mark at {r:?}");
        }
        a.set_zoom(true);
        let buf = render(&mut a, 120, 40);
        let g = attn_geometry(&a);
        let x = g.x_of_col(2) + g.cell_w / 2;
        let y = g.y_of_row(5) + g.row_h / 2;
        assert!(
            marked(&buf[(x, y)]),
            "{mode:?}: cell (5, 2) not marked: {:?}",
            buf[(x, y)]
        );
    }
}

/// Point 3: the key axis reads key 10 as "10", across or down, at both sizes;
/// query rows carry their tokens; wide cells carry the key's token.
#[test]
fn the_attention_axes_carry_full_indices_and_token_labels() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let mut a = app_in(theme(ColorMode::TrueColor), PROMPT);
        assert!(a.tokens().len() > 10);
        zoom_on(&mut a, Stage::Softmax, 0, 0);
        let buf = render(&mut a, w, h);
        let g = attn_geometry(&a);
        let x = g.x_of_col(10);
        let across = row_text(&buf, g.area.y - 1, x, x + 2);
        let down: String = [g.area.y - 2, g.area.y - 1]
            .iter()
            .map(|&y| buf[(x, y)].symbol().to_string())
            .collect();
        assert!(
            across == "10" || down == "10",
            "{w}×{h}: key 10 reads {across:?} across, {down:?} down:\n{}",
            screen(&buf)
        );
        let s = screen(&buf);
        let rows = row_text(&buf, g.y_of_row(0), 0, g.area.x);
        assert!(
            rows.contains("Once"),
            "{w}×{h}: query 0 label {rows:?}\n{s}"
        );
        if w >= 200 {
            let keys = row_text(&buf, g.area.y - 2, g.area.x, g.area.x + g.width);
            assert!(
                keys.contains("Once") && keys.contains("·upon"),
                "{w}×{h}: key tokens {keys:?}"
            );
        }
    }
}

/// Point 3: Q, K and V each keep a whole legend ("−m … m") beside the others.
#[test]
fn the_q_k_v_legends_never_run_into_each_other() {
    for (w, h) in [(80, 24), (120, 35)] {
        let mut a = app_in(theme(ColorMode::TrueColor), PROMPT);
        assert!(a.goto_stage(Stage::Qkv, 0));
        let buf = render(&mut a, w, h);
        let s = screen(&buf);
        let mut best: Vec<f32> = vec![];
        for line in s.lines() {
            // The main panel: between its first two borders.
            let main: String = line.split('│').nth(1).unwrap_or("").to_string();
            let ns = numbers(&main);
            if ns.len() > best.len() {
                best = ns;
            }
        }
        assert_eq!(best.len(), 6, "{w}×{h}: three legends of two ends:\n{s}");
        for pair in best.chunks(2) {
            assert!(
                pair[0] < 0.0 && (pair[0] + pair[1]).abs() < 1e-3,
                "{w}×{h}: a legend reads {pair:?}:\n{s}"
            );
        }
    }
}

/// Point 3: the scores stage draws later keys blank, the mask stage as masked
/// ('·', −∞), and each says so.
#[test]
fn the_scores_and_the_mask_stage_look_different() {
    let mut a = app_in(theme(ColorMode::TrueColor), PROMPT);
    zoom_on(&mut a, Stage::Scores, 1, 0);
    let before = render(&mut a, 120, 40);
    let g = attn_geometry(&a);
    zoom_on(&mut a, Stage::Mask, 1, 0);
    let after = render(&mut a, 120, 40);
    assert_eq!(g, attn_geometry(&a));
    // Query 0 cannot see key 1.
    let (x, y) = (g.x_of_col(1), g.y_of_row(0));
    assert_eq!(before[(x, y)].bg, Color::Reset, "scores: later key blank");
    assert_eq!(before[(x, y)].symbol(), " ");
    assert_eq!(after[(x, y)].symbol(), "·", "mask: later key masked");
    assert_ne!(after[(x, y)].bg, Color::Reset);
    assert!(screen(&before).contains("blank: later keys"));
    assert!(screen(&after).contains("'·' = −∞"));
}

/// Point 6: without colour the legends name no colour and the sign of a score
/// reads from its glyph; the 16-colour ramp runs dark to bright.
#[test]
fn without_colour_legends_say_what_is_drawn_and_signs_stay_readable() {
    let mut a = app_in(theme(ColorMode::None), PROMPT);
    for v in "1234567890".chars() {
        crate::tui::event::apply(&mut a, &super::support::ch(v));
        crate::tui::event::run_jobs_blocking(&mut a);
        let s = screen(&render(&mut a, 120, 40));
        for word in ["blue−", "−red", "viridis", "white,"] {
            assert!(
                !s.contains(word),
                "view {v} names {word:?} without colour:\n{s}"
            );
        }
    }
    // An all-negative head: only '−'-side glyphs; a mixed one: both sides.
    let (layer, head) = one_signed_head(&a, true).expect("an all-negative head");
    zoom_on(&mut a, Stage::Scores, layer, head);
    let buf = render(&mut a, 120, 40);
    let g = attn_geometry(&a);
    let glyphs = |buf: &Buffer| -> String {
        (g.area.y..g.area.y + g.height)
            .flat_map(|y| (g.area.x..g.area.x + g.width).map(move |x| (x, y)))
            .filter(|&p| !buf[p].modifier.contains(Modifier::REVERSED))
            .map(|p| buf[p].symbol().to_string())
            .collect()
    };
    let all_neg = glyphs(&buf);
    assert!(
        all_neg.chars().any(|c| NEG_GLYPHS.contains(&c)),
        "{all_neg}"
    );
    assert!(
        !all_neg.chars().any(|c| POS_GLYPHS.contains(&c)),
        "a positive glyph for a negative score: {all_neg}"
    );
    let s = screen(&buf);
    assert!(s.contains("below 0") && s.contains("above"), "{s}");
    let (layer, head) = mixed_head(&a);
    zoom_on(&mut a, Stage::Scores, layer, head);
    let buf = render(&mut a, 120, 40);
    let mixed = glyphs(&buf);
    assert!(
        mixed.chars().any(|c| NEG_GLYPHS.contains(&c))
            && mixed.chars().any(|c| POS_GLYPHS.contains(&c)),
        "{mixed}"
    );
    // The 16-colour sequential ramp, in xterm's default colours: dark to bright.
    let lum = |c: Color| -> f32 {
        let (r, g, b) = match c {
            Color::Blue => (0, 0, 238),
            Color::LightBlue => (92, 92, 255),
            Color::Cyan => (0, 205, 205),
            Color::LightCyan => (0, 255, 255),
            Color::White => (255, 255, 255),
            other => panic!("unexpected {other:?}"),
        };
        let lin = |v: u8| (v as f32 / 255.0).powf(2.2);
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    };
    for w in BASIC16_SEQ.windows(2) {
        assert!(
            lum(w[0]) < lum(w[1]),
            "{:?} is not darker than {:?}",
            w[0],
            w[1]
        );
    }
    let th16 = Theme {
        mode: ColorMode::Basic16,
        palette: Palette::Viridis,
        ..Theme::default()
    };
    assert_eq!(th16.color(0.0, false), Some(BASIC16_SEQ[0]));
    assert_eq!(th16.color(1.0, false), Some(BASIC16_SEQ[4]));
    let mut a = app_in(th16, PROMPT);
    assert!(a.goto_stage(Stage::Softmax, 0));
    let s = screen(&render(&mut a, 120, 40));
    assert!(
        !s.contains("viridis") && s.contains("blue−cyan−white"),
        "{s}"
    );
}

/// Point 9: given more room, the zoomed head gets larger cells (presenter
/// mode lifts the cap on their width).
#[test]
fn heatmap_cells_grow_with_the_area_and_in_presenter_mode() {
    let mut a = app_in(theme(ColorMode::TrueColor), PROMPT);
    zoom_on(&mut a, Stage::Softmax, 0, 0);
    render(&mut a, 80, 24);
    let small = attn_geometry(&a);
    render(&mut a, 200, 60);
    let large = attn_geometry(&a);
    assert!(large.cell_w > small.cell_w && large.row_h >= small.row_h);
    let mut p = app_in(
        Theme {
            present: true,
            ..theme(ColorMode::TrueColor)
        },
        PROMPT,
    );
    zoom_on(&mut p, Stage::Softmax, 0, 0);
    render(&mut p, 200, 60);
    let present = attn_geometry(&p);
    assert!(
        present.cell_w > large.cell_w && present.row_h > 1,
        "presenter {present:?} vs {large:?}"
    );
}
