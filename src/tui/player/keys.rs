//! The player's keys: the lesson's own (the `PLAYER` keymap, and an open
//! question's answer keys) are taken first; every other event goes to the
//! explorer.

use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use ratatui::layout::Rect;

use super::draw::draw_player;
use super::{Check, Player};
use crate::i18n::Msg;
use crate::tui::app::App;
use crate::tui::event;
use crate::tui::keymap::{Action, PLAYER};
use crate::tui::run::Screen;
use crate::tui::views::Hits;

impl Player {
    /// Applies one event: the lesson's keys first, the rest to the explorer.
    pub fn handle(&mut self, ev: &Event) {
        if matches!(ev, Event::Key(_)) {
            self.app.set_status(None);
        }
        if self.lesson_event(ev) {
            self.app.mark_dirty();
            event::settle(&mut self.app);
        } else {
            event::handle(&mut self.app, ev);
        }
        self.sync();
    }

    /// [`Player::handle`], then the queued engine work at once (tests).
    pub fn apply(&mut self, ev: &Event) {
        self.handle(ev);
        event::run_jobs_blocking(&mut self.app);
        self.sync();
    }

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
        // The help overlay and the prompt editor take every key.
        if self.app.help() || self.app.editing() || k.modifiers.contains(KeyModifiers::ALT) {
            return false;
        }
        // Ctrl-d / Ctrl-u scroll even while a question's choices include d.
        if k.modifiers.contains(KeyModifiers::CONTROL) {
            return match PLAYER.action(k) {
                Some(a @ (Action::ScrollDown | Action::ScrollUp)) => self.update(a),
                _ => false,
            };
        }
        // An open question's choice keys come first (they may be letters the
        // lesson's own keys use).
        if let KeyCode::Char(c) = k.code
            && let Some((i, keys)) = self.open_question()
            && keys.contains(&c)
        {
            self.checks[self.scene][i] = Check::Answered(c);
            return true;
        }
        match PLAYER.action(k) {
            Some(a) => self.update(a),
            None => false,
        }
    }

    /// Applies one of the lesson's actions; false when it does not apply now
    /// (the key then goes to the explorer).
    pub fn update(&mut self, a: Action) -> bool {
        match a {
            Action::NextScene => {
                if self.scene + 1 < self.n_scenes() {
                    self.goto(self.scene + 1);
                } else if let Some(next) = &self.next_lesson {
                    if self.offered_next {
                        self.wants_next = true;
                    } else {
                        self.offered_next = true;
                        let keys = PLAYER.hint_keys(Action::NextScene);
                        let list = crate::tui::keymap::EXPLORER.hint_keys(Action::Lessons);
                        let lang = self.app.theme().lang;
                        self.app
                            .set_status(Some(Msg::LastStepNext.fill(lang, &[&keys, next, &list])));
                    }
                } else {
                    let lang = self.app.theme().lang;
                    self.app.set_status(Some(Msg::LastStep.get(lang).into()));
                }
            }
            Action::PrevScene => {
                if self.scene > 0 {
                    self.goto(self.scene - 1);
                } else {
                    let lang = self.app.theme().lang;
                    self.app.set_status(Some(Msg::FirstStep.get(lang).into()));
                }
            }
            Action::ScrollDown => self.scroll_by(3),
            Action::ScrollUp => self.scroll = self.scroll.saturating_sub(3),
            Action::ReturnToScene => self.return_to_scene(),
            Action::ToggleText => self.expanded = !self.expanded,
            Action::Reveal => match self.open_question() {
                Some((i, _)) => self.checks[self.scene][i] = Check::Revealed,
                None => return false,
            },
            Action::TrainLive if self.offers_run() => self.wants_run = true,
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
        self.text_rect = super::draw::layout(self, area).0;
        draw_player(self, area, buf)
    }
}
