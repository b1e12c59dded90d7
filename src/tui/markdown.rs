//! A small markdown subset drawn for the terminal: paragraphs wrapped,
//! headings and **bold** bold, *emphasis* italic, tables aligned, code kept as
//! written. Untrusted text is made safe first. [`Markdown`] is the widget;
//! [`markdown`] gives the lines, for callers that scroll them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::views::{fit, text, width};
use crate::text::safe_text;

/// Markdown source drawn into an area (the top of it, when it is longer).
pub struct Markdown<'a>(pub &'a str);

impl Widget for Markdown<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let lines = markdown(self.0, area.width as usize);
        text(lines, area, buf);
    }
}

/// A small markdown subset as lines: paragraphs wrapped, headings and
/// **bold** bold, *emphasis* italic, tables aligned, code kept as written.
pub fn markdown(src: &str, w: usize) -> Vec<Line<'static>> {
    let src = safe_text(src).replace('\t', "    ");
    let mut out = vec![];
    let mut para = String::new();
    let mut table: Vec<Vec<String>> = vec![];
    let mut code = false;
    let flush_para = |para: &mut String, out: &mut Vec<Line<'static>>| {
        if !para.is_empty() {
            out.extend(wrap_md(para, w, Style::default()));
            para.clear();
        }
    };
    for line in src.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            flush_para(&mut para, &mut out);
            code = !code;
            continue;
        }
        if code {
            out.push(Line::raw(fit(line, w).trim_end().to_string()));
            continue;
        }
        if t.starts_with('|') {
            flush_para(&mut para, &mut out);
            let cells: Vec<String> = t
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect();
            let rule = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')));
            if !rule {
                table.push(cells);
            }
            continue;
        }
        if !table.is_empty() {
            out.extend(table_lines(&std::mem::take(&mut table), w));
        }
        if t.is_empty() {
            flush_para(&mut para, &mut out);
            out.push(Line::raw(""));
        } else if let Some(h) = t.strip_prefix('#') {
            flush_para(&mut para, &mut out);
            let h = h.trim_start_matches('#').trim();
            out.extend(wrap_md(h, w, Style::default().add_modifier(Modifier::BOLD)));
        } else if t.starts_with("- ") || t.starts_with("* ") || t.starts_with("> ") {
            flush_para(&mut para, &mut out);
            para.push_str(t);
        } else {
            crate::text::wrap::join_line(&mut para, t);
        }
    }
    flush_para(&mut para, &mut out);
    if !table.is_empty() {
        out.extend(table_lines(&table, w));
    }
    // Collapse runs of blank lines.
    let mut dedup: Vec<Line<'static>> = vec![];
    for l in out {
        let blank = l.width() == 0;
        if blank && dedup.last().is_none_or(|p: &Line| p.width() == 0) {
            continue;
        }
        dedup.push(l);
    }
    dedup
}

/// A markdown table with its columns padded to line up (cut at `w`).
fn table_lines(rows: &[Vec<String>], w: usize) -> Vec<Line<'static>> {
    let n = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| width(&plain(c)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .enumerate()
        .map(|(ri, r)| {
            let s: Vec<String> = (0..n)
                .map(|i| fit(&plain(r.get(i).map_or("", |c| c.as_str())), widths[i]))
                .collect();
            let line = fit(&s.join("  "), w).trim_end().to_string();
            if ri == 0 {
                Line::styled(line, Style::default().add_modifier(Modifier::BOLD))
            } else {
                Line::raw(line)
            }
        })
        .collect()
}

/// Markdown emphasis markers removed.
fn plain(s: &str) -> String {
    styled_chars(s, Style::default())
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

/// The characters of `s` with their style: `**` toggles bold, `*` italic
/// (when it hugs a word), a backtick code; the markers themselves are dropped.
fn styled_chars(s: &str, base: Style) -> Vec<(char, Style)> {
    let cs: Vec<char> = s.chars().collect();
    let (mut b, mut it, mut code) = (false, false, false);
    let mut out = vec![];
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        let next = cs.get(i + 1).copied();
        let prev = i.checked_sub(1).map(|j| cs[j]);
        if c == '`' {
            code = !code;
            i += 1;
            continue;
        }
        if !code && c == '*' && next == Some('*') {
            b = !b;
            i += 2;
            continue;
        }
        if !code && c == '*' {
            let opens = !it && next.is_some_and(|n| !n.is_whitespace());
            let closes = it && prev.is_some_and(|p| !p.is_whitespace());
            if opens || closes {
                it = !it;
                i += 1;
                continue;
            }
        }
        let mut st = base;
        if b {
            st = st.add_modifier(Modifier::BOLD);
        }
        if it {
            st = st.add_modifier(Modifier::ITALIC);
        }
        out.push((c, st));
        i += 1;
    }
    out
}

/// Word-wraps one paragraph of markdown to `w` columns: at spaces, and
/// between Chinese characters by the rules of `text::wrap`.
pub fn wrap_md(s: &str, w: usize, base: Style) -> Vec<Line<'static>> {
    let chars = styled_chars(s, base);
    crate::text::wrap::line_ranges(&chars, |(c, _)| *c, w)
        .into_iter()
        .map(|r| spans(chars[r].to_vec()))
        .collect()
}

/// Groups styled characters into spans.
fn spans(chars: Vec<(char, Style)>) -> Line<'static> {
    let mut out: Vec<Span<'static>> = vec![];
    let mut s = String::new();
    let mut st: Option<Style> = None;
    for (c, cs) in chars {
        if st.is_some_and(|x| x != cs) {
            out.push(Span::styled(std::mem::take(&mut s), st.unwrap_or_default()));
        }
        st = Some(cs);
        s.push(c);
    }
    if !s.is_empty() {
        out.push(Span::styled(s, st.unwrap_or_default()));
    }
    Line::from(out)
}
