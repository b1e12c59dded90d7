//! MLP: the selected position's activations before and after GELU as
//! histograms, the GELU curve with those points on it, and the most active
//! neurons. A Llama model's SwiGLU shows the gate, SiLU(gate), up and their
//! product instead, with the selected neuron's arithmetic.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;

use super::{Hits, panel, scatter, text};
use crate::fmt::{compact, sig_digits};
use crate::model::{Mlp, Trace, gelu_new, silu};
use crate::pass::Stage;
use crate::tui::app::{App, Hit};
use crate::tui::heatmap::Theme;

/// How many neurons the "most active" list shows.
pub const TOP_NEURONS: usize = 10;

/// ↑/↓ move through the most active neurons listed.
pub fn selection_count(_app: &App) -> usize {
    TOP_NEURONS
}

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    if tr.arch.mlp == Mlp::SwiGlu {
        return render_swiglu(app, tr, area, buf, hits);
    }
    let l = &tr.layers[app.layer()];
    let t = app.pos();
    let pre: Vec<f32> = l.mlp_pre.row(t).to_vec();
    let act: Vec<f32> = l.mlp_act.row(t).to_vec();
    let m = pre.len();
    let stage = match app.stage() {
        Stage::MlpUp => "up-projection h = LN2(x)·W_fc + b",
        Stage::MlpDown => "down-projection GELU(h)·W_proj + b",
        _ => "GELU(h)",
    };
    let inner = panel(
        app.theme(),
        &format!(
            "MLP of layer {} at position {t} · {stage} · {m} neurons (4×{})",
            app.layer(),
            app.gpt().config.n_embd
        ),
        area,
        buf,
        true,
    );
    let list_w = if app.theme().present || app.zoom() || inner.width < 60 {
        0
    } else {
        40
    };
    let [left, right] =
        Layout::horizontal([Constraint::Min(20), Constraint::Length(list_w)]).areas(inner);
    let [h1, h2, curve] = Layout::vertical([
        Constraint::Percentage(30),
        Constraint::Percentage(30),
        Constraint::Percentage(40),
    ])
    .areas(left);
    histogram(app.theme(), "before GELU: h", &pre, h1, buf);
    histogram(app.theme(), "after GELU: GELU(h)", &act, h2, buf);
    let gelu_label = "GELU(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) on −4 to 4; o = this position's neurons";
    curve_plot(app, gelu_label, gelu_new, &pre, curve, buf);
    if list_w > 0 {
        let order = crate::readout::ranked(&act);
        let mut lines = vec![Line::styled(
            "most active neurons: h → GELU(h)".to_string(),
            app.theme().dim(),
        )];
        for (rank, &i) in order.iter().take(TOP_NEURONS).enumerate() {
            let st = if rank == app.cell() {
                app.theme().accent()
            } else {
                Style::default()
            };
            lines.push(Line::styled(
                format!("#{i:<5} {:>9} → {:>9}", compact(pre[i]), compact(act[i])),
                st,
            ));
        }
        let down = &l.mlp_out;
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "MLP output (first dims):".to_string(),
            app.theme().dim(),
        ));
        for d in 0..4.min(down.ncols()) {
            lines.push(Line::raw(format!(" d{d}: {}", compact(down[[t, d]]))));
        }
        hits.push((
            Rect {
                y: right.y + 1,
                height: TOP_NEURONS as u16,
                ..right
            },
            Hit::ListRows { first: 0 },
        ));
        text(lines, right, buf);
    }
}

/// SwiGLU: down(SiLU(gate) ⊙ up), three matrices; the histograms show the
/// gate and the product, the curve SiLU, the list each factor per neuron.
fn render_swiglu(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let layer = app.layer();
    let l = &tr.layers[layer];
    let t = app.pos();
    let gate: Vec<f32> = l.mlp_pre.row(t).to_vec();
    let act: Vec<f32> = l.mlp_act.row(t).to_vec();
    let m = gate.len();
    let stage = match app.stage() {
        Stage::MlpUp => "gate = x·W_gateᵀ and up = x·W_upᵀ",
        Stage::MlpDown => "down-projection (SiLU(gate) ⊙ up)·W_downᵀ",
        _ => "SiLU(gate) ⊙ up",
    };
    let inner = panel(
        app.theme(),
        &format!(
            "MLP of layer {layer} at position {t} · SwiGLU: {stage} · {m} neurons, three matrices ({}→{m}→{})",
            app.gpt().config.n_embd,
            app.gpt().config.n_embd
        ),
        area,
        buf,
        true,
    );
    let list_w = if app.theme().present || app.zoom() || inner.width < 60 {
        0
    } else {
        44
    };
    let [left, right] = Layout::horizontal([Constraint::Min(20), Constraint::Length(list_w)])
        .spacing(1)
        .areas(inner);
    let [h1, h2, curve] = Layout::vertical([
        Constraint::Percentage(30),
        Constraint::Percentage(30),
        Constraint::Percentage(40),
    ])
    .areas(left);
    histogram(app.theme(), "gate = x·W_gateᵀ", &gate, h1, buf);
    histogram(
        app.theme(),
        "SiLU(gate) ⊙ up (what W_down reads)",
        &act,
        h2,
        buf,
    );
    let silu_label = "SiLU(x) = x/(1 + e^(−x)) on −4 to 4; o = this position's gates";
    curve_plot(app, silu_label, silu, &gate, curve, buf);
    if list_w == 0 {
        return;
    }
    let order = crate::readout::mlp::most_active(tr, layer, t);
    let mut lines = vec![Line::styled(
        format!(
            "{:<7}{:>9}{:>9}{:>9}{:>9}",
            "neuron", "gate", "SiLU", "up", "product"
        ),
        app.theme().dim(),
    )];
    for (rank, &i) in order.iter().take(TOP_NEURONS).enumerate() {
        let st = if rank == app.cell() {
            app.theme().accent()
        } else {
            Style::default()
        };
        let n = crate::readout::mlp::neuron(tr, layer, t, i);
        lines.push(Line::styled(
            format!(
                "#{i:<6}{:>9}{:>9}{:>9}{:>9}",
                compact(n.pre),
                compact(n.engine_act),
                compact(n.up.unwrap_or(f32::NAN)),
                compact(n.engine_out)
            ),
            st,
        ));
    }
    hits.push((
        Rect {
            y: right.y + 1,
            height: TOP_NEURONS as u16,
            ..right
        },
        Hit::ListRows { first: 0 },
    ));
    // The selected neuron's arithmetic: operands with six significant digits,
    // results with four, so that it redoes by hand.
    if let Some(&i) = order.get(app.cell().min(TOP_NEURONS - 1)) {
        let n = crate::readout::mlp::neuron(tr, layer, t, i);
        let op = |v: f32| sig_digits(v as f64, 6);
        let res = |v: f32| sig_digits(v as f64, 4);
        let up = n.up.unwrap_or(f32::NAN);
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("neuron #{i} (↑↓):"),
            app.theme().dim(),
        ));
        // The gate gets a seventh digit: SiLU's slope reaches 1.1.
        lines.push(Line::raw(format!(
            "gate g = {}",
            sig_digits(n.pre as f64, 7)
        )));
        lines.push(Line::raw(format!(
            "SiLU(g) = g/(1 + e^(−g)) = {}",
            op(n.engine_act)
        )));
        lines.push(Line::raw(format!("up u = {}", op(up))));
        lines.push(Line::raw(format!(
            "SiLU(g)·u = {}·{}",
            op(n.engine_act),
            op(up)
        )));
        lines.push(Line::raw(format!("  = {}", res(n.engine_out))));
        lines.push(Line::styled(
            format!("  (recomputed: {})", res(n.out)),
            app.theme().dim(),
        ));
    }
    text(lines, right, buf);
}

/// Vertical bars of a histogram with its range underneath.
pub fn histogram(theme: &Theme, title: &str, v: &[f32], area: Rect, buf: &mut Buffer) {
    if area.height < 3 || area.width < 8 || v.is_empty() {
        return;
    }
    let lo = v.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let bins = area.width as usize;
    let mut counts = vec![0usize; bins];
    for &x in v.iter().filter(|x| x.is_finite()) {
        let f = if hi > lo { (x - lo) / (hi - lo) } else { 0.5 };
        counts[((f * bins as f32) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    text(
        vec![Line::styled(
            format!("{title} (max bin {top})"),
            theme.dim(),
        )],
        area,
        buf,
    );
    let bars = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    let eighths = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let style = match theme.color(0.6, false) {
        Some(c) => Style::default().fg(c),
        None => Style::default(),
    };
    for (i, &cnt) in counts.iter().enumerate() {
        let h = cnt as f32 / top as f32 * bars.height as f32;
        let full = h.floor() as u16;
        let x = bars.x + i as u16;
        for k in 0..full.min(bars.height) {
            if let Some(cell) = buf.cell_mut((x, bars.bottom() - 1 - k)) {
                cell.set_char(theme.bar()).set_style(style);
            }
        }
        let frac = h - full as f32;
        if cnt > 0 && full < bars.height && (frac > 0.0 || full == 0) {
            let ch = if theme.ascii {
                '.'
            } else {
                eighths[((frac * 8.0) as usize).min(7)]
            };
            if let Some(cell) = buf.cell_mut((x, bars.bottom() - 1 - full)) {
                cell.set_char(ch).set_style(style);
            }
        }
    }
    let axis = format!("{} … {}", compact(lo), compact(hi));
    text(
        vec![Line::styled(axis, theme.dim())],
        Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        },
        buf,
    );
}

/// The nonlinearity `f` (GELU, SiLU) on [−4, 4] with the position's
/// pre-activations marked on it.
fn curve_plot(
    app: &App,
    label: &str,
    f: fn(f32) -> f32,
    pre: &[f32],
    area: Rect,
    buf: &mut Buffer,
) {
    if area.height < 4 || area.width < 10 {
        return;
    }
    text(
        vec![Line::styled(label.to_string(), app.theme().dim())],
        area,
        buf,
    );
    let plot = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    let b = ([-4.0, 4.0], [-0.5, 4.0]);
    let curve: Vec<(f64, f64)> = (0..plot.width as usize * 2)
        .map(|i| {
            let x = -4.0 + 8.0 * i as f64 / (plot.width as f64 * 2.0 - 1.0);
            (x, f(x as f32) as f64)
        })
        .collect();
    // Axes through zero.
    let axis = if app.theme().ascii { '-' } else { '─' };
    let zero: Vec<(f64, f64)> = (0..plot.width)
        .map(|i| (-4.0 + 8.0 * i as f64 / plot.width.max(2) as f64, 0.0))
        .collect();
    scatter(plot, buf, b, &zero, axis, app.theme().dim());
    let dot = if app.theme().ascii { '*' } else { '•' };
    scatter(plot, buf, b, &curve, dot, Style::default());
    let pts: Vec<(f64, f64)> = pre
        .iter()
        .map(|&x| ((x as f64).clamp(-4.0, 4.0), f(x.clamp(-4.0, 4.0)) as f64))
        .collect();
    scatter(plot, buf, b, &pts, 'o', app.theme().accent());
}
