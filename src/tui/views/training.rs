//! Training: the record of the run that made the shown model, read once from
//! its folder (`train-log.tsv`, `train-summary.json`). A chart of the training
//! loss at every logged step and the validation loss at its points, against
//! reference lines for a uniform guess (ln V) and the count baselines; beside
//! it the run's numbers and its learning-rate schedule. A record with the
//! heads' scores (`train-heads.tsv`) adds every head's previous-token curve
//! under the loss, the selected head's bright; zoomed, those curves alone.
//!
//! The chart is drawn here rather than with ratatui's `Chart` because its axes
//! and markers are box and dot glyphs, and `--ascii` must have none.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;
use ratatui::widgets::canvas::{Canvas, Line as CanvasLine, Points};

use super::{fit, panel, plot_cell, text, width, wrapped};
use crate::fmt::human_duration_in;
use crate::fmt::{count, num};
use crate::i18n::{Lang, Msg};
use crate::train::record::{FORMED, LOG_FILE, TrainRecord};
use crate::tui::app::App;
use crate::tui::heatmap::{ColorMode, Theme};

/// One curve or set of points on a chart.
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    /// Joined by a line (else single points).
    pub line: bool,
    pub color: Color,
    /// One of many drawn behind the others (the other heads): `.` under
    /// `--ascii`, and named once in the legend however many there are.
    pub faint: bool,
}

/// A horizontal reference line with its label.
pub struct RefLine {
    pub y: f64,
    pub label: String,
}

/// Glyphs for points and reference lines, by theme.
struct Glyphs {
    line: char,
    point: char,
    reference: char,
    v_axis: char,
    h_axis: char,
    corner: char,
}

fn glyphs(theme: &Theme) -> Glyphs {
    if theme.ascii {
        Glyphs {
            line: '*',
            point: 'o',
            reference: '-',
            v_axis: '|',
            h_axis: '-',
            corner: '+',
        }
    } else {
        Glyphs {
            line: '⣿',
            point: '◆',
            reference: '┄',
            v_axis: '│',
            h_axis: '─',
            corner: '└',
        }
    }
}

/// A foreground colour, or plain text without colour.
fn fg(theme: &Theme, c: Color) -> Style {
    if theme.mode == ColorMode::None {
        Style::default()
    } else {
        Style::default().fg(c)
    }
}

const TRAIN_COLOR: Color = Color::Cyan;
const VAL_COLOR: Color = Color::LightMagenta;
const LR_COLOR: Color = Color::Green;

/// Nothing to select inside.
pub fn selection_count(_app: &App) -> usize {
    1
}

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let lang = app.theme().lang;
    let rec = match app.train_record() {
        Ok(Some(r)) => r,
        Ok(None) => return no_record(app, area, buf),
        Err(e) => {
            let inner = panel(
                app.theme(),
                Msg::TitleTrainingRecord.get(app.theme().lang),
                area,
                buf,
                true,
            );
            let lines = vec![
                Line::styled(Msg::ViewTrainUnreadable.get(lang), app.theme().alarm()),
                Line::raw(e.clone()),
                Line::raw(""),
                Line::raw(Msg::TrainFixIt.get(lang)),
            ];
            return wrapped(lines, inner, buf);
        }
    };
    // Zoomed, a record with the heads' scores shows the selected head's
    // curves against the others' on the whole area.
    if app.zoom() && !rec.heads.is_empty() {
        return heads_panel(app, rec, area, buf);
    }
    let side_w = if app.zoom() {
        0
    } else {
        (area.width * 3 / 10).clamp(30, 48)
    };
    let [main, side] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(side_w)]).areas(area);
    // With the heads' record, their curves under the loss when both fit.
    let main = if rec.heads.is_empty() || main.height < 16 {
        main
    } else {
        let top = main.height * 11 / 20;
        heads_panel(
            app,
            rec,
            Rect {
                y: main.y + top,
                height: main.height - top,
                ..main
            },
            buf,
        );
        Rect {
            height: top,
            ..main
        }
    };
    let inner = panel(
        app.theme(),
        Msg::TitleTrainingCurve.get(app.theme().lang),
        main,
        buf,
        true,
    );
    let vocab = app.gpt().config.vocab_size as f64;
    let series = vec![
        Series {
            name: Msg::TrainTrainLoss.get(lang).into(),
            points: as_f64(&rec.losses()),
            line: true,
            color: TRAIN_COLOR,
            faint: false,
        },
        Series {
            name: Msg::TrainValLoss.get(lang).into(),
            points: as_f64(&rec.val_losses()),
            line: false,
            color: VAL_COLOR,
            faint: false,
        },
    ];
    if series.iter().all(|s| s.points.is_empty()) {
        wrapped(
            vec![Line::raw(
                Msg::TrainNoLosses.fill(lang, &[&LOG_FILE, &rec.dir.display()]),
            )],
            inner,
            buf,
        );
    } else {
        plot(
            app.theme(),
            inner,
            buf,
            &series,
            &references(rec, vocab, lang),
            Msg::TrainNats.get(lang),
        );
    }
    if side_w > 0 {
        let inner = panel(
            app.theme(),
            Msg::TitleTheRun.get(app.theme().lang),
            side,
            buf,
            false,
        );
        let lines = numbers(app, rec, inner.width as usize, inner.height as usize);
        let used = lines.len() as u16;
        text(lines, inner, buf);
        let lrs = as_f64(&rec.lrs());
        let rest = Rect {
            y: inner.y + used + 1,
            height: inner.height.saturating_sub(used + 1),
            ..inner
        };
        if rest.height >= 7 && lrs.len() > 1 {
            text(
                vec![Line::styled(
                    fit(Msg::TrainLrAgainstStep.get(lang), rest.width as usize),
                    app.theme().dim(),
                )],
                rest,
                buf,
            );
            let chart = Rect {
                y: rest.y + 1,
                height: rest.height - 1,
                ..rest
            };
            let lr = Series {
                name: "lr".into(),
                points: lrs,
                line: true,
                color: LR_COLOR,
                faint: false,
            };
            plot(app.theme(), chart, buf, &[lr], &[], "");
        }
    }
}

fn as_f64(points: &[(u64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(s, v)| (s as f64, v))
        .filter(|p| p.1.is_finite())
        .collect()
}

/// Every head's previous-token score over the run, the selected head's
/// bright (with its induction score) and the others faint, against the
/// score at which the record counts a head as formed.
fn heads_panel(app: &App, rec: &TrainRecord, area: Rect, buf: &mut Buffer) {
    let (sl, sh) = (app.layer(), app.head());
    let lang = app.theme().lang;
    let title = Msg::TrainHeadsTitle.fill(lang, &[&sl, &sh]);
    let inner = panel(app.theme(), &title, area, buf, false);
    let mut heads: Vec<(usize, usize)> = rec.heads.iter().map(|r| (r.layer, r.head)).collect();
    heads.sort_unstable();
    heads.dedup();
    // The legend names the selected head first; faint curves are drawn first.
    let mut series: Vec<Series> = vec![];
    if heads.contains(&(sl, sh)) {
        series.push(Series {
            name: Msg::TrainHeadPrev.fill(lang, &[&sl, &sh]),
            points: as_f64(&rec.head_curve(sl, sh, false)),
            line: true,
            color: Color::LightMagenta,
            faint: false,
        });
        series.push(Series {
            name: Msg::TrainHeadInduction.fill(lang, &[&sl, &sh]),
            points: as_f64(&rec.head_curve(sl, sh, true)),
            line: true,
            color: Color::Green,
            faint: false,
        });
    }
    series.extend(
        heads
            .iter()
            .filter(|&&lh| lh != (sl, sh))
            .map(|&(l, h)| Series {
                name: Msg::TrainOtherHeads.get(lang).into(),
                points: as_f64(&rec.head_curve(l, h, false)),
                line: true,
                color: Color::DarkGray,
                faint: true,
            }),
    );
    let refs = [RefLine {
        y: FORMED,
        label: Msg::TrainFormedLine.fill(lang, &[&FORMED]),
    }];
    plot(
        app.theme(),
        inner,
        buf,
        &series,
        &refs,
        Msg::TrainScore.get(lang),
    );
}

/// Uniform guess, unigram and bigram, when known.
fn references(rec: &TrainRecord, vocab: f64, lang: Lang) -> Vec<RefLine> {
    let mut v = vec![RefLine {
        y: vocab.ln(),
        label: format!("{} {}", Msg::TrainUniform.get(lang), num(vocab.ln())),
    }];
    if let Some(b) = rec.baselines() {
        if let Some(u) = b.unigram {
            v.push(RefLine {
                y: u,
                label: format!("{} {}", Msg::TrainUnigram.get(lang), num(u)),
            });
        }
        if let Some(u) = b.bigram {
            v.push(RefLine {
                y: u,
                label: format!("{} {}", Msg::TrainBigram.get(lang), num(u)),
            });
        }
    }
    v
}

/// The panel a model folder without a record shows.
fn no_record(app: &App, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        app.theme(),
        Msg::TitleTrainingRecord.get(app.theme().lang),
        area,
        buf,
        true,
    );
    let lang = app.theme().lang;
    let first = match &app.model_dir() {
        Some(d) => Msg::TrainNoRecordIn.fill(lang, &[&d.display(), &LOG_FILE]),
        None => Msg::TrainNoRecordNoDir.fill(lang, &[&LOG_FILE]),
    };
    let lines = vec![
        Line::styled(first, app.theme().accent()),
        Line::raw(""),
        Line::raw(Msg::TrainHowToTrain.get(lang)),
        Line::raw(Msg::TrainLossViewAnyway.get(lang)),
    ];
    wrapped(lines, inner, buf);
}

/// The run's numbers, one `label value` line each; blank separators are
/// dropped when the panel is short.
fn numbers(app: &App, rec: &TrainRecord, w: usize, h: usize) -> Vec<Line<'static>> {
    let lang = app.theme().lang;
    let s = rec.summary.clone().unwrap_or_default();
    let hyper = s.hyper.clone().unwrap_or_default();
    // An empty label is a blank separator.
    let mut rows: Vec<(String, String)> = vec![];
    let mut row = |k: Msg, v: String| rows.push((k.get(lang).to_string(), v));
    let last_step = s.step.or(rec.rows.last().map(|r| r.step));
    if let Some(st) = last_step {
        let mut v = count(st as f64);
        if let Some(total) = hyper.steps.filter(|&t| t != st) {
            v.push_str(&Msg::TrainOf.fill(lang, &[&count(total as f64)]));
        }
        if s.interrupted == Some(true) {
            v.push_str(Msg::TrainStopped.get(lang));
        }
        row(Msg::TrainSteps, v);
    }
    if let Some(t) = s.tokens_seen {
        row(Msg::TrainTokensSeen, count(t as f64));
        match s.train_tokens.filter(|&n| n > 0) {
            Some(n) => row(
                Msg::TrainEpochs,
                Msg::TrainEpochsOf.fill(
                    lang,
                    &[&format!("{:.2}", t as f64 / n as f64), &count(n as f64)],
                ),
            ),
            None => row(Msg::TrainEpochs, Msg::TrainNoTextSize.get(lang).into()),
        }
    }
    if let Some(secs) = s.elapsed_secs {
        row(Msg::TrainWallTime, human_duration_in(secs, lang));
        if let Some(t) = s.tokens_seen.filter(|_| secs > 0.0) {
            row(Msg::TrainTokensPerSec, count(t as f64 / secs));
        }
    }
    if let Some(n) = s.n_params {
        row(Msg::TrainParameters, count(n as f64));
    }
    let blank = |rows: &mut Vec<(String, String)>| rows.push((String::new(), String::new()));
    blank(&mut rows);
    let mut row = |k: Msg, v: String| rows.push((k.get(lang).to_string(), v));
    if let Some(l) = rec.final_train() {
        row(Msg::TrainTrainLoss, num(l));
    }
    match rec.final_val() {
        Some(v) => {
            row(Msg::TrainValLoss, num(v));
            row(
                Msg::TrainPerplexity,
                Msg::TrainExpVal.fill(lang, &[&num(v.exp())]),
            );
        }
        None => row(Msg::TrainValLoss, Msg::TrainNotRecorded.get(lang).into()),
    }
    if let Some(b) = s.val_bits_per_byte {
        row(Msg::TrainValBits, num(b));
    }
    if !rec.heads.is_empty() {
        blank(&mut rows);
        for (label, induction) in [(Msg::TrainPrevTokHead, false), (Msg::TrainInduction, true)] {
            match rec.first_formed(induction) {
                Some((l, h, at, _)) => {
                    rows.push((label.get(lang).into(), format!("L{l} H{h}")));
                    rows.push((
                        Msg::TrainFormedAt.get(lang).into(),
                        Msg::TrainStep.fill(lang, &[&count(at as f64)]),
                    ));
                }
                None => rows.push((
                    label.get(lang).into(),
                    Msg::TrainNone.fill(lang, &[&FORMED]),
                )),
            }
        }
    }
    blank(&mut rows);
    let mut row = |k: Msg, v: String| rows.push((k.get(lang).to_string(), v));
    let vocab = app.gpt().config.vocab_size as f64;
    row(Msg::TrainUniform, num(vocab.ln()));
    if let Some(b) = rec.baselines() {
        if let Some(u) = b.unigram {
            row(Msg::TrainUnigram, num(u));
        }
        if let Some(u) = b.bigram {
            let lambda = b
                .bigram_lambda
                .map(|l| format!(" (λ {l})"))
                .unwrap_or_default();
            row(Msg::TrainBigram, format!("{}{lambda}", num(u)));
        }
    }
    blank(&mut rows);
    let mut row = |k: Msg, v: String| rows.push((k.get(lang).to_string(), v));
    // Learning rates print as written (0.003, not 0.003000).
    if let Some(w) = hyper.warmup {
        row(
            Msg::TrainWarmup,
            Msg::TrainNSteps.fill(lang, &[&count(w as f64)]),
        );
    }
    if let Some(lr) = hyper.lr {
        row(Msg::TrainLrPeak, format!("{lr}"));
    }
    if let Some(m) = hyper.min_lr {
        row(Msg::TrainLrCosine, format!("{m}"));
    }
    if let (Some(b), Some(t)) = (hyper.batch, hyper.n_ctx) {
        row(Msg::TrainBatch, Msg::TrainBatchOf.fill(lang, &[&b, &t]));
    }
    if let Some(wd) = hyper.weight_decay {
        row(Msg::TrainWeightDecay, format!("{wd}"));
    }
    if rows.len() > h {
        rows.retain(|r| !r.0.is_empty());
    }
    while rows.last().is_some_and(|r| r.0.is_empty()) {
        rows.pop();
    }
    let kw = 15.min(w / 2);
    rows.into_iter()
        .map(|(k, v)| {
            Line::from(vec![
                Span::styled(fit(&k, kw), app.theme().dim()),
                Span::raw(fit(&v, w.saturating_sub(kw))),
            ])
        })
        .collect()
}

/// A y-axis label: one decimal for losses, scientific for small values.
fn tick(v: f64) -> String {
    if v != 0.0 && v.abs() < 0.05 {
        format!("{v:.0e}")
    } else {
        format!("{v:.1}")
    }
}

/// Draws a line chart: a legend line, y labels and axis, the series (Braille
/// lines, or one character per cell under `--ascii`), the reference lines
/// with their labels, and step labels under the x axis.
pub fn plot(
    theme: &Theme,
    area: Rect,
    buf: &mut Buffer,
    series: &[Series],
    refs: &[RefLine],
    y_title: &str,
) {
    let g = glyphs(theme);
    let legend = if y_title.is_empty() { 0 } else { 1 };
    if area.height < 4 + legend || area.width < 16 {
        return;
    }
    let all = series.iter().flat_map(|s| s.points.iter().copied());
    let (mut x0, mut x1) = (f64::MAX, f64::MIN);
    let (mut y0, mut y1) = (f64::MAX, f64::MIN);
    for (x, y) in all.chain(refs.iter().map(|r| (f64::NAN, r.y))) {
        if x.is_finite() {
            x0 = x0.min(x);
            x1 = x1.max(x);
        }
        if y.is_finite() {
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if x0 > x1 || y0 > y1 {
        return;
    }
    if x1 - x0 < 1e-12 {
        x1 = x0 + 1.0;
    }
    let pad = ((y1 - y0) * 0.05).max(y1.abs() * 1e-3).max(1e-12);
    // Padding never takes a positive quantity (a learning rate) below zero.
    let y0 = if y0 >= 0.0 {
        (y0 - pad).max(0.0)
    } else {
        y0 - pad
    };
    let y1 = y1 + pad;
    let b = ([x0, x1], [y0, y1]);
    let labels = [tick(y1), tick((y0 + y1) / 2.0), tick(y0)];
    let lw = labels.iter().map(|l| width(l)).max().unwrap_or(1) as u16;
    if lw + 8 > area.width {
        return;
    }
    let plot = Rect {
        x: area.x + lw + 1,
        y: area.y + legend,
        width: area.width - lw - 1,
        height: area.height - legend - 2,
    };
    let dim = theme.dim();
    // Legend.
    if legend == 1 {
        let colon = if theme.lang == Lang::Zh { "：" } else { ": " };
        let mut spans = vec![Span::styled(format!("{y_title}{colon}"), dim)];
        let mut named: Vec<&str> = vec![];
        for s in series {
            if s.faint {
                if named.contains(&s.name.as_str()) {
                    continue;
                }
                named.push(&s.name);
            }
            let mark = if s.line {
                let ch = match (theme.ascii, s.faint) {
                    (true, true) => '.',
                    (true, false) => '*',
                    (false, _) => '─',
                };
                format!("{ch}{ch} ")
            } else {
                format!("{} ", g.point)
            };
            spans.push(Span::styled(mark, fg(theme, s.color)));
            spans.push(Span::raw(format!("{}  ", s.name)));
        }
        if !refs.is_empty() {
            spans.push(Span::styled(format!("{0}{0} ", g.reference), dim));
            // One line is named by its own label; several are the baselines.
            let word = match refs {
                [one] if !one.label.is_empty() => one.label.as_str(),
                _ => Msg::TrainBaselines.get(theme.lang),
            };
            spans.push(Span::raw(word.to_string()));
        }
        text(vec![Line::from(spans)], Rect { height: 1, ..area }, buf);
    }
    // Axes and labels.
    for (i, l) in labels.iter().enumerate() {
        let y = match i {
            0 => plot.y,
            1 => plot.y + (plot.height - 1) / 2,
            _ => plot.bottom() - 1,
        };
        buf.set_string(area.x, y, format!("{l:>w$}", w = lw as usize), dim);
    }
    let axis_x = plot.x - 1;
    for y in plot.y..plot.bottom() {
        buf.set_string(axis_x, y, g.v_axis.to_string(), dim);
    }
    let axis_y = plot.bottom();
    buf.set_string(axis_x, axis_y, g.corner.to_string(), dim);
    buf.set_string(
        plot.x,
        axis_y,
        std::iter::repeat_n(g.h_axis, plot.width as usize).collect::<String>(),
        dim,
    );
    let (left, mid, right) = (count(x0), count((x0 + x1) / 2.0), count(x1));
    let pw = plot.width as usize;
    let mut under = fit(&left, pw);
    let mid_text = Msg::TrainStep.fill(theme.lang, &[&mid]);
    let mid_at = (pw / 2).saturating_sub(width(&mid_text) / 2);
    if mid_at > width(&left) + 1 && mid_at + width(&mid_text) + width(&right) + 2 <= pw {
        under = format!("{}{mid_text}", fit(&left, mid_at));
    }
    under = format!("{}{right}", fit(&under, pw.saturating_sub(width(&right))));
    buf.set_string(plot.x, axis_y + 1, under, dim);
    // Reference lines (under the curves), labels drawn last.
    let mut ref_rows: Vec<(u16, String)> = vec![];
    for r in refs {
        let Some((_, y)) = plot_cell(plot, b, (x0, r.y)) else {
            continue;
        };
        let line: String = std::iter::repeat_n(g.reference, pw).collect();
        buf.set_string(plot.x, y, line, dim);
        match ref_rows.iter_mut().find(|(ry, _)| *ry == y) {
            Some((_, l)) => l.push_str(&format!(" · {}", r.label)),
            None => ref_rows.push((y, r.label.clone())),
        }
    }
    // Curves (faint ones underneath, the others in order) and points.
    let lines = series.iter().filter(|s| s.line);
    for s in lines
        .clone()
        .filter(|s| s.faint)
        .chain(lines.filter(|s| !s.faint))
    {
        let style = fg(theme, s.color);
        if theme.ascii {
            let ch = if s.faint { '.' } else { g.line };
            ascii_line(plot, buf, b, &s.points, ch, style);
        } else {
            let color = style.fg.unwrap_or(Color::Reset);
            let pts = &s.points;
            Canvas::default()
                .marker(Marker::Braille)
                .x_bounds(b.0)
                .y_bounds(b.1)
                .paint(|ctx| {
                    for w in pts.windows(2) {
                        ctx.draw(&CanvasLine {
                            x1: w[0].0,
                            y1: w[0].1,
                            x2: w[1].0,
                            y2: w[1].1,
                            color,
                        });
                    }
                    ctx.draw(&Points { coords: pts, color });
                })
                .render(plot, buf);
        }
    }
    for s in series.iter().filter(|s| !s.line) {
        super::scatter(plot, buf, b, &s.points, g.point, fg(theme, s.color));
    }
    for (y, label) in ref_rows {
        let l = format!(" {label} ");
        let lw = width(&l).min(pw) as u16;
        buf.set_string(plot.right() - lw, y, fit(&l, lw as usize), dim);
    }
}

/// Joins consecutive points with one character per cell (no gaps on steep
/// stretches), for terminals without Braille.
fn ascii_line(
    area: Rect,
    buf: &mut Buffer,
    b: ([f64; 2], [f64; 2]),
    points: &[(f64, f64)],
    ch: char,
    style: Style,
) {
    let cells: Vec<(u16, u16)> = points
        .iter()
        .filter_map(|&p| plot_cell(area, b, p))
        .collect();
    let mut put = |x: i32, y: i32| {
        if let Some(c) = buf.cell_mut((x as u16, y as u16)) {
            c.set_char(ch).set_style(style);
        }
    };
    if let [only] = cells.as_slice() {
        put(only.0 as i32, only.1 as i32);
    }
    for w in cells.windows(2) {
        let (ax, ay, bx, by) = (w[0].0 as i32, w[0].1 as i32, w[1].0 as i32, w[1].1 as i32);
        let n = (bx - ax).abs().max((by - ay).abs()).max(1);
        for i in 0..=n {
            put(ax + (bx - ax) * i / n, ay + (by - ay) * i / n);
        }
    }
}
