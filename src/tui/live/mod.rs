//! `gptlens train --live`: the training run on screen while it runs. The
//! loss curves grow against the uniform, unigram and bigram lines, a probe
//! prompt's attention for one head is redrawn from the current weights, with
//! every head's previous-token and induction score and the probe's greedy
//! continuation; step, tokens/s, ETA and learning rate on top.
//!
//! Elm-shaped like the explorer: [`Live`] is the state (private fields),
//! [`LiveEvent`]s from the training thread and [`Action`]s from the
//! [`KEYS`] table change it, and [`draw::render`] is a pure function of it.

pub mod classroom;
pub mod draw;
pub mod run;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::i18n::Msg;
use crate::train::Progress;
use crate::train::record::HeadRow;
use crate::train::watch::{LiveEvent, LiveStart, ProbeView};
use crate::tui::heatmap::Theme;

/// Below this the live screen does not fit; the CLI falls back to plain
/// progress lines (and says so).
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 18;

/// Most training-loss points kept for the curve.
const MAX_POINTS: usize = 4096;

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Pause,
    Checkpoint,
    NextHead,
    PrevHead,
    NextLayer,
    PrevLayer,
    Help,
    Quit,
}

/// The one keymap: dispatch and the help overlay and key line are read from it.
pub const KEYS: &[(&[KeyCode], &str, Action, Msg)] = &[
    (
        &[KeyCode::Char(' '), KeyCode::Char('p')],
        "space",
        Action::Pause,
        Msg::LiveKeyPause,
    ),
    (
        &[KeyCode::Char('c')],
        "c",
        Action::Checkpoint,
        Msg::LiveKeyCheckpoint,
    ),
    (
        &[KeyCode::Right, KeyCode::Char('l')],
        "→",
        Action::NextHead,
        Msg::LiveKeyNextHead,
    ),
    (
        &[KeyCode::Left, KeyCode::Char('h')],
        "←",
        Action::PrevHead,
        Msg::LiveKeyPrevHead,
    ),
    (
        &[KeyCode::Down, KeyCode::Char('j')],
        "↓",
        Action::NextLayer,
        Msg::LiveKeyNextLayer,
    ),
    (
        &[KeyCode::Up, KeyCode::Char('k')],
        "↑",
        Action::PrevLayer,
        Msg::LiveKeyPrevLayer,
    ),
    (&[KeyCode::Char('?')], "?", Action::Help, Msg::HintHelp),
    (
        &[KeyCode::Char('q'), KeyCode::Esc],
        "q",
        Action::Quit,
        Msg::LiveKeyQuit,
    ),
];

/// The action bound to a key press (Ctrl-C quits, as everywhere).
pub fn action_for(key: &KeyEvent) -> Option<Action> {
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    KEYS.iter()
        .find(|(codes, ..)| codes.contains(&key.code))
        .map(|k| k.2)
}

/// One logged point of the curves.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    step: u64,
    loss: f64,
}

/// The live screen's state.
pub struct Live {
    theme: Theme,
    start: Option<LiveStart>,
    last: Option<Progress>,
    train: Vec<Point>,
    valid: Vec<Point>,
    probe: Option<ProbeView>,
    /// Every probe's scores, for the heads' curves.
    heads: Vec<HeadRow>,
    layer: usize,
    head: usize,
    paused: bool,
    help: bool,
    quitting: bool,
    /// A line for the status bar ("checkpoint asked for", …).
    status: Option<String>,
    notes: Vec<String>,
}

impl Live {
    pub fn new(theme: Theme) -> Self {
        Live {
            theme,
            start: None,
            last: None,
            train: vec![],
            valid: vec![],
            probe: None,
            heads: vec![],
            layer: 0,
            head: 0,
            paused: false,
            help: false,
            quitting: false,
            status: None,
            notes: vec![],
        }
    }

    /// Applies what the training thread said.
    pub fn on_event(&mut self, ev: LiveEvent) {
        match ev {
            LiveEvent::Begin(s) => {
                self.layer = self.layer.min(s.n_layer.saturating_sub(1));
                self.head = self.head.min(s.n_head.saturating_sub(1));
                self.start = Some(s);
            }
            LiveEvent::Step(p) => {
                if let Some(m) = &p.message {
                    self.notes.push(m.clone());
                    return;
                }
                if p.tokenizing.is_some() || p.step == 0 {
                    return;
                }
                self.train.push(Point {
                    step: p.step,
                    loss: p.loss as f64,
                });
                // A long run keeps every other point once there are many:
                // the curve keeps its shape and a frame stays cheap.
                if self.train.len() > MAX_POINTS {
                    let mut i = 0;
                    self.train.retain(|_| {
                        i += 1;
                        i % 2 == 1
                    });
                }
                if let Some(v) = p.val_loss {
                    self.valid.push(Point {
                        step: p.step,
                        loss: v as f64,
                    });
                }
                self.last = Some(p);
            }
            LiveEvent::Probe(v) => {
                for (l, (prev, ind)) in v
                    .scores
                    .previous_token
                    .iter()
                    .zip(&v.scores.induction)
                    .enumerate()
                {
                    for (h, (&p, &i)) in prev.iter().zip(ind).enumerate() {
                        self.heads.push(HeadRow {
                            step: v.step,
                            layer: l,
                            head: h,
                            previous_token: p as f64,
                            induction: i as f64,
                        });
                    }
                }
                self.probe = Some(*v);
            }
        }
    }

    /// Applies a key's action; returns it so the runtime can pass it on
    /// (pause, checkpoint and quit reach the training thread).
    pub fn on_action(&mut self, a: Action) -> Action {
        let (nl, nh) = self
            .start
            .as_ref()
            .map_or((1, 1), |s| (s.n_layer.max(1), s.n_head.max(1)));
        match a {
            Action::Pause => {
                self.paused = !self.paused;
                let m = if self.paused {
                    Msg::LiveStatusPaused
                } else {
                    Msg::LiveStatusResumed
                };
                self.status = Some(m.get(self.theme.lang).into());
            }
            Action::Checkpoint => {
                self.status = Some(Msg::LiveStatusCheckpoint.get(self.theme.lang).into())
            }
            Action::NextHead => self.head = (self.head + 1) % nh,
            Action::PrevHead => self.head = (self.head + nh - 1) % nh,
            Action::NextLayer => self.layer = (self.layer + 1) % nl,
            Action::PrevLayer => self.layer = (self.layer + nl - 1) % nl,
            Action::Help => self.help = !self.help,
            Action::Quit => {
                self.quitting = true;
                self.status = Some(Msg::LiveStatusStopping.get(self.theme.lang).into());
            }
        }
        a
    }

    pub fn paused(&self) -> bool {
        self.paused
    }
    pub fn quitting(&self) -> bool {
        self.quitting
    }
    pub fn selected(&self) -> (usize, usize) {
        (self.layer, self.head)
    }
    pub fn set_status(&mut self, s: impl Into<String>) {
        self.status = Some(s.into());
    }
}

#[cfg(test)]
mod tests;
