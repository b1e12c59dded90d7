//! The frame: header with the stage and a progress bar through the pass, the
//! token strip, the current view, the hint bar, and the help overlay. A pure
//! function of the state; returns the mouse targets it drew.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::app::{App, Hit};
use super::keymap::{EXPLORER, EXPLORER_HINTS};
use super::views::{self, Hits, fit, panel, text};
use crate::pass::View;

/// The smallest terminal the explorer draws in.
pub const MIN_W: u16 = 60;
pub const MIN_H: u16 = 18;

/// Draws the whole screen into `buf`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) -> Hits {
    let mut hits = Hits::new();
    if area.width < MIN_W || area.height < MIN_H {
        too_small(area, buf);
        return hits;
    }
    let banner = if app.iv().is_active() { 1 } else { 0 };
    let [head, ban, strip, main, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(area);
    header(app, head, buf);
    if banner > 0 {
        text(
            vec![Line::styled(
                fit(&intervention_text(app), ban.width as usize),
                app.theme().alarm(),
            )],
            ban,
            buf,
        );
    }
    views::tokens::strip(app, strip, buf, &mut hits);
    match (app.shown_trace(), app.busy()) {
        (Some(tr), None) if !tr.is_empty() => views::render(app, tr, main, buf, &mut hits),
        _ => {
            let inner = panel(app.theme(), "working", main, buf, true);
            let what = app.busy().unwrap_or("computing");
            text(
                vec![Line::raw(format!(
                    "{what}… keys you press now are kept and applied when it is done."
                ))],
                inner,
                buf,
            );
        }
    }
    hint_bar(app, hint, buf, &mut hits);
    if app.help() {
        help(app, area, buf);
    }
    hits
}

/// The "terminal too small" screen: what size is needed and what it is now.
fn too_small(area: Rect, buf: &mut Buffer) {
    let msg = [
        format!("terminal too small: need {MIN_W}×{MIN_H}"),
        format!("now {}×{}", area.width, area.height),
        "enlarge the window; q quits".to_string(),
    ];
    let lines: Vec<Line> = msg
        .iter()
        .map(|m| Line::raw(fit(m, area.width as usize)))
        .collect();
    text(lines, area, buf);
}

fn intervention_text(app: &App) -> String {
    let mut parts = vec![];
    for (l, h) in &app.iv().ablate {
        parts.push(format!("head L{l}H{h} ablated"));
    }
    if app.iv().no_scale {
        parts.push("no ÷√dₖ".into());
    }
    if app.iv().no_causal_mask {
        parts.push("no causal mask".into());
    }
    if app.iv().skip_layernorm {
        parts.push("LayerNorm skipped".into());
    }
    let pending = if app.alt().is_none() {
        " (recomputing…)"
    } else {
        ""
    };
    format!(
        " INTERVENTION: {}{pending} · numbers below are changed; c clears ",
        parts.join(", ")
    )
}

fn header(app: &App, area: Rect, buf: &mut Buffer) {
    let st = app.current();
    let total = app.pass().len();
    let n = app.tokens().len();
    let layer = if st.stage.in_layer() {
        format!("layer {}/{} · ", st.layer, app.n_layer())
    } else {
        String::new()
    };
    let left = format!(
        " {}/{} {}{} · head {} · {} tokens ",
        app.at() + 1,
        total,
        layer,
        st.stage.name(),
        app.head(),
        n
    );
    let bar_w = 12usize;
    let done = ((app.at() + 1) * bar_w).div_ceil(total).min(bar_w);
    let (full, empty) = if app.theme().ascii {
        ('#', '-')
    } else {
        ('█', '░')
    };
    let bar: String = std::iter::repeat_n(full, done)
        .chain(std::iter::repeat_n(empty, bar_w - done))
        .collect();
    // Loss, cost and training are about the whole step (or run), not one stage.
    let title = match app.view() {
        View::Loss => "loss: −ln P(actual next token) at every position, and perplexity",
        View::Cost => "cost: FLOPs, bytes and parameters of the step, from the ledger",
        View::Training => "training: the loss curve of this model's run",
        _ => st.stage.title(),
    };
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let used = views::width(&left) + bar_w + 2;
    let line = Line::from(vec![
        Span::styled(format!("[{bar}]"), app.theme().accent()),
        Span::styled(left, bold),
        Span::raw(fit(title, (area.width as usize).saturating_sub(used))),
    ]);
    text(vec![line], area, buf);
}

/// The bottom line: a message if there is one, else the views (clickable)
/// and the most useful keys.
fn hint_bar(app: &App, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    if let Some(s) = &app.status() {
        let line = Line::styled(fit(s, area.width as usize), app.theme().alarm());
        text(vec![line], area, buf);
        return;
    }
    let mut spans = vec![];
    let mut x = area.x;
    for v in View::ALL.iter() {
        let label = format!("{}{}", v.key(), v.name());
        let w = views::width(&label) as u16;
        if x + w > area.right() {
            break;
        }
        let style = if *v == app.view() {
            app.theme().accent().add_modifier(Modifier::REVERSED)
        } else {
            app.theme().dim()
        };
        hits.push((Rect::new(x, area.y, w, 1), Hit::View(*v)));
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
        x += w + 1;
    }
    let sep = if app.theme().ascii { "|" } else { "│" };
    let keys = format!("{sep} {}", EXPLORER.hint_line(EXPLORER_HINTS, "  "));
    let rest = (area.right().saturating_sub(x)) as usize;
    spans.push(Span::styled(fit(&keys, rest), app.theme().dim()));
    text(vec![Line::from(spans)], area, buf);
}

fn help(app: &App, area: Rect, buf: &mut Buffer) {
    let w = area.width.saturating_sub(4).min(76);
    let rows = EXPLORER.rows;
    let h = area.height.saturating_sub(2).min(rows.len() as u16 + 3);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(r, buf);
    let inner = panel(app.theme(), "keys (any key closes)", r, buf, true);
    let lines: Vec<Line> = rows
        .iter()
        .map(|r| {
            Line::from(vec![
                Span::styled(fit(r.keys, 18), app.theme().accent()),
                Span::raw(fit(r.help, (inner.width as usize).saturating_sub(18))),
            ])
        })
        .collect();
    text(lines, inner, buf);
}
