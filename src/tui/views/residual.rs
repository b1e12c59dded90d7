//! The residual stream: its norm at every layer boundary and position, and the
//! logit lens (what each boundary would predict if the model stopped there).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;

use super::{Hits, fit, heatmap_with_legend, panel, text, token_quoted};
use crate::fmt::compact;
use crate::i18n::{Lang, Msg};
use crate::model::Trace;
use crate::readout::norm;
use crate::tui::app::App;
use crate::tui::heatmap::Scale;

/// Row names and the residual matrices, from the embedding to the last block.
fn boundaries(tr: &Trace, lang: Lang) -> Vec<(String, &ndarray::Array2<f32>)> {
    let mut v = vec![(Msg::ResEmbed.get(lang).to_string(), &tr.embed)];
    for (l, lt) in tr.layers.iter().enumerate() {
        v.push((format!("L{l} +attn"), &lt.resid_mid));
        v.push((format!("L{l} +mlp"), &lt.resid_post));
    }
    v
}

/// ↑/↓ move through the residual stream's dimensions.
pub fn selection_count(app: &App) -> usize {
    app.gpt().config.n_embd
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, _hits: &mut Hits) {
    let n = tr.len();
    let lang = app.theme().lang;
    let b = boundaries(tr, lang);
    let lens_w = if app.theme().present || app.zoom() || area.width < 70 {
        0
    } else {
        (area.width / 2).clamp(36, 80)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(lens_w)]).areas(area);
    let inner = panel(
        app.theme(),
        Msg::TitleResidual.get(app.theme().lang),
        main,
        buf,
        true,
    );
    let mut norms = Vec::with_capacity(b.len() * n);
    for (_, m) in &b {
        for t in 0..n {
            norms.push(norm(m.row(t)));
        }
    }
    let label_w = 10u16;
    let rows = Rect {
        width: label_w,
        ..inner
    };
    let map = Rect {
        x: inner.x + label_w,
        width: inner.width.saturating_sub(label_w),
        ..inner
    };
    let scale = Scale::magnitude(&norms);
    let g = heatmap_with_legend(app.theme(), (&norms, b.len(), n), scale, 6, map, buf);
    let mut last_y = None;
    for (i, (name, _)) in b.iter().enumerate() {
        let y = g.y_of_row(i);
        if last_y == Some(y) {
            continue;
        }
        last_y = Some(y);
        if y < g.area.y + g.height {
            text(
                vec![Line::styled(
                    fit(name, label_w as usize - 1),
                    app.theme().dim(),
                )],
                Rect {
                    y,
                    height: 1,
                    ..rows
                },
                buf,
            );
        }
    }
    // Norms of the selected position, as numbers.
    let below = Rect {
        y: (g.area.y + g.height + 1).min(inner.bottom()),
        ..inner
    };
    let below = Rect {
        height: inner.bottom().saturating_sub(below.y),
        ..below
    };
    let mut lines = vec![Line::styled(
        Msg::ResAt.fill(lang, &[&app.pos()]),
        app.theme().dim(),
    )];
    let w = below.width as usize;
    let items: Vec<String> = b
        .iter()
        .enumerate()
        .map(|(i, (name, _))| format!("{name} {}", compact(norms[i * n + app.pos()])))
        .collect();
    for l in packed(&items, w) {
        lines.push(Line::raw(l));
    }
    if app.iv().is_active()
        && let Some(normal) = app.trace()
        && normal.len() == n
        && app.alt().is_some()
    {
        let mut items: Vec<String> = boundaries(normal, lang)
            .into_iter()
            .map(|(name, m)| format!("{name} {}", compact(norm(m.row(app.pos())))))
            .collect();
        if let Some(first) = items.first_mut() {
            let was = std::mem::take(first);
            *first = Msg::ResWithout.fill(lang, &[&was]);
        }
        for l in packed(&items, w) {
            lines.push(Line::styled(l, app.theme().alarm()));
        }
    }
    text(lines, below, buf);
    if lens_w == 0 {
        return;
    }
    let inner = panel(
        app.theme(),
        Msg::TitleLens.get(app.theme().lang),
        side,
        buf,
        false,
    );
    let mut lines = vec![Line::raw(Msg::ResLensAt.fill(
        lang,
        &[&app.pos(), &token_quoted(app, tr.tokens[app.pos()])],
    ))];
    if let Some((_, lists)) = &app.lens() {
        for (l, list) in lists.iter().enumerate() {
            let name = if l == 0 {
                Msg::ResEmbed.get(lang).to_string()
            } else {
                Msg::ResAfter.fill(lang, &[&(l - 1)])
            };
            let tops: Vec<String> = list
                .iter()
                .map(|(id, p)| format!("{} {}", token_quoted(app, *id), compact(*p)))
                .collect();
            let st = if l == app.n_layer() {
                app.theme().accent()
            } else {
                Style::default()
            };
            lines.push(Line::styled(
                format!("{} {}", super::pad_end(&name, 9), tops.join("  ")),
                st,
            ));
        }
        lines.push(Line::styled(
            Msg::ResLastRow.get(lang).to_string(),
            app.theme().dim(),
        ));
    }
    text(lines, inner, buf);
}

/// Packs "label value" items into lines of at most `w` columns, two spaces
/// apart, never breaking an item (a label stays beside its value).
fn packed(items: &[String], w: usize) -> Vec<String> {
    let mut out = vec![];
    let mut line = String::new();
    for it in items {
        let need = super::width(it) + if line.is_empty() { 0 } else { 2 };
        if !line.is_empty() && super::width(&line) + need > w {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push_str("  ");
        }
        line.push_str(it);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}
