//! The prompt editor line: `i` opens it over the hint bar with the current
//! prompt, Enter runs the new prompt through the model (as a job, so a large
//! model computes it off the UI thread), Esc closes it unchanged. A prompt
//! the tokenizer turns into more tokens than the context holds is refused
//! with a notice, and the line stays open to shorten it.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The text being edited and the cursor (a char index into it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Editor {
    pub text: String,
    pub cursor: usize,
}

impl Editor {
    pub fn new(text: &str) -> Editor {
        Editor {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    fn byte_at(&self, i: usize) -> usize {
        self.text
            .char_indices()
            .nth(i)
            .map_or(self.text.len(), |(b, _)| b)
    }

    fn insert(&mut self, c: char) {
        let b = self.byte_at(self.cursor);
        self.text.insert(b, c);
        self.cursor += 1;
    }

    fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            let b = self.byte_at(self.cursor);
            self.text.remove(b);
        }
    }

    fn delete(&mut self) {
        if self.cursor < self.text.chars().count() {
            let b = self.byte_at(self.cursor);
            self.text.remove(b);
        }
    }
}

/// What a key did to the open editor.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Editing,
    Cancel,
    /// Enter: run this text.
    Submit(String),
}

/// Applies one key to the editor. Every printable key is text here (so `q`
/// types a q); Esc cancels and Enter submits.
pub fn edit(e: &mut Editor, k: &KeyEvent) -> Outcome {
    let n = e.text.chars().count();
    match k.code {
        KeyCode::Esc => return Outcome::Cancel,
        KeyCode::Enter => return Outcome::Submit(e.text.clone()),
        KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
            *e = Editor::default();
        }
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => e.insert(c),
        KeyCode::Backspace => e.backspace(),
        KeyCode::Delete => e.delete(),
        KeyCode::Left => e.cursor = e.cursor.saturating_sub(1),
        KeyCode::Right => e.cursor = (e.cursor + 1).min(n),
        KeyCode::Home => e.cursor = 0,
        KeyCode::End => e.cursor = n,
        _ => {}
    }
    Outcome::Editing
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn typing_moving_and_deleting_edit_at_the_cursor() {
        let mut e = Editor::new("a girl");
        for _ in 0..4 {
            edit(&mut e, &k(KeyCode::Backspace));
        }
        assert_eq!(e.text, "a ");
        for c in "boy".chars() {
            edit(&mut e, &k(KeyCode::Char(c)));
        }
        assert_eq!(e.text, "a boy");
        edit(&mut e, &k(KeyCode::Home));
        edit(&mut e, &k(KeyCode::Delete));
        edit(&mut e, &k(KeyCode::Char('ü')));
        edit(&mut e, &k(KeyCode::End));
        edit(&mut e, &k(KeyCode::Char('q')));
        assert_eq!(e.text, "ü boyq");
        assert_eq!(
            edit(&mut e, &k(KeyCode::Enter)),
            Outcome::Submit("ü boyq".into())
        );
        assert_eq!(edit(&mut e, &k(KeyCode::Esc)), Outcome::Cancel);
    }
}
