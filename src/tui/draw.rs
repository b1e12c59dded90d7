//! The frame: header with the stage and a progress bar through the pass, the
//! token strip, the current view, the hint bar, and the help overlay. A pure
//! function of the state; returns the mouse targets it drew.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::app::{App, Hit};
use super::heatmap::Theme;
use super::keymap::{EXPLORER, EXPLORER_ESSENTIAL_HINTS, EXPLORER_HINTS, Keymap};
use super::present::{self, CARD_H};
use super::prompt::Editor;
use super::views::{self, Hits, fit, panel, text};
use crate::i18n::{Lang, Msg};
use crate::pass::View;

/// The smallest terminal the explorer draws in.
pub const MIN_W: u16 = 60;
pub const MIN_H: u16 = 18;

/// Draws the whole screen into `buf`.
pub fn draw(app: &App, area: Rect, buf: &mut Buffer) -> Hits {
    let mut hits = Hits::new();
    if area.width < MIN_W || area.height < MIN_H {
        too_small(app.theme().lang, area, buf);
        return hits;
    }
    let banner = if app.iv().is_active() { 1 } else { 0 };
    let head_lines = header_lines(app, area.width as usize);
    // The editor line takes the hint bar; a notice (a refused prompt) goes above it.
    let bottom = if app.editing() && app.status().is_some() {
        2
    } else {
        1
    };
    // Presenter mode: the formula card under the view, when the view keeps
    // at least 12 rows.
    let card = match (app.theme().present, app.shown_trace(), app.busy()) {
        (true, Some(tr), None) => present::card(app, tr),
        _ => None,
    };
    let fixed = head_lines.len() as u16 + banner + 2 + bottom;
    let card_h = if card.is_some() && area.height >= fixed + CARD_H + 12 {
        CARD_H
    } else {
        0
    };
    let [head, ban, strip, main, card_area, hint] = Layout::vertical([
        Constraint::Length(head_lines.len() as u16),
        Constraint::Length(banner),
        Constraint::Length(2),
        Constraint::Min(6),
        Constraint::Length(card_h),
        Constraint::Length(bottom),
    ])
    .areas(area);
    if let Some(c) = card.as_ref().filter(|_| card_h > 0) {
        present::draw_card(app, c, card_area, buf);
    }
    text(head_lines, head, buf);
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
            let lang = app.theme().lang;
            let inner = panel(app.theme(), Msg::Working.get(lang), main, buf, true);
            let what = app.busy().unwrap_or(Msg::Computing).get(lang);
            text(
                vec![Line::raw(Msg::BusyKeys.fill(lang, &[&what]))],
                inner,
                buf,
            );
        }
    }
    match app.editor() {
        Some(e) => {
            let line = Rect::new(hint.x, hint.bottom() - 1, hint.width, 1);
            if let Some(s) = app.status() {
                let note = Rect::new(hint.x, hint.y, hint.width, 1);
                text(
                    vec![Line::styled(
                        fit(s, hint.width as usize),
                        app.theme().alarm(),
                    )],
                    note,
                    buf,
                );
            }
            draw_editor(app, e, line, buf);
        }
        None => hint_bar(app, hint, buf, &mut hits),
    }
    if app.help() {
        help_overlay(
            app.theme(),
            &[(Msg::HelpSectionKeys, &EXPLORER)],
            app.help_scroll(),
            area,
            buf,
        );
    }
    hits
}

/// What the loading frame says: the model's name and its size, read from
/// its folder before the weights are.
#[derive(Clone, Debug, Default)]
pub struct Loading {
    pub name: String,
    /// Lines under the name (parameters, shape, file size).
    pub details: Vec<String>,
}

/// The first frame while a model loads: a box in the middle of the screen.
pub fn loading(what: &Loading, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![Msg::Loading.fill(theme.lang, &[&what.name])];
    lines.extend(what.details.iter().cloned());
    lines.push(Msg::LoadingWhat.get(theme.lang).into());
    let w = lines
        .iter()
        .map(|l| views::width(l))
        .max()
        .unwrap_or(0)
        .saturating_add(4)
        .min(area.width as usize) as u16;
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    let inner = panel(theme, "gptlens", r, buf, true);
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let out: Vec<Line> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let t = format!(" {}", fit(l, (inner.width as usize).saturating_sub(1)));
            if i == 0 {
                Line::styled(t, bold)
            } else {
                Line::raw(t)
            }
        })
        .collect();
    text(out, inner, buf);
}

/// The "terminal too small" screen: what size is needed and what it is now.
fn too_small(lang: Lang, area: Rect, buf: &mut Buffer) {
    let msg = [
        Msg::TooSmall.fill(lang, &[&MIN_W, &MIN_H]),
        Msg::TooSmallNow.fill(lang, &[&area.width, &area.height]),
        Msg::TooSmallFix.get(lang).to_string(),
    ];
    let lines: Vec<Line> = msg
        .iter()
        .map(|m| Line::raw(fit(m, area.width as usize)))
        .collect();
    text(lines, area, buf);
}

fn intervention_text(app: &App) -> String {
    let lang = app.theme().lang;
    let mut parts = vec![];
    for (l, h) in &app.iv().ablate {
        parts.push(Msg::IvAblated.fill(lang, &[l, h]));
    }
    if app.iv().no_scale {
        parts.push(Msg::IvNoScale.get(lang).into());
    }
    if app.iv().no_causal_mask {
        parts.push(Msg::IvNoMask.get(lang).into());
    }
    if app.iv().skip_layernorm {
        parts.push(Msg::IvNoLayerNorm.get(lang).into());
    }
    let pending = if app.alt().is_none() {
        Msg::IvRecomputing.get(lang)
    } else {
        ""
    };
    let sep = if lang == Lang::Zh { "、" } else { ", " };
    Msg::IvBanner.fill(lang, &[&parts.join(sep), &pending])
}

/// The header: the progress bar, where in the pass we are, and what the
/// stage computes. The stage's caption is never cut: a narrow screen gets the
/// short form of the position, and when even that leaves too little room
/// the caption moves to a second line.
fn header_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let st = app.current();
    let lang = app.theme().lang;
    let total = app.pass().len();
    let n = app.tokens().len();
    let (layer, short_layer) = if st.stage.in_layer() {
        (
            Msg::HeaderLayer.fill(lang, &[&st.layer, &app.n_layer()]),
            format!("L{} ", st.layer),
        )
    } else {
        (String::new(), String::new())
    };
    let step = format!("{}/{}", app.at() + 1, total);
    let tokens = Msg::HeaderTokens.fill(lang, &[&n]);
    let left = format!(
        " {step} {layer}{} · {} · {tokens} ",
        st.stage.name(),
        Msg::HeaderHead.fill(lang, &[&app.head()]),
    );
    let short = format!(
        " {step} {short_layer}{} · H{} · {tokens} ",
        st.stage.name(),
        app.head()
    );
    let (full, empty) = if app.theme().ascii {
        ('#', '-')
    } else {
        ('█', '░')
    };
    let bar = |bar_w: usize| {
        let done = ((app.at() + 1) * bar_w).div_ceil(total).min(bar_w);
        let b: String = std::iter::repeat_n(full, done)
            .chain(std::iter::repeat_n(empty, bar_w - done))
            .collect();
        format!("[{b}]")
    };
    let (bar, small_bar) = (bar(12), bar(6));
    let title = caption(app).to_string();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let accent = app.theme().accent();
    let tw = views::width(&title);
    // The widest form that keeps the caption whole on one line.
    if views::width(&bar) + views::width(&left) + tw <= width {
        vec![Line::from(vec![
            Span::styled(bar, accent),
            Span::styled(left, bold),
            Span::raw(title),
        ])]
    } else if views::width(&small_bar) + views::width(&short) + tw <= width {
        vec![Line::from(vec![
            Span::styled(small_bar, accent),
            Span::styled(short, bold),
            Span::raw(title),
        ])]
    } else if views::width(&short) + tw <= width {
        vec![Line::from(vec![
            Span::styled(short, bold),
            Span::raw(title),
        ])]
    } else {
        vec![
            Line::from(vec![Span::styled(bar, accent), Span::styled(left, bold)]),
            Line::raw(format!(" {title}")),
        ]
    }
}

/// What the header says is shown. Loss, cost and training are about the
/// whole step (or run), not one stage.
pub fn caption(app: &App) -> &'static str {
    let lang = app.theme().lang;
    match app.view() {
        View::Loss => Msg::CaptionLoss.get(lang),
        View::Cost => Msg::CaptionCost.get(lang),
        View::Training => Msg::CaptionTraining.get(lang),
        View::Quant => Msg::CaptionQuant.get(lang),
        _ => app.stage().title_in_lang(&app.gpt().config.arch(), lang),
    }
}

/// The bottom line: the views (clickable), then the keys a newcomer needs
/// (help, quit: always shown), then as many other keys as fit, whole. A
/// message takes the views' place; the essential keys stay.
fn hint_bar(app: &App, area: Rect, buf: &mut Buffer, hits: &mut Hits) {
    let w = area.width as usize;
    let lang = app.theme().lang;
    let sep = if app.theme().ascii { "|" } else { "│" };
    let essential = format!(
        "{sep} {}", // (each view label ends in a space)
        EXPLORER.hint_line(EXPLORER_ESSENTIAL_HINTS, "  ", lang)
    );
    let ew = views::width(&essential);
    if let Some(s) = &app.status() {
        let line = Line::from(vec![
            Span::styled(fit(s, w.saturating_sub(ew + 1)) + " ", app.theme().alarm()),
            Span::styled(fit(&essential, ew.min(w)), app.theme().dim()),
        ]);
        text(vec![line], area, buf);
        return;
    }
    // Full view names when they fit beside the essential keys, else digits
    // with the current view named.
    let label = |v: &View, full: bool| {
        if full || *v == app.view() {
            format!("{}{}", v.key(), v.label(lang))
        } else {
            v.key().to_string()
        }
    };
    let views_w = |full: bool| -> usize {
        View::ALL
            .iter()
            .map(|v| views::width(&label(v, full)) + 1)
            .sum()
    };
    let full = views_w(true) + ew <= w;
    let mut spans = vec![];
    let mut x = area.x;
    for v in View::ALL.iter() {
        let l = label(v, full);
        let lw = views::width(&l) as u16;
        if (x - area.x) as usize + lw as usize + ew > w {
            break;
        }
        let style = if *v == app.view() {
            app.theme().accent().add_modifier(Modifier::REVERSED)
        } else {
            app.theme().dim()
        };
        hits.push((Rect::new(x, area.y, lw, 1), Hit::View(*v)));
        spans.push(Span::styled(l, style));
        spans.push(Span::raw(" "));
        x += lw + 1;
    }
    let mut keys = essential;
    let mut used = (x - area.x) as usize + ew;
    for h in EXPLORER_HINTS {
        let more = format!("  {}", EXPLORER.hint(h, lang));
        let mw = views::width(&more);
        if used + mw > w {
            break;
        }
        keys.push_str(&more);
        used += mw;
    }
    let rest = (area.right().saturating_sub(x)) as usize;
    spans.push(Span::styled(fit(&keys, rest), app.theme().dim()));
    text(vec![Line::from(spans)], area, buf);
}

/// Words of `s` wrapped to lines of at most `w` columns (a word longer
/// than `w` is cut). Chinese text, which has no spaces, breaks between its
/// characters as `text::wrap` allows.
fn wrap_words(s: &str, w: usize) -> Vec<String> {
    if s.chars().any(crate::text::wrap::is_cjk) {
        return crate::text::wrap::wrap(s, w)
            .into_iter()
            .map(|l| fit(&l, w).trim_end().to_string())
            .collect();
    }
    let mut out = vec![];
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let need = views::width(&cur) + usize::from(!cur.is_empty()) + views::width(word);
        if !cur.is_empty() && need > w {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() || out.is_empty() {
        out.push(cur);
    }
    out.into_iter()
        .map(|l| fit(&l, w).trim_end().to_string())
        .collect()
}

/// The help overlay, shared by the explorer and the lesson player: every row
/// of each keymap in `sections` (a heading per section when there are
/// several), the help text wrapped rather than cut, in two columns when the
/// screen is wide enough. When it still does not fit, it starts at row
/// `scroll` and says that ↑ ↓ scroll; the first rows are help and quit, so a
/// newcomer sees them without scrolling.
pub fn help_overlay(
    theme: &Theme,
    sections: &[(Msg, &Keymap)],
    scroll: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    if area.width < 20 || area.height < 5 {
        return;
    }
    let lang = theme.lang;
    let full_keys_w = sections
        .iter()
        .flat_map(|(_, m)| m.rows.iter())
        .map(|r| views::width(r.keys) + 2)
        .max()
        .unwrap_or(8)
        .min(22);
    // Two columns when each can hold the keys and 34 columns of text.
    let two = area.width as usize >= 2 * (full_keys_w + 34) + 5;
    let max_h = area.height as usize - 2;
    // How many of `items` from `first` fit in `cols` columns of `h` lines.
    fn fits(items: &[Vec<Line>], cols: usize, first: usize, h: usize) -> usize {
        let mut n = 0;
        let mut col = 0;
        let mut used = 0;
        for it in &items[first..] {
            if used + it.len() > h {
                col += 1;
                used = 0;
                if col == cols {
                    break;
                }
            }
            if it.len() > h {
                break;
            }
            used += it.len();
            n += 1;
        }
        n
    }
    // A layout: its box width, column width, key width and one item per
    // keymap row (and per heading), each the lines it takes.
    let layout = |cols: usize, wrap: bool| {
        let keys_w = if wrap {
            full_keys_w
        } else {
            full_keys_w.min(15)
        };
        let box_w = if cols == 2 {
            (area.width as usize - 2).min(2 * (keys_w + 56) + 3)
        } else {
            (area.width as usize - 2).min(keys_w + 70)
        };
        let col_w = (box_w - 2 - (cols - 1)) / cols;
        let text_w = col_w.saturating_sub(keys_w).max(8);
        // Each item wrapped, and cut to one line.
        let mut wrapped: Vec<Vec<Line>> = vec![];
        let mut cut: Vec<Vec<Line>> = vec![];
        for (title, m) in sections {
            if sections.len() > 1 {
                let head = vec![Line::styled(
                    fit(title.get(lang), col_w),
                    Style::default().add_modifier(Modifier::BOLD),
                )];
                wrapped.push(head.clone());
                cut.push(head);
            }
            for r in m.rows {
                let row = |lines: Vec<String>| -> Vec<Line> {
                    lines
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let k = if i == 0 { r.keys } else { "" };
                            Line::from(vec![
                                Span::styled(fit(k, keys_w), theme.accent()),
                                Span::raw(fit(&l, text_w)),
                            ])
                        })
                        .collect()
                };
                wrapped.push(row(wrap_words(r.help.get(lang), text_w)));
                cut.push(row(vec![r.help.get(lang).to_string()]));
            }
        }
        let items = if wrap {
            wrapped
        } else {
            // One line each, then, shortest first, every item that still
            // fits wrapped gets its whole text.
            let mut items = cut;
            let mut order: Vec<usize> = (0..wrapped.len())
                .filter(|&i| wrapped[i].len() > 1)
                .collect();
            order.sort_by_key(|&i| wrapped[i].len());
            for i in order {
                let one = std::mem::replace(&mut items[i], wrapped[i].clone());
                if fits(&items, cols, 0, max_h) < items.len() {
                    items[i] = one;
                }
            }
            items
        };
        (cols, box_w, col_w, items)
    };
    // Wrapped help in the columns the width allows; when that does not fit
    // on the screen, two columns, then two columns of one line each (cut):
    // every key visible at once beats reading whole sentences. Only when
    // even that does not fit, the first layout with a scroll line.
    let mut candidates = vec![layout(usize::from(two) + 1, true)];
    if !two && area.width >= 60 {
        candidates.push(layout(2, true));
        candidates.push(layout(2, false));
    }
    let pick = candidates
        .iter()
        .position(|(cols, _, _, items)| fits(items, *cols, 0, max_h) == items.len())
        .unwrap_or(0);
    let (cols, box_w, col_w, items) = candidates.swap_remove(pick);
    let total: usize = items.iter().map(Vec::len).sum();
    // The shortest box that shows everything, else the tallest with a
    // scroll line.
    let all_h = (1..=max_h).find(|&h| fits(&items, cols, 0, h) == items.len());
    let (inner_h, body_h, first) = match all_h {
        Some(h) => (h.min(total), h.min(total), 0),
        None => {
            let body = max_h - 1;
            // Past the last full page scrolling stops.
            let last = (0..items.len())
                .find(|&f| f + fits(&items, cols, f, body) >= items.len())
                .unwrap_or(0);
            (max_h, body, scroll.min(last))
        }
    };
    let shown = fits(&items, cols, first, body_h);
    let h = inner_h as u16 + 2;
    let r = Rect::new(
        area.x + (area.width - box_w as u16) / 2,
        area.y + (area.height - h) / 2,
        box_w as u16,
        h,
    );
    Clear.render(r, buf);
    let inner = panel(theme, Msg::HelpTitle.get(lang), r, buf, true);
    let mut col = 0;
    let mut y = 0usize;
    for it in &items[first..first + shown] {
        if y + it.len() > body_h {
            col += 1;
            y = 0;
        }
        let x = inner.x + (col * (col_w + 1)) as u16;
        let a = Rect::new(x, inner.y + y as u16, col_w as u16, it.len() as u16);
        text(it.clone(), a, buf);
        y += it.len();
    }
    if body_h < inner_h || first + shown < items.len() || first > 0 {
        let below = items.len() - first - shown;
        let msg = match (first > 0, below > 0) {
            (_, true) => Msg::HelpMoreRows.fill(lang, &[&below]),
            (true, false) => Msg::HelpEarlierRows.get(lang).to_string(),
            _ => String::new(),
        };
        let a = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        text(
            vec![Line::styled(fit(&msg, inner.width as usize), theme.alarm())],
            a,
            buf,
        );
    }
}

/// Draws the editor line: the prompt with a cursor, scrolled so that the
/// cursor stays visible, and what Enter and Esc do.
fn draw_editor(app: &App, e: &Editor, area: Rect, buf: &mut Buffer) {
    let lang = app.theme().lang;
    let label = Msg::EditorLabel.get(lang);
    let editor_help = Msg::EditorHelp.get(lang);
    let w = area.width as usize;
    let room = w
        .saturating_sub(views::width(label) + views::width(editor_help) + 1)
        .max(8);
    let chars: Vec<char> = e.text.chars().collect();
    // Keep the cursor inside the visible window of `room` columns.
    let mut start = 0;
    while start < e.cursor
        && views::width(&chars[start..e.cursor].iter().collect::<String>()) >= room
    {
        start += 1;
    }
    let before: String = chars[start..e.cursor].iter().collect();
    let at: String = chars.get(e.cursor).map_or(" ".into(), |c| c.to_string());
    let after: String = chars
        .get(e.cursor + 1..)
        .map_or(String::new(), |r| r.iter().collect());
    let used = views::width(&before) + views::width(&at);
    let after = fit(&after, room.saturating_sub(used));
    let theme = app.theme();
    let line = Line::from(vec![
        Span::styled(label, theme.accent().add_modifier(Modifier::BOLD)),
        Span::raw(before),
        Span::styled(at, theme.accent().add_modifier(Modifier::REVERSED)),
        Span::raw(after),
        Span::styled(
            fit(editor_help, w.saturating_sub(views::width(label) + room)),
            theme.dim(),
        ),
    ]);
    text(vec![line], area, buf);
}
