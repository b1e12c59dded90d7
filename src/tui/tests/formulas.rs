//! Every formula the views print, redone from the printed numbers (issue 12,
//! point 5), as tests/lessons.rs does for the lessons' text: the explorer is
//! drawn at a few selections, each formula line is parsed back, and its result
//! must follow from its printed operands to the result's printed precision.
//!
//! Two things are checked for `C = f(a, b, …)`, with u(x) half a unit in the
//! last printed digit of x and `prop` how far rounding the operands can move f
//! (Σ |∂f/∂aᵢ|·u(aᵢ)):
//! - the printed numbers agree: |f(a, b, …) − C| ≤ u(C) + prop;
//! - the operands carry enough digits: prop ≤ 2·u(C), so that the formula
//!   redone by hand lands on the printed result, not merely near it.
//!
//! The same rules apply to the `(engine: …)` lines: they are what the engine
//! computed, and the formula's result must be that number.

use super::support::{built_in, render_buffer as render, screen, vocab_of};
use crate::pass::{Stage, View};
use crate::sample::Sampling;
use crate::tui::app::{App, Options};
use crate::tui::heatmap::Theme;

const PROMPT: &str = "Once upon a time, there was a little girl named Lily. She";

fn app() -> App {
    let (gpt, tok) = built_in();
    let ids = tok.encode(PROMPT).expect("encode");
    let vocab = vocab_of(&gpt, &tok);
    let opts = Options {
        theme: Theme::default(),
        sampling: Sampling::default(),
        seed: 1,
    };
    App::new(gpt, vocab, &ids, opts).expect("app")
}

/// A printed number: its value and half a unit in its last digit.
#[derive(Clone, Copy, Debug)]
pub(super) struct Printed {
    pub(super) v: f64,
    pub(super) u: f64,
}

pub(super) fn printed(s: &str) -> Option<Printed> {
    let s = s.trim().trim_end_matches([',', ')', ';']);
    let v: f64 = s.parse().ok()?;
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    // A whole number without a point (√32, exp(0) = 1) is exact.
    let Some(point) = mantissa.find('.') else {
        return Some(Printed { v, u: 0.0 });
    };
    let decimals = (mantissa.len() - point - 1) as i32;
    Some(Printed {
        v,
        u: 0.5 * 10f64.powi(exp - decimals),
    })
}

/// How many formulas of each kind were redone.
#[derive(Default, Debug)]
pub(super) struct Tally {
    pub(super) checks: Vec<String>,
}

impl Tally {
    /// Checks `c = f(ops)` by the two rules of the module doc.
    pub(super) fn check(
        &mut self,
        what: &str,
        line: &str,
        ops: &[Printed],
        c: Printed,
        f: &dyn Fn(&[f64]) -> f64,
    ) {
        let vals: Vec<f64> = ops.iter().map(|p| p.v).collect();
        let y = f(&vals);
        let mut prop = 0.0;
        for i in 0..ops.len() {
            let h = (ops[i].u * 1e-3).max(1e-12);
            let mut up = vals.clone();
            up[i] += h;
            let mut dn = vals.clone();
            dn[i] -= h;
            prop += ((f(&up) - f(&dn)) / (2.0 * h)).abs() * ops[i].u;
        }
        let slack = 1e-6 * c.v.abs().max(1.0);
        assert!(
            (y - c.v).abs() <= c.u + prop + slack,
            "{what}: {line:?} redone gives {y}, printed {}",
            c.v
        );
        assert!(
            prop <= 2.0 * c.u + slack,
            "{what}: {line:?}: the operands' rounding moves the result by up to {prop:.2e}, \
             more than its last digit ({:.1e}); print them with more digits",
            2.0 * c.u
        );
        self.checks.push(what.to_string());
    }

    pub(super) fn count(&self, what: &str) -> usize {
        self.checks.iter().filter(|c| c.as_str() == what).count()
    }
}

/// The panels' contents, one string per panel segment of each screen line.
pub(super) fn segments(s: &str) -> Vec<String> {
    let mut out = vec![];
    for line in s.lines() {
        for seg in line.split('│') {
            out.push(seg.trim().to_string());
        }
    }
    out
}

/// The text after the last " = ".
pub(super) fn after_last_eq(s: &str) -> Option<&str> {
    s.rsplit_once(" = ").map(|(_, r)| r.trim())
}

/// Walks one screen's formula lines.
pub(super) fn walk(s: &str, t: &mut Tally) {
    let segs = segments(s);
    let mut score = None;
    let mut row_max = None;
    let mut eps = None;
    for (i, seg) in segs.iter().enumerate() {
        // The continuation "= R" of a formula, on the same panel's next line.
        // Segments of one line are adjacent; the next line's segment of this
        // panel is found by its position in the line.
        let next = next_line_segment(s, i).map(|n| segs[n].clone());
        // softmax = e ÷ z = p, score s = q·k ÷ √dₖ = dot ÷ scale = s
        if let Some((lhs, rhs)) = seg.split_once(" ÷ ")
            && !seg.contains('√')
        {
            let a = lhs.rsplit(' ').next().and_then(printed);
            let mut r = rhs.split(" = ");
            let b = r.next().and_then(printed);
            let c = r.next().and_then(printed);
            if let (Some(a), Some(b), Some(c)) = (a, b, c) {
                t.check("a ÷ b", seg, &[a, b], c, &|x| x[0] / x[1]);
            }
        }
        // ÷ √dₖ = ÷ √32 = ÷ 5.657
        if let Some(rest) = seg.strip_prefix("÷ √dₖ = ÷ √")
            && let Some((n, sc)) = rest.split_once(" = ÷ ")
            && let (Some(n), Some(sc)) = (printed(n), printed(sc))
        {
            t.check("√dₖ", seg, &[n], sc, &|x| x[0].sqrt());
        }
        if seg.starts_with("score s =") {
            score = after_last_eq(seg).and_then(printed);
        }
        if seg.starts_with("row max m =") {
            row_max = after_last_eq(seg).and_then(printed);
        }
        // exp(s − m) = exp(x) = e; x is s − m from the lines above.
        if let Some(rest) = seg.strip_prefix("exp(s − m) = exp(")
            && let Some((x, e)) = rest.split_once(") = ")
        {
            let e = e.split(' ').next().unwrap_or("");
            if let (Some(x), Some(e)) = (printed(x), printed(e)) {
                t.check("exp", seg, &[x], e, &|v| v[0].exp());
                match (score, row_max) {
                    // The key holding the row's max: s and m are one number.
                    (Some(s), Some(m)) if x.v == 0.0 && x.u == 0.0 => {
                        assert_eq!(s.v, m.v, "{seg:?}: s − m = 0 but s ≠ m");
                        t.checks.push("s − m".into());
                    }
                    (Some(s), Some(m)) => t.check("s − m", seg, &[s, m], x, &|v| v[0] - v[1]),
                    _ => {}
                }
            }
        }
        if let Some(e) = seg.strip_prefix("ε = ") {
            eps = e.parse::<f64>().ok();
        }
        // = (x − μ)/√(σ² + ε), then "= x̂" on the next line.
        if let Some(rest) = seg.strip_prefix("= (")
            && let Some((x, rest)) = rest.split_once(" − ")
            && let Some((mu, rest)) = rest.split_once(")/√(")
            && let Some(var) = rest.strip_suffix(" + ε)")
            && let Some(nx) = &next
        {
            let ops = [x, mu, var].map(printed);
            let r = after_last_eq(&format!(" {nx}")).and_then(printed);
            let eps = eps.expect("ε printed before");
            if let ([Some(x), Some(mu), Some(var)], Some(r)) = (ops, r) {
                t.check("x̂", seg, &[x, mu, var], r, &|v| {
                    (v[0] - v[1]) / (v[2] + eps).sqrt()
                });
            }
        }
        // y = x̂·γ + β = a·b + c, then "= y".
        if let Some(rest) = seg.strip_prefix("y = x̂·γ + β = ")
            && let Some((ab, c)) = rest.split_once(" + ")
            && let Some((a, b)) = ab.split_once('·')
            && let Some(nx) = &next
        {
            let ops = [a, b, c].map(printed);
            let r = after_last_eq(&format!(" {nx}")).and_then(printed);
            if let ([Some(a), Some(b), Some(c)], Some(r)) = (ops, r) {
                t.check("y", seg, &[a, b, c], r, &|v| v[0] * v[1] + v[2]);
            }
        }
        // Embeddings: "  d  a + b = c".
        let words: Vec<&str> = seg.split_whitespace().collect();
        if let [_, a, "+", b, "=", c] = words.as_slice()
            && let (Some(a), Some(b), Some(c)) = (printed(a), printed(b), printed(c))
        {
            t.check("a + b", seg, &[a, b], c, &|v| v[0] + v[1]);
        }
        // MLP: "#i  h → GELU(h)".
        // (The list shares its panel's lines with the histograms on its left.)
        for w4 in words.windows(4) {
            if let [n, h, "→", g] = w4
                && n.starts_with('#')
                && let (Some(h), Some(g)) = (printed(h), printed(g))
            {
                t.check("GELU", seg, &[h], g, &|v| {
                    crate::model::gelu_new(v[0] as f32) as f64
                });
            }
        }
    }
}

/// Index (in `segments(s)`) of the segment at the same position one line down.
pub(super) fn next_line_segment(s: &str, i: usize) -> Option<usize> {
    let lines: Vec<&str> = s.lines().collect();
    let mut idx = 0;
    for (li, line) in lines.iter().enumerate() {
        let n = line.split('│').count();
        if i < idx + n {
            let col = i - idx;
            let next_n = lines.get(li + 1)?.split('│').count();
            return (col < next_n).then_some(idx + n + col);
        }
        idx += n;
    }
    None
}

#[test]
fn every_formula_a_view_prints_recomputes_from_its_printed_numbers() {
    let mut t = Tally::default();
    let mut a = app();
    let n = a.tokens().len();
    // Attention: a few (layer, head, query, key), the row's top key among them.
    for (layer, head, q, k) in [(0, 0, n - 1, 0), (1, 3, 6, 3), (2, 1, 3, 2), (3, 2, 9, 9)] {
        assert!(a.goto_stage(Stage::Softmax, layer));
        a.select_head(head);
        a.select_pos(q);
        a.select_cell(k);
        walk(&screen(&render(&mut a, 200, 60)), &mut t);
        let tr = a.trace().expect("trace");
        let top = crate::readout::attention::top_key(tr, layer, head, q);
        a.select_cell(top);
        walk(&screen(&render(&mut a, 200, 60)), &mut t);
    }
    // LayerNorm: the three sites, a few positions and dims.
    for (stage, layer) in [(Stage::Ln1, 0), (Stage::Ln2, 2), (Stage::FinalLn, 0)] {
        assert!(a.goto_stage(stage, layer));
        for (pos, dim) in [(0, 0), (5, 17), (n - 1, 63)] {
            a.select_pos(pos);
            a.select_cell(dim);
            for (w, h) in [(200, 60), (120, 40)] {
                walk(&screen(&render(&mut a, w, h)), &mut t);
            }
        }
    }
    // Embeddings and the MLP's neurons.
    a.show_view(View::Embeddings);
    for pos in [0, n - 1] {
        a.select_pos(pos);
        walk(&screen(&render(&mut a, 200, 60)), &mut t);
    }
    for layer in 0..a.n_layer() {
        assert!(a.goto_stage(Stage::Gelu, layer));
        walk(&screen(&render(&mut a, 200, 60)), &mut t);
    }
    for (what, at_least) in [
        ("a ÷ b", 16),
        ("√dₖ", 8),
        ("exp", 8),
        ("s − m", 8),
        ("x̂", 9),
        ("y", 9),
        ("a + b", 8),
        ("GELU", 20),
    ] {
        assert!(
            t.count(what) >= at_least,
            "only {} {what} formulas found ({:?})",
            t.count(what),
            t.checks
        );
    }
}

/// No Rust range syntax in what a student reads.
#[test]
fn no_view_prints_rust_range_syntax() {
    let mut a = app();
    a.select_pos(3);
    for v in "1234567890".chars() {
        crate::tui::event::apply(&mut a, &super::support::ch(v));
        crate::tui::event::run_jobs_blocking(&mut a);
        a.select_pos(3);
        for (w, h) in [(80, 24), (200, 60)] {
            let s = screen(&render(&mut a, w, h));
            assert!(!s.contains("..=") && !s.contains(".."), "view {v}:\n{s}");
        }
    }
    assert!(a.goto_stage(Stage::Softmax, 0));
    a.select_pos(3);
    let s = screen(&render(&mut a, 200, 60));
    assert!(
        s.contains(&format!("keys 4 to {}", a.tokens().len() - 1)),
        "{s}"
    );
}

/// The residual norms: each label stays on the line of its value.
#[test]
fn residual_norms_keep_each_label_beside_its_value() {
    let mut a = app();
    a.show_view(View::Residual);
    for (w, h) in [(80, 24), (100, 30), (120, 35), (200, 60)] {
        let s = screen(&render(&mut a, w, h));
        let names: Vec<String> = std::iter::once("embed".to_string())
            .chain((0..a.n_layer()).flat_map(|l| [format!("L{l} +attn"), format!("L{l} +mlp")]))
            .collect();
        let lines: Vec<&str> = s.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("‖x‖ at position"))
            .unwrap_or_else(|| panic!("{w}×{h}: no norms\n{s}"));
        let below: Vec<&str> = lines[at + 1..].to_vec();
        for name in &names {
            let found = below.iter().any(|l| {
                l.match_indices(name.as_str()).any(|(i, _)| {
                    let rest = &l[i + name.len()..];
                    rest.strip_prefix(' ')
                        .and_then(|r| r.split_whitespace().next())
                        .and_then(|v| v.trim_end_matches('│').parse::<f32>().ok())
                        .is_some()
                })
            });
            assert!(
                found,
                "{w}×{h}: {name:?} is not followed by its value:\n{s}"
            );
        }
    }
}
