//! The live training screen, drawn from [`Live`] alone (no I/O, no clock).
//!
//! ```text
//! header: step, loss, val, lr, tok/s, ETA, paused
//! ┌loss─────────────────────┐┌attention L0 H1 at step 300┐
//! │ curves + reference lines ││ probe × probe heatmap     │
//! └─────────────────────────┘└───────────────────────────┘
//! ┌heads over training──────┐┌every head now─────────────┐
//! └─────────────────────────┘└───────────────────────────┘
//! ┌probe → greedy continuation────────────────────────────┐
//! keys
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Widget, Wrap};

use super::{KEYS, Live};
use crate::i18n::Msg;
use crate::tui::heatmap::{Heatmap, Masked, Scale};
use crate::tui::views::training::{RefLine, Series, plot};
use crate::tui::views::{attn_matrix, draw_with_legend, fit, panel, width};

/// Draws the whole screen.
pub fn render(live: &Live, area: Rect, buf: &mut Buffer) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    let header = Rect { height: 1, ..area };
    let keys = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    let body = Rect {
        y: area.y + 1,
        height: area.height - 2,
        ..area
    };
    Paragraph::new(header_line(live, area.width as usize)).render(header, buf);
    Paragraph::new(key_line(live, area.width as usize)).render(keys, buf);

    // The probe's text takes what it needs (3–6 rows), the rest splits 2:1.
    let probe_h = (body.height / 5).clamp(3, 6);
    let rest = body.height.saturating_sub(probe_h);
    let top_h = rest * 3 / 5;
    let mid_h = rest - top_h;
    let row = |y: u16, h: u16| Rect {
        y,
        height: h,
        ..body
    };
    let (top, mid, bottom) = (
        row(body.y, top_h),
        row(body.y + top_h, mid_h),
        row(body.y + top_h + mid_h, probe_h),
    );
    let (tl, tr) = split(top, 55);
    let (ml, mr) = split(mid, 55);
    loss_panel(live, tl, buf);
    attention_panel(live, tr, buf);
    head_curves_panel(live, ml, buf);
    head_table_panel(live, mr, buf);
    probe_panel(live, bottom, buf);
    if live.help {
        help_overlay(body, buf, live);
    }
}

fn split(r: Rect, left_percent: u16) -> (Rect, Rect) {
    let lw = r.width * left_percent / 100;
    (
        Rect { width: lw, ..r },
        Rect {
            x: r.x + lw,
            width: r.width - lw,
            ..r
        },
    )
}

fn bold() -> Style {
    Style::default().add_modifier(Modifier::BOLD)
}

/// Seconds as `1h02m`, `3m05s` or `42s`.
fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn header_line(live: &Live, w: usize) -> Line<'static> {
    // In order of what matters; each part goes in only while it fits.
    let lang = live.theme.lang;
    let mut parts: Vec<String> = vec![];
    if live.paused {
        parts.push(Msg::LivePaused.get(lang).into());
    }
    match &live.last {
        Some(p) => {
            parts.push(
                Msg::LiveStep.fill(lang, &[&p.step, &p.steps, &(p.step * 100 / p.steps.max(1))]),
            );
            parts.push(Msg::LiveLoss.fill(lang, &[&format!("{:.3}", p.loss)]));
            if let Some(v) = live.valid.last() {
                parts.push(Msg::LiveVal.fill(lang, &[&format!("{:.3}", v.loss)]));
            }
            let eta = p.elapsed_secs / p.step.max(1) as f64 * (p.steps - p.step) as f64;
            parts.push(Msg::LiveEta.fill(lang, &[&duration(eta)]));
            let speed = format!("{:.0}", p.tokens_per_sec);
            parts.push(Msg::LiveTokensPerSec.fill(lang, &[&speed]));
            parts.push(Msg::LiveLr.fill(lang, &[&format!("{:.2e}", p.lr)]));
        }
        None if live.start.is_some() => parts.push(Msg::LiveStarting.get(lang).into()),
        None => parts.push(
            live.notes
                .last()
                .cloned()
                .unwrap_or_else(|| Msg::LivePreparing.get(lang).into()),
        ),
    }
    let mut line = String::new();
    for part in parts {
        let sep = if line.is_empty() { "" } else { "  " };
        if width(&line) + width(sep) + width(&part) <= w {
            line.push_str(sep);
            line.push_str(&part);
        }
    }
    let title = "gptlens train --live  ";
    if width(title) + width(&line) <= w {
        line.insert_str(0, title);
    }
    Line::from(Span::styled(fit(&line, w), bold()))
}

/// The key line: status first, then keys from the table; `? help` and
/// `q quit` are always there.
fn key_line(live: &Live, w: usize) -> Line<'static> {
    let lang = live.theme.lang;
    let must = format!(
        "? {}  q {}",
        Msg::HintHelp.get(lang),
        Msg::HintQuit.get(lang)
    );
    let must = must.as_str();
    let mut s = String::new();
    if let Some(st) = &live.status {
        s.push_str(st);
        s.push_str("  │ ");
    }
    for (_, label, a, help) in KEYS {
        if matches!(a, super::Action::Help | super::Action::Quit) {
            continue;
        }
        let help = help.get(lang);
        // The help without its parenthesis, in either language.
        let short = help.split(" (").next().unwrap_or(help);
        let short = short.split('（').next().unwrap_or(short);
        let item = format!("{label} {short}  ");
        if width(&s) + width(&item) + width(must) <= w {
            s.push_str(&item);
        }
    }
    s.push_str(must);
    Line::from(fit(&s, w))
}

fn loss_panel(live: &Live, area: Rect, buf: &mut Buffer) {
    let lang = live.theme.lang;
    let inner = panel(&live.theme, Msg::LiveLossTitle.get(lang), area, buf, false);
    let series = vec![
        Series {
            name: Msg::LiveTrain.get(lang).into(),
            points: live.train.iter().map(|p| (p.step as f64, p.loss)).collect(),
            line: true,
            color: Color::Cyan,
            faint: false,
        },
        Series {
            name: Msg::LiveValidation.get(lang).into(),
            points: live.valid.iter().map(|p| (p.step as f64, p.loss)).collect(),
            line: false,
            color: Color::Yellow,
            faint: false,
        },
    ];
    let mut refs = vec![];
    if let Some(s) = &live.start {
        refs.push(RefLine {
            y: (s.vocab.max(1) as f64).ln(),
            label: Msg::LiveUniform.fill(lang, &[&s.vocab]),
        });
        if let Some((u, b)) = s.baselines {
            refs.push(RefLine {
                y: u,
                label: Msg::LiveUnigram.get(lang).into(),
            });
            refs.push(RefLine {
                y: b,
                label: Msg::LiveBigram.get(lang).into(),
            });
        }
    }
    if live.train.is_empty() {
        Paragraph::new(Msg::LiveNoCurve.get(lang)).render(inner, buf);
        return;
    }
    plot(
        &live.theme,
        inner,
        buf,
        &series,
        &refs,
        Msg::LiveNats.get(lang),
    );
}

fn attention_panel(live: &Live, area: Rect, buf: &mut Buffer) {
    let (l, h) = live.selected();
    let lang = live.theme.lang;
    let Some(p) = &live.probe else {
        let inner = panel(
            &live.theme,
            &Msg::LiveAttention.fill(lang, &[&l, &h]),
            area,
            buf,
            false,
        );
        Paragraph::new(Msg::LiveNoSnapshot.get(lang))
            .wrap(Wrap { trim: true })
            .render(inner, buf);
        return;
    };
    let (prev, ind) = (p.scores.previous_token[l][h], p.scores.induction[l][h]);
    let title = Msg::LiveAttentionAt.fill(lang, &[&l, &h, &p.step, &format!("{prev:.2}")]);
    let title = if width(&title) + 12 < area.width as usize {
        title + &Msg::LiveInd.fill(lang, &[&format!("{ind:.2}")])
    } else {
        title
    };
    let inner = panel(&live.theme, &title, area, buf, false);
    let rows = &p.probs[l][h];
    let n = rows.len();
    let data = attn_matrix(rows, n);
    let labels: Vec<String> = live
        .start
        .as_ref()
        .map(|s| s.probe.clone())
        .unwrap_or_default();
    let label_w = (inner.width / 4).min(10);
    let map_area = Rect {
        x: inner.x + label_w,
        width: inner.width.saturating_sub(label_w),
        ..inner
    };
    let hm = Heatmap::new(
        &data,
        n,
        n,
        Scale::Magnitude { lo: 0.0, hi: 1.0 },
        &live.theme,
    )
    .cell_w(3)
    .masked(Masked::Masked);
    let g = draw_with_legend(hm, map_area, buf);
    if label_w >= 3 && g.one_row_per_line() {
        for (q, label) in labels.iter().enumerate().take(n) {
            let y = g.y_of_row(q);
            if y >= inner.bottom() {
                break;
            }
            let text = fit(
                &format!("{label:>w$}", w = label_w as usize - 1),
                label_w as usize - 1,
            );
            buf.set_string(inner.x, y, text, Style::default());
        }
    }
}

fn head_curves_panel(live: &Live, area: Rect, buf: &mut Buffer) {
    let (l, h) = live.selected();
    let lang = live.theme.lang;
    let inner = panel(
        &live.theme,
        &Msg::LiveHeadCurves.fill(lang, &[&l, &h]),
        area,
        buf,
        false,
    );
    let pick = |ind: bool| -> Vec<(f64, f64)> {
        live.heads
            .iter()
            .filter(|r| r.layer == l && r.head == h)
            .map(|r| {
                (
                    r.step as f64,
                    if ind { r.induction } else { r.previous_token },
                )
            })
            .collect()
    };
    if live.heads.is_empty() {
        Paragraph::new(Msg::LiveNoScores.get(lang)).render(inner, buf);
        return;
    }
    let series = vec![
        Series {
            name: Msg::LivePrevToken.get(lang).into(),
            points: pick(false),
            line: true,
            color: Color::Magenta,
            faint: false,
        },
        Series {
            name: Msg::LiveInduction.get(lang).into(),
            points: pick(true),
            line: true,
            color: Color::Green,
            faint: false,
        },
    ];
    let refs = vec![
        RefLine {
            y: 0.0,
            label: String::new(),
        },
        RefLine {
            y: 1.0,
            label: String::new(),
        },
    ];
    plot(
        &live.theme,
        inner,
        buf,
        &series,
        &refs,
        Msg::LiveScore.get(lang),
    );
}

/// A score in four columns: ".05", ".85", "1.00".
fn score(x: f32) -> String {
    let t = format!("{x:.2}");
    t.strip_prefix('0').map(str::to_string).unwrap_or(t)
}

fn head_table_panel(live: &Live, area: Rect, buf: &mut Buffer) {
    let inner = panel(
        &live.theme,
        Msg::LiveEveryHead.get(live.theme.lang),
        area,
        buf,
        false,
    );
    let Some(p) = &live.probe else {
        return;
    };
    let (sl, sh) = live.selected();
    let lang = live.theme.lang;
    let names = [Msg::LiveRowPrev.get(lang), Msg::LiveRowInd.get(lang)];
    let mut lines = vec![];
    for (l, (prev, ind)) in p
        .scores
        .previous_token
        .iter()
        .zip(&p.scores.induction)
        .enumerate()
    {
        for (i, (name, row)) in names.into_iter().zip([prev, ind]).enumerate() {
            let label = if i == 0 {
                format!("L{l} ")
            } else {
                " ".repeat(l.to_string().len() + 2)
            };
            let mut spans = vec![Span::raw(format!("{label}{}", fit(name, 5)))];
            for (h, &x) in row.iter().enumerate() {
                let style = if (l, h) == (sl, sh) {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else if x >= 0.4 {
                    bold()
                } else {
                    Style::default()
                };
                spans.push(Span::styled(format!("{:>4}", score(x)), style));
                spans.push(Span::raw(" "));
            }
            lines.push(Line::from(spans));
        }
    }
    Paragraph::new(lines).render(inner, buf);
}

fn probe_panel(live: &Live, area: Rect, buf: &mut Buffer) {
    let lang = live.theme.lang;
    let title = match &live.probe {
        Some(p) => Msg::LiveProbeAt.fill(lang, &[&p.step]),
        None => Msg::LiveProbe.get(lang).into(),
    };
    let inner = panel(&live.theme, &title, area, buf, false);
    let probe: String = live
        .start
        .as_ref()
        .map(|s| s.probe.concat().replace('·', " "))
        .unwrap_or_default();
    let cont = live
        .probe
        .as_ref()
        .map(|p| p.continuation.clone())
        .unwrap_or_default();
    let line = Line::from(vec![
        Span::raw(probe.trim_start().to_string()),
        Span::styled(cont, bold().fg(Color::Cyan)),
    ]);
    Paragraph::new(line)
        .wrap(Wrap { trim: false })
        .render(inner, buf);
}

fn help_overlay(body: Rect, buf: &mut Buffer, live: &Live) {
    let widest = KEYS
        .iter()
        .map(|(_, label, _, help)| width(label).max(6) + 2 + width(help.get(live.theme.lang)))
        .max()
        .unwrap_or(0);
    let h = (KEYS.len() as u16 + 2).min(body.height);
    let w = (widest as u16 + 2).min(body.width);
    let area = Rect {
        x: body.x + (body.width - w) / 2,
        y: body.y + (body.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(area, buf);
    let lang = live.theme.lang;
    let inner = panel(&live.theme, Msg::HelpSectionKeys.get(lang), area, buf, true);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(_, label, _, help)| Line::from(format!("{label:>6}  {}", help.get(lang))))
        .collect();
    Paragraph::new(lines).render(inner, buf);
}
