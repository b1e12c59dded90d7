//! A lesson with its live numbers, as markdown (for `--print`, handouts and tests).

use super::placeholders::{Env, Sel, eval_in};
use super::{Block, Checkpoint, Lesson, LessonError, Part, Scene, Text};
use crate::i18n::{Lang, Msg};
use crate::model::{Gpt, Interventions, Trace};
use crate::pass::{Stage, View};
use crate::tokenizer::Tokenizer;

/// Encodes and traces the lesson's prompt. Refuses an empty prompt or one
/// longer than the model's context: the lesson's positions would not mean
/// what the author wrote.
pub fn trace_prompt(
    lesson: &Lesson,
    gpt: &Gpt,
    tokenizer: &Tokenizer,
) -> Result<Trace, LessonError> {
    let ids = tokenizer.encode(&lesson.prompt)?;
    let eval_err = |msg: String| LessonError::Eval {
        file: lesson.file.clone(),
        line: lesson.prompt_line,
        msg,
    };
    if ids.is_empty() {
        return Err(eval_err(
            "the lesson's prompt encodes to no tokens; give it some text".into(),
        ));
    }
    let ctx = gpt.config.n_positions;
    if ids.len() > ctx {
        return Err(eval_err(format!(
            "the lesson's prompt is {} tokens but this model's context is {ctx}; shorten the prompt or use a model with a longer context (--model DIR)",
            ids.len()
        )));
    }
    Ok(gpt.trace(&ids, &Interventions::default())?)
}

/// Resolves a scene's selection, with its line in the error.
pub fn scene_sel(lesson: &Lesson, step: &Scene, env: &Env) -> Result<Sel, LessonError> {
    Sel::resolve(&step.select, env).map_err(|msg| LessonError::Eval {
        file: lesson.file.clone(),
        line: step.line,
        msg: format!("step \"{}\": {msg}", step.title),
    })
}

/// The default selection (used by the intro).
fn intro_sel(lesson: &Lesson, env: &Env) -> Result<Sel, LessonError> {
    Sel::resolve(&Default::default(), env).map_err(|msg| LessonError::Eval {
        file: lesson.file.clone(),
        line: 1,
        msg,
    })
}

/// Fills every placeholder of `t`.
pub fn fill(lesson: &Lesson, t: &Text, env: &Env, sel: &Sel) -> Result<String, LessonError> {
    let mut out = String::new();
    for p in &t.parts {
        match p {
            Part::Lit(s) => out.push_str(s),
            Part::Ph(ph) => out.push_str(&eval_in(ph, env, sel, lesson.lang).map_err(|msg| {
                LessonError::Eval {
                    file: lesson.file.clone(),
                    line: ph.line,
                    msg: format!("{{{{{}}}}}: {msg}", ph.name),
                }
            })?),
        }
    }
    Ok(out)
}

/// One line saying what the step shows and selects, in the lesson's language.
pub fn scene_caption(step: &Scene, env: &Env, sel: &Sel, lang: Lang) -> String {
    let mut bits = vec![Msg::CaptionView.fill(lang, &[&step.view])];
    if let Some(s) = &step.stage {
        bits.push(Msg::CaptionStage.fill(lang, &[s]));
    }
    let s = &step.select;
    if s.layer.is_some() || s.head.is_some() || step.view == View::Attention {
        bits.push(Msg::CaptionLayer.fill(lang, &[&sel.layer]));
    }
    if s.head.is_some() || step.view == View::Attention {
        bits.push(Msg::CaptionHead.fill(lang, &[&sel.head]));
    }
    let positional = !matches!(
        step.view,
        View::Loss | View::Cost | View::Training | View::Quant
    );
    if s.position.is_some() || positional {
        let t = env.tok(env.trace.tokens[sel.pos]);
        bits.push(Msg::CaptionPosition.fill(lang, &[&sel.pos, &t]));
    }
    if s.key.is_some() || step.view == View::Attention {
        let t = env.tok(env.trace.tokens[sel.key]);
        bits.push(Msg::CaptionKey.fill(lang, &[&sel.key, &t]));
    }
    bits.join(" · ")
}

/// A checkpoint filled in: the question, the choices, the engine's answer and,
/// when the lesson gives `match:`, which choice is right.
pub struct FilledCheckpoint {
    pub question: String,
    pub choices: Vec<(char, String)>,
    pub answer: String,
    pub correct: Option<char>,
}

pub fn fill_checkpoint(
    lesson: &Lesson,
    c: &Checkpoint,
    env: &Env,
    sel: &Sel,
) -> Result<FilledCheckpoint, LessonError> {
    let choices = c
        .choices
        .iter()
        .map(|(k, t)| Ok((*k, fill(lesson, t, env, sel)?)))
        .collect::<Result<Vec<_>, LessonError>>()?;
    let correct = match &c.matches {
        Some(m) => {
            let m = fill(lesson, m, env, sel)?;
            right_choice(&choices, &m)
        }
        None => None,
    };
    Ok(FilledCheckpoint {
        question: fill(lesson, &c.question, env, sel)?,
        choices,
        answer: fill(lesson, &c.answer, env, sel)?,
        correct,
    })
}

/// One scene with everything filled in: what a player shows beside the view.
pub struct FilledScene {
    pub title: String,
    pub view: View,
    pub stage: Option<Stage>,
    /// The selection resolved against the trace (where the player moves the view).
    pub sel: Sel,
    /// "view: attention · layer 0 · head 1 · …".
    pub caption: String,
    /// The step's text and checkpoints in file order.
    pub blocks: Vec<FilledBlock>,
}

pub enum FilledBlock {
    Text(String),
    Predict(FilledCheckpoint),
}

/// Evaluates every step of a lesson (fails on the first placeholder or
/// selection that cannot be computed, naming its line).
pub fn fill_scenes(lesson: &Lesson, env: &Env) -> Result<Vec<FilledScene>, LessonError> {
    lesson
        .scenes
        .iter()
        .map(|scene| fill_scene(lesson, scene, env))
        .collect()
}

/// One scene filled in: what `--print` writes and the player shows.
pub fn fill_scene(lesson: &Lesson, scene: &Scene, env: &Env) -> Result<FilledScene, LessonError> {
    let sel = scene_sel(lesson, scene, env)?;
    let blocks = scene
        .body
        .iter()
        .map(|b| {
            Ok(match b {
                Block::Text(t) => FilledBlock::Text(fill(lesson, t, env, &sel)?),
                Block::Predict(c) => FilledBlock::Predict(fill_checkpoint(lesson, c, env, &sel)?),
            })
        })
        .collect::<Result<Vec<_>, LessonError>>()?;
    Ok(FilledScene {
        title: scene.title.clone(),
        view: scene.view,
        stage: scene.stage,
        sel,
        caption: scene_caption(scene, env, &sel, lesson.lang),
        blocks,
    })
}

/// The introduction (text before the first step), filled in.
pub fn fill_intro(lesson: &Lesson, env: &Env) -> Result<String, LessonError> {
    let intro = fill(lesson, &lesson.intro, env, &intro_sel(lesson, env)?)?;
    Ok(match super::arch_note::note(lesson, &env.cfg().arch()) {
        Some(note) => after_title(&intro, &note),
        None => intro,
    })
}

/// `note` put under the intro's `# ` title (or first, if it has none).
fn after_title(intro: &str, note: &str) -> String {
    let t = intro.trim_start();
    match t
        .strip_prefix("# ")
        .map(|_| t.split_once('\n').unwrap_or((t, "")))
    {
        Some((title, rest)) => format!("{title}\n\n{note}\n\n{}", rest.trim_start()),
        None => format!("{note}\n\n{intro}"),
    }
}

/// The choice whose text equals `m`, or else the only one that contains it.
fn right_choice(choices: &[(char, String)], m: &str) -> Option<char> {
    let m = m.trim();
    if m.is_empty() {
        return None;
    }
    if let Some((k, _)) = choices.iter().find(|(_, t)| t.trim() == m) {
        return Some(*k);
    }
    let mut hits = choices.iter().filter(|(_, t)| t.contains(m));
    match (hits.next(), hits.next()) {
        (Some((k, _)), None) => Some(*k),
        _ => None,
    }
}

/// The whole lesson as markdown with every placeholder filled in.
pub fn markdown(lesson: &Lesson, env: &Env) -> Result<String, LessonError> {
    let mut out = String::new();
    let intro = fill_intro(lesson, env)?;
    if !intro.trim_start().starts_with("# ") {
        out.push_str(&format!("# {}\n\n", lesson.title));
    }
    out.push_str(&format!(
        "<!-- gptlens lesson {} · model {} · prompt {:?} ({} tokens) -->\n\n",
        lesson.name,
        env.model_dir
            .and_then(|d| d.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "?".into()),
        lesson.prompt,
        env.trace.len()
    ));
    if !intro.is_empty() {
        out.push_str(&intro);
        out.push_str("\n\n");
    }
    for (i, step) in fill_scenes(lesson, env)?.iter().enumerate() {
        out.push_str(&format!(
            "## {}. {}\n\n*{}*\n\n",
            i + 1,
            step.title,
            step.caption
        ));
        for b in &step.blocks {
            match b {
                FilledBlock::Text(t) => out.push_str(t),
                FilledBlock::Predict(f) => {
                    let lang = lesson.lang;
                    let predict = Msg::PrintPredict.get(lang);
                    out.push_str(&format!("> {predict} {}\n>\n", f.question));
                    for (k, t) in &f.choices {
                        out.push_str(&format!("> - **{k}** — {t}\n"));
                    }
                    let answer = Msg::PrintAnswer.get(lang);
                    out.push_str(&format!(">\n> {answer} {}", f.answer));
                    if let Some(k) = f.correct {
                        out.push_str(&Msg::PrintChoice.fill(lang, &[&k]));
                    }
                    out.push('\n');
                }
            }
            out.push_str("\n\n");
        }
    }
    let out = out.trim_end().to_string() + "\n";
    // Chinese has no spaces to break at: its paragraphs are laid out here, by
    // display width, so a terminal does not cut them anywhere (English keeps
    // its author's lines).
    Ok(match lesson.lang {
        Lang::En => out,
        Lang::Zh => crate::text::wrap::reflow_markdown(&out, PRINT_WIDTH),
    })
}

/// The width `lesson --print` lays a Chinese lesson out at.
pub const PRINT_WIDTH: usize = 80;

#[cfg(test)]
mod tests {
    use super::right_choice;

    #[test]
    fn the_right_choice_is_the_equal_one_or_the_only_one_containing_the_answer() {
        let c = |v: &[(char, &str)]| {
            v.iter()
                .map(|(k, t)| (*k, t.to_string()))
                .collect::<Vec<_>>()
        };
        let choices = c(&[
            ('a', "the first token, 'Tom'"),
            ('b', "'·Tom'"),
            ('c', "'ball'"),
        ]);
        assert_eq!(right_choice(&choices, "'·Tom'"), Some('b'));
        assert_eq!(right_choice(&choices, "'Tom'"), Some('a'));
        assert_eq!(right_choice(&choices, "'cat'"), None);
        let twice = c(&[('a', "first, 'x'"), ('b', "before, 'x'")]);
        assert_eq!(right_choice(&twice, "'x'"), None, "ambiguous: no mark");
        assert_eq!(right_choice(&choices, " "), None);
    }
}
