//! The token strip (on every screen) and the tokens view (a table of every
//! position with its id, visible text and bytes, and byte-level BPE replayed
//! for the selected position's word: its bytes, each merge in rank order,
//! the tokens).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::{Hits, fit, panel, text, width};
use crate::i18n::Msg;
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

/// The tokens view: the table of positions and, beside it when the screen
/// is wide or under it, the selected word's BPE merges.
pub fn render(app: &App, tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let (table, bpe) = if area.width >= 110 {
        let tw = area.width * 11 / 20;
        (
            Rect::new(area.x, area.y, tw, area.height),
            Rect::new(area.x + tw, area.y, area.width - tw, area.height),
        )
    } else {
        let n = bpe_lines(app).map_or(1, |(_, r)| r.len()) as u16;
        let bh = (n + 2).clamp(4, area.height / 2);
        let th = area.height - bh;
        (
            Rect::new(area.x, area.y, area.width, th),
            Rect::new(area.x, area.y + th, area.width, bh),
        )
    };
    render_table(app, tr, table, buf, hits);
    draw_bpe(app, bpe, buf);
}

/// Every position with id, text, bytes and how it got there.
fn render_table(app: &App, _tr: &Trace, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let inner = panel(
        app.theme(),
        Msg::TitleTokens.get(app.theme().lang),
        area,
        buf,
        true,
    );
    let Some(s) = app.session() else {
        return;
    };
    let lang = app.theme().lang;
    let n = s.tokens.len();
    let rows = inner.height.saturating_sub(2) as usize;
    let first = app.pos().saturating_sub(rows.saturating_sub(1));
    let mut lines = vec![Line::styled(
        format!(
            "{}  {}  {}  {}",
            align_right(Msg::TokColPos.get(lang), 4),
            align_right(Msg::TokColId.get(lang), 6),
            fit(Msg::TokColToken.get(lang), 14),
            Msg::TokColBytes.get(lang)
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
            Msg::TokHowPrompt.get(lang).to_string()
        } else {
            match s.picks.get(i - s.prompt_len) {
                Some(p) => {
                    let prob = p.ranked.iter().find(|c| c.id == id).map_or(0.0, |c| c.prob);
                    let greedy = if p.greedy {
                        Msg::TokHowGreedy.get(lang)
                    } else {
                        ""
                    };
                    Msg::TokHowPicked.fill(lang, &[&format!("{prob:.3}"), &greedy])
                }
                None => Msg::TokHowGenerated.get(lang).into(),
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
        Msg::TokCount.fill(lang, &[&n, &s.prompt_len, &app.vocab_len()]),
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

/// One BPE state as the view writes it: the pieces, each as it reads (a
/// space as `·`, a lone byte as `<e5>`), between bars.
pub fn pieces_text(pieces: &[Vec<u8>]) -> String {
    pieces
        .iter()
        .map(|p| visible_token(&crate::tokenizer::bytes_display(p)))
        .collect::<Vec<_>>()
        .join("│")
}

/// What the BPE panel shows for the selected position: the word's title
/// and one line per state, from the bytes through each merge (lowest rank
/// first) to the tokens. None without a tokenizer.
pub fn bpe_lines(app: &App) -> Option<(String, Vec<(String, String)>)> {
    use crate::readout::bpe;
    let lang = app.theme().lang;
    let tok = app.tokenizer()?;
    let s = app.session()?;
    let id = *s.tokens.get(app.pos())?;
    if tok.end_of_text() == Some(id) {
        return Some((Msg::BpeSpecial.get(lang).into(), vec![]));
    }
    let bytes = match bpe::word_at(tok, &s.tokens, app.pos()) {
        Some(w) => w.bytes,
        None => tok.token_bytes(id)?,
    };
    let steps = bpe::steps(tok, &bytes);
    let word = visible_token(&crate::tokenizer::bytes_display(&bytes));
    let n = steps.len().saturating_sub(1);
    let title = if n == 1 {
        Msg::BpeTitleOne
    } else {
        Msg::BpeTitle
    }
    .fill(lang, &[&word, &bytes.len(), &n]);
    let mut rows = vec![];
    for (i, st) in steps.iter().enumerate() {
        let label = match &st.merge {
            None => Msg::BpeBytes.get(lang).to_string(),
            Some((rank, l, r)) => format!(
                "{i:>2}. {}",
                Msg::BpeRank.fill(
                    lang,
                    &[
                        rank,
                        &visible_token(&crate::tokenizer::bytes_display(l)),
                        &visible_token(&crate::tokenizer::bytes_display(r))
                    ]
                )
            ),
        };
        rows.push((label, pieces_text(&st.pieces)));
    }
    Some((title, rows))
}

/// The BPE panel: the word's bytes, each merge, the tokens.
fn draw_bpe(app: &App, area: Rect, buf: &mut Buffer) {
    let lang = app.theme().lang;
    let Some((title, rows)) = bpe_lines(app) else {
        let inner = panel(app.theme(), Msg::TitleBpe.get(lang), area, buf, false);
        text(
            vec![Line::styled(
                Msg::TitleBpeNeedsTokenizer.get(lang),
                app.theme().dim(),
            )],
            inner,
            buf,
        );
        return;
    };
    let inner = panel(app.theme(), &title, area, buf, false);
    let lw = rows
        .iter()
        .map(|(l, _)| width(l))
        .max()
        .unwrap_or(5)
        .min(28);
    let h = inner.height as usize;
    let mut lines: Vec<Line> = vec![];
    // Too many merges for the panel: the first ones and the last, with a
    // line saying how many are left out.
    let n = rows.len();
    let shown: Vec<usize> = if n <= h {
        (0..n).collect()
    } else {
        let head = h.saturating_sub(2);
        (0..head).chain([n - 1]).collect()
    };
    for (k, &i) in shown.iter().enumerate() {
        if k > 0 && i != shown[k - 1] + 1 {
            lines.push(Line::styled(
                Msg::BpeMore.fill(lang, &[&(i - shown[k - 1] - 1)]),
                app.theme().dim(),
            ));
        }
        let (label, pieces) = &rows[i];
        let style = if i + 1 == n {
            app.theme().accent()
        } else {
            Style::default()
        };
        let label = if i + 1 == n && n > 1 {
            Msg::BpeTokens.fill(lang, &[label])
        } else {
            label.clone()
        };
        lines.push(Line::from(vec![
            Span::styled(fit(&label, lw + 9), app.theme().dim()),
            Span::raw(" "),
            Span::styled(
                fit(pieces, (inner.width as usize).saturating_sub(lw + 10)),
                style,
            ),
        ]));
    }
    text(lines, inner, buf);
}

/// `s` right-aligned in `w` columns by display width (`format!`'s `{:>w}`
/// counts characters, and a Chinese character takes two columns).
pub(super) fn align_right(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}
