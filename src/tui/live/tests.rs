//! The live screen drawn from made-up events: what a class sees at 80×24 and
//! on a projector at 200×60, and that keys do what the help says.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::readout::heads::HeadScores;
use crate::tui::heatmap::ColorMode;
use crate::tui::tests::support::screen;

fn progress(step: u64, val: Option<f32>) -> Progress {
    Progress {
        step,
        steps: 1000,
        loss: 7.6 * (-(step as f32) / 400.0).exp() + 2.4,
        lr: 3e-3,
        grad_norm: 1.0,
        tokens_per_sec: 5000.0,
        val_loss: val,
        elapsed_secs: step as f64 * 0.4,
        message: None,
        tokenizing: None,
    }
}

/// A run at step 300 of 1000; layer 1 head 2 has become a previous-token head.
fn live() -> Live {
    let mut l = Live::new(Theme {
        mode: ColorMode::None,
        ..Theme::default()
    });
    let probe: Vec<String> = ["Lily", "·had", "·a", "·red", "·ball", ".", "·Lily", "·gave"]
        .map(String::from)
        .to_vec();
    let n = probe.len();
    l.on_event(LiveEvent::Begin(LiveStart {
        steps: 1000,
        first_step: 0,
        n_layer: 2,
        n_head: 4,
        vocab: 2048,
        baselines: Some((6.02, 3.75)),
        probe,
    }));
    for s in 1..=300 {
        let val = (s % 50 == 0).then(|| 7.6 * (-(s as f32) / 400.0).exp() + 2.5);
        l.on_event(LiveEvent::Step(progress(s, val)));
    }
    for step in [100u64, 200, 300] {
        let grow = step as f32 / 300.0;
        let even = |t: usize| vec![1.0 / (t + 1) as f32; t + 1];
        let prev_head = |t: usize| {
            let mut r = vec![(1.0 - 0.8 * grow) / (t + 1) as f32; t + 1];
            r[t.saturating_sub(1)] += 0.8 * grow;
            r
        };
        let probs = (0..2)
            .map(|l| {
                (0..4)
                    .map(|h| {
                        (0..n)
                            .map(|t| {
                                if (l, h) == (1, 2) {
                                    prev_head(t)
                                } else {
                                    even(t)
                                }
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let mut prev = vec![vec![0.05f32; 4]; 2];
        prev[1][2] = 0.05 + 0.8 * grow;
        l.on_event(LiveEvent::Probe(Box::new(ProbeView {
            step,
            probs,
            scores: HeadScores {
                previous_token: prev,
                induction: vec![vec![0.01; 4]; 2],
            },
            continuation: " Tom. Tom was happy.".into(),
        })));
    }
    l
}

fn draw(l: &Live, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| draw::render(l, f.area(), f.buffer_mut()))
        .expect("draw");
    screen(t.backend().buffer())
}

fn press(l: &mut Live, c: KeyCode) {
    let a = action_for(&KeyEvent::new(c, KeyModifiers::NONE)).expect("a bound key");
    l.on_action(a);
}

#[test]
fn at_80x24_and_200x60_the_whole_run_is_on_screen() {
    let mut l = live();
    for (w, h) in [(80, 24), (200, 60)] {
        let s = draw(&l, w, h);
        for want in [
            "step 300/1000 (30%)",
            "ETA",
            "uniform ln 2048",
            "unigram",
            "bigram",
            "attention L0 H0 · step 300",
            "every head now",
            "Tom. Tom was happy.",
            "? help",
            "q quit",
        ] {
            assert!(s.contains(want), "{w}×{h} lacks {want:?}:\n{s}");
        }
        insta::assert_snapshot!(format!("live_{w}x{h}"), s);
    }
    // The head that formed: chosen with the keys, its score in the title.
    press(&mut l, KeyCode::Down);
    press(&mut l, KeyCode::Right);
    press(&mut l, KeyCode::Right);
    let s = draw(&l, 120, 40);
    assert!(s.contains("attention L1 H2 · step 300 · prev 0.85"), "{s}");
    assert!(s.contains("L1 H2 over training"), "{s}");
}

#[test]
fn space_pauses_q_quits_and_the_help_lists_every_key_of_the_table() {
    let mut l = live();
    press(&mut l, KeyCode::Char(' '));
    assert!(l.paused());
    assert!(draw(&l, 80, 24).lines().next().unwrap().contains("PAUSED"));
    press(&mut l, KeyCode::Char(' '));
    assert!(!l.paused());
    press(&mut l, KeyCode::Char('?'));
    let s = draw(&l, 80, 24);
    for (_, label, _, help) in KEYS {
        assert!(
            s.contains(&format!("{label:>6}  {}", help.get(crate::i18n::Lang::En))),
            "help lacks {label}:\n{s}"
        );
    }
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(action_for(&ctrl_c), Some(Action::Quit));
    press(&mut l, KeyCode::Char('q'));
    assert!(l.quitting());
    assert!(draw(&l, 80, 24).contains("writing the checkpoint"));
    // Layer and head wrap around within the model.
    press(&mut l, KeyCode::Up);
    press(&mut l, KeyCode::Left);
    assert_eq!(l.selected(), (1, 3));
}

#[test]
fn a_long_run_keeps_a_bounded_curve_that_still_spans_it() {
    let mut l = live();
    for s in 301..=20_000 {
        l.on_event(LiveEvent::Step(progress(s, None)));
    }
    assert!(l.train.len() <= MAX_POINTS, "{} points", l.train.len());
    assert_eq!(l.train.first().map(|p| p.step), Some(1));
    assert!(l.train.last().is_some_and(|p| p.step >= 19_990));
}

/// Issue 18 point 5: under `--lang zh` the live screen's header, panels,
/// key line and help are Chinese: none of the table's English `Live…`
/// strings (longer than a word) is on screen, at 80×24 and 200×60.
#[test]
fn under_zh_the_live_screen_is_chinese() {
    use crate::i18n::{Lang, Msg};
    let english: Vec<&str> = Msg::ALL
        .iter()
        .filter(|m| format!("{m:?}").starts_with("Live"))
        .map(|m| m.get(Lang::En).split("{}").next().unwrap_or("").trim())
        .filter(|s| s.contains(' ') && s.len() > 4)
        .collect();
    assert!(english.len() > 15, "{english:?}");
    let mut l = live();
    l.theme.lang = Lang::Zh;
    for help in [false, true] {
        if help {
            press(&mut l, KeyCode::Char('?'));
        }
        for (w, h) in [(80u16, 24u16), (200, 60)] {
            let s = draw(&l, w, h);
            for e in &english {
                assert!(!s.contains(e), "{e:?} at {w}×{h}:\n{s}");
            }
            assert!(s.contains("第 300/1000 步") && s.contains("帮助"), "{s}");
            if help {
                assert!(s.contains("暂停 / 继续训练"), "{s}");
            }
        }
    }
    // The English screen has them: the check can fail.
    let s = draw(&live(), 200, 60);
    assert!(
        english.iter().filter(|e| s.contains(*e)).count() >= 2,
        "{s}"
    );
}
