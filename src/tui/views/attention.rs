//! Attention: one small heatmap per head of the selected layer (the causal
//! triangle visible), a zoomed head with labelled axes, and the arithmetic of
//! the selected (query, key) cell with the real numbers.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{
    Hits, attn_matrix, fit, flat, heatmap_with_legend, panel, text, token_label, token_quoted,
};
use crate::fmt::compact;
use crate::model::Trace;
use crate::pass::Stage;
use crate::readout::attention;
use crate::tui::app::{App, Hit};
use crate::tui::heatmap::{Heatmap, Scale};
use ratatui::widgets::Widget;

/// Which matrix the stage shows: raw scores before the softmax, or weights.
fn shows_scores(stage: Stage) -> bool {
    matches!(stage, Stage::Scores | Stage::Mask | Stage::Qkv)
}

/// ↑/↓ move through the keys the query row can see (every key without the mask).
pub fn selection_count(app: &App) -> usize {
    if app.iv().no_causal_mask {
        app.tokens().len()
    } else {
        app.pos() + 1
    }
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let side_w = if app.theme().present || area.width < 70 {
        0
    } else {
        (area.width / 2).clamp(34, 64)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(side_w)]).areas(area);
    if app.stage() == Stage::Qkv && !app.zoom() {
        qkv(app, tr, main, buf);
    } else if app.stage() == Stage::OutProj && !app.zoom() {
        out_proj(app, tr, main, buf);
    } else if app.zoom() {
        zoomed(app, tr, main, buf, hits);
    } else {
        grid(app, tr, main, buf, hits);
    }
    if side_w > 0 {
        let inner = panel(
            app.theme(),
            "the selected cell, step by step",
            side,
            buf,
            false,
        );
        super::wrapped(arithmetic(app, tr), inner, buf);
    } else if app.theme().present {
        // Presenter mode keeps one line of arithmetic under the picture.
        let lines = arithmetic(app, tr);
        let y = area.bottom().saturating_sub(1);
        if let Some(l) = lines
            .into_iter()
            .find(|l| l.to_string().starts_with("softmax"))
        {
            text(
                vec![l],
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                buf,
            );
        }
    }
}

fn matrix_for(app: &App, tr: &Trace, head: usize) -> (Vec<f32>, Scale) {
    let n = tr.len();
    let l = &tr.layers[app.layer()];
    if shows_scores(app.stage()) {
        let m = attn_matrix(&l.scores[head], n);
        let s = Scale::fit(&m);
        (m, s)
    } else {
        (
            attn_matrix(&l.probs[head], n),
            Scale::Magnitude { lo: 0.0, hi: 1.0 },
        )
    }
}

/// One small heatmap per head of the layer.
fn grid(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let what = if shows_scores(app.stage()) {
        "scores q·k/√dₖ"
    } else {
        "weights softmax"
    };
    let inner = panel(
        app.theme(),
        &format!("layer {} · {what}", app.layer()),
        area,
        buf,
        true,
    );
    text(
        vec![Line::styled(
            "rows: query, cols: key (enter: zoom)",
            app.theme().dim(),
        )],
        inner,
        buf,
    );
    let inner = Rect {
        y: inner.y + 1,
        height: inner.height.saturating_sub(1),
        ..inner
    };
    let h = app.n_head();
    let n = tr.len();
    if inner.area() == 0 || n == 0 {
        return;
    }
    let cols = ((inner.width as usize + 1) / (n.min(40) + 4).max(8)).clamp(1, h);
    let grid_rows = h.div_ceil(cols);
    let cw = inner.width / cols as u16;
    let ch = (inner.height.saturating_sub(1)) / grid_rows as u16;
    if cw < 4 || ch < 2 {
        return;
    }
    let mut scale = None;
    for head in 0..h {
        let (m, s) = matrix_for(app, tr, head);
        scale.get_or_insert(s);
        let cell = Rect::new(
            inner.x + (head % cols) as u16 * cw,
            inner.y + (head / cols) as u16 * ch,
            cw - 1,
            ch,
        );
        let mut title = format!("H{head}");
        if app.iv().ablate.contains(&(app.layer(), head)) {
            title.push_str(" ablated");
        }
        let tstyle = if head == app.head() {
            app.theme().accent()
        } else {
            app.theme().dim()
        };
        text(
            vec![Line::styled(fit(&title, cell.width as usize), tstyle)],
            cell,
            buf,
        );
        let map = Rect {
            y: cell.y + 1,
            height: cell.height - 1,
            ..cell
        };
        let hm = Heatmap {
            data: &m,
            rows: n,
            cols: n,
            scale: s,
            theme: app.theme(),
            cell_w: 6,
        };
        hm.render(map, buf);
        hits.push((cell, Hit::Head(head)));
    }
    if let Some(s) = scale {
        let y = inner.bottom() - 1;
        ratatui::widgets::Paragraph::new(crate::tui::heatmap::legend(app.theme(), s, inner.width))
            .render(
                Rect {
                    y,
                    height: 1,
                    ..inner
                },
                buf,
            );
    }
}

/// Q, K and V of the selected head: [T, dₖ] each.
fn qkv(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        app.theme(),
        &format!(
            "layer {} head {} · Q, K, V (rows = positions, columns = dₖ dims)",
            app.layer(),
            app.head()
        ),
        area,
        buf,
        true,
    );
    let dk = app.gpt().config.head_dim();
    let l = &tr.layers[app.layer()];
    let cols = dk * app.head()..dk * (app.head() + 1);
    let parts = Layout::horizontal([Constraint::Ratio(1, 3); 3]).split(inner);
    for (i, (name, a)) in [("Q", &l.q), ("K", &l.k), ("V", &l.v)]
        .into_iter()
        .enumerate()
    {
        let m = flat(a.slice(ndarray::s![.., cols.clone()]));
        text(vec![Line::raw(name)], parts[i], buf);
        let area = Rect {
            y: parts[i].y + 1,
            height: parts[i].height.saturating_sub(1),
            ..parts[i]
        };
        heatmap_with_legend(
            app.theme(),
            (&m, tr.len(), dk),
            Scale::fit(&m),
            4,
            area,
            buf,
        );
    }
}

/// The heads' outputs side by side, and what W_O makes of them.
fn out_proj(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        app.theme(),
        &format!(
            "layer {} · output projection (rows = positions)",
            app.layer()
        ),
        area,
        buf,
        true,
    );
    let l = &tr.layers[app.layer()];
    let c = app.gpt().config.n_embd;
    let parts = Layout::vertical([Constraint::Ratio(1, 2); 2]).split(inner);
    for (i, (name, a)) in [
        (
            format!(
                "concat(heads): {} heads × dₖ {} side by side",
                app.n_head(),
                app.gpt().config.head_dim()
            ),
            &l.heads,
        ),
        ("attn = concat(heads)·W_O + b".to_string(), &l.attn_out),
    ]
    .into_iter()
    .enumerate()
    {
        let p = parts[i];
        if p.height < 3 {
            continue;
        }
        text(vec![Line::styled(name, app.theme().dim())], p, buf);
        let m = flat(a.view());
        let area = Rect {
            y: p.y + 1,
            height: p.height - 1,
            ..p
        };
        heatmap_with_legend(app.theme(), (&m, tr.len(), c), Scale::fit(&m), 2, area, buf);
    }
}

/// One head, large, with token labels on both axes.
fn zoomed(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let n = tr.len();
    let inner = panel(
        app.theme(),
        &format!(
            "layer {} head {} (enter: back to all heads)",
            app.layer(),
            app.head()
        ),
        area,
        buf,
        true,
    );
    if inner.height < 5 || inner.width < 16 || n == 0 {
        return;
    }
    let (m, scale) = matrix_for(app, tr, app.head());
    let label_w: u16 = 14;
    // Line 0: axis titles; line 1: key positions; then the rows.
    text(
        vec![Line::from(vec![
            Span::styled(fit("query ↓ key →", label_w as usize), app.theme().dim()),
            Span::raw(format!(
                " key {}: {}",
                app.cell(),
                token_quoted(app, tr.tokens[app.cell().min(n - 1)])
            )),
        ])],
        inner,
        buf,
    );
    let map = Rect {
        x: inner.x + label_w,
        y: inner.y + 2,
        width: inner.width - label_w,
        height: inner.height - 2,
    };
    let g = heatmap_with_legend(app.theme(), (&m, n, n), scale, 6, map, buf);
    // Key markers along the top: the selected column gets ▼.
    let mut top = String::new();
    for c in 0..n {
        let x = g.x_of_col(c);
        if x >= g.area.x + g.width {
            break;
        }
        while (top.chars().count() as u16) < x - map.x {
            top.push(' ');
        }
        let mark = if c == app.cell() {
            'v'
        } else {
            char::from_digit((c % 10) as u32, 10).unwrap_or('?')
        };
        let mark = if c == app.cell() && !app.theme().ascii {
            '▼'
        } else {
            mark
        };
        top.push(mark);
    }
    text(
        vec![Line::raw(top)],
        Rect {
            y: inner.y + 1,
            height: 1,
            ..map
        },
        buf,
    );
    // Query labels down the left.
    let mut last_y = None;
    for q in 0..n {
        let y = g.y_of_row(q);
        if y >= g.area.y + g.height {
            break;
        }
        if last_y == Some(y) && q != app.pos() {
            continue;
        }
        last_y = Some(y);
        let style = if q == app.pos() {
            app.theme().accent()
        } else {
            Style::default()
        };
        let lab = format!(
            "{q:>3} {}",
            token_label(app, tr.tokens[q], label_w as usize - 5)
        );
        text(
            vec![Line::styled(lab, style)],
            Rect {
                x: inner.x,
                y,
                width: label_w,
                height: 1,
            },
            buf,
        );
    }
    hits.push((
        Rect {
            width: g.width,
            height: g.height,
            ..g.area
        },
        Hit::AttnCells(g),
    ));
}

/// The selected cell's arithmetic, each line with the engine's numbers.
pub fn arithmetic(app: &App, tr: &Trace) -> Vec<Line<'static>> {
    let n = tr.len();
    if n == 0 {
        return vec![];
    }
    let dk = app.gpt().config.head_dim();
    let (h, qi) = (app.head(), app.pos().min(n - 1));
    let l = &tr.layers[app.layer()];
    let c = attention::cell(tr, app.layer(), h, qi, app.cell(), !app.iv().no_scale);
    let ki = c.key;
    let (dot, scale, s, max, e, z, p) = (
        c.dot, c.scale, c.score, c.row_max, c.exp, c.sum_exp, c.weight,
    );
    let engine_p = c.engine_weight;
    let dim = app.theme().dim();
    let mut out = vec![
        Line::from(vec![
            Span::raw(format!("L{} H{h}  query {qi} ", app.layer())),
            Span::styled(token_quoted(app, tr.tokens[qi]), app.theme().accent()),
        ]),
        Line::from(vec![
            Span::raw(format!("          key {ki} ")),
            Span::styled(token_quoted(app, tr.tokens[ki]), app.theme().accent()),
        ]),
        Line::styled(format!("q·k = Σ q_d·k_d over dₖ = {dk} dims:"), dim),
    ];
    let shown = dk.min(3);
    let mut sum = String::new();
    for (i, (q, k)) in c.q.iter().zip(&c.k).take(shown).enumerate() {
        if i > 0 {
            sum.push_str(" + ");
        }
        sum.push_str(&format!("{}×{}", compact(*q), compact(*k)));
    }
    if dk > shown {
        sum.push_str(&format!(" + … ({} more)", dk - shown));
    }
    out.push(Line::raw(format!("  = {} = {sum}", compact(dot))));
    if app.iv().no_scale {
        out.push(Line::styled(
            "÷ √dₖ dropped (intervention): score = q·k".to_string(),
            app.theme().alarm(),
        ));
    } else {
        out.push(Line::raw(format!("÷ √dₖ = ÷ √{dk} = ÷ {}", compact(scale))));
    }
    out.push(Line::raw(format!("score s = {}", compact(s))));
    if app.iv().no_causal_mask {
        out.push(Line::styled(
            "causal mask off: later keys included".to_string(),
            app.theme().alarm(),
        ));
    } else {
        let hidden = if qi + 1 >= n {
            "mask: no later keys exist yet (last position)".to_string()
        } else {
            format!("mask: keys {}..={} are hidden (score −∞)", qi + 1, n - 1)
        };
        out.push(Line::styled(hidden, dim));
    }
    out.push(Line::raw(format!("row max m = {}", compact(max))));
    out.push(Line::raw(format!(
        "exp(s − m) = exp({}) = {}",
        compact(s - max),
        compact(e)
    )));
    out.push(Line::raw(format!(
        "Σ over the row of exp(s − m) = {}",
        compact(z)
    )));
    out.push(Line::raw(format!(
        "softmax = {} ÷ {} = {}",
        compact(e),
        compact(z),
        compact(p)
    )));
    out.push(Line::styled(
        format!("  (engine: {})", compact(engine_p)),
        dim,
    ));
    // Weighted sum of V for the first dims of this head.
    let v = &l.v;
    let probs = &l.probs[h][qi];
    if app.iv().ablate.contains(&(app.layer(), h)) {
        out.push(Line::styled(
            "head ablated (intervention): its output is zeroed before W_O".to_string(),
            app.theme().alarm(),
        ));
    }
    out.push(Line::styled(
        "out = Σ_k p_k · v_k (first dims):".to_string(),
        dim,
    ));
    for d in 0..dk.min(2) {
        let c = dk * h + d;
        let val = attention::weighted_sum(tr, app.layer(), h, qi, d);
        let first: Vec<String> = probs
            .iter()
            .enumerate()
            .take(2)
            .map(|(kk, pk)| format!("{}·{}", compact(*pk), compact(v[[kk, c]])))
            .collect();
        let more = if probs.len() > 2 { " + …" } else { "" };
        out.push(Line::raw(format!(
            " d{d} = {} = {}{more}",
            compact(val),
            first.join(" + "),
        )));
        out.push(Line::styled(
            format!("     (engine: {})", compact(l.heads[[qi, c]])),
            dim,
        ));
    }
    if app.iv().is_active()
        && let Some(normal) = app.trace()
        && normal.len() == n
    {
        let np = normal.layers[app.layer()].probs[h][qi]
            .get(ki)
            .copied()
            .unwrap_or(f32::NAN);
        out.push(Line::styled(
            format!(
                "without interventions: p = {} (now {})",
                compact(np),
                compact(engine_p)
            ),
            app.theme().alarm(),
        ));
    }
    out
}
