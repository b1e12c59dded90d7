//! The quantization view: reached with its key, its block chosen with the
//! keymap's keys, every number on screen found in `readout::quant`'s block
//! (at 80×24, 120×40 and 200×60), a GGUF model's own block, snapshots at
//! 80×24 and 200×60.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;

use super::support::{built_in, ch, key, render_buffer as render, screen, vocab_of};
use crate::model::Gpt;
use crate::pass::View;
use crate::quant::GgmlType;
use crate::readout::quant::Block;
use crate::sample::Sampling;
use crate::tui::app::{App, Options};
use crate::tui::event::apply;
use crate::tui::heatmap::Theme;
use crate::tui::views::quant::selected;

const PROMPT: &str = "Once upon a time, there was a little girl named Lily.";

fn app_for(gpt: Arc<Gpt>, tok: &crate::tokenizer::Tokenizer) -> App {
    let prompt = tok.encode(PROMPT).expect("encode");
    let opts = Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    };
    let mut app = App::new(gpt.clone(), vocab_of(&gpt, tok), &prompt, opts).expect("app");
    apply(&mut app, &ch(View::Quant.key()));
    assert_eq!(app.view(), View::Quant, "- shows the eleventh view");
    app
}

fn explorer() -> App {
    let (gpt, tok) = built_in();
    app_for(gpt, &tok)
}

/// Every number the readout holds for the block, and the byte counts in the
/// units `fmt::bytes` may print them in.
fn readout_numbers(b: &Block, matrices: usize, layer: usize, matrix: usize) -> Vec<f64> {
    let mut v: Vec<f64> = (0..32).map(f64::from).collect();
    v.extend(b.weights.iter().map(|&x| x as f64));
    for c in &b.coded {
        v.push(c.scale as f64);
        v.extend(c.min.map(f64::from));
        v.extend(c.ints.iter().map(|&q| q as f64));
        v.extend(c.values.iter().map(|&x| x as f64));
        v.extend(c.errors.iter().flatten().map(|&x| x as f64));
        v.extend(c.rms().map(f64::from));
        v.extend(c.max_error().map(f64::from));
    }
    for c in &b.costs {
        v.push(c.bits_per_weight);
        v.push(c.fewer_than_f32);
        for k in 0..4 {
            v.push(c.bytes_per_token / 1024f64.powi(k));
        }
    }
    let m = &b.matrix;
    v.extend(
        [
            b.index,
            m.blocks(),
            b.row,
            b.col,
            b.col + 31,
            layer,
            matrix + 1,
            matrices,
            // The formula d·(q − 8) names its offset.
            8,
        ]
        .map(|x| x as f64),
    );
    v
}

/// Half a unit of the last digit `s` prints (a mantissa's, in e-notation).
fn half_unit(s: &str) -> f64 {
    let (mant, exp) = match s.split_once('e') {
        Some((m, e)) => (m, e.parse::<i32>().unwrap_or(0)),
        None => (s, 0),
    };
    let decimals = mant.split_once('.').map_or(0, |(_, d)| d.len()) as i32;
    0.5 * 10f64.powi(exp - decimals)
}

/// The numbers printed in the view's rows (the header, token strip and hint
/// bar are the explorer's), as written.
fn numbers_on(b: &Buffer, first_row: usize) -> Vec<String> {
    let s = screen(b);
    let rows: Vec<&str> = s.lines().collect();
    let view = &rows[first_row..rows.len() - 1];
    let mut out = vec![];
    for line in view {
        for tok in line.split(|c: char| c.is_whitespace() || "/│|–()·:×÷".contains(c) || c == '…')
        {
            let t = tok.trim_end_matches(',').replace('−', "-");
            // "1,536": thousands separators.
            let t = if t.contains(',') && !t.ends_with(',') {
                t.replace(',', "")
            } else {
                t
            };
            if !t.is_empty() && t.parse::<f64>().is_ok() {
                out.push(t);
            }
        }
    }
    out
}

/// The row of the view's title (the first under the token strip).
fn title_row(b: &Buffer) -> usize {
    let s = screen(b);
    s.lines()
        .position(|l| l.contains(" · block "))
        .expect("the view's title")
}

fn check_numbers(app: &mut App, w: u16, h: u16) -> usize {
    let block = selected(app).expect("a block");
    let n = crate::readout::quant::matrices(&app.gpt().weights, app.layer()).len();
    let known = readout_numbers(&block, n, app.layer(), app.matrix());
    let b = render(app, w, h);
    let shown = numbers_on(&b, title_row(&b));
    assert!(
        shown.len() > 100,
        "{w}x{h}: {} numbers\n{}",
        shown.len(),
        screen(&b)
    );
    for t in &shown {
        let p: f64 = t.parse().unwrap();
        let tol = half_unit(t) * (1.0 + 1e-9) + 1e-12;
        assert!(
            known.iter().any(|v| (v - p).abs() <= tol),
            "{w}x{h}: {t} is on screen but not in the readout\n{}",
            screen(&b)
        );
    }
    shown.len()
}

#[test]
fn every_number_on_screen_is_the_readouts() {
    let mut app = explorer();
    // Layer 1, the MLP up matrix, block 3.
    for k in [
        ch(']'),
        ch('}'),
        ch('}'),
        key(KeyCode::Down),
        key(KeyCode::Down),
    ] {
        apply(&mut app, &k);
    }
    apply(&mut app, &key(KeyCode::Down));
    assert_eq!((app.layer(), app.matrix(), app.cell()), (1, 2, 3));
    let b = selected(&app).unwrap();
    assert_eq!(b.matrix.name, "h.1.mlp.c_fc.weight");
    assert_eq!(b.index, 3);
    let small = check_numbers(&mut app, 80, 24);
    let mid = check_numbers(&mut app, 120, 40);
    let big = check_numbers(&mut app, 200, 60);
    // The projector's table adds the values back and every error.
    assert!(big > small + 150 && mid >= small, "{small} {mid} {big}");
    let s = screen(&render(&mut app, 200, 60));
    for word in [
        "h.1.mlp.c_fc.weight (MLP up)",
        "d·(q − 8)",
        "RMS error",
        "bytes / token",
    ] {
        assert!(s.contains(word), "{word}\n{s}");
    }
}

#[test]
fn at_80x24_nothing_is_cut_and_the_codes_sit_under_their_weights() {
    let mut app = explorer();
    let b = render(&mut app, 80, 24);
    let s = screen(&b);
    let rows: Vec<&str> = s.lines().collect();
    let first = title_row(&b);
    for r in &rows[first..rows.len() - 1] {
        assert!(!r.contains('…'), "cut: {r}\n{s}");
    }
    let block = selected(&app).unwrap();
    // The first group: the weights' row, then Q8_0's, Q4_0's, Q4_1's
    // integers, each right-aligned in the same 9 columns.
    let w_row = rows[first + 2];
    assert!(w_row.trim_start().starts_with("0–7"), "{w_row}");
    for (i, c) in block.coded.iter().enumerate() {
        let row = rows[first + 3 + i];
        assert!(row.starts_with(c.ty.name()), "{row}");
        for j in 0..8 {
            let end = 6 + 9 * (j + 1);
            let cell = row.chars().skip(end - 9).take(9).collect::<String>();
            assert_eq!(cell.trim(), c.ints[j].to_string(), "{} j {j}: {row}", c.ty);
            let wcell = w_row.chars().skip(end - 9).take(9).collect::<String>();
            assert!(!wcell.trim().is_empty(), "weight {j} above");
        }
    }
    assert!(s.contains("per token F32 "), "{s}");
}

#[test]
fn the_keys_choose_layer_matrix_and_block_within_range() {
    let mut app = explorer();
    let n = crate::readout::quant::matrices(&app.gpt().weights, 0).len();
    assert_eq!(n, 5, "four matrices a block and the token table");
    for _ in 0..9 {
        apply(&mut app, &ch('}'));
    }
    assert_eq!(app.matrix(), n - 1);
    let b = selected(&app).unwrap();
    assert_eq!(b.matrix.name, "wte.weight");
    apply(&mut app, &ch('{'));
    assert_eq!(selected(&app).unwrap().matrix.name, "h.0.mlp.c_proj.weight");
    // ↑ at the first block stays; ↓ past the last stops there.
    apply(&mut app, &key(KeyCode::Up));
    assert_eq!(app.cell(), 0);
    let last = crate::tui::views::quant::selection_count(&app) - 1;
    for _ in 0..last + 3 {
        apply(&mut app, &key(KeyCode::Down));
    }
    assert_eq!(app.cell(), last);
    assert_eq!(selected(&app).unwrap().index, last);
    // { } are the head keys elsewhere: the head did not move.
    assert_eq!(app.head(), 0);
}

#[test]
fn a_gguf_model_shows_the_files_own_block() {
    let (gpt, tok) = built_in();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.gguf");
    crate::gguf::gpt2::write(&gpt, &tok, GgmlType::Q4_0, "tinystories", &path).unwrap();
    let (q, qtok, _) = crate::gguf::gpt2::open(&path).unwrap();
    let mut app = app_for(Arc::new(q), &qtok);
    let b = selected(&app).unwrap();
    assert_eq!(b.matrix.stored, GgmlType::Q4_0);
    check_numbers(&mut app, 80, 24);
    check_numbers(&mut app, 200, 60);
    let s = screen(&render(&mut app, 200, 60));
    assert!(s.contains("stored Q4_0 (the file's values)"), "{s}");
    assert!(s.contains("Q4_0 (file's)"), "{s}");
    assert!(s.contains("the file's own block has no error"), "{s}");
}

#[test]
fn snapshots_at_80x24_and_200x60() {
    let mut app = explorer();
    apply(&mut app, &key(KeyCode::Down));
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        insta::assert_snapshot!(format!("quant_{w}x{h}"), screen(&render(&mut app, w, h)));
    }
}
