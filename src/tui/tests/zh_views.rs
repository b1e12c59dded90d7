//! Issue 18: the tokens, loss, cost, training and quant views under zh show
//! no English from the string table — on the whole screen, not only the
//! frame — at 80×24 and 200×60, at the selections the lessons use; the same
//! screens in English show the views' own English phrases (so the check can
//! fail). The zh screens are pinned: to accept an intended change,
//! `INSTA_UPDATE=always cargo test --release --lib tui::tests::zh_views`,
//! then review the diff.

use super::support::{ch, render_buffer, screen};
use super::zh::{english_on, english_phrases, explorer_in, zh_theme};
use crate::i18n::{Lang, Msg};
use crate::pass::View;
use crate::tui::app::App;
use crate::tui::event::{apply, run_jobs_blocking};
use crate::tui::heatmap::Theme;

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 60)];

/// One selection of a view to draw: what it is, and how to get there from
/// the app as the previous selection left it.
type Step<'a> = (&'a str, &'a dyn Fn(&mut App));

/// This section of the string table: the views' own strings.
fn section() -> &'static [Msg] {
    let at = |m: Msg| Msg::ALL.iter().position(|&x| x == m).expect("in the table");
    &Msg::ALL[at(FIRST)..=at(LAST)]
}
const FIRST: Msg = Msg::TokColPos;
const LAST: Msg = Msg::TrainWeightDecay;

/// The English of `m` between its slots, the longest piece.
fn piece(m: Msg) -> &'static str {
    m.get(Lang::En)
        .split("{}")
        .map(str::trim)
        .max_by_key(|p| p.len())
        .unwrap_or_default()
}

/// Draws every step at both sizes: under zh none of the table's English
/// phrases anywhere on the screen, nor the English of `words` (strings of
/// one word, which the phrases leave out). In English (the same steps on
/// `en`) the screens show at least `min_en` phrases of this section of the
/// table, and every one of `words`: so the check can fail. Returns the zh
/// screens of the first step, for the snapshots.
fn check(zh: &mut App, en: &mut App, steps: &[Step], min_en: usize, words: &[Msg]) -> Vec<String> {
    let phrases = english_phrases();
    let ours: Vec<String> = phrases
        .iter()
        .filter(|p| {
            section()
                .iter()
                .any(|m| m.get(Lang::En).contains(p.as_str()))
        })
        .cloned()
        .collect();
    let mut first = vec![];
    let mut en_found: Vec<String> = vec![];
    let mut words_found: Vec<Msg> = vec![];
    for (i, (what, go)) in steps.iter().enumerate() {
        go(zh);
        go(en);
        for (w, h) in SIZES {
            let s = screen(&render_buffer(zh, w, h));
            let found = english_on(&s, &phrases);
            assert!(found.is_empty(), "zh {what} at {w}×{h}: {found:?}\n{s}");
            for &m in words {
                assert!(!s.contains(piece(m)), "zh {what} at {w}×{h}: {m:?}\n{s}");
            }
            if i == 0 {
                first.push(s);
            }
            let e = screen(&render_buffer(en, w, h));
            for p in english_on(&e, &ours) {
                if !en_found.contains(&p) {
                    en_found.push(p);
                }
            }
            words_found.extend(words.iter().filter(|m| e.contains(piece(**m))));
        }
    }
    assert!(
        en_found.len() >= min_en,
        "the English screens show only {en_found:?} of this section's phrases"
    );
    for m in words {
        assert!(words_found.contains(m), "{m:?} is on no English screen");
    }
    first
}

/// The built-in model on the explorer's prompt in both languages, on `view`.
fn pair(view: View) -> (App, App) {
    let mut zh = explorer_in(zh_theme());
    let mut en = explorer_in(Theme::default());
    for a in [&mut zh, &mut en] {
        apply(a, &ch(view.key()));
        assert_eq!(a.view(), view);
    }
    (zh, en)
}

fn snapshots(name: &str, screens: &[String]) {
    for ((w, h), s) in SIZES.iter().zip(screens) {
        insta::assert_snapshot!(format!("zh_views_{name}_{w}x{h}"), s);
    }
}

fn zoom(on: bool) -> impl Fn(&mut App) {
    move |a: &mut App| a.set_zoom(on)
}

fn pos(p: usize) -> impl Fn(&mut App) {
    move |a: &mut App| a.select_pos(p)
}

#[test]
fn the_tokens_view_under_zh() {
    let (mut zh, mut en) = pair(View::Tokens);
    let n = zh.tokens().len();
    // Two generated tokens: "picked, p=…" and "generated" rows.
    let generate = |a: &mut App| {
        for _ in 0..2 {
            apply(a, &ch('n'));
            run_jobs_blocking(a);
        }
    };
    let steps: [Step; 6] = [
        ("position 8", &pos(8)),
        ("position 0", &pos(0)),
        ("the last position", &pos(n - 1)),
        ("two generated", &generate),
        ("a generated token", &|a: &mut App| {
            a.select_pos(a.tokens().len() - 1)
        }),
        ("zoomed", &zoom(true)),
    ];
    let words = [
        Msg::TokColBytes,
        Msg::TokHowPrompt,
        Msg::TokHowPicked,
        Msg::TokCount,
        Msg::BpeRank,
        Msg::BpeTokens,
    ];
    let first = check(&mut zh, &mut en, &steps, 1, &words);
    assert!(
        first[1].contains("字节 / 来历") && first[1].contains("= 词元"),
        "{}",
        first[1]
    );
    snapshots("tokens", &first);
}

#[test]
fn the_loss_view_under_zh() {
    let (mut zh, mut en) = pair(View::Loss);
    let n = zh.tokens().len();
    let steps: [Step; 5] = [
        ("position 3", &pos(3)),
        ("position 0", &pos(0)),
        ("the last position", &pos(n - 1)),
        ("zoomed at 5", &|a: &mut App| {
            a.set_zoom(true);
            a.select_pos(5);
        }),
        ("zoomed at the last", &pos(n - 1)),
    ];
    let words = [Msg::LossColBar, Msg::LossNats];
    let first = check(&mut zh, &mut en, &steps, 8, &words);
    assert!(first[1].contains("平均损失"), "{}", first[1]);
    snapshots("loss", &first);
}

#[test]
fn the_cost_view_under_zh() {
    let (mut zh, mut en) = pair(View::Cost);
    let n = zh.tokens().len();
    let stage = |c: usize| move |a: &mut App| a.select_cell(c);
    let steps: [Step; 7] = [
        ("the last position", &pos(n - 1)),
        ("position 0", &pos(0)),
        ("position 5, stage 2", &|a: &mut App| {
            a.select_pos(5);
            a.select_cell(2);
        }),
        ("stage 9", &stage(9)),
        ("the last stage", &stage(30)),
        ("zoomed", &zoom(true)),
        ("zoomed at 0", &pos(0)),
    ];
    let words = [Msg::CostTotal, Msg::CostColMulAdd, Msg::CostGroupAttention];
    let first = check(&mut zh, &mut en, &steps, 12, &words);
    assert!(first[1].contains("经验法则"), "{}", first[1]);
    snapshots("cost", &first);
}

/// The built-in model written as a GGUF of `ty` and opened, in both
/// languages, on the quant view: the file's own blocks.
fn gguf_pair(ty: crate::quant::GgmlType, dir: &std::path::Path) -> (App, App) {
    use crate::sample::Sampling;
    use crate::tui::app::Options;
    let (gpt, tok) = super::support::built_in();
    let path = dir.join(format!("m-{ty}.gguf"));
    crate::gguf::gpt2::write(&gpt, &tok, ty, "tinystories", &path).expect("write");
    let (q, qtok, _) = crate::gguf::gpt2::open(&path).expect("open");
    let q = std::sync::Arc::new(q);
    let ids = qtok
        .encode("Once upon a time, there was a little girl")
        .expect("ids");
    let make = |theme: Theme| {
        let options = Options {
            theme,
            sampling: Sampling::default(),
            seed: 1,
        };
        let vocab = super::support::vocab_of(&q, &qtok);
        let mut a = App::new(q.clone(), vocab, &ids, options).expect("app");
        apply(&mut a, &ch(View::Quant.key()));
        a
    };
    (make(zh_theme()), make(Theme::default()))
}

fn keys(k: &'static [char]) -> impl Fn(&mut App) {
    move |a: &mut App| {
        for &c in k {
            apply(a, &ch(c));
        }
    }
}

#[test]
fn the_quant_view_under_zh() {
    use crate::quant::GgmlType;
    use ratatui::crossterm::event::KeyCode;
    let down = |a: &mut App| apply(a, &super::support::key(KeyCode::Down));
    let steps: [Step; 6] = [
        ("block 1", &down),
        ("layer 1, the MLP up matrix", &keys(&[']', '}', '}'])),
        ("the token table", &keys(&['}', '}', '}'])),
        (
            "layer 0, the first matrix",
            &keys(&['[', '{', '{', '{', '{', '{']),
        ),
        ("zoomed", &zoom(true)),
        ("block 2", &down),
    ];
    let words = [Msg::QuantColFormat, Msg::QuantColError];
    let (mut zh, mut en) = pair(View::Quant);
    let first = check(&mut zh, &mut en, &steps, 6, &words);
    assert!(first[0].contains("缩放因子"), "{}", first[0]);
    snapshots("quant", &first);
    // A GGUF's own blocks in Q8_0 and in Q4_0.
    let tmp = tempfile::tempdir().expect("tempdir");
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0] {
        let (mut zh, mut en) = gguf_pair(ty, tmp.path());
        let words = [Msg::QuantFiles, Msg::QuantColFormat];
        let first = check(&mut zh, &mut en, &steps[..3], 3, &words);
        assert!(first[1].contains("文件自带"), "{}", first[1]);
        snapshots(&format!("quant_{ty}"), &first);
    }
}

/// The classroom model (its record has the heads' scores) in both
/// languages, with its folder, on the training view.
fn classroom_pair() -> (App, App) {
    use crate::model::Gpt;
    use crate::sample::Sampling;
    use crate::tokenizer::Tokenizer;
    use crate::tui::app::Options;
    let dir = crate::embedded::dir("classroom").expect("the classroom model is built in");
    let gpt = std::sync::Arc::new(Gpt::open(&dir).expect("classroom model"));
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
    let ids = tok
        .encode("Once upon a time, there was a little girl. She liked to play.")
        .expect("ids");
    let make = |theme: Theme| {
        let options = Options {
            theme,
            sampling: Sampling::default(),
            seed: 1,
        };
        let vocab = super::support::vocab_of(&gpt, &tok);
        let mut a = App::new(gpt.clone(), vocab, &ids, options).expect("app");
        a.set_model_dir(&dir);
        apply(&mut a, &ch(View::Training.key()));
        a
    };
    (make(zh_theme()), make(Theme::default()))
}

#[test]
fn the_training_view_under_zh() {
    let head = |l: usize, h: usize| {
        move |a: &mut App| {
            a.select_layer(l);
            a.select_head(h);
        }
    };
    let steps: [Step; 5] = [
        ("L0 H3, the lesson's head", &head(0, 3)),
        ("L1 H1", &head(1, 1)),
        ("zoomed on L0 H3", &|a: &mut App| {
            a.select_layer(0);
            a.select_head(3);
            a.set_zoom(true);
        }),
        ("zoomed on L0 H1", &head(0, 1)),
        ("not zoomed, L1 H0", &|a: &mut App| {
            a.set_zoom(false);
            a.select_layer(1);
            a.select_head(0);
        }),
    ];
    let words = [
        Msg::TrainSteps,
        Msg::TrainWallTime,
        Msg::TrainBaselines,
        Msg::TrainParameters,
    ];
    let (mut zh, mut en) = classroom_pair();
    let first = check(&mut zh, &mut en, &steps, 5, &words);
    assert!(
        first[1].contains("头的形成") && first[1].contains("验证损失"),
        "{}",
        first[1]
    );
    snapshots("training", &first);
    // Zoomed: the heads' curves alone.
    let mut z = classroom_pair().0;
    head(0, 3)(&mut z);
    z.set_zoom(true);
    let zoomed: Vec<String> = SIZES
        .iter()
        .map(|&(w, h)| screen(&render_buffer(&mut z, w, h)))
        .collect();
    snapshots("training_zoomed", &zoomed);
    // No folder given: the panel that says so.
    let (mut zh, mut en) = pair(View::Training);
    let steps: [Step; 1] = [("no record", &|_: &mut App| {})];
    let first = check(&mut zh, &mut en, &steps, 3, &[]);
    assert!(first[1].contains("没有训练记录"), "{}", first[1]);
}
