//! Every key binding, once: what a key does ([`Action`]), how the help overlay
//! names it and what it says, and which keys the hint lines show. Dispatch
//! (`event`, the player's keys), the help overlays and the hint lines are all
//! read off these tables, so a binding cannot be documented in one place and
//! behave differently in another.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::i18n::{Lang, Msg};
use crate::pass::View;

/// Everything a key can ask for. The explorer's actions are applied by
/// `event::update`, the lesson's by the player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    Unzoom,
    ToggleZoom,
    NextStage,
    PrevStage,
    NextToken,
    BackToken,
    LayerDown,
    LayerUp,
    HeadDown,
    HeadUp,
    PosPrev,
    PosNext,
    SelectUp,
    SelectDown,
    NextView,
    PrevView,
    ShowView(View),
    TemperatureDown,
    TemperatureUp,
    TopKDown,
    TopKUp,
    TopPDown,
    TopPUp,
    ToggleBeam,
    AblateHead,
    ToggleScale,
    ToggleMask,
    ToggleLayerNorm,
    ClearInterventions,
    NextPalette,
    /// Write the screen as an SVG file in the current folder.
    WriteScreen,
    /// Open the lesson list (explorer and lesson alike).
    Lessons,
    /// The lesson list's own: open the selected lesson / close the list.
    Choose,
    Close,
    /// Presenter mode (large cells, a formula card) on or off, anywhere.
    TogglePresent,
    /// Open the prompt editor line.
    EditPrompt,
    /// Start the training run the lesson step offers (`run: classroom`).
    TrainLive,
    /// Jump to the next / previous stage that a different view draws (the
    /// stages in between show nothing new): sub-layer by sub-layer.
    NextPicture,
    PrevPicture,
    // The lesson player's own.
    NextScene,
    PrevScene,
    ScrollDown,
    ScrollUp,
    ReturnToScene,
    ToggleText,
    /// Show the open question's answer without guessing.
    Reveal,
}

impl Action {
    /// Whether the action reads or changes the session, so that it must wait
    /// while the engine works off the UI thread. Quit, help, unzoom and
    /// presenter mode never wait.
    pub fn needs_session(self) -> bool {
        !matches!(
            self,
            Action::Quit | Action::Help | Action::Unzoom | Action::TogglePresent
        )
    }
}

/// One key bound to an action; `hint`: the key is named in the hint lines.
#[derive(Clone, Copy, Debug)]
pub struct Bind {
    pub code: KeyCode,
    /// Only with Control held (otherwise modifiers are ignored, as a terminal
    /// reports `T` with Shift).
    pub ctrl: bool,
    pub action: Action,
    pub hint: bool,
}

const fn key(code: KeyCode, action: Action) -> Bind {
    Bind {
        code,
        ctrl: false,
        action,
        hint: false,
    }
}

const fn ch(c: char, action: Action) -> Bind {
    key(KeyCode::Char(c), action)
}

/// A key the hint lines name.
const fn shown(b: Bind) -> Bind {
    Bind { hint: true, ..b }
}

const fn ctrl(c: char, action: Action) -> Bind {
    Bind {
        ctrl: true,
        ..ch(c, action)
    }
}

/// A line of the help overlay: how it names the keys, what they do, and the
/// bindings themselves.
#[derive(Debug)]
pub struct Row {
    pub keys: &'static str,
    pub help: Msg,
    pub binds: &'static [Bind],
}

/// An entry of a hint line: the shown keys of `actions` (one action's keys
/// joined by "/", several actions' by `sep`), then `word`.
#[derive(Debug)]
pub struct Hint {
    pub actions: &'static [Action],
    pub sep: &'static str,
    pub word: Msg,
}

const fn hint(actions: &'static [Action], word: Msg) -> Hint {
    Hint {
        actions,
        sep: " ",
        word,
    }
}

const fn pair(actions: &'static [Action], word: Msg) -> Hint {
    Hint {
        actions,
        sep: "/",
        word,
    }
}

/// A table of bindings.
#[derive(Debug)]
pub struct Keymap {
    pub rows: &'static [Row],
}

impl Keymap {
    /// The action `k` is bound to. Control-bound keys need Control; the
    /// others match whatever the modifiers.
    pub fn action(&self, k: &KeyEvent) -> Option<Action> {
        let held = k.modifiers.contains(KeyModifiers::CONTROL);
        let binds = || self.rows.iter().flat_map(|r| r.binds.iter());
        binds()
            .find(|b| b.ctrl && held && b.code == k.code)
            .or_else(|| binds().find(|b| !b.ctrl && b.code == k.code))
            .map(|b| b.action)
    }

    /// The keys the hint lines show for `a`, joined by "/".
    pub fn hint_keys(&self, a: Action) -> String {
        self.rows
            .iter()
            .flat_map(|r| r.binds.iter())
            .filter(|b| b.action == a && b.hint)
            .map(|b| key_name(b.code))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// One hint entry as text in `lang`, e.g. "[ ] layer".
    pub fn hint(&self, h: &Hint, lang: Lang) -> String {
        let keys: Vec<String> = h.actions.iter().map(|&a| self.hint_keys(a)).collect();
        format!("{} {}", keys.join(h.sep), h.word.get(lang))
    }

    /// A hint line in `lang`: `hints` joined by `sep`.
    pub fn hint_line(&self, hints: &[Hint], sep: &str, lang: Lang) -> String {
        hints
            .iter()
            .map(|h| self.hint(h, lang))
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// How a hint line names a key.
pub fn key_name(code: KeyCode) -> String {
    match code {
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Right => "→".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Tab => "tab".into(),
        KeyCode::BackTab => "shift-tab".into(),
        KeyCode::Enter => "enter".into(),
        KeyCode::Esc => "esc".into(),
        KeyCode::Backspace => "backspace".into(),
        KeyCode::PageDown => "pgdn".into(),
        KeyCode::PageUp => "pgup".into(),
        KeyCode::F(n) => format!("f{n}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

use Action as A;

/// The explorer's keys, in the help overlay's order.
pub const EXPLORER: Keymap = Keymap {
    rows: &[
        Row {
            keys: "?",
            help: Msg::KeyHelp,
            binds: &[shown(ch('?', A::Help))],
        },
        Row {
            keys: "q ctrl-c",
            help: Msg::KeyQuit,
            binds: &[shown(ch('q', A::Quit)), ctrl('c', A::Quit)],
        },
        Row {
            keys: "space →",
            help: Msg::KeyNextStage,
            binds: &[
                shown(ch(' ', A::NextStage)),
                shown(key(KeyCode::Right, A::NextStage)),
            ],
        },
        Row {
            keys: "← backspace",
            help: Msg::KeyPrevStage,
            binds: &[
                shown(key(KeyCode::Left, A::PrevStage)),
                key(KeyCode::Backspace, A::PrevStage),
            ],
        },
        Row {
            keys: "j J",
            help: Msg::KeySubLayer,
            binds: &[shown(ch('j', A::NextPicture)), ch('J', A::PrevPicture)],
        },
        Row {
            keys: "n / N b",
            help: Msg::KeyToken,
            binds: &[
                shown(ch('n', A::NextToken)),
                ch('N', A::BackToken),
                ch('b', A::BackToken),
            ],
        },
        Row {
            keys: "[ ]",
            help: Msg::KeyLayer,
            binds: &[shown(ch('[', A::LayerDown)), shown(ch(']', A::LayerUp))],
        },
        Row {
            keys: "{ }",
            help: Msg::KeyHead,
            binds: &[shown(ch('{', A::HeadDown)), shown(ch('}', A::HeadUp))],
        },
        Row {
            keys: "h l  , .",
            help: Msg::KeyPosition,
            binds: &[
                ch('h', A::PosPrev),
                ch('l', A::PosNext),
                ch(',', A::PosPrev),
                ch('.', A::PosNext),
            ],
        },
        Row {
            keys: "↑ ↓",
            help: Msg::KeySelect,
            binds: &[
                key(KeyCode::Up, A::SelectUp),
                key(KeyCode::Down, A::SelectDown),
            ],
        },
        Row {
            keys: "tab shift-tab 1-9 0 -",
            help: Msg::KeyView,
            binds: &[
                shown(key(KeyCode::Tab, A::NextView)),
                key(KeyCode::BackTab, A::PrevView),
                ch('1', A::ShowView(View::ALL[0])),
                ch('2', A::ShowView(View::ALL[1])),
                ch('3', A::ShowView(View::ALL[2])),
                ch('4', A::ShowView(View::ALL[3])),
                ch('5', A::ShowView(View::ALL[4])),
                ch('6', A::ShowView(View::ALL[5])),
                ch('7', A::ShowView(View::ALL[6])),
                ch('8', A::ShowView(View::ALL[7])),
                ch('9', A::ShowView(View::ALL[8])),
                ch('0', A::ShowView(View::ALL[9])),
                ch('-', A::ShowView(View::ALL[10])),
            ],
        },
        Row {
            keys: "enter / esc",
            help: Msg::KeyZoom,
            binds: &[
                shown(key(KeyCode::Enter, A::ToggleZoom)),
                key(KeyCode::Esc, A::Unzoom),
            ],
        },
        Row {
            keys: "t T",
            help: Msg::KeyTemperature,
            binds: &[ch('t', A::TemperatureDown), ch('T', A::TemperatureUp)],
        },
        Row {
            keys: "k K",
            help: Msg::KeyTopK,
            binds: &[ch('k', A::TopKDown), ch('K', A::TopKUp)],
        },
        Row {
            keys: "p P",
            help: Msg::KeyTopP,
            binds: &[ch('p', A::TopPDown), ch('P', A::TopPUp)],
        },
        Row {
            keys: "B",
            help: Msg::KeyBeam,
            binds: &[ch('B', A::ToggleBeam)],
        },
        Row {
            keys: "a",
            help: Msg::KeyAblate,
            binds: &[ch('a', A::AblateHead)],
        },
        Row {
            keys: "s m L",
            help: Msg::KeyInterventions,
            binds: &[
                ch('s', A::ToggleScale),
                ch('m', A::ToggleMask),
                ch('L', A::ToggleLayerNorm),
            ],
        },
        Row {
            keys: "c",
            help: Msg::KeyClear,
            binds: &[ch('c', A::ClearInterventions)],
        },
        Row {
            keys: "v / w",
            help: Msg::KeyPalette,
            binds: &[ch('v', A::NextPalette), ch('w', A::WriteScreen)],
        },
        Row {
            keys: "z f5",
            help: Msg::KeyPresent,
            binds: &[
                shown(ch('z', A::TogglePresent)),
                key(KeyCode::F(5), A::TogglePresent),
            ],
        },
        Row {
            keys: "i",
            help: Msg::KeyEdit,
            binds: &[shown(ch('i', A::EditPrompt))],
        },
        Row {
            keys: "o",
            help: Msg::KeyLessons,
            binds: &[shown(ch('o', A::Lessons))],
        },
        Row {
            keys: "mouse",
            help: Msg::KeyMouse,
            binds: &[],
        },
    ],
};

/// The keys the explorer's hint bar always shows, whatever the width: the
/// two a newcomer needs.
pub const EXPLORER_ESSENTIAL_HINTS: &[Hint] = &[
    hint(&[A::Help], Msg::HintHelp),
    hint(&[A::Quit], Msg::HintQuit),
];

/// The explorer's other hints, most useful first: the bar shows as many whole
/// entries as fit after the essential ones.
pub const EXPLORER_HINTS: &[Hint] = &[
    hint(&[A::NextStage], Msg::HintStage),
    hint(&[A::PrevStage], Msg::HintBack),
    hint(&[A::NextPicture], Msg::HintSubLayer),
    hint(&[A::NextToken], Msg::HintToken),
    hint(&[A::LayerDown, A::LayerUp], Msg::HintLayer),
    hint(&[A::HeadDown, A::HeadUp], Msg::HintHead),
    hint(&[A::NextView], Msg::HintView),
    hint(&[A::ToggleZoom], Msg::HintZoom),
    hint(&[A::EditPrompt], Msg::HintPrompt),
    hint(&[A::TogglePresent], Msg::HintPresent),
    hint(&[A::Lessons], Msg::HintLessons),
];

/// The lesson player's own keys, taken before the explorer's. The answer keys
/// of an open question (its choices' letters or digits) come from the lesson.
pub const PLAYER: Keymap = Keymap {
    rows: &[
        Row {
            keys: "pgdn > pgup <",
            help: Msg::KeyScene,
            binds: &[
                shown(key(KeyCode::PageDown, A::NextScene)),
                ch('>', A::NextScene),
                shown(key(KeyCode::PageUp, A::PrevScene)),
                ch('<', A::PrevScene),
            ],
        },
        Row {
            keys: "d u ctrl-d ctrl-u",
            help: Msg::KeyScroll,
            binds: &[
                shown(ch('d', A::ScrollDown)),
                shown(ch('u', A::ScrollUp)),
                ctrl('d', A::ScrollDown),
                ctrl('u', A::ScrollUp),
            ],
        },
        Row {
            keys: "r",
            help: Msg::KeyReturn,
            binds: &[shown(ch('r', A::ReturnToScene))],
        },
        Row {
            keys: "x",
            help: Msg::KeyText,
            binds: &[shown(ch('x', A::ToggleText))],
        },
        Row {
            keys: "a-h 1-9 =",
            help: Msg::KeyAnswer,
            binds: &[ch('=', A::Reveal)],
        },
        Row {
            keys: "g",
            help: Msg::KeyTrainLive,
            binds: &[shown(ch('g', A::TrainLive))],
        },
    ],
};

/// The lesson list's keys (the list is drawn over the explorer or a lesson).
pub const PICKER: Keymap = Keymap {
    rows: &[
        Row {
            keys: "↑ ↓",
            help: Msg::KeyPickerChoose,
            binds: &[
                shown(key(KeyCode::Up, A::SelectUp)),
                shown(key(KeyCode::Down, A::SelectDown)),
            ],
        },
        Row {
            keys: "enter",
            help: Msg::KeyPickerOpen,
            binds: &[shown(key(KeyCode::Enter, A::Choose))],
        },
        Row {
            keys: "esc o",
            help: Msg::KeyPickerClose,
            binds: &[shown(key(KeyCode::Esc, A::Close)), ch('o', A::Close)],
        },
        Row {
            keys: "q ctrl-c",
            help: Msg::KeyQuit,
            binds: &[shown(ch('q', A::Quit)), ctrl('c', A::Quit)],
        },
    ],
};

/// The lesson list's footer.
pub const PICKER_HINTS: &[Hint] = &[
    pair(&[A::SelectUp, A::SelectDown], Msg::HintChoose),
    hint(&[A::Choose], Msg::HintOpen),
    hint(&[A::Close], Msg::HintClose),
    hint(&[A::Quit], Msg::HintQuit),
];

/// The player's one-line header when the text panel is too short for a frame.
pub const PLAYER_HEADER_HINTS: &[Hint] = &[
    pair(&[A::NextScene, A::PrevScene], Msg::HintStep),
    pair(&[A::ScrollDown, A::ScrollUp], Msg::HintScroll),
    hint(&[A::ReturnToScene], Msg::HintReturn),
    hint(&[A::ToggleText], Msg::HintText),
];

/// The player's header names the explorer's help key (which opens both overlays).
pub const PLAYER_HELP_HINT: Hint = hint(&[A::Help], Msg::HintKeys);

/// The last row of the framed text panel.
pub const PLAYER_FOOTER_HINTS: &[Hint] = &[
    hint(&[A::NextScene], Msg::HintNext),
    hint(&[A::PrevScene], Msg::HintBack),
    pair(&[A::ScrollDown, A::ScrollUp], Msg::HintScroll),
    hint(&[A::ReturnToScene], Msg::HintReturn),
    hint(&[A::ToggleText], Msg::HintText),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> impl Iterator<Item = (&'static Row, &'static Bind)> {
        [&EXPLORER, &PLAYER, &PICKER]
            .into_iter()
            .flat_map(|m| m.rows.iter())
            .flat_map(|r| r.binds.iter().map(move |b| (r, b)))
    }

    #[test]
    fn the_help_names_every_bound_key_in_its_row() {
        for (r, b) in all() {
            let name = match b.code {
                KeyCode::Char(c) if c.is_ascii_digit() => "1-9 0".to_string(),
                _ if b.ctrl => format!("ctrl-{}", key_name(b.code)),
                c => key_name(c),
            };
            assert!(
                r.keys.contains(&name),
                "row {:?} does not name {name}",
                r.keys
            );
        }
    }

    #[test]
    fn no_key_is_bound_twice_in_a_map() {
        for m in [&EXPLORER, &PLAYER, &PICKER] {
            let binds: Vec<&Bind> = m.rows.iter().flat_map(|r| r.binds.iter()).collect();
            for (i, a) in binds.iter().enumerate() {
                for b in &binds[i + 1..] {
                    assert!(
                        !(a.code == b.code && a.ctrl == b.ctrl),
                        "{:?} bound twice",
                        a.code
                    );
                }
            }
        }
    }

    #[test]
    fn every_hinted_action_has_a_shown_key() {
        for (m, hints) in [
            (&EXPLORER, EXPLORER_ESSENTIAL_HINTS),
            (&EXPLORER, EXPLORER_HINTS),
            (&PLAYER, PLAYER_HEADER_HINTS),
            (&PLAYER, PLAYER_FOOTER_HINTS),
            (&PICKER, PICKER_HINTS),
        ] {
            for h in hints {
                for &a in h.actions {
                    assert!(!m.hint_keys(a).is_empty(), "{a:?} has no shown key");
                }
            }
        }
    }

    #[test]
    fn the_view_digits_follow_the_views_own_keys() {
        for v in View::ALL {
            let k = KeyEvent::new(KeyCode::Char(v.key()), KeyModifiers::NONE);
            assert_eq!(EXPLORER.action(&k), Some(Action::ShowView(v)));
        }
    }

    /// The tokens of the first column of the markdown tables in `doc`.
    fn documented_keys(doc: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(doc);
        let text = std::fs::read_to_string(&path).expect("the docs");
        text.lines()
            .filter_map(|l| l.strip_prefix('|'))
            .filter_map(|l| l.split('|').next())
            .flat_map(|cell| {
                cell.split(|c: char| c.is_whitespace() || matches!(c, '`' | '(' | ')'))
                    .map(|t| {
                        if t.len() > 1 {
                            t.trim_end_matches(',')
                        } else {
                            t
                        }
                    })
                    .filter(|t| !t.is_empty())
                    // "PgDn" is pgdn, but B is not b.
                    .map(|t| {
                        if t.chars().count() > 1 {
                            t.to_lowercase()
                        } else {
                            t.to_string()
                        }
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn the_docs_name_every_bound_key() {
        for (m, doc) in [
            (&EXPLORER, "docs/views-and-stages.md"),
            (&PLAYER, "docs/lesson-format.md"),
            (&PICKER, "docs/views-and-stages.md"),
        ] {
            let keys = documented_keys(doc);
            for b in m.rows.iter().flat_map(|r| r.binds.iter()) {
                let name = match b.code {
                    KeyCode::Char(c) if c.is_ascii_digit() && c != '0' => "1–9".to_string(),
                    c if b.ctrl => format!("ctrl-{}", key_name(c)),
                    c => key_name(c),
                };
                assert!(
                    keys.contains(&name),
                    "{doc} does not list the key {name} ({:?})",
                    b.action
                );
            }
        }
    }

    #[test]
    fn control_c_quits_and_plain_keys_ignore_modifiers() {
        let c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(EXPLORER.action(&c), Some(Action::Quit));
        let plain = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(EXPLORER.action(&plain), Some(Action::ClearInterventions));
        let shift_t = KeyEvent::new(KeyCode::Char('T'), KeyModifiers::SHIFT);
        assert_eq!(EXPLORER.action(&shift_t), Some(Action::TemperatureUp));
    }
}
