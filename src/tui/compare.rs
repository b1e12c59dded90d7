//! Compare mode (`gptlens explore --model A --compare B`): the same tokens
//! through a second model, drawn beside the first in the logits, loss and
//! attention views with the difference B − A marked. The numbers are
//! [`crate::readout::compare`]'s; this module only lays them out.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::app::{App, Hit};
use super::views::{Hits, fit, pad_start, panel, text, token_label, token_quoted};
use crate::fmt::{compact, num};
use crate::i18n::Msg;
use crate::model::Trace;
use crate::pass::View;
use crate::readout::compare::{self as cmp, CompareModel, LossPair};

/// The views compare mode draws instead of the single-model ones.
pub fn covers(v: View) -> bool {
    matches!(v, View::Logits | View::Loss | View::Attention)
}

/// Draws the compare version of `app.view()`, A's trace being `a`.
pub fn render(
    app: &App,
    c: &CompareModel,
    a: &Trace,
    area: Rect,
    buf: &mut Buffer,
    hits: &mut Hits,
) {
    let b = match c.trace(&a.tokens) {
        Ok(b) => b,
        Err(e) => {
            let inner = panel(
                app.theme(),
                Msg::CmpTitle.get(app.theme().lang),
                area,
                buf,
                true,
            );
            text(vec![Line::styled(e, app.theme().alarm())], inner, buf);
            return;
        }
    };
    match app.view() {
        View::Logits => logits(app, c, a, &b, area, buf),
        View::Attention => attention(app, c, a, &b, area, buf, hits),
        _ => loss(app, c, a, &b, area, buf, hits),
    }
}

/// "A" and "B" with the models' names, one line.
fn legend(app: &App, c: &CompareModel, w: usize) -> Line<'static> {
    let lang = app.theme().lang;
    let a = app
        .model_dir()
        .and_then(|d| d.file_name())
        .map_or(Msg::CmpThisModel.get(lang).to_string(), |n| {
            n.to_string_lossy().into_owned()
        });
    let mut l = Msg::CmpLegend.fill(lang, &[&a, &c.name]);
    if app.iv().is_active() {
        l.push_str(Msg::CmpLegendInterventions.get(lang));
    }
    Line::styled(fit(&l, w), app.theme().dim())
}

/// A signed difference, styled: `better` says whether this sign helps B.
fn delta(app: &App, d: f64, better: bool, w: usize) -> Span<'static> {
    let s = format!(
        "{:>w$}",
        format!("{}{}", if d > 0.0 { "+" } else { "" }, compact(d as f32))
    );
    let st = if d == 0.0 {
        app.theme().dim()
    } else if better {
        app.theme().accent().remove_modifier(Modifier::BOLD)
    } else {
        app.theme().alarm().remove_modifier(Modifier::BOLD)
    };
    Span::styled(s, st)
}

fn loss(
    app: &App,
    c: &CompareModel,
    a: &Trace,
    b: &Trace,
    area: Rect,
    buf: &mut Buffer,
    hits: &mut Hits,
) {
    let lang = app.theme().lang;
    let inner = panel(app.theme(), Msg::CmpLossTitle.get(lang), area, buf, true);
    let w = inner.width as usize;
    let s = cmp::summary(a, b);
    let mut lines = vec![legend(app, c, w)];
    if s.n == 0 {
        lines.push(Line::raw(Msg::CmpOneToken.get(lang)));
        text(lines, inner, buf);
        return;
    }
    lines.push(Line::from(vec![
        Span::raw(Msg::CmpMeanLoss.fill(lang, &[&num(s.mean_a), &num(s.mean_b)])),
        Span::raw("Δ "),
        delta(app, s.mean_b - s.mean_a, s.mean_b < s.mean_a, 0),
        Span::raw(Msg::CmpPerplexity.fill(lang, &[&num(s.mean_a.exp()), &num(s.mean_b.exp())])),
    ]));
    lines.push(Line::styled(
        fit(
            &Msg::CmpSameTop.fill(lang, &[&s.top1_agree, &s.rows, &num(s.mean_kl)]),
            w,
        ),
        app.theme().dim(),
    ));
    let tok_w = if w >= 100 { 14 } else { 9 };
    lines.push(Line::styled(
        fit(
            &format!(
                "{} {} → {} {:>8} {:>8} {}",
                pad_start(Msg::CmpColPos.get(lang), 4),
                fit(Msg::CmpColToken.get(lang), tok_w),
                fit(Msg::CmpColNext.get(lang), tok_w),
                "A −ln P",
                "B −ln P",
                pad_start(Msg::CmpColDloss.get(lang), 9)
            ),
            w,
        ),
        app.theme().dim(),
    ));
    let pairs = cmp::losses(a, b);
    let top = lines.len();
    let rows = (inner.height as usize).saturating_sub(top).max(1);
    let pos = app.pos().min(a.len().saturating_sub(1));
    let first = pos.saturating_sub(rows.saturating_sub(1));
    let fixed = 4 + 1 + tok_w + 3 + tok_w + 1 + 8 + 1 + 8 + 1 + 9 + 1;
    let bar_w = w.saturating_sub(fixed);
    let scale = pairs
        .iter()
        .map(|p| p.d_loss().abs())
        .filter(|d| d.is_finite())
        .fold(0.0, f64::max);
    for t in (first..a.len()).take(rows) {
        let y = inner.y + lines.len() as u16;
        if y < inner.bottom() {
            hits.push((Rect::new(inner.x, y, inner.width, 1), Hit::Token(t)));
        }
        let st = if t == pos {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        let head = format!("{t:>4} {} → ", token_label(app, a.tokens[t], tok_w));
        let Some(p) = pairs.get(t) else {
            lines.push(Line::from(vec![
                Span::styled(head, st),
                Span::styled(Msg::CmpNotGiven.get(lang), app.theme().dim()),
            ]));
            continue;
        };
        lines.push(loss_row(app, p, head, st, tok_w, bar_w, scale));
    }
    text(lines, inner, buf);
}

/// One position: both losses, Δloss, and a bar of |Δ| (accent where B is better).
fn loss_row(
    app: &App,
    p: &LossPair,
    head: String,
    st: Style,
    tok_w: usize,
    bar_w: usize,
    scale: f64,
) -> Line<'static> {
    let d = p.d_loss();
    let len = if scale > 0.0 && d.is_finite() {
        ((d.abs() / scale) * bar_w as f64).round() as usize
    } else {
        0
    };
    let bar: String = std::iter::repeat_n(app.theme().bar(), len.min(bar_w)).collect();
    let better = d < 0.0;
    Line::from(vec![
        Span::styled(
            format!(
                "{head}{} {:>8} {:>8} ",
                token_label(app, p.next, tok_w),
                compact(p.a.loss as f32),
                compact(p.b.loss as f32)
            ),
            st,
        ),
        delta(app, d, better, 9),
        Span::raw(" "),
        Span::styled(
            bar,
            if better {
                app.theme().accent().remove_modifier(Modifier::BOLD)
            } else {
                app.theme().alarm().remove_modifier(Modifier::BOLD)
            },
        ),
    ])
}

fn logits(app: &App, c: &CompareModel, a: &Trace, b: &Trace, area: Rect, buf: &mut Buffer) {
    let pos = app.pos().min(a.len().saturating_sub(1));
    let lang = app.theme().lang;
    let inner = panel(
        app.theme(),
        &Msg::CmpLogitsTitle.fill(lang, &[&pos, &token_quoted(app, a.tokens[pos])]),
        area,
        buf,
        true,
    );
    let w = inner.width as usize;
    let (pa, pb) = (cmp::probs(a, pos), cmp::probs(b, pos));
    let n = (inner.height as usize).saturating_sub(5).clamp(3, 12);
    let cands = cmp::candidates(a, b, pos, n);
    let top_a = crate::readout::argmax(&pa) as u32;
    let top_b = crate::readout::argmax(&pb) as u32;
    let mut lines = vec![
        legend(app, c, w),
        Line::styled(
            fit(
                &Msg::CmpTopToken.fill(
                    lang,
                    &[
                        &token_quoted(app, top_a),
                        &token_quoted(app, top_b),
                        &if top_a == top_b {
                            Msg::CmpSame
                        } else {
                            Msg::CmpDiffer
                        }
                        .get(lang),
                        &num(cmp::kl(&pa, &pb)),
                    ],
                ),
                w,
            ),
            app.theme().accent(),
        ),
    ];
    let tok_w = if w >= 100 { 16 } else { 10 };
    let bar_w = w.saturating_sub(4 + 1 + tok_w + 1 + 9 + 1 + 9 + 1 + 9 + 1 + 6 + 1) / 2;
    lines.push(Line::styled(
        fit(
            &format!(
                "{:>4} {} {:>9} {:>9} {:>9} {:>6}",
                "A#",
                fit(Msg::CmpColToken.get(lang), tok_w),
                "P(A)",
                "P(B)",
                "Δp",
                "B#"
            ),
            w,
        ),
        app.theme().dim(),
    ));
    for x in &cands {
        let bar = |p: f64| -> String {
            std::iter::repeat_n(app.theme().bar(), (p * bar_w as f64).round() as usize).collect()
        };
        let d = x.d_p();
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{:>4} {} {:>9} {:>9} ",
                x.rank_a,
                token_label(app, x.token, tok_w),
                compact(x.p_a as f32),
                compact(x.p_b as f32)
            )),
            delta(app, d, d > 0.0, 9),
            Span::raw(format!(" {:>6} ", x.rank_b)),
            Span::styled(fit(&bar(x.p_a), bar_w), app.theme().dim()),
            Span::styled(
                bar(x.p_b),
                app.theme().accent().remove_modifier(Modifier::BOLD),
            ),
        ]));
    }
    lines.push(Line::styled(
        fit(Msg::CmpLogitsKey.get(lang), w),
        app.theme().dim(),
    ));
    text(lines, inner, buf);
}

fn attention(
    app: &App,
    c: &CompareModel,
    a: &Trace,
    b: &Trace,
    area: Rect,
    buf: &mut Buffer,
    hits: &mut Hits,
) {
    let (l, h) = (app.layer(), app.head());
    let pos = app.pos().min(a.len().saturating_sub(1));
    let lang = app.theme().lang;
    let inner = panel(
        app.theme(),
        &Msg::CmpAttentionTitle.fill(lang, &[&l, &h, &pos, &token_quoted(app, a.tokens[pos])]),
        area,
        buf,
        true,
    );
    let w = inner.width as usize;
    let mut lines = vec![legend(app, c, w)];
    let Some(row) = cmp::attention_row(a, b, l, h, pos) else {
        lines.push(Line::raw(Msg::CmpNoHead.get(lang)));
        text(lines, inner, buf);
        return;
    };
    let tok_w = if w >= 100 { 16 } else { 10 };
    let bar_w = w.saturating_sub(4 + 1 + tok_w + 1 + 8 + 1 + 8 + 1 + 9 + 1) / 2;
    lines.push(Line::styled(
        fit(
            &format!(
                "{} {} {:>8} {:>8} {}",
                pad_start(Msg::CmpColKey.get(lang), 4),
                fit(Msg::CmpColToken.get(lang), tok_w),
                "A",
                "B",
                pad_start(Msg::CmpColDweight.get(lang), 9)
            ),
            w,
        ),
        app.theme().dim(),
    ));
    let rows = (inner.height as usize).saturating_sub(lines.len()).max(1);
    let first = row.len().saturating_sub(rows);
    for (k, &(wa, wb)) in row.iter().enumerate().skip(first) {
        let y = inner.y + lines.len() as u16;
        if y < inner.bottom() {
            hits.push((Rect::new(inner.x, y, inner.width, 1), Hit::Token(k)));
        }
        let d = (wb - wa) as f64;
        let bar = |p: f32| -> String {
            std::iter::repeat_n(
                app.theme().bar(),
                (p as f64 * bar_w as f64).round() as usize,
            )
            .collect()
        };
        lines.push(Line::from(vec![
            Span::raw(format!(
                "{k:>4} {} {:>8} {:>8} ",
                token_label(app, a.tokens[k], tok_w),
                compact(wa),
                compact(wb)
            )),
            delta(app, d, d > 0.0, 9),
            Span::raw(" "),
            Span::styled(fit(&bar(wa), bar_w), app.theme().dim()),
            Span::styled(
                bar(wb),
                app.theme().accent().remove_modifier(Modifier::BOLD),
            ),
        ]));
    }
    text(lines, inner, buf);
}
