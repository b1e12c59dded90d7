//! Lessons: markdown files with live placeholders, read against a trace.
//!
//! A lesson (`lessons/*.md`, format in docs/lesson-format.md) is front matter
//! plus steps (a [`Scene`] each: a `## ` heading and a ```step block); each
//! names a view, a stage and a selection, and its text
//! holds `{{placeholders}}` that [`placeholders`] fills from the [`Trace`] of
//! the lesson's prompt. [`parse`] reads the file (every error names the file
//! and line), [`render`] writes a lesson out with its numbers.
//!
//! [`Trace`]: crate::model::Trace

pub mod arch_note;
pub mod parse;
pub mod placeholders;
pub mod render;

use std::path::{Path, PathBuf};

use crate::i18n::Lang;
use crate::pass::{Stage, View};
use crate::suggest;

pub use parse::parse;
pub use placeholders::{Env, Sel};

/// Everything that can go wrong with a lesson; each message says where and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// A malformed file, or a name that does not exist.
    #[error("{file}:{line}: {msg}")]
    Syntax {
        file: String,
        line: usize,
        msg: String,
    },
    /// A placeholder or selection that cannot be computed for this model and prompt.
    #[error("{file}:{line}: {msg}")]
    Eval {
        file: String,
        line: usize,
        msg: String,
    },
    #[error("unknown lesson `{name}`{hint}. The lessons are: {list}")]
    Unknown {
        name: String,
        hint: String,
        list: String,
    },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
}

/// A parsed lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    /// The file stem: what `gptlens lesson NAME` takes.
    pub name: String,
    /// Where it came from, for error messages.
    pub file: String,
    pub title: String,
    pub summary: String,
    pub prompt: String,
    /// Line of the `prompt:` entry, for errors about the prompt.
    pub prompt_line: usize,
    /// A built-in model's name (folder in tiny-models/) or a folder beside the
    /// lesson file (relative, no `..`: checked by the parser); None = the default model.
    pub model: Option<String>,
    pub order: i64,
    /// The model family the text is written for (`architecture:`; GPT-2
    /// unless it says otherwise); None = either. Opened on the other family,
    /// the lesson starts with a note of what differs ([`arch_note`]).
    pub architecture: Option<crate::model::Family>,
    /// The language the lesson is written in: English, or a twin from
    /// lessons/zh/ (same name, same steps; tests/lessons_zh.rs).
    pub lang: Lang,
    /// Text before the first step.
    pub intro: Text,
    /// The lesson's steps, in file order.
    pub scenes: Vec<Scene>,
}

/// One step of a lesson (a `## ` heading, its ```step block, the text after
/// it): what the explorer shows, what is selected, and the text beside it.
/// Called a scene in the code so "step" keeps one meaning there.
#[derive(Clone, Debug, PartialEq)]
pub struct Scene {
    /// Line of the step's `## ` heading.
    pub line: usize,
    pub title: String,
    pub view: View,
    pub stage: Option<Stage>,
    pub select: Select,
    /// How the explorer shows the step (zoom, what an open question hides).
    pub show: Show,
    pub body: Vec<Block>,
}

/// How a step asks the explorer to look.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Show {
    /// `zoom: on`: the view's zoomed close-up of the selected head or cell.
    pub zoom: bool,
    /// `hide: view`: while one of the step's questions is open the explorer
    /// is not drawn, so nothing on screen gives the answer away.
    pub hide_view: bool,
    /// `compare: q4_0` (or q8_0, q4_1, f16): compare mode against the
    /// lesson's model quantized in memory to that format.
    pub compare: Option<crate::quant::GgmlType>,
    /// `run: classroom`: the step offers to start the classroom training
    /// run (`train --live --preset classroom`) from the lesson player.
    pub run_classroom: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Text(Text),
    Predict(Checkpoint),
}

/// "Predict, then reveal": a question, choices bound to keys, the engine's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub line: usize,
    pub question: Text,
    /// (key, choice text), in file order.
    pub choices: Vec<(char, Text)>,
    /// What the engine computed, shown on reveal.
    pub answer: Text,
    /// Optional: evaluates to the text of the right choice, so a player can mark it.
    pub matches: Option<Text>,
}

/// Text with placeholders.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Text {
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Part {
    Lit(String),
    Ph(Placeholder),
}

/// `{{name arg …}}`: a name from the closed set in [`placeholders`], numeric arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Placeholder {
    pub name: String,
    pub args: Vec<f64>,
    pub line: usize,
}

/// What a step selects; unset fields take the defaults in [`placeholders::Sel`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Select {
    /// A layer counting from 0 (`Index`), or back from the last (`FromLast`).
    pub layer: Option<Pos>,
    pub head: Option<usize>,
    pub position: Option<Pos>,
    pub key: Option<KeyPos>,
}

/// A position in the prompt: from the start, or counted back from the last token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pos {
    Index(usize),
    FromLast(usize),
}

/// The attention key: a position, or whichever key the selected head weighs most.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KeyPos {
    Pos(Pos),
    Top,
}

impl Text {
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ph(ph) => Some(ph),
            Part::Lit(_) => None,
        })
    }
}

impl Lesson {
    /// Every placeholder in the lesson, with the step it belongs to (None = intro).
    pub fn placeholders(&self) -> Vec<(Option<usize>, &Placeholder)> {
        let mut out: Vec<(Option<usize>, &Placeholder)> =
            self.intro.placeholders().map(|p| (None, p)).collect();
        for (i, s) in self.scenes.iter().enumerate() {
            for b in &s.body {
                let texts: Vec<&Text> = match b {
                    Block::Text(t) => vec![t],
                    Block::Predict(c) => {
                        let mut v = vec![&c.question, &c.answer];
                        v.extend(c.choices.iter().map(|(_, t)| t));
                        v.extend(c.matches.iter());
                        v
                    }
                };
                out.extend(
                    texts
                        .into_iter()
                        .flat_map(|t| t.placeholders().map(|p| (Some(i), p))),
                );
            }
        }
        out
    }
}

/// The lessons compiled into the binary (every `lessons/*.md`, by file
/// stem; see `build.rs`), so an installed gptlens has them.
pub static BUILTIN: &[(&str, &str)] = crate::embedded::LESSONS;

/// The built-in lessons written in `lang` (English: all of them; Chinese:
/// lessons/zh/, each named after its English twin).
pub fn builtin(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => BUILTIN,
        Lang::Zh => crate::embedded::LESSONS_ZH,
    }
}

/// A lessons folder to read instead of the built-in copies: `$GPTLENS_LESSONS`
/// (its Chinese lessons in the subfolder `zh/`).
pub fn lessons_dir() -> Option<PathBuf> {
    std::env::var_os("GPTLENS_LESSONS").map(PathBuf::from)
}

/// Reads and parses one lesson file.
pub fn load_file(path: &Path) -> Result<Lesson, LessonError> {
    let text = std::fs::read_to_string(path).map_err(|source| LessonError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "lesson".into());
    parse(&name, &path.display().to_string(), &text)
}

/// The lessons written in `lang` only (no English stand-ins), unsorted: from
/// the lessons folder if there is one, else the built-in copies.
pub fn written_in(lang: Lang) -> Result<Vec<Lesson>, LessonError> {
    let sub = match lang {
        Lang::En => String::new(),
        Lang::Zh => "zh/".to_string(),
    };
    let mut lessons = match lessons_dir() {
        Some(dir) => {
            let dir = dir.join(&sub);
            let rd = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                // A lessons folder without translations: none.
                Err(e) if lang != Lang::En && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(vec![]);
                }
                Err(source) => {
                    return Err(LessonError::Io {
                        path: dir.clone(),
                        source,
                    });
                }
            };
            let mut paths: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
                .collect();
            paths.sort();
            paths
                .iter()
                .map(|p| load_file(p))
                .collect::<Result<Vec<_>, _>>()?
        }
        None => builtin(lang)
            .iter()
            .map(|(name, text)| parse(name, &format!("(built-in) lessons/{sub}{name}.md"), text))
            .collect::<Result<Vec<_>, _>>()?,
    };
    for l in &mut lessons {
        l.lang = lang;
    }
    Ok(lessons)
}

/// All lessons in English, sorted by `order` then name.
pub fn all() -> Result<Vec<Lesson>, LessonError> {
    all_in(Lang::En)
}

/// All lessons for a reader of `lang`, sorted by `order` (the English
/// lesson's) then name: each in `lang` where it has been translated, else in
/// English (its `lang` says which, so the caller can say so).
pub fn all_in(lang: Lang) -> Result<Vec<Lesson>, LessonError> {
    let mut lessons = written_in(Lang::En)?;
    if lang != Lang::En {
        for t in written_in(lang)? {
            match lessons.iter_mut().find(|l| l.name == t.name) {
                Some(l) => {
                    let order = l.order;
                    *l = t;
                    l.order = order;
                }
                None => lessons.push(t),
            }
        }
    }
    lessons.sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(&b.name)));
    Ok(lessons)
}

/// Every lesson in every language: the English ones in order, then each
/// translation (for tests that must hold for all of them).
pub fn every_language() -> Result<Vec<Lesson>, LessonError> {
    let mut out = all()?;
    for lang in Lang::ALL.into_iter().filter(|l| *l != Lang::En) {
        let mut t = written_in(lang)?;
        t.sort_by(|a, b| a.order.cmp(&b.order).then(a.name.cmp(&b.name)));
        out.extend(t);
    }
    Ok(out)
}

/// Finds an English lesson by name; an unknown name lists the lessons and
/// suggests the nearest.
pub fn find(name: &str) -> Result<Lesson, LessonError> {
    find_in(name, Lang::En)
}

/// Finds a lesson by name for a reader of `lang`: its translation, else the
/// English lesson (`Lesson::lang` says which was found).
pub fn find_in(name: &str, lang: Lang) -> Result<Lesson, LessonError> {
    let lessons = all_in(lang)?;
    if let Some(l) = lessons.iter().find(|l| l.name == name) {
        return Ok(l.clone());
    }
    let names: Vec<&str> = lessons.iter().map(|l| l.name.as_str()).collect();
    let near = suggest::nearest(name, names.iter().copied());
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(
            " (did you mean {}?)",
            near.iter()
                .take(3)
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Err(LessonError::Unknown {
        name: name.into(),
        hint,
        list: names.join(", "),
    })
}
