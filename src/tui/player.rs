//! The lesson player: a lesson's text beside the explorer, one step at a time.
//!
//! Each step moves the explorer to the view, stage and selection the lesson
//! names; its text is filled with the numbers of the explorer's current trace.
//! Keys the lesson needs are taken first (steps, scrolling, returning, the
//! checkpoint's answer keys while a question is open); every other key goes
//! to the explorer, so the student can explore freely inside a step.

use std::path::PathBuf;

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use super::app::App;
use super::draw::{self, MIN_H, MIN_W};
use super::event;
use super::run::Screen;
use super::views::{Hits, fit, panel, text, width};
use crate::lesson::render::{self, FilledBlock, FilledCheckpoint};
use crate::lesson::{Block, Env, Lesson, Sel};
use crate::pass::{Stage, View};
use crate::text::safe_text;
use crate::tokenizer::Tokenizer;

/// The lesson's own keys, for the text panel, the help overlay and the docs.
pub const KEYS: &[(&str, &str)] = &[
    ("pgdn > pgup <", "next / previous lesson step"),
    ("d u", "scroll the lesson text (or the mouse wheel on it)"),
    (
        "r",
        "back to the step's selection, prompt, no interventions",
    ),
    ("x", "lesson text full screen / beside the view"),
    (
        "a-h 1-9 =",
        "answer the open question / just show the answer",
    ),
];

/// Where a "predict, then reveal" question stands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    Open,
    /// The student pressed this choice's key.
    Answered(char),
    /// The student asked for the answer without guessing.
    Revealed,
}

/// A step's text with every placeholder filled in.
pub struct Filled {
    /// The resolved selection the step moves the explorer to.
    pub sel: Sel,
    pub caption: String,
    /// The lesson's introduction (first step only).
    pub intro: Option<String>,
    pub blocks: Vec<FilledBlock>,
}

/// A filled step, or why it cannot be filled.
pub type FillResult = Result<Filled, String>;

/// What the explorer looks like at the step's selection; anything else is
/// free exploration.
#[derive(Clone, Debug, PartialEq)]
struct Target {
    pass_step: usize,
    view: View,
    layer: usize,
    head: usize,
    pos: usize,
    cell: usize,
}

/// The player's whole state: the explorer plus where the student is in the lesson.
pub struct Player {
    pub app: App,
    pub lesson: Lesson,
    pub tokenizer: Tokenizer,
    pub model_dir: Option<PathBuf>,
    /// Index into `lesson.scenes`.
    pub step: usize,
    /// First line of the text shown.
    pub scroll: usize,
    /// Per step, per checkpoint in the step.
    pub checks: Vec<Vec<Check>>,
    /// The student moved the explorer away from the step's selection.
    pub free: bool,
    /// The text takes the whole screen.
    pub expanded: bool,
    /// The step filled against the current tokens (Err: why it cannot be).
    pub filled: Result<Filled, String>,
    filled_for: (usize, Vec<u32>),
    /// Steps filled before, with the tokens they were filled for: going back
    /// to a step whose placeholders are slow (beam search, speed) is instant.
    cache: Vec<Option<(Vec<u32>, FillResult)>>,
    target: Option<Target>,
    /// Where the text was drawn last (for the mouse wheel).
    text_rect: Rect,
    /// How far the text could scroll when last drawn (so `d` stops at the end).
    max_scroll: std::cell::Cell<usize>,
}

impl Player {
    /// Starts at the first step. `app` must run the lesson's prompt.
    pub fn new(
        app: App,
        lesson: Lesson,
        tokenizer: Tokenizer,
        model_dir: Option<PathBuf>,
    ) -> Player {
        let mut app = app;
        if let Some(d) = &model_dir
            && app.model_dir.is_none()
        {
            app.set_model_dir(d);
        }
        let checks = lesson
            .scenes
            .iter()
            .map(|s| {
                s.body
                    .iter()
                    .filter(|b| matches!(b, Block::Predict(_)))
                    .map(|_| Check::Open)
                    .collect()
            })
            .collect();
        let mut p = Player {
            app,
            lesson,
            tokenizer,
            model_dir,
            step: 0,
            scroll: 0,
            checks,
            free: false,
            expanded: false,
            filled: Err("not filled yet".into()),
            filled_for: (usize::MAX, vec![]),
            cache: vec![],
            target: None,
            text_rect: Rect::default(),
            max_scroll: std::cell::Cell::new(usize::MAX),
        };
        p.goto(0);
        p
    }

    pub fn n_steps(&self) -> usize {
        self.lesson.scenes.len()
    }

    /// Moves to step `i`: the lesson's prompt, the step's view, stage and selection.
    pub fn goto(&mut self, i: usize) {
        self.step = i.min(self.n_steps().saturating_sub(1));
        self.scroll = 0;
        self.max_scroll.set(usize::MAX);
        self.restore_prompt();
        self.sync();
        self.apply_selection();
    }

    /// `r`: the step as the lesson set it up, interventions cleared.
    pub fn return_to_step(&mut self) {
        let app = &mut self.app;
        if app.iv.is_active() {
            app.iv = Default::default();
            app.alt = None;
            app.lens = None;
        }
        self.goto(self.step);
    }

    /// Takes back tokens generated after the lesson's prompt.
    fn restore_prompt(&mut self) {
        let app = &mut self.app;
        let mut changed = false;
        while let Some(s) = app.session.as_mut() {
            if !s.back() {
                break;
            }
            changed = true;
        }
        if changed {
            app.after_tokens_changed();
        }
    }

    /// Points the explorer at the step's selection.
    fn apply_selection(&mut self) {
        let Some(step) = self.lesson.scenes.get(self.step) else {
            return;
        };
        let Ok(f) = &self.filled else {
            return;
        };
        let sel = f.sel;
        let view = step.view;
        let stage = step
            .stage
            .or_else(|| Stage::ALL.into_iter().find(|s| s.view() == view))
            .unwrap_or(Stage::Embed);
        let app = &mut self.app;
        event::goto_stage(app, stage, sel.layer);
        if app.view != view {
            app.view = view;
            app.zoom = false;
        }
        app.layer = sel.layer;
        app.head = sel.head;
        app.pos = sel.pos;
        app.cell = if view == View::Attention { sel.key } else { 0 };
        app.refresh();
        self.target = Some(self.snapshot());
        self.free = false;
    }

    fn snapshot(&self) -> Target {
        let a = &self.app;
        Target {
            pass_step: a.step,
            view: a.view,
            layer: a.layer,
            head: a.head,
            pos: a.pos,
            cell: a.cell,
        }
    }

    /// Re-fills the step when the step or the tokens changed, and notes
    /// whether the student has moved away from the step's selection.
    pub fn sync(&mut self) {
        if let Some(s) = self.app.session.as_ref() {
            if self.filled_for.0 != self.step || self.filled_for.1 != s.tokens {
                let tokens = s.tokens.clone();
                let old = std::mem::replace(&mut self.filled_for, (self.step, tokens.clone()));
                self.cache.resize_with(self.n_steps(), || None);
                let cached = match self.cache.get_mut(self.step).and_then(Option::take) {
                    Some((t, f)) if t == tokens => Some(f),
                    _ => None,
                };
                let fresh = match cached {
                    Some(f) => f,
                    None => self.fill_step(),
                };
                let prev = std::mem::replace(&mut self.filled, fresh);
                if let Some(slot) = self.cache.get_mut(old.0) {
                    *slot = Some((old.1, prev));
                }
            }
            self.free = self.target.as_ref() != Some(&self.snapshot())
                || self.app.iv.is_active()
                || s.tokens.len() != s.prompt_len;
        }
    }

    fn fill_step(&self) -> Result<Filled, String> {
        let l = &self.lesson;
        let step = l.scenes.get(self.step).ok_or("the lesson has no steps")?;
        let trace = self.app.trace().ok_or("the engine is busy")?;
        let env = Env::new(
            &self.app.gpt,
            &self.tokenizer,
            trace,
            &l.prompt,
            self.model_dir.as_deref(),
        );
        let e = |e: crate::lesson::LessonError| e.to_string();
        let sel = render::scene_sel(l, step, &env).map_err(e)?;
        let intro = if self.step == 0 {
            Some(render::fill_intro(l, &env).map_err(e)?)
        } else {
            None
        };
        let blocks = step
            .body
            .iter()
            .map(|b| {
                Ok(match b {
                    Block::Text(t) => FilledBlock::Text(render::fill(l, t, &env, &sel)?),
                    Block::Predict(c) => {
                        FilledBlock::Predict(render::fill_checkpoint(l, c, &env, &sel)?)
                    }
                })
            })
            .collect::<Result<Vec<_>, crate::lesson::LessonError>>()
            .map_err(e)?;
        Ok(Filled {
            sel,
            caption: render::scene_caption(step, &env, &sel),
            intro,
            blocks,
        })
    }

    /// The first unanswered question of the step, with its keys.
    fn open_question(&self) -> Option<(usize, Vec<char>)> {
        let f = self.filled.as_ref().ok()?;
        let checks = self.checks.get(self.step)?;
        f.blocks
            .iter()
            .filter_map(|b| match b {
                FilledBlock::Predict(c) => Some(c),
                FilledBlock::Text(_) => None,
            })
            .enumerate()
            .find(|(i, _)| checks.get(*i) == Some(&Check::Open))
            .map(|(i, c)| (i, c.choices.iter().map(|(k, _)| *k).collect()))
    }

    /// Applies one event: the lesson's keys first, the rest to the explorer.
    pub fn handle(&mut self, ev: &Event) {
        if matches!(ev, Event::Key(_)) {
            self.app.status = None;
        }
        if self.lesson_event(ev) {
            self.app.dirty = true;
            self.app.refresh();
        } else {
            event::handle(&mut self.app, ev);
        }
        self.sync();
    }

    /// [`Player::handle`], then the queued engine work at once (tests).
    pub fn apply(&mut self, ev: &Event) {
        self.handle(ev);
        self.app.run_jobs_blocking();
        self.sync();
    }

    fn scroll_by(&mut self, n: usize) {
        self.scroll = (self.scroll + n).min(self.max_scroll.get());
    }

    /// Returns true when the event was a lesson key.
    fn lesson_event(&mut self, ev: &Event) -> bool {
        match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.lesson_key(k),
            Event::Mouse(m) => {
                let r = self.text_rect;
                let inside =
                    m.column >= r.x && m.column < r.right() && m.row >= r.y && m.row < r.bottom();
                match m.kind {
                    MouseEventKind::ScrollDown if inside => {
                        self.scroll_by(1);
                        true
                    }
                    MouseEventKind::ScrollUp if inside => {
                        self.scroll = self.scroll.saturating_sub(1);
                        true
                    }
                    _ => inside,
                }
            }
            _ => false,
        }
    }

    fn lesson_key(&mut self, k: &KeyEvent) -> bool {
        if self.app.help
            || k.modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return false;
        }
        if let KeyCode::Char(c) = k.code
            && let Some((i, keys)) = self.open_question()
        {
            if keys.contains(&c) {
                self.checks[self.step][i] = Check::Answered(c);
                return true;
            }
            if c == '=' {
                self.checks[self.step][i] = Check::Revealed;
                return true;
            }
        }
        match k.code {
            KeyCode::PageDown | KeyCode::Char('>') => {
                if self.step + 1 < self.n_steps() {
                    self.goto(self.step + 1);
                } else {
                    self.app.status = Some("the last step: PgUp goes back, q quits".into());
                }
            }
            KeyCode::PageUp | KeyCode::Char('<') => {
                if self.step > 0 {
                    self.goto(self.step - 1);
                } else {
                    self.app.status = Some("the first step: PgDn goes on".into());
                }
            }
            KeyCode::Char('d') => self.scroll_by(3),
            KeyCode::Char('u') => self.scroll = self.scroll.saturating_sub(3),
            KeyCode::Char('r') => self.return_to_step(),
            KeyCode::Char('x') => self.expanded = !self.expanded,
            _ => return false,
        }
        true
    }
}

impl Screen for Player {
    fn app(&self) -> &App {
        &self.app
    }
    fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }
    fn handle(&mut self, ev: &Event) {
        Player::handle(self, ev)
    }
    fn draw(&mut self, area: Rect, buf: &mut Buffer) -> Hits {
        self.sync();
        self.text_rect = layout(self, area).0;
        draw_player(self, area, buf)
    }
}

/// (text area, explorer area or None when only the text fits or is asked for).
fn layout(p: &Player, area: Rect) -> (Rect, Option<Rect>) {
    if p.expanded || area.width < MIN_W || area.height < MIN_H + 4 {
        return (area, None);
    }
    if area.width >= 120 {
        let tw = (area.width * 2 / 5).clamp(40, 80).min(area.width - MIN_W);
        let text = Rect::new(area.x, area.y, tw, area.height);
        let view = Rect::new(area.x + tw, area.y, area.width - tw, area.height);
        return (text, Some(view));
    }
    let vh = MIN_H.max(area.height * 3 / 5);
    let th = area.height - vh;
    let text = Rect::new(area.x, area.y, area.width, th);
    let view = Rect::new(area.x, area.y + th, area.width, vh);
    (text, Some(view))
}

/// Draws the lesson text and, beside or below it, the explorer. Pure: call
/// [`Player::sync`] first after changing the state by hand.
pub fn draw_player(p: &Player, area: Rect, buf: &mut Buffer) -> Hits {
    let (text_area, view_area) = layout(p, area);
    let hits = match view_area {
        Some(v) => draw::draw(&p.app, v, buf),
        None => Hits::new(),
    };
    draw_text(p, text_area, buf);
    if p.app.help {
        draw_help(p, area, buf);
    }
    hits
}

fn progress(p: &Player) -> String {
    let n = p.n_steps();
    format!("step {}/{}", (p.step + 1).min(n), n)
}

fn draw_text(p: &Player, area: Rect, buf: &mut Buffer) {
    let theme = &p.app.theme;
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
        let hint = "│ pgdn/pgup step · d/u scroll · r return · x text · ? keys";
        let w = h.width as usize;
        let right = fit(hint, w.saturating_sub(width(&left)));
        text(
            vec![Line::from(vec![
                Span::styled(left, bold.patch(theme.accent())),
                Span::styled(right, theme.dim()),
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
        let more = if first < max_scroll {
            " · d: more"
        } else {
            ""
        };
        let keys = format!("pgdn next · pgup back · d/u scroll · r return · x text{more}");
        text(
            vec![Line::styled(fit(&keys, w), theme.dim())],
            Rect::new(inner.x, inner.y + body_h, inner.width, 1),
            buf,
        );
    }
}

/// The step's text as lines `w` columns wide; `compact` leaves out the
/// caption (the explorer's header says the same) and the spacing.
fn text_lines(p: &Player, w: usize, compact: bool) -> Vec<Line<'static>> {
    let theme = &p.app.theme;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut out: Vec<Line<'static>> = vec![];
    let Some(step) = p.lesson.scenes.get(p.step) else {
        out.extend(wrap_md("This lesson has no steps.", w, Style::default()));
        return out;
    };
    out.extend(wrap_md(
        &format!("{}. {}", p.step + 1, step.title),
        w,
        bold.patch(theme.accent()),
    ));
    let f = match &p.filled {
        Ok(f) => f,
        Err(e) => {
            out.extend(wrap_md(
                &format!("This step cannot be shown: {e}"),
                w,
                theme.alarm(),
            ));
            return out;
        }
    };
    if !compact {
        out.extend(wrap_md(&f.caption, w, theme.dim()));
    }
    if p.free {
        out.extend(wrap_md(
            "You are exploring freely; the text describes the step's selection. r returns to it.",
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
    let checks = p.checks.get(p.step).cloned().unwrap_or_default();
    let mut qi = 0;
    for b in &f.blocks {
        match b {
            FilledBlock::Text(t) => out.extend(markdown(t, w)),
            FilledBlock::Predict(c) => {
                let state = checks.get(qi).copied().unwrap_or(Check::Open);
                let has_match = step
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
    let theme = &p.app.theme;
    let bold = Style::default().add_modifier(Modifier::BOLD);
    let mut out = wrap_md(&format!("Predict: {}", c.question), w, bold);
    for (k, t) in &c.choices {
        let mark = match state {
            Check::Open => "",
            _ if c.correct == Some(*k) => "  ← the model's choice",
            Check::Answered(a) if a == *k => "  ← your answer",
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
                &format!(
                    "Press {} to answer (= shows the answer without guessing).",
                    keys.join(", ")
                ),
                w,
                theme.accent(),
            ));
            return out;
        }
        Check::Answered(a) => match c.correct {
            Some(k) if k == a => format!("Right ({a})."),
            Some(k) => format!("Not quite: you chose {a}, the model's choice is {k}."),
            None if has_match => format!("You chose {a}; the model's pick is none of the choices."),
            None => format!("You chose {a}."),
        },
        Check::Revealed => match c.correct {
            Some(k) => format!("The model's choice is {k}."),
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
    out.extend(markdown(&format!("The model's answer: {}", c.answer), w));
    out
}

fn draw_help(p: &Player, area: Rect, buf: &mut Buffer) {
    // The explorer's overlay is drawn by `draw::draw` in its own area; the
    // lesson keys go in a box at the top left, so both are visible.
    let h = (KEYS.len() as u16 + 2).min(area.height);
    let w = area.width.min(76);
    if w < 20 || h < 3 {
        return;
    }
    let r = Rect::new(area.x, area.y, w, h);
    ratatui::widgets::Widget::render(ratatui::widgets::Clear, r, buf);
    let inner = panel(&p.app.theme, "lesson keys", r, buf, true);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(fit(k, 15), p.app.theme.accent()),
                Span::raw(fit(what, (inner.width as usize).saturating_sub(15))),
            ])
        })
        .collect();
    text(lines, inner, buf);
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
            if !para.is_empty() {
                para.push(' ');
            }
            para.push_str(t);
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

/// Word-wraps one paragraph of markdown to `w` columns.
fn wrap_md(s: &str, w: usize, base: Style) -> Vec<Line<'static>> {
    let w = w.max(1);
    let chars = styled_chars(s, base);
    let mut lines: Vec<Vec<(char, Style)>> = vec![];
    let mut cur: Vec<(char, Style)> = vec![];
    let mut cur_w = 0usize;
    let mut i = 0;
    while i < chars.len() {
        // The next word with the spaces before it.
        let mut j = i;
        while j < chars.len() && chars[j].0 == ' ' {
            j += 1;
        }
        while j < chars.len() && chars[j].0 != ' ' {
            j += 1;
        }
        let word = &chars[i..j];
        let ww: usize = word.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
        if cur_w + ww <= w {
            cur.extend_from_slice(word);
            cur_w += ww;
        } else {
            let trimmed: Vec<(char, Style)> = word
                .iter()
                .skip_while(|(c, _)| *c == ' ')
                .copied()
                .collect();
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0;
            }
            for (c, st) in trimmed {
                let cw = c.width().unwrap_or(0);
                if cur_w + cw > w && !cur.is_empty() {
                    lines.push(std::mem::take(&mut cur));
                    cur_w = 0;
                }
                cur.push((c, st));
                cur_w += cw;
            }
        }
        i = j;
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines.into_iter().map(spans).collect()
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
