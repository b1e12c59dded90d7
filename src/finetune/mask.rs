//! The loss mask of a text that is already tokens: which of them a
//! fine-tuning step would count. A text that the chat template could have
//! written for one user turn and its reply ("Q: …\nA: …") splits where the
//! template's generation prompt ends; predictions of the tokens after that
//! count, the prompt's carry no loss (as [`super::Formatter::example`] builds
//! it for training). Terminal-free: the lessons and the explorer both ask here.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ChatTemplate;
use crate::tokenizer::END_OF_TEXT;

/// Stands for the user's text while the template is rendered once.
const SENTINEL: &str = "\u{e000}gptlens-user-turn\u{e000}";

/// What the template writes around one user turn when it asks for a reply:
/// `before` + user text + `after` (the generation prompt included).
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    pub before: String,
    pub after: String,
}

impl Turn {
    /// The template's text around a user turn; None when the template does
    /// not render one, or renders the user's text in a changed form.
    pub fn of(template: &ChatTemplate) -> Option<Turn> {
        let s = template
            .render(&[super::Message::new("user", SENTINEL)], true)
            .ok()?;
        let (before, after) = s.split_once(SENTINEL)?;
        (!after.is_empty() && !after.contains(SENTINEL)).then(|| Turn {
            before: before.to_string(),
            after: after.to_string(),
        })
    }

    /// The turn of the model folder's template; with `or_default`, of the
    /// template `gptlens finetune` gives a folder that has none.
    pub fn for_model(dir: &Path, or_default: bool) -> Option<Turn> {
        match ChatTemplate::from_model_dir(dir, END_OF_TEXT).ok()? {
            Some(t) => Turn::of(&t),
            None if or_default => Turn::of(&ChatTemplate::default_for(END_OF_TEXT)),
            None => None,
        }
    }

    /// How many tokens are the prompt when the tokens (given as their texts)
    /// read as one templated turn and the start of its reply: the tokens up
    /// to the end of the generation prompt. None unless the text begins as
    /// the template begins a turn, the generation prompt ends on a token
    /// boundary and at least one token follows it.
    pub fn prompt_len<S: AsRef<str>>(&self, texts: &[S]) -> Option<usize> {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(texts.len());
        for t in texts {
            text.push_str(t.as_ref());
            ends.push(text.len());
        }
        let rest = text.strip_prefix(self.before.as_str())?;
        let end = self.before.len() + rest.find(self.after.as_str())? + self.after.len();
        let p = ends.iter().position(|&e| e == end)? + 1;
        (p < texts.len()).then_some(p)
    }
}

thread_local! {
    static TURNS: RefCell<HashMap<PathBuf, Option<Turn>>> = RefCell::new(HashMap::new());
}

/// [`Turn::for_model`] without a default, read once per folder (the
/// explorer asks on every draw).
pub fn model_turn(dir: &Path) -> Option<Turn> {
    TURNS.with(|m| {
        m.borrow_mut()
            .entry(dir.to_path_buf())
            .or_insert_with(|| Turn::for_model(dir, false))
            .clone()
    })
}

/// Whether predicting token `i` counts, for a prompt of `prompt_len` tokens:
/// the mask `gptlens finetune --eval --json` prints.
pub fn counts(i: usize, prompt_len: usize) -> bool {
    i >= prompt_len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn() -> Turn {
        Turn::of(&ChatTemplate::default_for(END_OF_TEXT)).expect("turn")
    }

    #[test]
    fn the_default_template_writes_q_and_a() {
        assert_eq!(
            turn(),
            Turn {
                before: "Q: ".into(),
                after: "\nA:".into()
            }
        );
    }

    #[test]
    fn the_prompt_ends_after_the_generation_prompt() {
        let t = turn();
        let toks = [
            "Q", ":", " Write", " about", " Mia", ".", "\n", "A", ":", " Once", " upon",
        ];
        assert_eq!(t.prompt_len(&toks), Some(9));
        // No reply yet, not a turn, a split inside a token: no mask.
        assert_eq!(t.prompt_len(&toks[..9]), None);
        assert_eq!(t.prompt_len(&["Once", " upon"]), None);
        assert_eq!(t.prompt_len(&["Q", ": Hi", "\nA: Hello"]), None);
    }

    #[test]
    fn it_agrees_with_the_training_mask() {
        use crate::finetune::{Formatter, Pair};
        use crate::tokenizer::Tokenizer;
        let dir = crate::paths::builtin_model("tinystories-instruct").expect("built-in");
        let open = || Tokenizer::open(&dir.join("tokenizer.json")).expect("tokenizer");
        let (tok, f) = (
            open(),
            Formatter::for_model(&dir, open()).expect("formatter"),
        );
        let pair = Pair {
            line: 1,
            messages: vec![
                super::super::Message::new("user", "Write a story about Thepak."),
                super::super::Message::new("assistant", "Once upon a time, Thepak ran."),
            ],
        };
        let ex = f.example(&pair).expect("example");
        let texts: Vec<String> = ex.ids.iter().map(|&i| tok.token_text(i)).collect();
        let p = Turn::for_model(&dir, false)
            .expect("the instruct model has a template")
            .prompt_len(&texts)
            .expect("a templated pair");
        let mask: Vec<bool> = (0..ex.ids.len()).map(|i| counts(i, p)).collect();
        assert_eq!(mask, ex.mask);
        assert!(model_turn(&crate::paths::default_model().expect("base")).is_none());
    }
}
