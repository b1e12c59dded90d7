//! The training view: drawn at 80×24 and 120×40 from a hand-made record and
//! from the built-in model's real one, with the numbers on screen checked
//! against the files; a folder without a record, a broken record, `--ascii`.

use std::path::Path;
use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;

use super::support::{key, render_buffer as render, screen};
use crate::fmt::{count, num};
use crate::model::{Config, Gpt, random_model};
use crate::pass::View;
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;
use crate::train::record::{LOG_FILE, SUMMARY_FILE, TrainRecord};
use crate::tui::app::{App, Options};
use crate::tui::event::apply;
use crate::tui::heatmap::{ColorMode, Theme};

const VOCAB: usize = 64;

/// A small run: loss from 4.3 down to 1.9, two validation points.
pub(super) const LOG: &str = "step\tlr\ttrain_loss\tval_loss\tgrad_norm\ttokens_per_sec\n\
    1\t0.0001\t4.3125\t\t1.2\t900\n\
    10\t0.001\t3.8750\t\t1.1\t950\n\
    20\t0.002\t3.1250\t\t1.0\t1000\n\
    30\t0.0015\t2.6875\t2.8125\t0.9\t1000\n\
    40\t0.001\t2.2500\t\t0.8\t1000\n\
    50\t0.0005\t1.9375\t\t0.7\t1000\n\
    50\t\t\t2.3906\t\t\n";

pub(super) const SUMMARY: &str = r#"{"hyper": {"n_layer": 2, "n_head": 2, "n_embd": 16, "n_ctx": 32,
    "vocab_size": 64, "batch": 4, "steps": 50, "lr": 0.002, "min_lr": 0.0002, "warmup": 5,
    "weight_decay": 0.1, "grad_clip": 1.0, "seed": 1},
  "n_params": 12345, "step": 50, "tokens_seen": 6400, "elapsed_secs": 12.5,
  "train_loss": 1.9375, "val_loss": 2.3906, "val_bits_per_byte": 1.3125,
  "val_tokens": 500, "val_bytes": 1300, "train_tokens": 3200,
  "baselines": {"unigram": 3.9688, "bigram": 3.0625, "bigram_lambda": 0.9}, "interrupted": false}"#;

fn theme() -> Theme {
    Theme::default()
}

fn app_in(dir: Option<&Path>, gpt: Arc<Gpt>, vocab: Vec<String>, prompt: &[u32], t: Theme) -> App {
    let opts = Options {
        theme: t,
        sampling: Sampling::default(),
        seed: 1,
    };
    let mut app = App::new(gpt, vocab, prompt, opts).expect("app");
    if let Some(d) = dir {
        app.set_model_dir(d);
    }
    apply(&mut app, &key(KeyCode::Char('0')));
    assert_eq!(app.view(), View::Training, "0 selects the tenth view");
    app
}

/// A random model whose folder holds `files`.
fn random_app(files: &[(&str, &str)], t: Theme) -> (tempfile::TempDir, App) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, body) in files {
        std::fs::write(tmp.path().join(name), body).expect("write");
    }
    let gpt = Arc::new(random_model(&Config::new(2, 2, 16, VOCAB, 32), 5, false));
    let vocab = (0..VOCAB).map(|i| format!("w{i}")).collect();
    let app = app_in(Some(tmp.path()), gpt, vocab, &[3, 8, 13, 21], t);
    (tmp, app)
}

fn braille_cells(b: &Buffer) -> usize {
    b.content()
        .iter()
        .filter(|c| {
            c.symbol()
                .chars()
                .any(|ch| ('\u{2801}'..='\u{28FF}').contains(&ch))
        })
        .count()
}

/// What the screen must show for a record: final losses, perplexity,
/// baselines and ln V, each formatted the way the view formats them.
fn expected_numbers(r: &TrainRecord, vocab: usize) -> Vec<String> {
    let mut v = vec![num((vocab as f64).ln())];
    v.extend(r.final_train().map(num));
    if let Some(val) = r.final_val() {
        v.push(num(val));
        v.push(num(val.exp()));
    }
    if let Some(b) = r.baselines() {
        v.extend(b.unigram.map(num));
        v.extend(b.bigram.map(num));
    }
    v
}

#[test]
fn a_hand_made_record_is_charted_with_its_numbers_at_80x24_and_120x40() {
    let (_tmp, mut app) = random_app(&[(LOG_FILE, LOG), (SUMMARY_FILE, SUMMARY)], theme());
    for &(w, h) in &[(80u16, 24u16), (120, 40)] {
        let b = render(&mut app, w, h);
        let s = screen(&b);
        for word in [
            "train loss",
            "val loss",
            "baselines",
            "nats",
            "the run",
            // ln 64, the files' final losses, perplexity exp(2.3906), baselines
            "4.1589",
            "1.9375",
            "2.3906",
            "10.9200",
            "3.9688",
            "3.0625",
            "12.5 seconds",
            "6,400",
            "step",
        ] {
            assert!(s.contains(word), "{w}×{h} lacks {word:?}:\n{s}");
        }
        assert!(
            braille_cells(&b) > 10,
            "{w}×{h}: the training curve is drawn in Braille:\n{s}"
        );
        // The two validation points (steps 30 and 50) are two cells.
        assert_eq!(s.matches('◆').count(), 3, "two points + legend:\n{s}");
        // The reference lines carry their labels.
        for label in ["uniform ln V", "unigram 3.9688", "bigram 3.0625"] {
            assert!(s.contains(label), "{w}×{h} lacks {label:?}:\n{s}");
        }
    }
    let s = screen(&render(&mut app, 120, 40));
    assert!(s.contains("2.00 of 3,200"), "epochs = 6400 / 3200:\n{s}");
    assert!(s.contains("cosine"), "the lr schedule:\n{s}");
}

#[test]
fn the_curve_falls_from_upper_left_to_lower_right() {
    let (_tmp, mut app) = random_app(&[(LOG_FILE, LOG), (SUMMARY_FILE, SUMMARY)], theme());
    app.set_zoom(true);
    let b = render(&mut app, 120, 40);
    // Braille cells: the mean row of the left third is above (smaller y) that of the right third.
    let mut cells = vec![];
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            if b[(x, y)]
                .symbol()
                .chars()
                .any(|c| ('\u{2801}'..='\u{28FF}').contains(&c))
            {
                cells.push((x as f64, y as f64));
            }
        }
    }
    let (x0, x1) = cells
        .iter()
        .fold((f64::MAX, f64::MIN), |a, c| (a.0.min(c.0), a.1.max(c.0)));
    let third = (x1 - x0) / 3.0;
    let mean_y = |lo: f64, hi: f64| {
        let ys: Vec<f64> = cells
            .iter()
            .filter(|c| c.0 >= lo && c.0 <= hi)
            .map(|c| c.1)
            .collect();
        ys.iter().sum::<f64>() / ys.len() as f64
    };
    assert!(
        mean_y(x0, x0 + third) + 3.0 < mean_y(x1 - third, x1),
        "{}",
        screen(&b)
    );
}

#[test]
fn ascii_and_no_colour_draw_the_chart_without_braille_boxes_or_colour() {
    let t = Theme {
        mode: ColorMode::None,
        ascii: true,
        ..Theme::default()
    };
    let (_tmp, mut app) = random_app(&[(LOG_FILE, LOG), (SUMMARY_FILE, SUMMARY)], t);
    for &(w, h) in &[(80u16, 24u16), (120, 40)] {
        let b = render(&mut app, w, h);
        let s = screen(&b);
        for c in b.content() {
            assert!(c.fg == Color::Reset && c.bg == Color::Reset, "colour used");
            let graphic = |ch: char| {
                ('\u{2500}'..='\u{259F}').contains(&ch)
                    || ('\u{2800}'..='\u{28FF}').contains(&ch)
                    || "◆•".contains(ch)
            };
            assert!(
                !c.symbol().chars().any(graphic),
                "{w}×{h}: box, block or Braille glyph {:?}:\n{s}",
                c.symbol()
            );
        }
        assert!(s.matches('*').count() > 10, "the curve in '*':\n{s}");
        assert!(s.contains("o val loss"), "{s}");
        assert!(s.contains("2.3906") && s.contains("3.0625"), "{s}");
    }
}

#[test]
fn a_folder_without_a_record_says_so_and_how_to_get_one() {
    let (tmp, mut app) = random_app(&[], theme());
    for &(w, h) in &[(80u16, 24u16), (120, 40)] {
        let s = screen(&render(&mut app, w, h));
        let squashed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(squashed.contains("no training record in"), "{s}");
        assert!(squashed.contains("gptlens train"), "{s}");
        let name = tmp
            .path()
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?");
        assert!(squashed.contains(name), "names the folder:\n{s}");
    }
    // And an App that was never told its folder.
    let gpt = Arc::new(random_model(&Config::new(1, 1, 8, VOCAB, 16), 2, false));
    let vocab = (0..VOCAB).map(|i| format!("w{i}")).collect();
    let mut app = app_in(None, gpt, vocab, &[1, 2], theme());
    let s = screen(&render(&mut app, 80, 24));
    assert!(s.contains("no training record"), "{s}");
}

#[test]
fn a_broken_record_shows_the_file_and_line_instead_of_a_chart() {
    let bad = "step\ttrain_loss\n1\t4.0\n2\toops\n";
    let (_tmp, mut app) = random_app(&[(LOG_FILE, bad)], theme());
    assert!(app.train_record().is_err());
    let s = screen(&render(&mut app, 120, 40));
    let squashed: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        squashed.contains("cannot be read") && squashed.contains("line 3"),
        "{s}"
    );
}

#[test]
fn the_record_is_read_once_when_the_folder_is_set() {
    let (tmp, mut app) = random_app(&[(LOG_FILE, LOG), (SUMMARY_FILE, SUMMARY)], theme());
    std::fs::remove_file(tmp.path().join(LOG_FILE)).expect("rm");
    std::fs::remove_file(tmp.path().join(SUMMARY_FILE)).expect("rm");
    let s = screen(&render(&mut app, 80, 24));
    assert!(
        s.contains("1.9375"),
        "drawn from the copy read at start:\n{s}"
    );
}

#[test]
fn the_built_in_models_real_record_is_shown() {
    let dir = super::support::built_in_dir();
    assert!(
        dir.join(LOG_FILE).is_file(),
        "the built-in model's training record is not at {}",
        dir.display()
    );
    let record = TrainRecord::read(&dir)
        .expect("the built-in record reads")
        .expect("the built-in model has a record");
    let gpt = Arc::new(Gpt::open(&dir).expect("built-in model"));
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let prompt = tok.encode("Once upon a time").expect("encode");
    let vocab = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_text(i))
        .collect();
    let v = gpt.config.vocab_size;
    let mut app = app_in(Some(&dir), gpt, vocab, &prompt, theme());
    for &(w, h) in &[(80u16, 24u16), (120, 40), (200, 60)] {
        let b = render(&mut app, w, h);
        let s = screen(&b);
        for n in expected_numbers(&record, v) {
            assert!(s.contains(&n), "{w}×{h} lacks {n}:\n{s}");
        }
        if let Some(st) = record.summary.as_ref().and_then(|s| s.step) {
            assert!(s.contains(&count(st as f64)), "{w}×{h}:\n{s}");
        }
        assert!(braille_cells(&b) > 20, "{w}×{h}:\n{s}");
        assert!(s.contains("train loss") && s.contains("val loss"), "{s}");
    }
}

#[test]
fn odd_records_draw_at_every_size_without_panicking() {
    let logs = [
        "step\ttrain_loss\n",
        "step\ttrain_loss\n5\t3.5\n",
        "step\ttrain_loss\tval_loss\n1\t1e12\t\n2\tNaN\t-4\n3\tinf\t\n",
        "step\ttrain_loss\n7\t2.0\n7\t2.0\n",
    ];
    for log in logs {
        let (_tmp, mut app) = random_app(&[(LOG_FILE, log), (SUMMARY_FILE, "{}")], theme());
        for &(w, h) in &[(20u16, 10u16), (60, 18), (80, 24), (300, 100)] {
            render(&mut app, w, h);
            app.set_zoom(!app.zoom());
            render(&mut app, w, h);
        }
    }
}

/// The shipped classroom model's record has the heads' scores: under the loss
/// the training view draws every head's previous-token curve, the selected
/// head's bright with its induction curve and the others faint, against the
/// score at which a head counts as formed; the side panel says which head
/// formed and when. Without colour and under `--ascii` the faint heads are
/// dots and the selected one stars.
#[test]
fn the_classroom_record_draws_the_heads_forming_under_the_loss() {
    use crate::train::record::FORMED;
    let dir = crate::embedded::dir("classroom").expect("the classroom model is built in");
    let record = TrainRecord::read(&dir).expect("reads").expect("a record");
    let (l, h, at, _) = record.first_formed(false).expect("a previous-token head");
    let gpt = Arc::new(Gpt::open(&dir).expect("classroom model"));
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let prompt = tok.encode("Once upon a time").expect("encode");
    let vocab: Vec<String> = (0..gpt.config.vocab_size as u32)
        .map(|i| tok.token_text(i))
        .collect();
    let mut app = app_in(Some(&dir), gpt.clone(), vocab.clone(), &prompt, theme());
    app.select_layer(l);
    app.select_head(h);
    let formed = format!("step {}", count(at as f64));
    for &(w, hh) in &[(80u16, 24u16), (120, 40)] {
        let s = screen(&render(&mut app, w, hh));
        for want in [
            "loss per token against optimizer step",
            "heads forming",
            &format!("L{l} H{h} previous-token"),
            &format!("{FORMED}: formed"),
            "none ≥ 0.2",
        ] {
            assert!(s.contains(want), "{w}×{hh} lacks {want:?}:\n{s}");
        }
        // The legend's end fits from 120 columns.
        assert!(w < 120 || s.contains("other heads"), "{s}");
        let side = |label: &str| s.lines().find(|x| x.contains(label)).unwrap_or_default();
        assert!(side("prev-tok head").contains(&format!("L{l} H{h}")), "{s}");
        assert!(side("formed at").contains(&formed), "{s}");
        insta::assert_snapshot!(format!("training_classroom_heads_{w}x{hh}"), s);
    }
    // Another head selected: its name in the title and legend.
    app.select_head((h + 1) % gpt.config.n_head);
    let s = screen(&render(&mut app, 120, 40));
    let other = format!("L{l} H{} previous-token", (h + 1) % gpt.config.n_head);
    assert!(s.contains(&other), "{s}");
    // Too short for two charts: the loss alone; zoomed, the heads alone.
    let s = screen(&render(&mut app, 80, 18));
    assert!(!s.contains("heads forming"), "{s}");
    app.set_zoom(true);
    let s = screen(&render(&mut app, 80, 18));
    assert!(
        s.contains("heads forming") && !s.contains("loss per token"),
        "{s}"
    );
    app.set_zoom(false);
    // ASCII: no Braille, the selected head in stars and the others in dots.
    let t = Theme {
        ascii: true,
        mode: ColorMode::None,
        ..Theme::default()
    };
    let mut app = app_in(Some(&dir), gpt, vocab, &prompt, t);
    let b = render(&mut app, 120, 40);
    let s = screen(&b);
    assert_eq!(braille_cells(&b), 0, "{s}");
    assert!(
        s.contains("** L0 H0 previous-token") && s.contains(".. other heads"),
        "{s}"
    );
}
