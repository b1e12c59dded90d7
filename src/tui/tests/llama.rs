//! The explorer on a Llama model (issue 15): every view at every stage of the
//! pass draws without panicking at 80×24 and 200×60 on the random Llama
//! fixture (RMSNorm, RoPE, SwiGLU, 9 query heads sharing 3 key/value heads,
//! untied head), and the architecture-dependent views say what it does instead.

use std::sync::Arc;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::formulas::{Tally, after_last_eq, next_line_segment, printed, segments, walk};
use super::support::screen;
use crate::model::Gpt;
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;
use crate::tui::run::Screen;

pub(super) fn fixture(name: &str) -> Arc<Gpt> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    Arc::new(Gpt::open(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

/// An explorer on `gpt` with a made-up vocabulary (the fixture has no tokenizer).
pub(super) fn llama_app(gpt: Arc<Gpt>) -> App {
    let vocab = (0..gpt.config.vocab_size)
        .map(|i| format!("t{i}"))
        .collect();
    let opts = Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 3,
    };
    App::new(gpt, vocab, &[5, 17, 42, 8, 60, 3, 11], opts).expect("app")
}

pub(super) fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    app.draw(area, &mut buf);
    buf
}

#[test]
fn every_view_at_every_stage_draws_on_a_llama_model() {
    for name in ["random-llama", "random-llama-tied"] {
        let mut app = llama_app(fixture(name));
        let n = app.pass().len();
        for i in 0..n {
            app.goto_point(i);
            crate::tui::event::run_jobs_blocking(&mut app);
            for v in View::ALL {
                app.show_view(v);
                for zoom in [false, true] {
                    app.set_zoom(zoom);
                    crate::tui::event::run_jobs_blocking(&mut app);
                    for (w, h) in [(80, 24), (200, 60)] {
                        let s = screen(&draw(&mut app, w, h));
                        assert!(!s.trim().is_empty(), "{name} point {i} {v} {w}x{h}");
                    }
                }
            }
        }
    }
}

/// Llama's own formula lines, redone from the printed numbers by the rules
/// of `formulas.rs`: RMSNorm, RoPE's rotations, SwiGLU's neuron.
fn walk_llama(s: &str, t: &mut Tally) {
    let segs = segments(s);
    let mut eps = None;
    let mut theta = None;
    let mut gate = None;
    for (i, seg) in segs.iter().enumerate() {
        let next = next_line_segment(s, i).map(|n| segs[n].clone());
        let result = |nx: &Option<String>| {
            nx.as_deref()
                .and_then(|n| after_last_eq(&format!(" {n}")).and_then(printed))
        };
        if let Some(e) = seg.strip_prefix("ε = ") {
            eps = e.parse::<f64>().ok();
        }
        // RMS = √a = r
        if let Some(rest) = seg.strip_prefix("RMS = √")
            && let Some((a, r)) = rest.split_once(" = ")
            && let (Some(a), Some(r)) = (printed(a), printed(r))
        {
            t.check("RMS", seg, &[a], r, &|v| v[0].sqrt());
        }
        // = x/√(ms + ε), then "= x̂".
        if let Some(rest) = seg.strip_prefix("= ")
            && let Some((x, rest)) = rest.split_once("/√(")
            && let Some(ms) = rest.strip_suffix(" + ε)")
            && let (Some(x), Some(ms), Some(r)) = (printed(x), printed(ms), result(&next))
        {
            let eps = eps.expect("ε printed before");
            t.check("x̂ rms", seg, &[x, ms], r, &|v| v[0] / (v[1] + eps).sqrt());
        }
        // y = x̂·γ = a·b, then "= y".
        if let Some(rest) = seg.strip_prefix("y = x̂·γ = ")
            && let Some((a, b)) = rest.split_once('·')
            && let (Some(a), Some(b), Some(r)) = (printed(a), printed(b), result(&next))
        {
            t.check("y rms", seg, &[a, b], r, &|v| v[0] * v[1]);
        }
        // pair i (dims a, b): θ = p·f = θ rad
        if seg.starts_with("pair ")
            && let Some((_, rest)) = seg.split_once("θ = ")
            && let Some((pf, th)) = rest.split_once(" = ")
            && let Some((p, f)) = pf.split_once('·')
            && let (Some(p), Some(f), Some(th)) =
                (printed(p), printed(f), printed(th.trim_end_matches(" rad")))
        {
            t.check("θ", seg, &[p, f], th, &|v| v[0] * v[1]);
            theta = Some(th);
        }
        // q (a, b) → (c, d): c = a·cos θ − b·sin θ, d = b·cos θ + a·sin θ.
        if let Some(rest) = seg.strip_prefix("q (").or_else(|| seg.strip_prefix("k ("))
            && let Some((before, after)) = rest.split_once(") → (")
            && let Some((a, b)) = before.split_once(", ")
            && let Some((c, d)) = after.trim_end_matches(')').split_once(", ")
            && let ([Some(a), Some(b), Some(c), Some(d)], Some(th)) =
                ([a, b, c, d].map(printed), theta)
        {
            t.check("rope a", seg, &[a, b, th], c, &|v| {
                v[0] * v[2].cos() - v[1] * v[2].sin()
            });
            t.check("rope b", seg, &[a, b, th], d, &|v| {
                v[1] * v[2].cos() + v[0] * v[2].sin()
            });
        }
        // The neuron's lines share their panel's rows with the histograms.
        let from = |p: &str| seg.find(p).map(|i| &seg[i + p.len()..]);
        if let Some(g) = from("gate g = ") {
            gate = printed(g);
        }
        if let Some(rest) = from("SiLU(g) = g/(1 + e^(−g)) = ")
            && let (Some(s1), Some(g)) = (printed(rest), gate)
        {
            t.check("SiLU", seg, &[g], s1, &|v| v[0] / (1.0 + (-v[0]).exp()));
        }
        if let Some(rest) = from("SiLU(g)·u = ")
            && let Some((a, b)) = rest.split_once('·')
            && let (Some(a), Some(b), Some(r)) = (printed(a), printed(b), result(&next))
        {
            t.check("SiLU·u", seg, &[a, b], r, &|v| v[0] * v[1]);
        }
    }
}

#[test]
fn every_llama_formula_recomputes_from_its_printed_numbers() {
    let mut t = Tally::default();
    let mut a = llama_app(fixture("random-llama"));
    let n = a.tokens().len();
    for (stage, layer) in [(Stage::Ln1, 0), (Stage::Ln2, 2), (Stage::FinalLn, 0)] {
        assert!(a.goto_stage(stage, layer));
        for (pos, dim) in [(0, 0), (3, 17), (n - 1, 53)] {
            a.select_pos(pos);
            a.select_cell(dim);
            let s = screen(&draw(&mut a, 200, 60));
            assert!(s.contains("no mean, no β") && !s.contains("σ²"), "{s}");
            walk_llama(&s, &mut t);
        }
    }
    for (layer, head, pos) in [(0, 0, n - 1), (1, 4, 3), (2, 8, n - 2)] {
        assert!(a.goto_stage(Stage::Qkv, layer));
        a.select_head(head);
        a.select_pos(pos);
        let s = screen(&draw(&mut a, 200, 60));
        let g = head / 3;
        assert!(
            s.contains(&format!(
                "H{head} reads kv head {g}, with H{} to H{}",
                3 * g,
                3 * g + 2
            )),
            "{s}"
        );
        walk_llama(&s, &mut t);
        // The score cell of the same head, with the attention formulas.
        assert!(a.goto_stage(Stage::Softmax, layer));
        a.select_cell(1);
        let s = screen(&draw(&mut a, 200, 60));
        assert!(s.contains("q, k after RoPE") && s.contains("kv1"), "{s}");
        walk(&s, &mut t);
    }
    for layer in 0..a.n_layer() {
        assert!(a.goto_stage(Stage::Gelu, layer));
        for cell in [0, 4] {
            a.select_cell(cell);
            let s = screen(&draw(&mut a, 200, 60));
            assert!(s.contains("SwiGLU") && !s.contains("GELU"), "{s}");
            walk_llama(&s, &mut t);
        }
    }
    for (what, at_least) in [
        ("RMS", 9),
        ("x̂ rms", 9),
        ("y rms", 9),
        ("θ", 9),
        ("rope a", 18),
        ("rope b", 18),
        ("SiLU", 6),
        ("SiLU·u", 6),
        ("a ÷ b", 6),
    ] {
        assert!(
            t.count(what) >= at_least,
            "only {} {what} formulas found ({:?})",
            t.count(what),
            t.checks
        );
    }
}

/// The logits view names the untied head and recomputes the top logit
/// through it; the header says which matrix makes the logits.
#[test]
fn the_logits_view_says_the_head_is_untied_and_recomputes_its_top_logit() {
    for (name, untied) in [("random-llama", true), ("random-llama-tied", false)] {
        let mut a = llama_app(fixture(name));
        assert!(a.goto_stage(Stage::Logits, 0));
        let s = screen(&draw(&mut a, 200, 60));
        if untied {
            assert!(s.contains("untied, its own [83×54] matrix, not wte"), "{s}");
            assert!(s.contains("·lm_headᵀ (untied head)"), "{s}");
        } else {
            assert!(s.contains("tied, the embedding table"), "{s}");
        }
        let line = s
            .lines()
            .find(|l| l.contains(" recomputed "))
            .expect("head line");
        let (_, rest) = line.split_once(" recomputed ").unwrap();
        let (re, eng) = rest.split_once(" (engine ").unwrap();
        let eng = eng.split(')').next().unwrap();
        assert_eq!(re.trim(), eng.trim(), "{line}");
    }
}

/// Point 7: while a step runs off the UI thread (as `run.rs` runs it for a
/// model above `OFFLOAD_PARAMS`), a key is answered at once: `?` opens the
/// help and every view still draws, before the step has finished; the step's
/// token arrives after. The worker is held until the screen has been checked,
/// so the order is certain, not timed.
#[test]
fn a_key_pressed_during_a_step_is_answered_before_the_step_ends() {
    use super::support::ch;
    use crate::tui::app::Job;
    let mut app = llama_app(fixture("random-llama"));
    crate::tui::event::run_jobs_blocking(&mut app);
    let before = app.tokens().len();
    crate::tui::event::handle(&mut app, &ch('n'));
    // Jobs queued before the step (the view's own) run as usual.
    let work = loop {
        let job = app.next_job().expect("n queues the next token");
        let step = matches!(job, Job::NextToken);
        let work = app.start(job);
        if step {
            break work.expect("the session is here");
        }
        if let Some(w) = work {
            crate::tui::event::finish(&mut app, w());
        }
    };
    assert!(
        app.session().is_none() && app.busy().is_some(),
        "the step took the session"
    );
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        wait.recv().expect("released");
        work()
    });
    // The step is running (held): `?` is not one of the keys that wait for it.
    assert!(!crate::tui::event::needs_session(&ch('?')));
    crate::tui::event::handle(&mut app, &ch('?'));
    assert!(app.help(), "? opened the help while the step runs");
    let s = screen(&draw(&mut app, 120, 40));
    assert!(s.contains("keys (any key closes)"), "{s}");
    crate::tui::event::handle(&mut app, &ch('x'));
    for v in View::ALL {
        app.show_view(v);
        for (w, h) in [(80, 24), (200, 60)] {
            let s = screen(&draw(&mut app, w, h));
            assert!(!s.trim().is_empty(), "{v} while busy");
        }
    }
    assert_eq!(app.tokens().len(), before, "the token is not there yet");
    go.send(()).expect("worker waits");
    let out = worker.join().expect("worker");
    crate::tui::event::finish(&mut app, out);
    assert_eq!(
        app.tokens().len(),
        before + 1,
        "then the step's token arrives"
    );
    assert!(app.busy().is_none());
}

/// The embeddings view of a Llama printed a position row of zeros
/// ("wte + 0 (no wpe) = x", "+0.000" in every line): it now says that the
/// position enters in attention through RoPE, with this position's angles.
#[test]
fn the_embeddings_view_of_a_llama_says_the_position_enters_through_rope() {
    let mut app = llama_app(fixture("random-llama"));
    assert!(app.goto_stage(Stage::Embed, 0));
    app.show_view(View::Embeddings);
    let t = app.tokens().len() - 1;
    app.select_pos(t);
    crate::tui::event::run_jobs_blocking(&mut app);
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let s = screen(&draw(&mut app, w, h));
        assert!(s.contains("no wpe"), "{w}x{h}\n{s}");
        assert!(s.contains("RoPE"), "{w}x{h}\n{s}");
        assert!(
            !s.contains("+0.000") && !s.contains("(zeros)"),
            "{w}x{h}\n{s}"
        );
    }
    let s = screen(&draw(&mut app, 200, 60));
    assert!(
        s.contains(&format!("position {t} enters in every attention layer")),
        "{s}"
    );
    // θ₀ = t radians for the fastest pair.
    assert!(
        s.contains(&format!("θ₀ = {}", crate::fmt::num(t as f64))),
        "{s}"
    );
}
