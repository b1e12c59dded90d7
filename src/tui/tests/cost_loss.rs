//! The cost and loss views: drawn at 80×24 and 120×40 on a random model and on
//! the built-in one, with the numbers on screen checked against the ledger and
//! against the loss recomputed here from a fresh forward pass.

use std::sync::Arc;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

use super::support::{built_in, ch, key, render_buffer, screen, vocab_of};
use crate::cost::{Ledger, Params};
use crate::fmt::count;
use crate::fmt::{percent, si};
use crate::model::{Config, Gpt, random_model};
use crate::pass::View;
use crate::sample::Sampling;
use crate::tokenizer::Tokenizer;
use crate::tui::app::{App, Hit, Options};
use crate::tui::event::apply;
use crate::tui::heatmap::{ColorMode, Theme};
use crate::tui::views::cost::attention_share;

fn options(theme: Theme) -> Options {
    Options {
        theme,
        sampling: Sampling::default(),
        seed: 3,
    }
}

/// A random 2-layer model, context 32, with plain token names.
fn random_app(theme: Theme) -> App {
    let cfg = Config::new(2, 2, 16, 64, 32);
    let gpt = Arc::new(random_model(&cfg, 11, false));
    let vocab = (0..64).map(|i| format!("w{i}")).collect();
    App::new(
        gpt,
        vocab,
        &[5, 9, 2, 30, 17, 8, 41, 3, 22, 60],
        options(theme),
    )
    .expect("app")
}

/// The built-in model on a short story opening.
fn built_in_app() -> App {
    let (gpt, tok) = built_in();
    let prompt = tok
        .encode("Once upon a time, there was a little girl named Lily. She")
        .expect("encode");
    let vocab = vocab_of(&gpt, &tok);
    App::new(gpt, vocab, &prompt, options(Theme::default())).expect("app")
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    screen(&render_buffer(app, w, h))
}

fn apps() -> Vec<App> {
    let mut v = vec![random_app(Theme::default())];
    v.push(built_in_app());
    v
}

/// The first number (digits, '.', '-', 'e') after `label` on the screen.
fn number_after(screen: &str, label: &str) -> f64 {
    let at = screen
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} on screen:\n{screen}"));
    let rest = &screen[at + label.len()..];
    let s: String = rest
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | 'e'))
        .collect();
    s.parse()
        .unwrap_or_else(|_| panic!("no number after {label:?}: {rest:.40}"))
}

/// The (context, share in %) pairs of the one-line share table.
fn share_pairs(screen: &str) -> Vec<(usize, f64)> {
    let line = screen
        .lines()
        .find(|l| l.contains("QKᵀ+AV share"))
        .unwrap_or_else(|| panic!("no share line:\n{screen}"));
    let after = &line[line.find(':').expect("colon") + 1..];
    after
        .split_whitespace()
        .filter_map(|w| {
            let w = w.trim_matches(|c| c == '[' || c == ']' || c == '│');
            let (c, p) = w.split_once(':')?;
            Some((c.parse().ok()?, p.strip_suffix('%')?.parse().ok()?))
        })
        .collect()
}

#[test]
fn cost_view_shows_the_ledger_of_the_selected_position() {
    for mut a in apps() {
        apply(&mut a, &ch('9'));
        assert_eq!(a.view(), View::Cost);
        let cfg = a.gpt().config.clone();
        let pos = a.pos();
        let tok = Ledger::for_step(&cfg, pos, 1);
        let all = Ledger::for_prompt(&cfg, pos + 1);
        // The Q, K, V projection of one token: L layers × C × 3C multiply-adds.
        let qkv_ma = (cfg.n_layer * cfg.n_embd * 3 * cfg.n_embd) as f64;
        assert_eq!(
            tok.stage(crate::pass::Stage::Qkv).map(|s| s.multiply_adds),
            Some(qkv_ma)
        );
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&mut a, w, h);
            for want in [
                format!("token {pos}: {} FLOPs", count(tok.flops())),
                format!("tokens 0–{pos} in one pass: {} FLOPs", count(all.flops())),
                "Q, K, V projection".to_string(),
                si(qkv_ma),
                "unembedding (logits)".to_string(),
                "MLP up (C → M)".to_string(),
            ] {
                assert!(s.contains(&want), "{w}×{h} lacks {want:?}:\n{s}");
            }
            assert!(!s.contains("too small"), "{s}");
        }
        // 80×24: one line of shares by context, the current one bracketed.
        let s = render(&mut a, 80, 24);
        let here = format!("[{}:{}]", pos + 1, percent(attention_share(&cfg, pos + 1)));
        assert!(s.contains(&here), "lacks {here}:\n{s}");
        let pairs = share_pairs(&s);
        assert!(pairs.len() >= 3, "{pairs:?}");
        for &(c, p) in &pairs {
            assert!(
                (p - 100.0 * attention_share(&cfg, c)).abs() < 0.051,
                "{c}: {p}"
            );
        }
        assert!(
            pairs.windows(2).all(|x| x[0].0 < x[1].0 && x[0].1 < x[1].1),
            "attention's share grows with the context: {pairs:?}"
        );
        // 120×40: the side panels, with the parameter total and the contexts.
        let s = render(&mut a, 120, 40);
        for want in [
            "attention's share grows with context".to_string(),
            format!("ctx {}", cfg.n_positions),
            count(Params::of(&cfg).total),
            "KV cache held".to_string(),
        ] {
            assert!(s.contains(&want), "120×40 lacks {want:?}:\n{s}");
        }
        let small = number_after(&s, "ctx 1 ");
        let big = number_after(&s, &format!("ctx {} ", cfg.n_positions));
        assert!(big > small, "share at ctx 1 {small} vs full {big}");
    }
}

#[test]
fn the_parameter_groups_add_up_to_the_total() {
    let mut a = random_app(Theme::default());
    apply(&mut a, &ch('9'));
    let s = render(&mut a, 160, 48);
    let cfg = &a.gpt().config;
    let sum: f64 = [
        "embedding tables (wte, wpe)",
        "attention (W_qkv, W_O, biases)",
        "MLP (W_fc, W_proj, biases)",
        "LayerNorms (γ, β)",
    ]
    .iter()
    .map(|l| number_after(&s.replace(',', ""), &l.replace(',', "")))
    .sum();
    assert_eq!(sum, Params::of(cfg).total, "{s}");
    // Tall panels add the groups and the 2N rule next to the ledger's count.
    let n = Params::of(cfg).non_embedding;
    assert!(
        s.contains(&format!("2N = 2 × {} = {}", count(n), count(2.0 * n))),
        "{s}"
    );
}

#[test]
fn cost_view_follows_the_position_and_the_selected_stage() {
    let mut a = random_app(Theme::default());
    apply(&mut a, &ch('9'));
    let cfg = a.gpt().config.clone();
    apply(&mut a, &ch('h'));
    apply(&mut a, &ch('h'));
    let pos = a.pos();
    let s = render(&mut a, 120, 40);
    let want = count(Ledger::for_step(&cfg, pos, 1).flops());
    assert!(s.contains(&format!("token {pos}: {want} FLOPs")), "{s}");
    // ↓ selects the next stage; its line says what it is per layer.
    apply(&mut a, &key(KeyCode::Down));
    apply(&mut a, &key(KeyCode::Down));
    assert_eq!(a.cell(), 2);
    let s = render(&mut a, 120, 40);
    let qkv = Ledger::for_step(&cfg, pos, 1);
    let qkv = qkv.stage(crate::pass::Stage::Qkv).expect("qkv");
    let line = format!(
        "Q, K, V projection: {} FLOPs = {} layers × {}",
        count(qkv.flops),
        cfg.n_layer,
        count(qkv.flops / cfg.n_layer as f64)
    );
    assert!(s.contains(&line), "lacks {line:?}:\n{s}");
    for _ in 0..30 {
        apply(&mut a, &key(KeyCode::Down));
    }
    assert_eq!(
        a.cell(),
        qkv_stage_count(&cfg) - 1,
        "↓ stops at the last stage"
    );
    // A click on a stage row selects it.
    render(&mut a, 80, 24);
    let (r, _) = *a
        .hits()
        .iter()
        .find(|(_, h)| matches!(h, Hit::ListRows { .. }))
        .expect("stage rows");
    click(&mut a, r.x + 2, r.y);
    assert_eq!(a.cell(), 0);
}

fn qkv_stage_count(cfg: &Config) -> usize {
    crate::tui::views::cost::stage_count(cfg)
}

fn click(a: &mut App, x: u16, y: u16) {
    apply(
        a,
        &Event::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }),
    );
}

/// −ln p(tokens[p+1] | tokens[..=p]) from a fresh forward pass of the prefix,
/// without the trace and without the view's log-sum-exp.
fn loss_by_hand(gpt: &Gpt, tokens: &[u32], p: usize) -> f64 {
    let logits = gpt.last_logits(&tokens[..=p]).expect("forward");
    let z: f64 = logits.iter().map(|&x| (x as f64).exp()).sum();
    let prob = (logits[tokens[p + 1] as usize] as f64).exp() / z;
    -prob.ln()
}

#[test]
fn loss_view_matches_a_recomputation_from_the_engine() {
    for mut a in apps() {
        apply(&mut a, &ch('8'));
        assert_eq!(a.view(), View::Loss);
        let tokens = a.tokens().to_vec();
        let n = tokens.len();
        let losses: Vec<f64> = (0..n - 1)
            .map(|p| loss_by_hand(a.gpt(), &tokens, p))
            .collect();
        let mean = losses.iter().sum::<f64>() / losses.len() as f64;
        // The cursor starts on the last token, which has nothing to score.
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&mut a, w, h);
            assert!(s.contains("not given yet"), "{w}×{h}:\n{s}");
            let shown = number_after(&s, "mean loss");
            assert!(
                (shown - mean).abs() < 1e-3 * mean.max(1.0),
                "{shown} vs {mean}"
            );
            let ppl = number_after(&s, "perplexity exp(mean)");
            assert!((ppl - mean.exp()).abs() < 1e-3 * mean.exp(), "{ppl}");
            let uniform = number_after(&s, "ln V =");
            assert!((uniform - (a.gpt().config.vocab_size as f64).ln()).abs() < 1e-3);
        }
        // Select position 3 (↑ moves the cursor here) and read its arithmetic.
        for _ in 0..n - 4 {
            apply(&mut a, &key(KeyCode::Up));
        }
        assert_eq!(a.pos(), 3);
        for (w, h) in [(80, 24), (120, 40)] {
            let s = render(&mut a, w, h);
            let shown = number_after(&s, "−ln p =");
            let want = losses[3];
            assert!(
                (shown - want).abs() < 1e-3 * want.max(1.0),
                "{w}×{h}: shown {shown}, recomputed {want}:\n{s}"
            );
            let p = number_after(&s, ") =");
            assert!((p - (-want).exp()).abs() < 1e-3, "p {p}");
            assert!(s.contains("logsumexp"), "{s}");
        }
    }
}

#[test]
fn loss_rows_are_clickable_and_untrusted_text_is_escaped() {
    let cfg = Config::new(2, 2, 16, 64, 32);
    let gpt = Arc::new(random_model(&cfg, 11, false));
    let mut vocab: Vec<String> = (0..64).map(|i| format!("w{i}")).collect();
    vocab[5] = "\u{1b}[31mred".into();
    vocab[6] = "\u{202e}evil".into();
    let mut a = App::new(gpt, vocab, &[5, 6, 7, 8], options(Theme::default())).expect("app");
    apply(&mut a, &ch('8'));
    let s = render(&mut a, 80, 24);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{s:?}");
    assert!(s.contains("␛[31mred"), "{s}");
    let (r, _) = *a
        .hits()
        .iter()
        .rev()
        .find(|(_, h)| *h == Hit::Token(1))
        .expect("row of position 1");
    click(&mut a, r.x + 3, r.y);
    assert_eq!(a.pos(), 1);
}

#[test]
fn one_token_and_tiny_terminals_say_so_without_panicking() {
    let cfg = Config::new(2, 2, 16, 64, 32);
    let gpt = Arc::new(random_model(&cfg, 11, false));
    let vocab = (0..64).map(|i| format!("w{i}")).collect();
    let mut a = App::new(gpt, vocab, &[7], options(Theme::default())).expect("app");
    apply(&mut a, &ch('8'));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("nothing to score yet"), "{s}");
    apply(&mut a, &ch('9'));
    let s = render(&mut a, 80, 24);
    assert!(s.contains("token 0:"), "{s}");
    for v in ['8', '9'] {
        apply(&mut a, &ch(v));
        for (w, h) in [
            (60, 18),
            (61, 19),
            (79, 23),
            (109, 30),
            (110, 30),
            (300, 100),
        ] {
            render(&mut a, w, h);
        }
        apply(&mut a, &key(KeyCode::Enter));
        render(&mut a, 200, 60);
    }
}

#[test]
fn ascii_and_no_colour_draw_the_new_views_without_blocks_or_colour() {
    let theme = Theme {
        mode: ColorMode::None,
        ascii: true,
        ..Theme::default()
    };
    let mut a = random_app(theme);
    for v in ['8', '9'] {
        apply(&mut a, &ch(v));
        for (w, h) in [(80, 24), (200, 60)] {
            let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            t.draw(|f| {
                crate::tui::draw::draw(&a, f.area(), f.buffer_mut());
            })
            .expect("draw");
            for cell in t.backend().buffer().content() {
                assert!(
                    cell.fg == ratatui::style::Color::Reset
                        && cell.bg == ratatui::style::Color::Reset
                );
                assert!(
                    !"▀█░─│┌▶".contains(cell.symbol()) || cell.symbol().is_empty(),
                    "{v}: glyph {:?}",
                    cell.symbol()
                );
            }
        }
        assert!(render(&mut a, 200, 60).contains('#'), "ascii bars");
    }
}

#[test]
fn the_cost_and_loss_lessons_open_their_own_views() {
    use crate::tui::player::Player;
    assert_eq!("cost".parse::<View>(), Ok(View::Cost));
    assert_eq!("loss".parse::<View>(), Ok(View::Loss));
    assert_eq!("training".parse::<View>(), Ok(View::Training));
    let (gpt, tok) = (
        Arc::new(random_model(&Config::new(2, 4, 64, 257, 128), 7, true)),
        || Tokenizer::from_json(&crate::tokenizer::bytes_tokenizer_json()).expect("bytes"),
    );
    for (name, view) in [("cost", View::Cost), ("loss", View::Loss)] {
        let l = crate::lesson::find(name).expect("lesson");
        let trace = crate::lesson::render::trace_prompt(&l, &gpt, &tok()).expect("trace");
        let vocab = (0..257).map(|i| tok().token_text(i)).collect();
        let app =
            App::new(gpt.clone(), vocab, &trace.tokens, options(Theme::default())).expect("app");
        let mut p = Player::new(app, l, tok(), None);
        p.sync();
        assert_eq!(p.app().view(), view, "{name}");
        // The loss lesson opens with a question that hides the view: answer it.
        if p.hiding_view() {
            p.apply(&ch('='));
        }
        // At 80×24 the player shows the text; x shows the explorer under a
        // one-row bar. The cost view keeps the big matrix stages and sums the
        // elementwise rest.
        p.apply(&ch('x'));
        let mut t = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        t.draw(|f| {
            crate::tui::player::draw_player(&p, f.area(), f.buffer_mut());
        })
        .expect("draw");
        let s: String = t
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        let want: &[&str] = if view == View::Cost {
            &["MLP down (M → C)", "unembedding (logits)", "elementwise"]
        } else {
            &["mean loss", "−ln P"]
        };
        for w in want {
            assert!(s.contains(w), "{name} at 80×24 lacks {w:?}");
        }
    }
}

#[test]
fn loss_under_an_intervention_shows_both_means() {
    let mut a = random_app(Theme::default());
    apply(&mut a, &ch('8'));
    let normal = crate::readout::loss::mean_loss(&crate::readout::loss::token_losses(
        a.trace().expect("trace"),
    ))
    .expect("mean");
    apply(&mut a, &ch('a'));
    assert!(a.iv().is_active() && a.alt().is_some());
    let changed = crate::readout::loss::mean_loss(&crate::readout::loss::token_losses(
        a.alt().expect("intervened trace"),
    ))
    .expect("mean");
    assert!(
        (changed - normal).abs() > 1e-6,
        "ablating a head changes the loss"
    );
    let s = render(&mut a, 120, 40);
    assert!(s.contains("INTERVENTION"), "{s}");
    let shown = number_after(&s, "mean loss");
    let before = number_after(&s, "without interventions: mean loss");
    assert!(
        (shown - changed).abs() < 1e-3 * changed.max(1.0),
        "{shown} vs {changed}"
    );
    assert!(
        (before - normal).abs() < 1e-3 * normal.max(1.0),
        "{before} vs {normal}"
    );
}
