//! One terminal session across screens, without quitting: the explorer, a
//! lesson, the next lesson in the lessons' order, and the lesson list (`o`)
//! that opens any lesson from either. What a lesson runs on is the front
//! end's business ([`Lessons`]); the shell only swaps the screen.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{Event, KeyEventKind};
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Widget};

use super::Player;
use crate::i18n::Msg;
use crate::tui::app::App;
use crate::tui::draw;
use crate::tui::event;
use crate::tui::keymap::{Action, PICKER, PICKER_HINTS};
use crate::tui::run::Screen;
use crate::tui::views::{Hits, fit, panel, text, width};

/// A lesson as the list names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub title: String,
    pub summary: String,
}

/// Where the shell's lessons come from: the list in teaching order, and a
/// player for one of them. `open` is given the screen's explorer so that it
/// can keep its look (presenter mode) and reuse its model when the lesson
/// runs on the same one. Err: one sentence for the status line.
pub trait Lessons {
    fn list(&self) -> &[Entry];
    fn open(&mut self, name: &str, from: &App) -> Result<Player, String>;
}

enum Now {
    Explorer(Box<App>),
    Lesson(Box<Player>),
}

/// The screen the terminal loop runs: the explorer or a lesson, and the
/// lesson list over either while it is open.
pub struct Shell {
    now: Now,
    lessons: Box<dyn Lessons>,
    /// The lesson list is open, this row selected.
    picker: Option<usize>,
    /// A program to run in the terminal in the shell's place (the training
    /// run a lesson step offers), until the terminal loop takes it.
    external: Option<crate::tui::run::External>,
}

impl Shell {
    pub fn explorer(app: App, lessons: Box<dyn Lessons>) -> Shell {
        Shell {
            now: Now::Explorer(Box::new(app)),
            lessons,
            picker: None,
            external: None,
        }
    }

    pub fn lesson(p: Player, lessons: Box<dyn Lessons>) -> Shell {
        let mut s = Shell {
            now: Now::Lesson(Box::new(p)),
            lessons,
            picker: None,
            external: None,
        };
        s.tell_next();
        s
    }

    /// The lesson shown, if a lesson is.
    pub fn player(&self) -> Option<&Player> {
        match &self.now {
            Now::Lesson(p) => Some(p),
            Now::Explorer(_) => None,
        }
    }

    /// The selected row of the lesson list, while it is open.
    pub fn picker(&self) -> Option<usize> {
        self.picker
    }

    /// Where the shown lesson stands in the list.
    fn current(&self) -> Option<usize> {
        let name = &self.player()?.lesson().name;
        self.lessons.list().iter().position(|e| &e.name == name)
    }

    /// Tells the player which lesson follows it, so its last step can offer it.
    fn tell_next(&mut self) {
        let next = self
            .current()
            .and_then(|i| self.lessons.list().get(i + 1))
            .map(|e| e.title.clone());
        if let Now::Lesson(p) = &mut self.now {
            p.next_lesson = next;
        }
    }

    fn open(&mut self, name: &str) {
        let opened = match &self.now {
            Now::Explorer(a) => self.lessons.open(name, a),
            Now::Lesson(p) => self.lessons.open(name, p.app()),
        };
        match opened {
            Ok(p) => {
                self.now = Now::Lesson(Box::new(p));
                self.tell_next();
            }
            Err(e) => {
                let lang = self.app().theme().lang;
                self.app_mut()
                    .set_status(Some(Msg::CannotOpenLesson.fill(lang, &[&name, &e])))
            }
        }
        self.app_mut().mark_dirty();
    }

    /// What the screen asked for while handling the event: the list (`o`)
    /// or, at a lesson's last step, the next lesson.
    fn requests(&mut self) {
        if self.app_mut().take_lessons_request() {
            self.picker = Some(self.current().unwrap_or(0));
            self.app_mut().mark_dirty();
        }
        let run = match &mut self.now {
            Now::Lesson(p) => p.take_run_request(),
            Now::Explorer(_) => false,
        };
        if run {
            let lang = self.app().theme().lang;
            match crate::tui::live::classroom::external(lang) {
                Ok(x) => self.external = Some(x),
                Err(e) => self.app_mut().set_status(Some(e)),
            }
            self.app_mut().mark_dirty();
        }
        let next = match &mut self.now {
            Now::Lesson(p) => std::mem::take(&mut p.wants_next),
            Now::Explorer(_) => false,
        };
        if next
            && let Some(e) = self
                .current()
                .and_then(|i| self.lessons.list().get(i + 1))
                .cloned()
        {
            self.open(&e.name);
        }
    }

    fn picker_key(&mut self, ev: &Event, sel: usize) {
        let Event::Key(k) = ev else {
            self.app_mut().mark_dirty();
            return;
        };
        if k.kind == KeyEventKind::Release {
            return;
        }
        let n = self.lessons.list().len();
        match PICKER.action(k) {
            Some(Action::SelectUp) => self.picker = Some(sel.saturating_sub(1)),
            Some(Action::SelectDown) => self.picker = Some((sel + 1).min(n.saturating_sub(1))),
            Some(Action::Choose) => {
                self.picker = None;
                if let Some(e) = self.lessons.list().get(sel).cloned() {
                    self.open(&e.name);
                }
            }
            Some(Action::Close) => self.picker = None,
            Some(Action::Quit) => self.app_mut().quit(),
            _ => {}
        }
        self.app_mut().mark_dirty();
    }
}

impl Screen for Shell {
    fn app(&self) -> &App {
        match &self.now {
            Now::Explorer(a) => a,
            Now::Lesson(p) => p.app(),
        }
    }

    fn app_mut(&mut self) -> &mut App {
        match &mut self.now {
            Now::Explorer(a) => a,
            Now::Lesson(p) => p.app_mut(),
        }
    }

    fn handle(&mut self, ev: &Event) {
        if let Some(sel) = self.picker {
            self.picker_key(ev, sel);
            return;
        }
        match &mut self.now {
            Now::Explorer(a) => event::handle(a, ev),
            Now::Lesson(p) => p.handle(ev),
        }
        self.requests();
    }

    fn take_external(&mut self) -> Option<crate::tui::run::External> {
        self.external.take()
    }

    fn draw(&mut self, area: Rect, buf: &mut Buffer) -> Hits {
        let hits = match &mut self.now {
            Now::Explorer(a) => draw::draw(a, area, buf),
            Now::Lesson(p) => Screen::draw(p.as_mut(), area, buf),
        };
        match self.picker {
            Some(sel) => {
                draw_picker(self, sel, area, buf);
                Hits::new()
            }
            None => hits,
        }
    }
}

/// The lesson list over the screen: number, name and summary of each lesson
/// in teaching order, the selected row reversed, the one shown marked.
fn draw_picker(s: &Shell, sel: usize, area: Rect, buf: &mut Buffer) {
    let theme = s.app().theme();
    let list = s.lessons.list();
    if area.width < 30 || area.height < 6 {
        return;
    }
    let w = (area.width - 4).min(100);
    let h = (list.len() as u16 + 4).min(area.height - 2);
    let r = Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    );
    Clear.render(r, buf);
    let title = if s.player().is_some() {
        Msg::PickerTitle
    } else {
        Msg::PickerTitleModel
    }
    .get(theme.lang);
    let inner = panel(theme, title, r, buf, true);
    let rows = (inner.height as usize).saturating_sub(2);
    let first = sel.saturating_sub(rows.saturating_sub(1));
    let name_w = list.iter().map(|e| width(&e.name)).max().unwrap_or(8);
    let current = s.current();
    let mut lines: Vec<Line> = vec![];
    for (i, e) in list.iter().enumerate().skip(first).take(rows) {
        let mark = if current == Some(i) { "•" } else { " " };
        let row = format!("{mark}{:>2} {}  {}", i + 1, fit(&e.name, name_w), e.summary);
        let style = if i == sel {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
        };
        lines.push(Line::styled(fit(&row, inner.width as usize), style));
    }
    while lines.len() < rows {
        lines.push(Line::raw(""));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        fit(
            &PICKER.hint_line(PICKER_HINTS, "  ", theme.lang),
            inner.width as usize,
        ),
        theme.dim(),
    )));
    text(lines, inner, buf);
}
