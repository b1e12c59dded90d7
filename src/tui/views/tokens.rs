//! The token strip (on every screen) and the tokens view (a table of every
//! position with its id, visible text and bytes).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Hits, fit, panel, text, width};
use crate::model::Trace;
use crate::text::visible_token;
use crate::tui::app::{App, Hit};

/// Widest a token is drawn in the strip.
const MAX_TOKEN_W: usize = 12;

/// The strip: one box per token (text over id), the cursor on `app.pos()`,
/// scrolled so that the cursor is visible. Uses two lines of `area`.
pub fn strip(app: &App, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let toks = app.tokens();
    if toks.is_empty() || area.height < 2 || area.width < 4 {
        return;
    }
    let prompt_len = app.session().map_or(0, |s| s.prompt_len);
    let mask = super::loss::response_start(app);
    let cols: Vec<(String, String)> = toks
        .iter()
        .map(|&id| {
            let t = visible_token(app.token_text(id));
            let idw = id.to_string().len();
            let w = width(&t).clamp(1, MAX_TOKEN_W).max(idw);
            (fit(&t, w), fit(&id.to_string(), w))
        })
        .collect();
    // Scroll so the cursor's box ends inside the strip.
    let avail = area.width as usize;
    let mut start = 0;
    loop {
        let used: usize = cols[start..=app.pos().min(cols.len() - 1)]
            .iter()
            .map(|c| width(&c.0) + 1)
            .sum();
        if used <= avail || start >= app.pos() {
            break;
        }
        start += 1;
    }
    let mut x = area.x;
    let mut top = vec![];
    let mut bottom = vec![];
    if start > 0 {
        top.push(Span::styled("…", app.theme().dim()));
        bottom.push(Span::raw(" "));
        x += 1;
    }
    for (i, (t, id)) in cols.iter().enumerate().skip(start) {
        let w = width(t) as u16;
        if x + w > area.right() {
            break;
        }
        // A templated turn and reply: the prompt grey, the tokens the loss counts coloured.
        let mut style = if mask.is_some_and(|p| i < p) {
            app.theme().dim()
        } else if mask.is_none() && i < prompt_len {
            Style::default()
        } else {
            app.theme()
                .accent()
                .remove_modifier(ratatui::style::Modifier::BOLD)
        };
        if i == app.pos() {
            style = style.add_modifier(ratatui::style::Modifier::REVERSED);
        }
        top.push(Span::styled(t.clone(), style));
        bottom.push(Span::styled(id.clone(), app.theme().dim()));
        hits.push((Rect::new(x, area.y, w, 2), Hit::Token(i)));
        let sep = if app.theme().ascii { "|" } else { "│" };
        top.push(Span::styled(sep, app.theme().dim()));
        bottom.push(Span::styled(sep, app.theme().dim()));
        x += w + 1;
    }
    text(vec![Line::from(top), Line::from(bottom)], area, buf);
}

/// ↑/↓ move through the tokens.
pub fn selection_count(app: &App) -> usize {
    app.tokens().len()
}

/// The tokens view: every position with id, text, bytes and how it got there.
pub fn render(app: &App, _tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let inner = panel(
        app.theme(),
        "tokens: position, id, text, bytes",
        area,
        buf,
        true,
    );
    let Some(s) = app.session() else {
        return;
    };
    let n = s.tokens.len();
    let rows = inner.height.saturating_sub(2) as usize;
    let first = app.pos().saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::styled(
        format!(
            "{:>4}  {:>6}  {}  {}",
            "pos",
            "id",
            fit("token", 14),
            "bytes / how"
        ),
        app.theme().dim(),
    )];
    for i in first..n.min(first + rows) {
        let id = s.tokens[i];
        let raw = app.token_text(id);
        let bytes: Vec<String> = crate::tokenizer::display_bytes(raw)
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        let how = if i < s.prompt_len {
            "prompt".to_string()
        } else {
            match s.picks.get(i - s.prompt_len) {
                Some(p) => {
                    let prob = p.ranked.iter().find(|c| c.id == id).map_or(0.0, |c| c.prob);
                    format!(
                        "picked, p={prob:.3}{}",
                        if p.greedy { " (greedy)" } else { "" }
                    )
                }
                None => "generated".into(),
            }
        };
        let style = if i == app.pos() {
            app.theme().accent()
        } else {
            Style::default()
        };
        lines.push(Line::styled(
            format!(
                "{i:>4}  {id:>6}  {}  {} · {how}",
                fit(&visible_token(raw), 14),
                bytes.join(" ")
            ),
            style,
        ));
    }
    lines.push(Line::styled(
        format!(
            "{n} tokens ({} prompt) · vocabulary {}",
            s.prompt_len,
            app.vocab_len()
        ),
        app.theme().dim(),
    ));
    for (row, i) in (first..n.min(first + rows)).enumerate() {
        hits.push((
            Rect::new(inner.x, inner.y + 1 + row as u16, inner.width, 1),
            Hit::Token(i),
        ));
    }
    text(lines, inner, buf);
}
