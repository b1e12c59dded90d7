//! LayerNorm: each position's mean and variance before, the normalised vector
//! after, γ and β, and the formula filled in for the selected position and dim.
//! A Llama model's RMSNorm shows mean(x²) and the RMS instead, and no β.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;

use super::{Hits, flat, heatmap_with_legend, pad_end, pad_start, panel, text, token_label};
use crate::fmt::{compact, sig_digits};
use crate::i18n::Msg;
use crate::model::{Norm, Trace};
use crate::readout::layernorm;
use crate::tui::app::{App, Hit};
use crate::tui::heatmap::Scale;

/// The LayerNorm being looked at: its site in the pass and a title.
struct Ln<'a> {
    name: String,
    at: layernorm::At<'a>,
}

/// The LayerNorm the current stage is about (LN1 of the layer otherwise).
fn which<'a>(app: &'a App, tr: &'a Trace) -> Ln<'a> {
    let site = layernorm::Site::of(app.stage(), app.layer());
    let rms = tr.arch.norm == Norm::RmsNorm;
    let lang = app.theme().lang;
    let name = match (site, rms) {
        (layernorm::Site::Ln1(l), false) => Msg::NormLn1.fill(lang, &[&l]),
        (layernorm::Site::Ln2(l), false) => Msg::NormLn2.fill(lang, &[&l]),
        (layernorm::Site::Final, false) => Msg::NormFinal.get(lang).to_string(),
        (layernorm::Site::Ln1(l), true) => Msg::NormRms1.fill(lang, &[&l]),
        (layernorm::Site::Ln2(l), true) => Msg::NormRms2.fill(lang, &[&l]),
        (layernorm::Site::Final, true) => Msg::StageLlamaFinalLn.get(lang).to_string(),
    };
    Ln {
        name,
        at: layernorm::at(app.gpt(), tr, site),
    }
}

/// ↑/↓ move through the dimensions of the normalized vector.
pub fn selection_count(app: &App) -> usize {
    app.gpt().config.n_embd
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let ln = which(app, tr);
    let n = tr.len();
    let c = app.gpt().config.n_embd;
    let side_w = if app.theme().present || app.zoom() || area.width < 70 {
        0
    } else {
        (area.width * 2 / 5).clamp(34, 70)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(area);
    let rms = ln.at.norm == Norm::RmsNorm;
    let title = if rms {
        Msg::TitleRmsNorm.fill(app.theme().lang, &[&ln.name])
    } else {
        Msg::TitleLayerNorm.fill(app.theme().lang, &[&ln.name])
    };
    let inner = panel(app.theme(), &title, main, buf, true);
    let [stats, maps] = Layout::vertical([
        Constraint::Length((n as u16 + 1).min(inner.height / 3).max(2)),
        Constraint::Min(0),
    ])
    .areas(inner);
    // Per-position statistics around the selection.
    let rows = stats.height.saturating_sub(1) as usize;
    let first = app.pos().saturating_sub(rows.saturating_sub(1));
    let lang = app.theme().lang;
    let (h1, h2) = if rms {
        ("mean(x²)", "RMS")
    } else {
        (Msg::LnColMean.get(lang), Msg::LnColVar.get(lang))
    };
    let mut lines = vec![Line::styled(
        format!(
            "{} {} {} {}",
            pad_start(Msg::LnColPos.get(lang), 4),
            pad_end(Msg::ColToken.get(lang), 10),
            pad_start(h1, 10),
            pad_start(h2, 10)
        ),
        app.theme().dim(),
    )];
    for t in first..n.min(first + rows) {
        let st = if t == app.pos() {
            app.theme().accent()
        } else {
            Style::default()
        };
        lines.push(Line::styled(
            format!(
                "{t:>4} {} {:>10} {:>10}",
                token_label(app, tr.tokens[t], 10),
                compact(if rms {
                    ln.at.ln.var[t]
                } else {
                    ln.at.ln.mean[t]
                }),
                compact(if rms {
                    ln.at.rms(t).unwrap_or(f32::NAN)
                } else {
                    ln.at.ln.var[t]
                })
            ),
            st,
        ));
        hits.push((
            Rect::new(stats.x, stats.y + 1 + (t - first) as u16, stats.width, 1),
            Hit::Token(t),
        ));
    }
    text(lines, stats, buf);
    let parts = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Percentage(40),
        Constraint::Percentage(20),
    ])
    .split(maps);
    let x = flat(ln.at.input.view());
    let y = flat(ln.at.ln.out.view());
    for (i, (name, m)) in [(Msg::LnBefore.get(lang), &x), (Msg::LnAfter.get(lang), &y)]
        .into_iter()
        .enumerate()
    {
        let p = parts[i];
        if p.height < 3 {
            continue;
        }
        text(vec![Line::styled(name, app.theme().dim())], p, buf);
        let a = Rect {
            y: p.y + 1,
            height: p.height - 1,
            ..p
        };
        let g = heatmap_with_legend(app.theme(), (m, n, c), Scale::signed(m), 2, a, buf);
        hits.push((
            Rect {
                width: g.width,
                height: g.height,
                ..g.area
            },
            Hit::PositionRows(g),
        ));
    }
    let p = parts[2];
    if p.height >= 2 {
        let gb: Vec<f32> = ln
            .at
            .gamma
            .iter()
            .chain(ln.at.beta.iter())
            .copied()
            .collect();
        let label = if rms {
            Msg::LnGammaOnly.get(lang)
        } else {
            Msg::LnGammaBeta.get(lang)
        };
        text(vec![Line::styled(label, app.theme().dim())], p, buf);
        let a = Rect {
            y: p.y + 1,
            height: p.height - 1,
            ..p
        };
        let rows = gb.len() / c.max(1);
        heatmap_with_legend(app.theme(), (&gb, rows, c), Scale::signed(&gb), 2, a, buf);
    }
    if side_w > 0 {
        let inner = panel(
            app.theme(),
            Msg::TitleFormula.get(app.theme().lang),
            side,
            buf,
            false,
        );
        super::wrapped(formula(app, &ln, tr), inner, buf);
    }
}

/// Operands get six significant digits and results four, so that the
/// formula redone from the printed operands gives the printed result.
fn formula(app: &App, ln: &Ln<'_>, tr: &Trace) -> Vec<Line<'static>> {
    let c = app.gpt().config.n_embd;
    let t = app.pos().min(tr.len().saturating_sub(1));
    let d = app.cell().min(c - 1);
    let eps = ln.at.eps;
    let e = ln.at.element(t, d);
    let (mu, var, x, xhat, y) = (e.mean, e.var, e.x, e.xhat, e.y);
    let op = |v: f32| sig_digits(v as f64, 6);
    let res = |v: f32| sig_digits(v as f64, 4);
    let dim = app.theme().dim();
    let lang = app.theme().lang;
    let engine = |v: f32| Msg::EngineValue.fill(lang, &[&res(v)]);
    let pos_line =
        Line::raw(Msg::LnAt.fill(lang, &[&t, &super::token_quoted(app, tr.tokens[t]), &d]));
    if ln.at.norm == Norm::RmsNorm {
        return rms_formula(app, ln, t, d, pos_line);
    }
    let mut v = vec![
        pos_line,
        Line::styled(format!("μ = (1/{c}) Σ x_i = {}", op(mu)), Style::default()),
        Line::raw(format!("σ² = (1/{c}) Σ (x_i − μ)² = {}", op(var))),
        Line::raw(format!("ε = {eps:e}")),
        Line::raw("x̂ = (x − μ)/√(σ² + ε)".to_string()),
        Line::raw(format!("   = ({} − {})/√({} + ε)", op(x), op(mu), op(var))),
        Line::raw(format!("   = {}", res(xhat))),
        Line::styled(format!("   {}", engine(e.engine_xhat)), dim),
        Line::raw(format!(
            "y = x̂·γ + β = {}·{} + {}",
            op(xhat),
            op(ln.at.gamma[d]),
            op(ln.at.beta[d])
        )),
        Line::raw(format!("  = {}", res(y))),
        Line::styled(format!("  {}", engine(e.engine_y)), dim),
    ];
    if app.iv().skip_layernorm {
        v.push(Line::styled(
            Msg::LnSkipped.get(lang).to_string(),
            app.theme().alarm(),
        ));
    }
    v.push(Line::styled(Msg::LnPreLn.get(lang).to_string(), dim));
    v
}

/// RMSNorm's formula at (t, d): x is divided by its root mean square, with
/// no mean subtracted and no β added.
fn rms_formula(
    app: &App,
    ln: &Ln<'_>,
    t: usize,
    d: usize,
    pos: Line<'static>,
) -> Vec<Line<'static>> {
    let c = app.gpt().config.n_embd;
    let e = ln.at.element(t, d);
    let ms = e.var;
    let op = |v: f32| sig_digits(v as f64, 6);
    let res = |v: f32| sig_digits(v as f64, 4);
    let dim = app.theme().dim();
    let lang = app.theme().lang;
    let engine = |v: f32| Msg::EngineValue.fill(lang, &[&res(v)]);
    let mut v = vec![
        pos,
        Line::raw(format!("mean(x²) = (1/{c}) Σ x_i² = {}", op(ms))),
        Line::raw(format!(
            "RMS = √{} = {}",
            op(ms),
            res(ln.at.rms(t).unwrap_or(ms.sqrt()))
        )),
        Line::raw(format!("ε = {:e}", ln.at.eps)),
        Line::raw("x̂ = x/√(mean(x²) + ε)".to_string()),
        Line::raw(format!("   = {}/√({} + ε)", op(e.x), op(ms))),
        Line::raw(format!("   = {}", res(e.xhat))),
        Line::styled(format!("   {}", engine(e.engine_xhat)), dim),
        Line::raw(format!("y = x̂·γ = {}·{}", op(e.xhat), op(ln.at.gamma[d]))),
        Line::raw(format!("  = {}", res(e.y))),
        Line::styled(format!("  {}", engine(e.engine_y)), dim),
    ];
    if app.iv().skip_layernorm {
        v.push(Line::styled(
            Msg::RmsSkipped.get(lang).to_string(),
            app.theme().alarm(),
        ));
    }
    v.push(Line::styled(Msg::RmsNote.get(lang).to_string(), dim));
    v
}
