//! Presenter mode's formula card: the current stage's formula with its live
//! numbers in large digits (a 3×5 block font drawn here), each number with a
//! small label under it, for the back row of a classroom. Every number is
//! read from `readout` or straight off the trace, never recomputed here.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;

use super::app::App;
use super::views::{fit, panel, text, token_quoted, width};
use crate::fmt::num;
use crate::i18n::Msg;
use crate::model::Trace;
use crate::pass::{Stage, View};
use crate::readout::{self, attention, layernorm, logits, loss};

/// Rows of a big glyph.
pub const GLYPH_H: u16 = 5;

/// One piece of the formula: a number (or operator) drawn large, and what it
/// is, in small type under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub big: String,
    pub label: String,
}

/// The card: the formula in words and symbols, then its terms.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub title: String,
    pub terms: Vec<Term>,
}

fn n(x: f64, label: impl Into<String>) -> Term {
    Term {
        big: num(x),
        label: label.into(),
    }
}

fn op(s: &str) -> Term {
    Term {
        big: s.into(),
        label: String::new(),
    }
}

/// The 3×5 block font: '#' is a lit cell. Characters it lacks are drawn
/// small, in the middle row.
fn glyph(c: char) -> Option<[&'static str; 5]> {
    Some(match c {
        '0' => ["###", "# #", "# #", "# #", "###"],
        '1' => [" # ", "## ", " # ", " # ", "###"],
        '2' => ["###", "  #", "###", "#  ", "###"],
        '3' => ["###", "  #", " ##", "  #", "###"],
        '4' => ["# #", "# #", "###", "  #", "  #"],
        '5' => ["###", "#  ", "###", "  #", "###"],
        '6' => ["###", "#  ", "###", "# #", "###"],
        '7' => ["###", "  #", "  #", "  #", "  #"],
        '8' => ["###", "# #", "###", "# #", "###"],
        '9' => ["###", "# #", "###", "  #", "###"],
        '.' => [" ", " ", " ", " ", "#"],
        ',' => [" ", " ", " ", "#", "#"],
        '-' | '−' => ["   ", "   ", "###", "   ", "   "],
        '+' => ["   ", " # ", "###", " # ", "   "],
        '=' => ["   ", "###", "   ", "###", "   "],
        '÷' => [" # ", "   ", "###", "   ", " # "],
        '×' | '·' => ["   ", "# #", " # ", "# #", "   "],
        'e' => ["   ", " ##", "###", "#  ", " ##"],
        '(' => [" #", "# ", "# ", "# ", " #"],
        ')' => ["# ", " #", " #", " #", "# "],
        '→' => ["    ", "  # ", "####", "  # ", "    "],
        ' ' => [" ", " ", " ", " ", " "],
        _ => return None,
    })
}

/// `s` in the big font: five lines of equal width (`full` for a lit cell).
pub fn big_text(s: &str, full: char) -> Vec<String> {
    let mut rows = vec![String::new(); GLYPH_H as usize];
    for (i, c) in s.chars().enumerate() {
        if i > 0 {
            rows.iter_mut().for_each(|r| r.push(' '));
        }
        match glyph(c) {
            Some(g) => {
                for (r, line) in rows.iter_mut().zip(g) {
                    r.extend(line.chars().map(|p| if p == '#' { full } else { ' ' }));
                }
            }
            None => {
                let w = width(&c.to_string());
                for (y, r) in rows.iter_mut().enumerate() {
                    if y == 2 {
                        r.push(c);
                    } else {
                        r.extend(std::iter::repeat_n(' ', w));
                    }
                }
            }
        }
    }
    rows
}

/// The stage a view's card explains when the view is not the stage's own
/// (a digit key moved to it).
fn stage_for(app: &App) -> Stage {
    let st = app.stage();
    if st.view() == app.view() {
        return st;
    }
    match app.view() {
        View::Embeddings => Stage::Embed,
        View::Attention => Stage::Softmax,
        View::LayerNorm => Stage::Ln1,
        View::Mlp => Stage::Gelu,
        View::Residual => Stage::Resid2,
        _ => Stage::Logits,
    }
}

/// The card for what is on screen, or None where a view has no one formula
/// (cost, training).
pub fn card(app: &App, tr: &Trace) -> Option<Card> {
    let t = tr.len();
    if t == 0 {
        return None;
    }
    let gpt = app.gpt();
    let pos = app.pos().min(t - 1);
    let layer = app.layer().min(gpt.config.n_layer.saturating_sub(1));
    let head = app.head();
    let tok = token_quoted(app, tr.tokens[pos]);
    let at = format!("position {pos} {tok}");
    match app.view() {
        View::Cost | View::Training | View::Quant => return None,
        View::Tokens => {
            return Some(Card {
                title: format!("token {pos}: text → id (the model sees only the id) · {at}"),
                terms: vec![op(&tok), op("→"), n(tr.tokens[pos] as f64, "token id")],
            });
        }
        View::Loss => {
            let losses = loss::token_losses(tr);
            let l = losses.get(pos)?;
            let next = token_quoted(app, l.next);
            return Some(Card {
                title: format!("loss = −ln P(next token) · {at} → next {next}"),
                terms: vec![
                    op("−ln"),
                    n(l.p, format!("P({next})")),
                    op("="),
                    n(l.loss, "loss (nats)"),
                ],
            });
        }
        _ => {}
    }
    let stage = stage_for(app);
    let lt = &tr.layers[layer];
    let dk = lt.q.ncols() / lt.scores.len().max(1);
    let card = match stage {
        Stage::Embed => {
            let wte = tr.tok_emb[[pos, 0]] as f64;
            let wpe = gpt.weights.wpe.view2()[[pos, 0]] as f64;
            let x = tr.embed[[pos, 0]] as f64;
            Card {
                title: format!("embed: x = wte[token] + wpe[position] · {at}, dim 0"),
                terms: vec![
                    n(wte, "wte[token][0]"),
                    op("+"),
                    n(wpe, "wpe[position][0]"),
                    op("="),
                    n(x, "x[0]"),
                ],
            }
        }
        Stage::Ln1 | Stage::Ln2 | Stage::FinalLn => {
            let site = layernorm::Site::of(stage, layer);
            let ln = layernorm::at(gpt, tr, site);
            let d = app.cell().min(ln.gamma.len().saturating_sub(1));
            let e = ln.element(pos, d);
            let sd = ln.std(pos, ln.eps as f64);
            Card {
                title: format!("LayerNorm: x̂ = (x − μ) ÷ √(σ² + ε) · {at}, dim {d}"),
                terms: vec![
                    op("("),
                    n(e.x as f64, "x"),
                    op("−"),
                    n(e.mean as f64, "mean μ"),
                    op(")"),
                    op("÷"),
                    n(sd, "√(σ² + ε)"),
                    op("="),
                    n(e.xhat as f64, "x̂"),
                ],
            }
        }
        Stage::Qkv => {
            let q = attention::head_row(&lt.q, pos, head, dk);
            let k = attention::head_row(&lt.k, pos, head, dk);
            let v = attention::head_row(&lt.v, pos, head, dk);
            let first = |xs: &[f32]| xs.first().copied().unwrap_or(f32::NAN) as f64;
            Card {
                title: format!(
                    "Q, K, V = LN1(x)·W_qkv + b · layer {layer} head {head}, {at}, dim 0"
                ),
                terms: vec![
                    n(first(&q), "q[0]"),
                    op(" "),
                    n(first(&k), "k[0]"),
                    op(" "),
                    n(first(&v), "v[0]"),
                ],
            }
        }
        Stage::Scores | Stage::Mask | Stage::Softmax | Stage::WeightedSum => {
            let c = attention::cell(tr, layer, head, pos, app.cell(), !app.iv().no_scale);
            let key = token_quoted(app, tr.tokens[c.key]);
            let which = format!(
                "layer {layer} head {head}, query {pos} {tok}, key {} {key}",
                c.key
            );
            match stage {
                Stage::Scores => Card {
                    title: format!("score s = q·k ÷ √dₖ · {which}"),
                    terms: vec![
                        n(c.dot as f64, "q·k"),
                        op("÷"),
                        n(c.scale as f64, "√dₖ"),
                        op("="),
                        n(c.score as f64, "score s"),
                    ],
                },
                Stage::Mask => Card {
                    title: format!("causal mask: keys after the query get −∞ (weight 0) · {which}"),
                    terms: vec![
                        n(c.score as f64, "s (this key is kept)"),
                        op("  "),
                        n(attention::masked_keys(tr, pos) as f64, "later keys hidden"),
                    ],
                },
                Stage::Softmax => Card {
                    title: format!("softmax: p = exp(s − m) ÷ Σ exp(s − m) · {which}"),
                    terms: vec![
                        n(c.exp as f64, "exp(s − m)"),
                        op("÷"),
                        n(c.sum_exp as f64, "Σ over the row"),
                        op("="),
                        n(c.weight as f64, "weight p"),
                    ],
                },
                _ => Card {
                    title: format!(
                        "weighted sum: out = Σₖ pₖ·vₖ · layer {layer} head {head}, {at}, dim 0"
                    ),
                    terms: vec![
                        n(c.weight as f64, format!("p of key {}", c.key)),
                        op(" "),
                        n(
                            attention::weighted_sum(tr, layer, head, pos, 0) as f64,
                            "out[0] = Σₖ pₖ·vₖ[0]",
                        ),
                    ],
                },
            }
        }
        Stage::OutProj => Card {
            title: format!("output projection: concat(heads)·W_O · layer {layer}, {at}, dim 0"),
            terms: vec![
                n(lt.heads[[pos, 0]] as f64, "concat(heads)[0]"),
                op("→"),
                n(lt.attn_out[[pos, 0]] as f64, "attn[0]"),
            ],
        },
        Stage::Resid1 | Stage::Resid2 => {
            let (before, after, what) = if stage == Stage::Resid1 {
                (tr.resid_in(layer), &lt.resid_mid, "attn")
            } else {
                (&lt.resid_mid, &lt.resid_post, "mlp")
            };
            Card {
                title: format!("residual add: x + {what} · layer {layer}, {at}"),
                terms: vec![
                    n(readout::norm(before.row(pos)) as f64, "‖x‖ before"),
                    op("→"),
                    n(
                        readout::norm(after.row(pos)) as f64,
                        format!("‖x + {what}‖ after"),
                    ),
                ],
            }
        }
        Stage::MlpUp | Stage::Gelu | Stage::MlpDown => {
            let act = lt.mlp_act.row(pos).to_vec();
            let ranked = readout::ranked(&act);
            let j = ranked
                .get(app.cell())
                .or(ranked.first())
                .copied()
                .unwrap_or(0);
            let h = lt.mlp_pre[[pos, j]] as f64;
            let g = lt.mlp_act[[pos, j]] as f64;
            match stage {
                Stage::MlpDown => Card {
                    title: format!("MLP down: GELU(h)·W_proj + b · layer {layer}, {at}, dim 0"),
                    terms: vec![n(lt.mlp_out[[pos, 0]] as f64, "MLP out[0]")],
                },
                _ => Card {
                    title: format!("MLP: h = LN2(x)·W_fc + b, then GELU(h) · layer {layer}, {at}"),
                    terms: vec![n(h, format!("h of neuron #{j}")), op("→"), n(g, "GELU(h)")],
                },
            }
        }
        Stage::Logits | Stage::Pick | Stage::Append => {
            let row = tr.logits.row(t - 1);
            let temp = app.sampling().temperature;
            let shown_t = if temp > 0.0 { temp } else { 1.0 };
            let p = logits::softmax_t(row, shown_t);
            let top = readout::argmax(&p);
            let name = token_quoted(app, top as u32);
            Card {
                title: format!(
                    "next token: p = softmax(logits ÷ T), T = {} · the most likely, {name}",
                    num(shown_t as f64)
                ),
                terms: vec![
                    n(row[top] as f64, format!("logit of {name}")),
                    op("→"),
                    n(p[top] as f64, "p"),
                ],
            }
        }
    };
    Some(card)
}

/// Rows the card takes: border, title, the big digits, the labels, border.
pub const CARD_H: u16 = GLYPH_H + 4;

/// Draws the card into `area` (CARD_H rows). The big digits are used when
/// every term fits across; otherwise the terms are written at normal size.
pub fn draw_card(app: &App, card: &Card, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let inner = panel(theme, Msg::TitleCard.get(theme.lang), area, buf, true);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let w = inner.width as usize;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    text(
        vec![Line::styled(fit(&card.title, w), bold)],
        Rect { height: 1, ..inner },
        buf,
    );
    let full = if theme.ascii { '#' } else { '█' };
    let blocks: Vec<(Vec<String>, String, usize)> = card
        .terms
        .iter()
        .map(|t| {
            let big = big_text(&t.big, full);
            let bw = big.first().map_or(0, |r| width(r));
            let cw = bw.max(width(&t.label));
            (big, t.label.clone(), cw)
        })
        .collect();
    let gap = 2;
    let total: usize =
        blocks.iter().map(|b| b.2).sum::<usize>() + gap * blocks.len().saturating_sub(1);
    let body = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    if total <= w && body.height > GLYPH_H {
        let mut x = body.x + ((w - total) / 2) as u16;
        for (big, label, cw) in &blocks {
            let bw = big.first().map_or(0, |r| width(r));
            let pad = (cw - bw) / 2;
            let lines: Vec<Line> = big
                .iter()
                .map(|r| Line::styled(format!("{}{r}", " ".repeat(pad)), theme.accent()))
                .collect();
            text(lines, Rect::new(x, body.y, *cw as u16, GLYPH_H), buf);
            let lpad = (cw - width(label)) / 2;
            text(
                vec![Line::raw(format!("{}{label}", " ".repeat(lpad)))],
                Rect::new(x, body.y + GLYPH_H, *cw as u16, 1),
                buf,
            );
            x += (*cw + gap) as u16;
        }
    } else {
        // Too narrow for the big digits: the same terms, at normal size.
        let line: Vec<String> = card
            .terms
            .iter()
            .map(|t| {
                if t.label.is_empty() {
                    t.big.clone()
                } else {
                    format!("{} ({})", t.big, t.label)
                }
            })
            .collect();
        text(
            vec![Line::styled(fit(&line.join(" "), w), bold)],
            Rect { height: 1, ..body },
            buf,
        );
    }
}

/// Reads big digits back from five rows of the screen (tests: what the card
/// shows, as text; blanks between glyphs are dropped).
#[cfg(test)]
pub(crate) fn read_big(rows: &[&str]) -> String {
    let rows: Vec<Vec<char>> = rows.iter().map(|r| r.chars().collect()).collect();
    let w = rows.iter().map(Vec::len).min().unwrap_or(0);
    let lit = |x: usize| rows.iter().any(|r| r[x] == '█');
    let mut out = String::new();
    let mut x = 0;
    while x < w {
        if !lit(x) {
            x += 1;
            continue;
        }
        let start = x;
        while x < w && lit(x) {
            x += 1;
        }
        let seg: Vec<String> = rows
            .iter()
            .map(|r| {
                r[start..x]
                    .iter()
                    .map(|&c| if c == '█' { '#' } else { ' ' })
                    .collect()
            })
            .collect();
        let c = "0123456789.,-+=÷×e()→"
            .chars()
            .find(|&c| glyph(c).is_some_and(|g| g.iter().zip(&seg).all(|(a, b)| a == b)))
            .unwrap_or('?');
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_big_font_draws_every_character_a_number_uses() {
        for c in "0123456789.,-−+=÷×·e()→ ".chars() {
            assert!(glyph(c).is_some(), "{c:?}");
        }
        let rows = big_text("1.5", '#');
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0], " #    ###");
        assert_eq!(rows[4], "### # ###");
        assert!(rows.iter().all(|r| width(r) == 9));
        let big = big_text("-0.25 ÷ 3e-4 = (1,7)→", '█');
        let rows: Vec<&str> = big.iter().map(String::as_str).collect();
        assert_eq!(read_big(&rows), "-0.25÷3e-4=(1,7)→");
    }
}
