//! The player's frame: the lesson text (framed, or compact with a one-line
//! header on short screens) beside or above the explorer, and the lesson's
//! help box over the explorer's.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{Check, Player};
use crate::i18n::Msg;
use crate::lesson::Block;
use crate::lesson::render::{FilledBlock, FilledCheckpoint};
use crate::tui::draw::{self, MIN_H, MIN_W};
use crate::tui::keymap::{EXPLORER, PLAYER};
use crate::tui::markdown::{markdown, wrap_md};
use crate::tui::views::{Hits, fit, panel, text, width};

/// The fewest rows of lesson text worth showing beside the explorer; a
/// screen too short for these and the explorer shows one of the two (`x`).
pub const MIN_TEXT_ROWS: u16 = 12;

/// The screen is too short for the text above the explorer: the player
/// shows the text, or (after `x`) the explorer under a one-row lesson bar.
pub fn one_at_a_time(area: Rect) -> bool {
    area.width < 120 && area.height < MIN_H + MIN_TEXT_ROWS
}

/// (text area, explorer area or None when only the text fits or is asked for).
pub fn layout(p: &Player, area: Rect) -> (Rect, Option<Rect>) {
    if area.width < MIN_W || area.height <= MIN_H {
        return (area, None);
    }
    if one_at_a_time(area) {
        if !p.expanded {
            return (area, None);
        }
        // `x`: the explorer, under the lesson's bar (step, keys).
        let bar = Rect::new(area.x, area.y, area.width, 1);
        let view = Rect::new(area.x, area.y + 1, area.width, area.height - 1);
        return (bar, Some(view));
    }
    if p.expanded {
        return (area, None);
    }
    if area.width >= 120 {
        let tw = (area.width * 2 / 5).clamp(40, 80).min(area.width - MIN_W);
        let text = Rect::new(area.x, area.y, tw, area.height);
        let view = Rect::new(area.x + tw, area.y, area.width - tw, area.height);
        return (text, Some(view));
    }
    let vh = MIN_H
        .max(area.height * 3 / 5)
        .min(area.height - MIN_TEXT_ROWS);
    let th = area.height - vh;
    let text = Rect::new(area.x, area.y, area.width, th);
    let view = Rect::new(area.x, area.y + th, area.width, vh);
    (text, Some(view))
}

/// The player's key line: `want` (key, word) pairs in order, dropped from
/// the end of `optional` until it fits `w`; help and quit always stay.
fn key_line(p: &Player, area: Rect, lead: &str, w: usize) -> String {
    use crate::tui::keymap::Action as A;
    let lang = p.app.theme().lang;
    let k = |a| PLAYER.hint_keys(a);
    // What `x` shows next.
    let x_word = match (one_at_a_time(area), p.expanded) {
        (true, false) | (false, true) => Msg::HintView,
        (true, true) | (false, false) => Msg::HintText,
    }
    .get(lang);
    let must = [
        format!(
            "{} {}",
            EXPLORER.hint_keys(A::Help),
            Msg::HintHelp.get(lang)
        ),
        format!(
            "{} {}",
            EXPLORER.hint_keys(A::Quit),
            Msg::HintQuit.get(lang)
        ),
    ];
    let next = if p.at_the_end() && p.next_lesson.is_some() {
        Msg::HintNextLesson
    } else {
        Msg::HintNext
    }
    .get(lang);
    let mut optional = vec![];
    if p.offers_run() {
        optional.push(format!(
            "{} {}",
            k(A::TrainLive),
            Msg::HintTrainLive.get(lang)
        ));
    }
    optional.extend([
        format!("{} {next}", k(A::NextScene)),
        format!("{} {x_word}", k(A::ToggleText)),
        format!("{} {}", k(A::PrevScene), Msg::HintBack.get(lang)),
        format!(
            "{}/{} {}",
            k(A::ScrollDown),
            k(A::ScrollUp),
            Msg::HintScroll.get(lang)
        ),
        format!("{} {}", k(A::ReturnToScene), Msg::HintReturn.get(lang)),
    ]);
    loop {
        let mut parts: Vec<String> = vec![];
        if !lead.is_empty() {
            parts.push(lead.to_string());
        }
        parts.extend(optional.iter().cloned());
        parts.extend(must.iter().cloned());
        let line = parts.join(" · ");
        if width(&line) <= w || optional.is_empty() {
            return line;
        }
        optional.pop();
    }
}

/// "more ↓", "↑ more ↓", "↑" or "" for text scrolled to `first` of `max`.
fn scroll_marker(first: usize, max: usize, lang: crate::i18n::Lang) -> &'static str {
    match (first > 0, first < max) {
        (true, true) => Msg::MoreBoth.get(lang),
        (false, true) => Msg::MoreBelow.get(lang),
        (true, false) => "↑",
        (false, false) => "",
    }
}

/// Draws the lesson text and, beside or below it, the explorer. Pure: call
/// [`Player::sync`] first after changing the state by hand.
pub fn draw_player(p: &Player, area: Rect, buf: &mut Buffer) -> Hits {
    p.last_area.set(area);
    let (text_area, view_area) = layout(p, area);
    let hits = match view_area {
        Some(v) if p.hiding_view() => {
            draw_hidden(p, v, buf);
            Hits::new()
        }
        Some(v) => draw::draw(&p.app, v, buf),
        None => Hits::new(),
    };
    draw_text(p, text_area, buf);
    if p.app.help() {
        draw_help(p, area, buf);
    }
    hits
}

/// What stands in for the explorer while the step's question is open.
fn draw_hidden(p: &Player, area: Rect, buf: &mut Buffer) {
    let theme = p.app.theme();
    let lang = p.lesson.lang;
    let inner = panel(theme, Msg::PlayerHiddenTitle.get(lang), area, buf, false);
    let keys = p
        .open_question()
        .map(|(_, k)| k.iter().map(char::to_string).collect::<Vec<_>>().join(", "))
        .unwrap_or_default();
    let msg = Msg::PlayerHidden.fill(lang, &[&keys]);
    text(
        wrap_md(&msg, inner.width as usize, theme.accent()),
        inner,
        buf,
    );
}

fn progress(p: &Player) -> String {
    let n = p.n_scenes();
    Msg::PlayerStep.fill(p.lesson.lang, &[&(p.scene + 1).min(n), &n])
}

fn draw_text(p: &Player, area: Rect, buf: &mut Buffer) {
    let theme = p.app.theme();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    // Short panels (80×24) drop the border: every row is worth it.
    let framed = area.height >= 10 && area.width >= 30;
    let (inner, head) = if framed {
        let title = format!("{} · {}", progress(p), p.lesson.title);
        (panel(theme, &title, area, buf, true), None)
    } else {
        let head = Rect::new(area.x, area.y, area.width, 1);
        let rest = Rect::new(
            area.x,
            area.y + 1,
            area.width,
            area.height.saturating_sub(1),
        );
        (rest, Some(head))
    };
    if let Some(h) = head {
        let left = format!(" {} · {} ", progress(p), p.lesson.title);
        let w = h.width as usize;
        // The keys first, then the title; "step i/n" always stays.
        let keep = width(&progress(p)) + 3;
        let keys = key_line(p, p.last_area.get(), "", w.saturating_sub(keep + 2));
        let left = fit(&left, w.saturating_sub(width(&keys) + 2));
        text(
            vec![Line::from(vec![
                Span::styled(left, bold.patch(theme.accent())),
                Span::styled(format!("│ {keys}"), theme.dim()),
            ])],
            h,
            buf,
        );
    }
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let w = inner.width as usize;
    let lines = text_lines(p, w, !framed);
    // The last row of a framed panel says how to move on and where we are.
    let (body_h, footer) = if framed && inner.height > 2 {
        (inner.height - 1, true)
    } else {
        (inner.height, false)
    };
    let max_scroll = lines.len().saturating_sub(body_h as usize);
    p.max_scroll.set(max_scroll);
    let first = p.scroll.min(max_scroll);
    let shown: Vec<Line> = lines
        .into_iter()
        .skip(first)
        .take(body_h as usize)
        .collect();
    text(shown, Rect::new(inner.x, inner.y, inner.width, body_h), buf);
    if footer {
        let more = scroll_marker(first, max_scroll, theme.lang);
        let keys = key_line(p, p.last_area.get(), more, w);
        text(
            vec![Line::styled(fit(&keys, w), theme.dim())],
            Rect::new(inner.x, inner.y + body_h, inner.width, 1),
            buf,
        );
    } else {
        // Unframed: the marker sits on the last row's right end.
        let m = scroll_marker(first, max_scroll, theme.lang);
        let mw = width(m) as u16;
        if mw > 0 && inner.width > mw + 1 && body_h > 0 {
            text(
                vec![Line::styled(format!(" {m}"), theme.accent())],
                Rect::new(inner.right() - mw - 1, inner.y + body_h - 1, mw + 1, 1),
                buf,
            );
        }
    }
}

/// The step's text as lines `w` columns wide; `compact` leaves out the
/// caption (the explorer's header says the same) and the spacing.
fn text_lines(p: &Player, w: usize, compact: bool) -> Vec<Line<'static>> {
    let theme = p.app.theme();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut out: Vec<Line<'static>> = vec![];
    let Some(scene) = p.lesson.scenes.get(p.scene) else {
        let none = Msg::PlayerNoSteps.get(p.lesson.lang);
        out.extend(wrap_md(none, w, Style::default()));
        return out;
    };
    out.extend(wrap_md(
        &format!("{}. {}", p.scene + 1, scene.title),
        w,
        bold.patch(theme.accent()),
    ));
    let f = match &p.filled {
        Ok(f) => f,
        Err(e) => {
            out.extend(wrap_md(
                &Msg::PlayerCannotShow.fill(p.lesson.lang, &[e]),
                w,
                theme.alarm(),
            ));
            return out;
        }
    };
    // The caption names the selected cell, which may be the answer.
    let hiding = p.hiding_view();
    if !compact && !hiding {
        out.extend(wrap_md(&f.caption, w, theme.dim()));
    }
    if p.free {
        out.extend(wrap_md(
            Msg::PlayerFree.get(p.lesson.lang),
            w,
            theme.alarm(),
        ));
    }
    if !compact {
        out.push(Line::raw(""));
    }
    if let Some(intro) = &f.intro {
        let intro = strip_title(intro, &p.lesson.title);
        out.extend(markdown(&intro, w));
        out.push(Line::raw(""));
    }
    let checks = p.checks.get(p.scene).cloned().unwrap_or_default();
    let mut qi = 0;
    for b in &f.blocks {
        match b {
            FilledBlock::Text(t) => out.extend(markdown(t, w)),
            FilledBlock::Predict(c) => {
                let state = checks.get(qi).copied().unwrap_or(Check::Open);
                let has_match = scene
                    .body
                    .iter()
                    .filter_map(|b| match b {
                        Block::Predict(c) => Some(c.matches.is_some()),
                        Block::Text(_) => None,
                    })
                    .nth(qi)
                    .unwrap_or(false);
                out.extend(checkpoint_lines(p, c, state, has_match, w));
                qi += 1;
                // What follows an open question is its reveal.
                if state == Check::Open {
                    break;
                }
            }
        }
        out.push(Line::raw(""));
    }
    while out.last().is_some_and(|l| l.width() == 0) {
        out.pop();
    }
    out
}

/// Drops the intro's "# Title" heading (the panel already shows the title).
fn strip_title(intro: &str, title: &str) -> String {
    let t = intro.trim_start();
    match t.strip_prefix("# ") {
        Some(rest)
            if rest
                .lines()
                .next()
                .is_some_and(|l| l.trim() == title.trim()) =>
        {
            rest.split_once('\n').map_or("", |x| x.1).to_string()
        }
        _ => intro.to_string(),
    }
}

/// `has_match`: the lesson names the right choice (so "none matched" is news).
fn checkpoint_lines(
    p: &Player,
    c: &FilledCheckpoint,
    state: Check,
    has_match: bool,
    w: usize,
) -> Vec<Line<'static>> {
    let theme = p.app.theme();
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let lang = p.lesson.lang;
    let mut out = wrap_md(&Msg::PlayerPredict.fill(lang, &[&c.question]), w, bold);
    for (k, t) in &c.choices {
        let mark = match state {
            Check::Open => "",
            _ if c.correct == Some(*k) => Msg::PlayerMarkModel.get(lang),
            Check::Answered(a) if a == *k => Msg::PlayerMarkYours.get(lang),
            _ => "",
        };
        let style = match state {
            Check::Open => Style::default(),
            _ if c.correct == Some(*k) => theme.accent().add_modifier(Modifier::BOLD),
            Check::Answered(a) if a == *k => theme.alarm(),
            _ => theme.dim(),
        };
        out.extend(wrap_md(&format!("  {k}) {t}{mark}"), w, style));
    }
    let keys: Vec<String> = c.choices.iter().map(|(k, _)| k.to_string()).collect();
    let verdict = match state {
        Check::Open => {
            out.extend(wrap_md(
                &Msg::PlayerPress.fill(lang, &[&keys.join(", ")]),
                w,
                theme.accent(),
            ));
            return out;
        }
        Check::Answered(a) => match c.correct {
            Some(k) if k == a => Msg::PlayerRight.fill(lang, &[&a]),
            Some(k) => Msg::PlayerNotQuite.fill(lang, &[&a, &k]),
            None if has_match => Msg::PlayerNoneMatched.fill(lang, &[&a]),
            None => Msg::PlayerYouChose.fill(lang, &[&a]),
        },
        Check::Revealed => match c.correct {
            Some(k) => Msg::PlayerModelsChoice.fill(lang, &[&k]),
            None => String::new(),
        },
    };
    let verdict_style = match (state, c.correct) {
        (Check::Answered(a), Some(k)) if a == k => theme.accent().add_modifier(Modifier::BOLD),
        (Check::Answered(_), Some(_)) => theme.alarm(),
        _ => bold,
    };
    if !verdict.is_empty() {
        out.extend(wrap_md(&verdict, w, verdict_style));
    }
    out.extend(markdown(&Msg::PlayerAnswer.fill(lang, &[&c.answer]), w));
    out
}

/// The keys overlay over the whole player: the lesson's keys, then every
/// explorer key (help and quit first), in two columns when the screen is wide.
fn draw_help(p: &Player, area: Rect, buf: &mut Buffer) {
    // One overlay over the whole screen: the lesson's keys, then the explorer's.
    ratatui::widgets::Widget::render(ratatui::widgets::Clear, area, buf);
    draw::help_overlay(
        p.app.theme(),
        &[
            (Msg::HelpSectionLesson, &PLAYER),
            (Msg::HelpSectionExplorer, &EXPLORER),
        ],
        p.app.help_scroll(),
        area,
        buf,
    );
}
