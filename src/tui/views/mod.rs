//! One module per view; each has a pure `render(app, trace, area, buf, hits)`.
//! Shared helpers for width-aware text, panels and heatmaps live here.

pub mod attention;
pub mod cost;
pub mod embeddings;
pub mod layernorm;
pub mod logits;
pub mod loss;
pub mod mlp;
pub mod quant;
pub mod residual;
pub mod tokens;
pub mod training;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use unicode_width::UnicodeWidthChar;

use super::app::{App, Hit};
use super::heatmap::{Geometry, Heatmap, Scale, Theme};
use crate::model::Trace;
use crate::text::visible_token;
use crate::text::wrap::{is_cjk, line_ranges};

/// Mouse targets collected while drawing.
pub type Hits = Vec<(Rect, Hit)>;

/// Borders without box-drawing glyphs, for `--ascii`.
pub const ASCII_BORDER: border::Set = border::Set {
    top_left: "+",
    top_right: "+",
    bottom_left: "+",
    bottom_right: "+",
    vertical_left: "|",
    vertical_right: "|",
    horizontal_top: "-",
    horizontal_bottom: "-",
};

/// Display width of text (what the terminal will use).
pub fn width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Cuts `s` to at most `w` columns (ending in '…' when cut) and pads it to
/// exactly `w`, so that columns stay aligned whatever the characters.
pub fn fit(s: &str, w: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    let total = width(s);
    let limit = if total > w { w.saturating_sub(1) } else { w };
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > limit {
            break;
        }
        out.push(c);
        used += cw;
    }
    if total > w && w > 0 {
        out.push('…');
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
    out
}

/// `s` padded on the right to `w` columns, never cut: `{:<w}` by display
/// width, so that a Chinese column header lines up as an English one does.
pub fn pad_end(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

/// `s` padded on the left to `w` columns, never cut: `{:>w}` by display width.
pub fn pad_start(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

/// A token as drawn: visible (escapes shown) and cut to `w` columns.
pub fn token_label(app: &App, id: u32, w: usize) -> String {
    fit(&visible_token(app.token_text(id)), w)
}

/// A token as drawn, uncut, in «guillemets».
pub fn token_quoted(app: &App, id: u32) -> String {
    format!("«{}»", visible_token(app.token_text(id)))
}

/// A bordered panel with a title; returns the inner area.
pub fn panel(theme: &Theme, title: &str, area: Rect, buf: &mut Buffer, focus: bool) -> Rect {
    let set = if theme.ascii {
        ASCII_BORDER
    } else {
        border::PLAIN
    };
    let mut style = theme.dim();
    if focus {
        style = theme.accent();
    }
    let b = Block::bordered()
        .border_set(set)
        .border_style(style)
        .title(Line::styled(
            format!(" {title} "),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    let inner = b.inner(area);
    b.render(area, buf);
    inner
}

/// Draws lines into an area (cut at the right and the bottom).
pub fn text(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    Paragraph::new(lines).render(area, buf);
}

/// Draws lines, wrapping long ones (for arithmetic in narrow side panels).
/// A line with Chinese in it is broken by `text::wrap`'s rules (between
/// characters, never before closing punctuation), which ratatui's word
/// wrapper does not know; other lines wrap at spaces as before.
pub fn wrapped(lines: Vec<Line<'_>>, area: Rect, buf: &mut Buffer) {
    let w = area.width as usize;
    let lines: Vec<Line<'_>> = lines
        .into_iter()
        .flat_map(|l| {
            if w > 0 && l.spans.iter().any(|s| s.content.chars().any(is_cjk)) {
                cjk_lines(&l, w)
            } else {
                vec![l]
            }
        })
        .collect();
    Paragraph::new(lines)
        .wrap(ratatui::widgets::Wrap { trim: false })
        .render(area, buf);
}

/// `line` broken into lines of at most `w` columns, each character keeping
/// its span's style.
fn cjk_lines(line: &Line<'_>, w: usize) -> Vec<Line<'static>> {
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    line_ranges(&chars, |c| c.0, w)
        .into_iter()
        .map(|r| {
            let mut spans: Vec<Span<'static>> = vec![];
            let mut run = String::new();
            let mut style = None;
            for &(c, st) in &chars[r] {
                if style.is_some_and(|s| s != st) {
                    spans.push(Span::styled(
                        std::mem::take(&mut run),
                        style.unwrap_or_default(),
                    ));
                }
                style = Some(st);
                run.push(c);
            }
            if !run.is_empty() {
                spans.push(Span::styled(run, style.unwrap_or_default()));
            }
            Line::from(spans).style(line.style)
        })
        .collect()
}

/// Draws a heatmap with its legend on the last line of `area`; returns its geometry.
pub fn heatmap_with_legend(
    theme: &Theme,
    (data, rows, cols): (&[f32], usize, usize),
    scale: Scale,
    max_cell_w: u16,
    area: Rect,
    buf: &mut Buffer,
) -> Geometry {
    let hm = Heatmap::new(data, rows, cols, scale, theme).cell_w(max_cell_w);
    draw_with_legend(hm, area, buf)
}

/// Draws `hm` with its legend on the last line of `area`; returns its geometry.
pub fn draw_with_legend(hm: Heatmap<'_>, area: Rect, buf: &mut Buffer) -> Geometry {
    let (map, leg) = if area.height > 2 {
        (
            Rect {
                height: area.height - 1,
                ..area
            },
            Some(Rect {
                y: area.bottom() - 1,
                height: 1,
                ..area
            }),
        )
    } else {
        (area, None)
    };
    let g = hm.geometry(map);
    hm.render(map, buf);
    if let Some(l) = leg {
        let legend_area = Rect {
            y: (g.area.y + g.height).min(l.y),
            ..l
        };
        Paragraph::new(super::heatmap::legend(hm.theme, hm.scale, l.width))
            .render(legend_area, buf);
    }
    g
}

/// Digits of the largest index in 0..n.
fn digits(n: usize) -> usize {
    n.saturating_sub(1).max(1).to_string().len()
}

/// A T×T attention heatmap with both axes labelled: query rows on the left
/// (index and token when there is room), key columns on top (index and token
/// over wide cells, the full index written downwards over narrow ones). The
/// selected query and key are highlighted on the axes; `hm.mark` marks the
/// cell. With `legend`, its legend goes on the line under the map.
pub fn labelled_heatmap(
    app: &App,
    hm: Heatmap<'_>,
    tokens: &[u32],
    area: Rect,
    buf: &mut Buffer,
    legend: bool,
) -> Geometry {
    let n = hm.rows.min(tokens.len());
    let idx_w = digits(hm.rows.max(hm.cols));
    // Row labels: index, then as much of the token as fits.
    let tok_w = (area.width as usize / 4).saturating_sub(idx_w + 1).min(10);
    let tok_w = if tok_w >= 3 { tok_w } else { 0 };
    let label_w = (idx_w + 1 + if tok_w > 0 { tok_w + 1 } else { 0 }) as u16;
    let legend_h = u16::from(legend && area.height > 4);
    let probe = hm.geometry(Rect {
        x: area.x + label_w,
        width: area.width.saturating_sub(label_w),
        ..area
    });
    // Key axis: tokens and indices over wide cells, digits downwards otherwise.
    let horizontal = probe.cell_w as usize > idx_w;
    let with_tokens = probe.cell_w >= 4;
    let head_h: u16 = if horizontal {
        1 + u16::from(with_tokens)
    } else {
        idx_w as u16
    };
    let map = Rect {
        x: area.x + label_w,
        y: area.y + head_h,
        width: area.width.saturating_sub(label_w),
        height: area.height.saturating_sub(head_h + legend_h),
    };
    if map.area() == 0 {
        return hm.geometry(map);
    }
    let g = hm.geometry(map);
    hm.render(map, buf);
    let (sel_q, sel_k) = hm.mark.unwrap_or((usize::MAX, usize::MAX));
    let accent = app.theme().accent();
    let plain = Style::default();
    let put = |buf: &mut Buffer, x: u16, y: u16, s: &str, st: Style, w: u16| {
        let r = Rect::new(x, y, w.min(area.right().saturating_sub(x)), 1);
        if r.area() > 0 {
            Paragraph::new(Line::styled(s.to_string(), st)).render(r, buf);
        }
    };
    // Key labels: skip a column whose label would overlap the previous one,
    // but never the selected one.
    let mut next_free = map.x;
    for (c, &id) in tokens.iter().enumerate().take(hm.cols) {
        let x = g.x_of_col(c);
        if x >= g.area.x + g.width {
            break;
        }
        let st = if c == sel_k { accent } else { plain };
        if horizontal {
            let idx = c.to_string();
            let w = g.cell_w.max(idx.len() as u16);
            if x < next_free && c != sel_k {
                continue;
            }
            if with_tokens {
                let t = token_label(app, id, g.cell_w.saturating_sub(1) as usize);
                put(buf, x, area.y, &t, st, g.cell_w);
            }
            put(buf, x, area.y + head_h - 1, &idx, st, w);
            next_free = x + w;
        } else {
            if x < next_free && c != sel_k {
                continue;
            }
            let idx = format!("{c:>idx_w$}");
            for (i, d) in idx.chars().enumerate() {
                put(buf, x, area.y + i as u16, &d.to_string(), st, 1);
            }
            next_free = x + 1;
        }
    }
    // Query labels down the left.
    let mut last_y = None;
    for (q, &id) in tokens.iter().enumerate().take(n) {
        let y = g.y_of_row(q);
        if y >= g.area.y + g.height {
            break;
        }
        if last_y == Some(y) && q != sel_q {
            continue;
        }
        last_y = Some(y);
        let mut lab = format!("{q:>idx_w$}");
        if tok_w > 0 {
            lab.push(' ');
            lab.push_str(&token_label(app, id, tok_w));
        }
        let st = if q == sel_q { accent } else { plain };
        put(buf, area.x, y, &lab, st, label_w.saturating_sub(1));
    }
    if legend_h > 0 {
        let y = (g.area.y + g.height).min(area.bottom() - 1);
        Paragraph::new(super::heatmap::legend(hm.theme, hm.scale, area.width))
            .render(Rect::new(area.x, y, area.width, 1), buf);
    }
    g
}

/// Row-major copy of `rows × cols` from a 2-D array view.
pub fn flat(a: ndarray::ArrayView2<f32>) -> Vec<f32> {
    a.iter().copied().collect()
}

/// The attention matrix of one head as a full T×T grid (NaN where masked).
pub fn attn_matrix(rows: &[Vec<f32>], n: usize) -> Vec<f32> {
    let mut m = vec![f32::NAN; n * n];
    for (q, row) in rows.iter().enumerate().take(n) {
        for (k, &v) in row.iter().enumerate().take(n) {
            m[q * n + k] = v;
        }
    }
    m
}

/// Draws the view chosen in `app.view()`.
pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    use crate::pass::View;
    if let Some(c) = app.compare()
        && super::compare::covers(app.view())
    {
        return super::compare::render(app, c, tr, area, buf, hits);
    }
    match app.view() {
        View::Tokens => tokens::render(app, tr, area, buf, hits),
        View::Embeddings => embeddings::render(app, tr, area, buf, hits),
        View::Attention => attention::render(app, tr, area, buf, hits),
        View::LayerNorm => layernorm::render(app, tr, area, buf, hits),
        View::Mlp => mlp::render(app, tr, area, buf, hits),
        View::Residual => residual::render(app, tr, area, buf, hits),
        View::Logits => logits::render(app, tr, area, buf, hits),
        View::Loss => loss::render(app, tr, area, buf, hits),
        View::Cost => cost::render(app, tr, area, buf, hits),
        View::Training => training::render(app, area, buf),
        View::Quant => quant::render(app, area, buf),
    }
}

/// How many items ↑/↓ move through in the current view (each view says).
pub fn selection_count(app: &App) -> usize {
    use crate::pass::View;
    match app.view() {
        View::Tokens => tokens::selection_count(app),
        View::Embeddings => embeddings::selection_count(app),
        View::Attention => attention::selection_count(app),
        View::LayerNorm => layernorm::selection_count(app),
        View::Mlp => mlp::selection_count(app),
        View::Residual => residual::selection_count(app),
        View::Logits => logits::selection_count(app),
        View::Loss => loss::selection_count(app),
        View::Cost => cost::selection_count(app),
        View::Training => training::selection_count(app),
        View::Quant => quant::selection_count(app),
    }
}

/// Bounds of a set of points, padded so nothing sits on the edge.
pub fn bounds(points: impl Iterator<Item = (f64, f64)>) -> ([f64; 2], [f64; 2]) {
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in points.filter(|p| p.0.is_finite() && p.1.is_finite()) {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return ([0.0, 1.0], [0.0, 1.0]);
    }
    let pad = |a: f64, b: f64| {
        let d = ((b - a) * 0.05).max(1e-9);
        [a - d, b + d]
    };
    (pad(x0, x1), pad(y0, y1))
}

/// The cell a point falls in, if inside the area.
pub fn plot_cell(area: Rect, b: ([f64; 2], [f64; 2]), (x, y): (f64, f64)) -> Option<(u16, u16)> {
    if area.width == 0 || area.height == 0 || !x.is_finite() || !y.is_finite() {
        return None;
    }
    let fx = (x - b.0[0]) / (b.0[1] - b.0[0]);
    let fy = (y - b.1[0]) / (b.1[1] - b.1[0]);
    if !(0.0..=1.0).contains(&fx) || !(0.0..=1.0).contains(&fy) {
        return None;
    }
    let cx = area.x + ((fx * (area.width - 1) as f64).round() as u16);
    let cy = area.bottom() - 1 - ((fy * (area.height - 1) as f64).round() as u16);
    Some((cx, cy))
}

/// Puts one character per point (a scatter plot without canvas glyphs, so
/// `--ascii` works).
pub fn scatter(
    area: Rect,
    buf: &mut Buffer,
    b: ([f64; 2], [f64; 2]),
    points: &[(f64, f64)],
    ch: char,
    style: Style,
) {
    for &p in points {
        if let Some(pos) = plot_cell(area, b, p)
            && let Some(cell) = buf.cell_mut(pos)
        {
            cell.set_char(ch).set_style(style);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_counts_columns_and_matches_format_for_ascii() {
        assert_eq!(pad_end("pos", 6), format!("{:<6}", "pos"));
        assert_eq!(pad_start("pos", 6), format!("{:>6}", "pos"));
        assert_eq!(pad_start("toolong", 3), "toolong");
        assert_eq!(pad_end("位置", 6), "位置  ");
        assert_eq!(pad_start("位置", 6), "  位置");
    }

    #[test]
    fn fit_keeps_columns_aligned_for_wide_and_long_text() {
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(width(&fit("日本語", 4)), 4);
        assert_eq!(width(&fit("日本語", 5)), 5);
        assert_eq!(fit("日本語", 5), "日本…");
        assert_eq!(width(&fit("x", 0)), 0);
    }
}
