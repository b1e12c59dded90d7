//! MLP: the selected position's activations before and after GELU as
//! histograms, the GELU curve with those points on it, and the most active
//! neurons. A Llama model's SwiGLU shows the gate, SiLU(gate), up and their
//! product instead, with the selected neuron's arithmetic.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;

use super::{Hits, pad_end, pad_start, panel, scatter, text};
use crate::fmt::{compact, sig_digits};
use crate::i18n::{Lang, Msg};
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

/// A label: a formula that reads the same in every language, or words.
#[derive(Clone, Copy)]
enum Label {
    Formula(&'static str),
    Words(Msg),
}

impl Label {
    fn get(self, lang: Lang) -> &'static str {
        match self {
            Label::Formula(s) => s,
            Label::Words(m) => m.get(lang),
        }
    }
}

/// What the view names and draws for one kind of MLP.
struct Kind {
    /// The activation stage's caption (up and down: i18n::Msg).
    act: &'static str,
    /// The two histograms: what `mlp_pre` and `mlp_act` hold.
    pre: Label,
    post: Label,
    curve: Msg,
    f: fn(f32) -> f32,
    list_w: u16,
    gap: u16,
}

const GELU: Kind = Kind {
    act: "GELU(h)",
    pre: Label::Words(Msg::MlpBeforeGelu),
    post: Label::Words(Msg::MlpAfterGelu),
    curve: Msg::MlpGeluCurve,
    f: gelu_new,
    list_w: 40,
    gap: 0,
};

/// SwiGLU: down(SiLU(gate) ⊙ up), three matrices; the histograms show the
/// gate and the product, the curve SiLU, the list each factor per neuron.
const SWIGLU: Kind = Kind {
    act: "SiLU(gate) ⊙ up",
    pre: Label::Formula("gate = x·W_gateᵀ"),
    post: Label::Words(Msg::MlpSwiGluPost),
    curve: Msg::MlpSiluCurve,
    f: silu,
    list_w: 44,
    gap: 1,
};

pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let swiglu = tr.arch.mlp == Mlp::SwiGlu;
    let k = if swiglu { &SWIGLU } else { &GELU };
    let layer = app.layer();
    let l = &tr.layers[layer];
    let t = app.pos();
    let pre: Vec<f32> = l.mlp_pre.row(t).to_vec();
    let act: Vec<f32> = l.mlp_act.row(t).to_vec();
    let (m, c) = (pre.len(), app.gpt().config.n_embd);
    let lang = app.theme().lang;
    let stage = match (app.stage(), swiglu) {
        (Stage::MlpUp, false) => Msg::TitleMlpUp.get(lang),
        (Stage::MlpDown, false) => Msg::TitleMlpDown.get(lang),
        (Stage::MlpUp, true) => Msg::TitleSwiGluUp.get(lang),
        (Stage::MlpDown, true) => Msg::TitleSwiGluDown.get(lang),
        _ => k.act,
    };
    let title = if swiglu {
        Msg::TitleSwiGlu.fill(lang, &[&layer, &t, &stage, &m, &c, &m, &c])
    } else {
        Msg::TitleMlp.fill(lang, &[&layer, &t, &stage, &m, &c])
    };
    let a = areas(app, &title, k.list_w, k.gap, area, buf);
    histogram(app.theme(), k.pre.get(lang), &pre, a.h1, buf);
    histogram(app.theme(), k.post.get(lang), &act, a.h2, buf);
    curve_plot(app, k.curve.get(lang), k.f, &pre, a.curve, buf);
    if a.list.width == 0 {
        return;
    }
    list_hit(a.list, hits);
    let lines = if swiglu {
        swiglu_list(app, tr, layer, t)
    } else {
        gelu_list(app, tr, layer, t)
    };
    text(lines, a.list, buf);
}

/// The most active neurons, h → GELU(h), and the first dims of the output.
fn gelu_list(app: &App, tr: &Trace, layer: usize, t: usize) -> Vec<Line<'static>> {
    let l = &tr.layers[layer];
    let (pre, act) = (l.mlp_pre.row(t), l.mlp_act.row(t));
    let order = crate::readout::ranked(&act.to_vec());
    let lang = app.theme().lang;
    let mut lines = vec![Line::styled(
        Msg::MlpMostActive.get(lang).to_string(),
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
        Msg::MlpOutput.get(lang).to_string(),
        app.theme().dim(),
    ));
    for d in 0..4.min(down.ncols()) {
        lines.push(Line::raw(format!(" d{d}: {}", compact(down[[t, d]]))));
    }
    lines
}

/// Each factor of the most active neurons, and the selected one's arithmetic.
fn swiglu_list(app: &App, tr: &Trace, layer: usize, t: usize) -> Vec<Line<'static>> {
    let order = crate::readout::mlp::most_active(tr, layer, t);
    let lang = app.theme().lang;
    let mut lines = vec![Line::styled(
        format!(
            "{}{:>9}{:>9}{:>9}{}",
            pad_end(Msg::MlpColNeuron.get(lang), 7),
            "gate",
            "SiLU",
            "up",
            pad_start(Msg::MlpColProduct.get(lang), 9)
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
    // The selected neuron's arithmetic: operands with six significant digits,
    // results with four, so that it redoes by hand.
    if let Some(&i) = order.get(app.cell().min(TOP_NEURONS - 1)) {
        let n = crate::readout::mlp::neuron(tr, layer, t, i);
        let op = |v: f32| sig_digits(v as f64, 6);
        let res = |v: f32| sig_digits(v as f64, 4);
        let up = n.up.unwrap_or(f32::NAN);
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            Msg::MlpNeuron.fill(lang, &[&i]),
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
            format!("  {}", Msg::MlpRecomputed.fill(lang, &[&res(n.out)])),
            app.theme().dim(),
        ));
    }
    lines
}

/// Where the MLP view draws: its two histograms and curve on the left, the
/// neuron list (`list_w` wide, `gap` from them; none when the panel is
/// narrow, zoomed or presenting) on the right.
struct Areas {
    h1: Rect,
    h2: Rect,
    curve: Rect,
    list: Rect,
}

fn areas(app: &App, title: &str, list_w: u16, gap: u16, area: Rect, buf: &mut Buffer) -> Areas {
    let inner = panel(app.theme(), title, area, buf, true);
    let list_w = if app.theme().present || app.zoom() || inner.width < 60 {
        0
    } else {
        list_w
    };
    let [left, list] = Layout::horizontal([Constraint::Min(20), Constraint::Length(list_w)])
        .spacing(gap)
        .areas(inner);
    let [h1, h2, curve] = Layout::vertical([
        Constraint::Percentage(30),
        Constraint::Percentage(30),
        Constraint::Percentage(40),
    ])
    .areas(left);
    Areas {
        h1,
        h2,
        curve,
        list,
    }
}

/// The list's neuron rows, for the mouse.
fn list_hit(list: Rect, hits: &mut Hits) {
    hits.push((
        Rect {
            y: list.y + 1,
            height: TOP_NEURONS as u16,
            ..list
        },
        Hit::ListRows { first: 0 },
    ));
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
            Msg::MlpMaxBin.fill(theme.lang, &[&title, &top]),
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
