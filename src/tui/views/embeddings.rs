//! Embeddings: token rows, position rows and their sum as heatmaps; the
//! selected position's numbers; nearest tokens by cosine similarity; a 2-D
//! projection of the embedding table with the prompt's tokens marked.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;

use super::{Hits, bounds, flat, heatmap_with_legend, panel, scatter, text, token_quoted, wrapped};
use crate::fmt::{compact, num};
use crate::i18n::Msg;
use crate::model::Trace;
use crate::tui::app::{App, Hit};
use crate::tui::heatmap::Scale;

/// ↑/↓ move through the embedding's dimensions.
pub fn selection_count(app: &App) -> usize {
    app.gpt().config.n_embd
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let side_w = if app.theme().present || app.zoom() || area.width < 70 {
        0
    } else {
        (area.width * 2 / 5).clamp(30, 70)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(area);
    let inner = panel(
        app.theme(),
        Msg::TitleEmbeddings.get(app.theme().lang),
        main,
        buf,
        true,
    );
    let n = tr.len();
    let c = app.gpt().config.n_embd;
    let rotary = tr.arch.positions == crate::model::Positions::Rotary;
    let all: Vec<f32> = tr
        .tok_emb
        .iter()
        .chain(tr.pos_emb.iter())
        .chain(tr.embed.iter())
        .copied()
        .collect();
    let scale = Scale::signed(&all);
    let parts = Layout::vertical([Constraint::Ratio(1, 3); 3]).split(inner);
    let id = tr.tokens[app.pos()];
    let lang = app.theme().lang;
    for (i, (name, a)) in [
        (
            Msg::EmbTokenRow.fill(lang, &[&token_quoted(app, id)]),
            &tr.tok_emb,
        ),
        (
            if rotary {
                String::new()
            } else {
                Msg::EmbPositionRow.fill(lang, &[&app.pos()])
            },
            &tr.pos_emb,
        ),
        (
            if rotary {
                Msg::EmbSumRope.get(lang).to_string()
            } else {
                Msg::EmbSum.get(lang).to_string()
            },
            &tr.embed,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let p = parts[i];
        if p.height < 2 {
            continue;
        }
        if rotary && i == 1 {
            // Nothing is added here: say where the position goes instead.
            wrapped(rope_lines(app), p, buf);
            continue;
        }
        text(vec![Line::styled(name, app.theme().dim())], p, buf);
        let m = flat(a.view());
        // One column kept free on the right for the selected-row marker.
        let area = Rect {
            y: p.y + 1,
            height: p.height - 1,
            width: p.width.saturating_sub(1),
            ..p
        };
        let g = heatmap_with_legend(app.theme(), (&m, n, c), scale, 2, area, buf);
        // Row marker for the selected position.
        let y = g.y_of_row(app.pos());
        let x = g.area.x + g.width;
        if x < p.right()
            && let Some(cell) = buf.cell_mut((x, y))
        {
            cell.set_char('<').set_style(app.theme().accent());
        }
        hits.push((
            Rect {
                width: g.width,
                height: g.height,
                ..g.area
            },
            Hit::PositionRows(g),
        ));
    }
    if side_w == 0 {
        return;
    }
    let [nums, near, proj] = Layout::vertical([
        Constraint::Length(7),
        Constraint::Length(11),
        Constraint::Min(0),
    ])
    .areas(side);
    let inner = panel(
        app.theme(),
        &Msg::TitlePositionNumbers.fill(app.theme().lang, &[&app.pos()]),
        nums,
        buf,
        false,
    );
    let d0 = app.cell().min(c.saturating_sub(1));
    let mut lines = vec![Line::styled(
        if rotary {
            Msg::EmbColumnsRope.get(lang).to_string()
        } else {
            Msg::EmbColumns.get(lang).to_string()
        },
        app.theme().dim(),
    )];
    for d in d0..(d0 + inner.height as usize).min(c) {
        let (t, x) = (tr.tok_emb[[app.pos(), d]], tr.embed[[app.pos(), d]]);
        lines.push(Line::raw(if rotary {
            format!("{d:>4} {} = {}", compact(t), compact(x))
        } else {
            format!(
                "{d:>4} {} + {} = {}",
                compact(t),
                compact(tr.pos_emb[[app.pos(), d]]),
                compact(x)
            )
        }));
    }
    text(lines, inner, buf);
    let inner = panel(
        app.theme(),
        Msg::TitleNearest.get(app.theme().lang),
        near,
        buf,
        false,
    );
    let mut lines = vec![];
    if let Some((tid, list)) = &app.nearest()
        && *tid == id
    {
        for (t, sim) in list {
            lines.push(Line::raw(format!(
                "{sim:>6.3}  {:>6}  {}",
                t,
                token_quoted(app, *t)
            )));
        }
    }
    text(lines, inner, buf);
    if proj.height >= 6 {
        let inner = panel(
            app.theme(),
            Msg::TitleProjection.get(app.theme().lang),
            proj,
            buf,
            false,
        );
        let pr = app.projection();
        let b = bounds(pr.points.iter().copied());
        let dot = if app.theme().ascii { '.' } else { '·' };
        scatter(inner, buf, b, &pr.points, dot, app.theme().dim());
        let wte = app.gpt().weights.wte.view2();
        let marks: Vec<(f64, f64)> = tr
            .tokens
            .iter()
            .map(|&t| pr.project(wte.row(t as usize)))
            .collect();
        scatter(inner, buf, b, &marks, 'o', app.theme().accent());
        let sel = [pr.project(wte.row(id as usize))];
        scatter(inner, buf, b, &sel, 'X', app.theme().alarm());
    }
}

/// A rotary model adds no position row: where its position enters instead,
/// with this position's angles (the attention view shows the rotation).
fn rope_lines(app: &App) -> Vec<Line<'static>> {
    let (t, d) = (app.pos(), app.gpt().config.head_dim());
    let base = crate::readout::rope::base(app.gpt());
    let last = (d / 2).saturating_sub(1);
    let angle = |i: usize| num(t as f64 * base.powf(-2.0 * i as f64 / d as f64));
    let base = if base.fract() == 0.0 {
        format!("{base:.0}")
    } else {
        num(base)
    };
    let lang = app.theme().lang;
    vec![
        Line::styled(Msg::EmbNoTable.get(lang).to_string(), app.theme().dim()),
        Line::raw(Msg::EmbRope.fill(lang, &[&t, &(d / 2), &t, &base, &d])),
        Line::raw(Msg::EmbRopeAngles.fill(lang, &[&angle(0), &subscript(last), &angle(last)])),
    ]
}

fn subscript(n: usize) -> String {
    n.to_string()
        .chars()
        .map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c))
        .collect()
}
