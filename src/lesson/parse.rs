//! The lesson parser: hand-written, line-based, never panics. Every error
//! names the file and line and says what was expected there.

use super::placeholders;
use super::{
    Block, Checkpoint, KeyPos, Lesson, LessonError, Part, Placeholder, Pos, Scene, Select, Show,
    Text,
};
use crate::pass::{Stage, View};
use crate::suggest::did_you_mean;

const FRONT_KEYS: &[&str] = &[
    "title",
    "summary",
    "prompt",
    "model",
    "order",
    "architecture",
];
const STEP_KEYS: &[&str] = &[
    "view", "stage", "layer", "head", "position", "key", "zoom", "hide", "compare", "run",
];
const PREDICT_KEYS: &[&str] = &["question", "answer", "match"];

/// `key: value` lines of a block, each with its line number.
type Kvs = Vec<(String, String, usize)>;

struct Ctx<'a> {
    file: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, line: usize, msg: impl Into<String>) -> Result<T, LessonError> {
        Err(LessonError::Syntax {
            file: self.file.to_string(),
            line,
            msg: msg.into(),
        })
    }
}

/// Parses lesson `text`; `name` is what `gptlens lesson NAME` calls it, `file`
/// is used in messages.
pub fn parse(name: &str, file: &str, text: &str) -> Result<Lesson, LessonError> {
    let cx = Ctx { file };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    if lines.first().map(|l| l.trim()) != Some("---") {
        return cx.err(
            1,
            "expected `---` on the first line, opening the front matter (title, summary, prompt, order)",
        );
    }
    // Front matter.
    let mut fm: Vec<(String, String, usize)> = vec![];
    let mut i = 1;
    loop {
        let Some(l) = lines.get(i) else {
            return cx.err(
                lines.len(),
                "expected `---` closing the front matter opened on line 1",
            );
        };
        let ln = i + 1;
        i += 1;
        let t = l.trim();
        if t == "---" {
            break;
        }
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (k, v) = key_value(&cx, ln, t, "front matter")?;
        if !FRONT_KEYS.contains(&k.as_str()) {
            return cx.err(
                ln,
                format!(
                    "unknown front-matter key `{k}`{}; expected one of {}",
                    did_you_mean(&k, FRONT_KEYS.iter().copied()),
                    FRONT_KEYS.join(", ")
                ),
            );
        }
        if fm.iter().any(|(k2, _, _)| *k2 == k) {
            return cx.err(ln, format!("`{k}` is given twice in the front matter"));
        }
        fm.push((k, unquote(&v), ln));
    }
    let get = |k: &str| fm.iter().find(|(k2, _, _)| k2 == k);
    let required = |k: &str| -> Result<String, LessonError> {
        match get(k) {
            Some((_, v, ln)) if v.trim().is_empty() => cx.err(*ln, format!("`{k}` is empty")),
            Some((_, v, _)) => Ok(v.clone()),
            None => cx.err(
                i,
                format!(
                    "the front matter has no `{k}:` line (required: title, summary, prompt, order)"
                ),
            ),
        }
    };
    let title = required("title")?;
    let summary = required("summary")?;
    let prompt = required("prompt")?;
    let order_s = required("order")?;
    let order = match order_s.trim().parse::<i64>() {
        Ok(o) => o,
        Err(_) => {
            let ln = get("order").map(|x| x.2).unwrap_or(i);
            return cx.err(
                ln,
                format!("expected a whole number after `order:`, found `{order_s}`"),
            );
        }
    };
    let prompt_line = get("prompt").map_or(1, |x| x.2);
    let model = match get("model") {
        Some((_, v, ln)) if !v.trim().is_empty() => Some(model_name(&cx, *ln, v.trim())?),
        _ => None,
    };

    let architecture = match get("architecture") {
        None => Some(crate::model::Family::Gpt2),
        Some((_, v, ln)) => match v.trim() {
            "gpt2" => Some(crate::model::Family::Gpt2),
            "llama" => Some(crate::model::Family::Llama),
            "any" => None,
            other => {
                return cx.err(
                    *ln,
                    format!(
                        "`architecture:` is `{other}`; expected gpt2 (the default), llama, or any (a lesson written for both)"
                    ),
                );
            }
        },
    };

    // Body: intro, then `## ` steps.
    let mut intro = Text::default();
    let mut scenes: Vec<Scene> = vec![];
    while i < lines.len() {
        let ln = i + 1;
        let l = lines[i];
        i += 1;
        let fence = l.trim_start().strip_prefix("```").map(str::trim);
        if let Some(h) = l.strip_prefix("## ") {
            // A new step: its ```step block must come first.
            let title = h.trim().to_string();
            if title.is_empty() {
                return cx.err(ln, "a step heading `## ` needs a title after it");
            }
            while i < lines.len() && lines[i].trim().is_empty() {
                i += 1;
            }
            let block_line = i + 1;
            if lines.get(i).map(|l| l.trim()) != Some("```step") {
                return cx.err(
                    block_line.min(lines.len().max(1)),
                    format!("expected a ```step block (view, stage, layer, head, position, key, zoom, hide, run) right after the step heading `## {title}` on line {ln}"),
                );
            }
            i += 1;
            let (kvs, next) = fenced_kvs(&cx, &lines, i, block_line, "step")?;
            i = next;
            let (view, stage, select, show) = step_fields(&cx, block_line, &kvs)?;
            scenes.push(Scene {
                line: ln,
                title,
                view,
                stage,
                select,
                show,
                body: vec![],
            });
            continue;
        }
        if fence == Some("predict") {
            let Some(step) = scenes.last_mut() else {
                return cx.err(
                    ln,
                    "a ```predict block must be inside a step (after a `## ` heading)",
                );
            };
            let (kvs, next) = fenced_kvs(&cx, &lines, i, ln, "predict")?;
            i = next;
            step.body.push(Block::Predict(checkpoint(&cx, ln, &kvs)?));
            continue;
        }
        if fence == Some("step") {
            return cx.err(
                ln,
                "a ```step block must come right after a `## ` step heading",
            );
        }
        if let Some(info) = fence {
            // Any other fenced block is text (placeholders still work inside it).
            let _ = info;
            let mut block = vec![(ln, l)];
            loop {
                let Some(l2) = lines.get(i) else {
                    return cx.err(ln, "expected ``` closing the code block opened here");
                };
                block.push((i + 1, l2));
                i += 1;
                if l2.trim() == "```" {
                    break;
                }
            }
            for (bl, b) in block {
                push_line(&cx, current(&mut intro, &mut scenes), bl, b)?;
            }
            continue;
        }
        push_line(&cx, current(&mut intro, &mut scenes), ln, l)?;
    }
    if scenes.is_empty() {
        return cx.err(
            lines.len().max(1),
            "the lesson has no steps; a step starts with a `## Title` heading followed by a ```step block",
        );
    }
    trim_text(&mut intro);
    for s in &mut scenes {
        for b in &mut s.body {
            if let Block::Text(t) = b {
                trim_text(t);
            }
        }
        s.body
            .retain(|b| !matches!(b, Block::Text(t) if t.parts.is_empty()));
    }
    Ok(Lesson {
        name: name.to_string(),
        file: file.to_string(),
        title,
        summary,
        prompt,
        prompt_line,
        model,
        order,
        architecture,
        lang: crate::i18n::Lang::En,
        intro,
        scenes,
    })
}

/// `model:` names a built-in model or a folder beside the lesson file: a
/// relative path that stays there. A lesson file (perhaps downloaded) must
/// not pick any folder on the disk; other models come through `--model`.
fn model_name(cx: &Ctx, ln: usize, v: &str) -> Result<String, LessonError> {
    use std::path::Component;
    let p = std::path::Path::new(v);
    let escapes = p.is_absolute()
        || p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
    if escapes {
        return cx.err(
            ln,
            format!(
                "`model: {v}`: a lesson may name a built-in model (a folder of tiny-models/, e.g. `tinystories`) or a folder beside the lesson file, not an absolute path or one with `..`; to run the lesson on another model, remove the line and pass --model DIR"
            ),
        );
    }
    Ok(v.to_string())
}

/// The text a body line goes into: the last step's last text block, or the intro.
fn current<'a>(intro: &'a mut Text, scenes: &'a mut [Scene]) -> &'a mut Text {
    match scenes.last_mut() {
        None => intro,
        Some(s) => {
            if !matches!(s.body.last(), Some(Block::Text(_))) {
                s.body.push(Block::Text(Text::default()));
            }
            match s.body.last_mut() {
                Some(Block::Text(t)) => t,
                _ => unreachable!("a text block was just pushed"),
            }
        }
    }
}

fn push_line(cx: &Ctx, t: &mut Text, ln: usize, l: &str) -> Result<(), LessonError> {
    let mut parts = parse_text(cx, ln, l)?;
    parts.push(Part::Lit("\n".into()));
    for p in parts {
        push_part(t, p);
    }
    Ok(())
}

fn push_part(t: &mut Text, p: Part) {
    if let (Part::Lit(s), Some(Part::Lit(prev))) = (&p, t.parts.last_mut()) {
        prev.push_str(s);
        return;
    }
    t.parts.push(p);
}

/// Drops leading and trailing blank lines.
fn trim_text(t: &mut Text) {
    if let Some(Part::Lit(s)) = t.parts.first_mut() {
        let trimmed = s.trim_start_matches(['\n', ' ']).to_string();
        *s = trimmed;
    }
    if let Some(Part::Lit(s)) = t.parts.last_mut() {
        let trimmed = s.trim_end().to_string();
        *s = trimmed;
    }
    t.parts
        .retain(|p| !matches!(p, Part::Lit(s) if s.is_empty()));
}

/// Splits one line into literal text and `{{placeholders}}`, checking each
/// placeholder's name and arguments against the closed set.
fn parse_text(cx_file: &Ctx, ln: usize, line: &str) -> Result<Vec<Part>, LessonError> {
    let mut parts = vec![];
    let mut rest = line;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Lit(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return cx_file.err(
                ln,
                "expected `}}` closing the placeholder `{{` on the same line",
            );
        };
        parts.push(Part::Ph(placeholder(cx_file, ln, &after[..end])?));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string()));
    }
    Ok(parts)
}

fn placeholder(cx: &Ctx, ln: usize, inner: &str) -> Result<Placeholder, LessonError> {
    let mut words = inner.split_whitespace();
    let Some(name) = words.next() else {
        return cx.err(
            ln,
            "empty placeholder `{{}}`; expected a name such as {{attn.weights}}",
        );
    };
    let args: Vec<&str> = words.collect();
    let spec = match placeholders::spec(name) {
        Some(s) => s,
        None => {
            return cx.err(
                ln,
                format!(
                    "unknown placeholder `{{{{{name}}}}}`{}; the placeholders are listed in docs/lesson-format.md",
                    did_you_mean(name, placeholders::names())
                ),
            );
        }
    };
    if args.len() > spec.args.len() {
        return cx.err(
            ln,
            format!(
                "`{{{{{name}}}}}` takes at most {} argument(s) ({}), found {}",
                spec.args.len(),
                arg_names(spec),
                args.len()
            ),
        );
    }
    let mut vals = vec![];
    for (a, arg) in args.iter().zip(spec.args) {
        let v: f64 = match a.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                return cx.err(
                    ln,
                    format!(
                        "`{{{{{name}}}}}`: expected a number for `{}`, found `{a}`",
                        arg.name
                    ),
                );
            }
        };
        if v < arg.min || v > arg.max || (arg.integer && v.fract() != 0.0) {
            return cx.err(
                ln,
                format!(
                    "`{{{{{name}}}}}`: `{}` must be {} from {} to {}, found {a}",
                    arg.name,
                    if arg.integer {
                        "a whole number"
                    } else {
                        "a number"
                    },
                    arg.min,
                    arg.max
                ),
            );
        }
        vals.push(v);
    }
    for arg in &spec.args[vals.len()..] {
        vals.push(arg.default);
    }
    Ok(Placeholder {
        name: name.to_string(),
        args: vals,
        line: ln,
    })
}

fn arg_names(spec: &placeholders::Spec) -> String {
    if spec.args.is_empty() {
        return "none".into();
    }
    spec.args
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_value(cx: &Ctx, ln: usize, t: &str, what: &str) -> Result<(String, String), LessonError> {
    match t.split_once(':') {
        Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(' ') => {
            Ok((k.trim().to_lowercase(), v.trim().to_string()))
        }
        _ => cx.err(
            ln,
            format!("expected `key: value` in the {what}, found `{t}`"),
        ),
    }
}

/// Strips one pair of matching quotes; inside double quotes, `\n`, `\"` and `\\` are escapes.
fn unquote(v: &str) -> String {
    let v = v.trim();
    if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        let inner = &v[1..v.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(o) => out.push(o),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        return out;
    }
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') {
        return v[1..v.len() - 1].to_string();
    }
    v.to_string()
}

/// Reads `key: value` lines up to the closing ``` of a fenced block starting at `i`.
fn fenced_kvs(
    cx: &Ctx,
    lines: &[&str],
    mut i: usize,
    open_line: usize,
    what: &str,
) -> Result<(Kvs, usize), LessonError> {
    let mut kvs = vec![];
    loop {
        let Some(l) = lines.get(i) else {
            return cx.err(
                open_line,
                format!("expected ``` closing the ```{what} block opened here"),
            );
        };
        let ln = i + 1;
        i += 1;
        let t = l.trim();
        if t == "```" {
            return Ok((kvs, i));
        }
        if t.is_empty() {
            continue;
        }
        let (k, v) = key_value(cx, ln, t, &format!("```{what} block"))?;
        if kvs.iter().any(|(k2, _, _)| *k2 == k) {
            return cx.err(ln, format!("`{k}` is given twice in this ```{what} block"));
        }
        kvs.push((k, v, ln));
    }
}

fn step_fields(
    cx: &Ctx,
    block_line: usize,
    kvs: &Kvs,
) -> Result<(View, Option<Stage>, Select, Show), LessonError> {
    let mut view = None;
    let mut stage = None;
    let mut sel = Select::default();
    let mut show = Show::default();
    for (k, v, ln) in kvs {
        let ln = *ln;
        let v = unquote(v);
        match k.as_str() {
            "view" => match v.parse::<View>() {
                Ok(x) => view = Some(x),
                Err(e) => return cx.err(ln, e.to_string()),
            },
            "stage" => match v.parse::<Stage>() {
                Ok(x) => stage = Some(x),
                Err(e) => return cx.err(ln, e.to_string()),
            },
            "layer" => {
                sel.layer = Some(if v.trim().starts_with("last") {
                    position(cx, ln, "layer", &v)?
                } else {
                    Pos::Index(number(cx, ln, "layer", &v)?)
                })
            }
            "head" => sel.head = Some(number(cx, ln, "head", &v)?),
            "position" => sel.position = Some(position(cx, ln, "position", &v)?),
            "key" => {
                sel.key = Some(if v == "top" {
                    KeyPos::Top
                } else {
                    KeyPos::Pos(position(cx, ln, "key", &v)?)
                })
            }
            "zoom" => {
                show.zoom = match v.trim() {
                    "on" => true,
                    "off" => false,
                    _ => {
                        return cx.err(
                            ln,
                            format!("expected `on` or `off` after `zoom:`, found `{v}`"),
                        );
                    }
                }
            }
            "hide" => {
                show.hide_view = match v.trim() {
                    "view" => true,
                    "none" => false,
                    _ => {
                        return cx.err(
                            ln,
                            format!(
                                "expected `view` (the explorer is hidden while the step's question is open) or `none` after `hide:`, found `{v}`"
                            ),
                        );
                    }
                }
            }
            "compare" => {
                use crate::quant::GgmlType as T;
                show.compare = match T::from_name(v.trim()) {
                    Some(t @ (T::Q8_0 | T::Q4_0 | T::Q4_1 | T::F16)) => Some(t),
                    _ => {
                        return cx.err(
                            ln,
                            format!(
                                "expected q8_0, q4_1, q4_0 or f16 after `compare:` (compare mode against the lesson's model quantized to that format), found `{v}`"
                            ),
                        );
                    }
                }
            }
            "run" => {
                show.run_classroom = match v.trim() {
                    "classroom" => true,
                    "none" => false,
                    _ => {
                        return cx.err(
                            ln,
                            format!(
                                "expected `classroom` (the step offers the classroom training run, `train --live --preset classroom`) or `none` after `run:`, found `{v}`"
                            ),
                        );
                    }
                }
            }
            other => {
                return cx.err(
                    ln,
                    format!(
                        "unknown step field `{other}`{}; expected {}",
                        did_you_mean(other, STEP_KEYS.iter().copied()),
                        STEP_KEYS.join(", ")
                    ),
                );
            }
        }
    }
    let Some(view) = view else {
        return cx.err(
            block_line,
            format!(
                "this ```step block has no `view:` line; the views are {}",
                View::ALL.map(View::name).join(", ")
            ),
        );
    };
    Ok((view, stage, sel, show))
}

fn number(cx: &Ctx, ln: usize, what: &str, v: &str) -> Result<usize, LessonError> {
    match v.trim().parse::<usize>() {
        Ok(n) if n < 1_000_000 => Ok(n),
        _ => cx.err(
            ln,
            format!("expected a whole number (counting from 0) after `{what}:`, found `{v}`"),
        ),
    }
}

/// `3` (from the start, counting from 0), `last`, or `last-2`.
fn position(cx: &Ctx, ln: usize, what: &str, v: &str) -> Result<Pos, LessonError> {
    let v = v.trim();
    if v == "last" {
        return Ok(Pos::FromLast(0));
    }
    if let Some(back) = v.strip_prefix("last-").or_else(|| v.strip_prefix("last -"))
        && let Ok(n) = back.trim().parse::<usize>()
        && n < 1_000_000
    {
        return Ok(Pos::FromLast(n));
    }
    match v.parse::<usize>() {
        Ok(n) if n < 1_000_000 => Ok(Pos::Index(n)),
        _ => cx.err(
            ln,
            format!(
                "expected a position after `{what}:` — a number counting from 0, `last`, or `last-N`{} — found `{v}`",
                if what == "key" { ", or `top`" } else { "" }
            ),
        ),
    }
}

fn checkpoint(cx: &Ctx, open: usize, kvs: &Kvs) -> Result<Checkpoint, LessonError> {
    let mut question = None;
    let mut answer = None;
    let mut matches = None;
    let mut choices = vec![];
    for (k, v, ln) in kvs {
        let t = Text {
            parts: parse_text(cx, *ln, v)?,
        };
        let mut chars = k.chars();
        match (k.as_str(), chars.next(), chars.next()) {
            ("question", _, _) => question = Some(t),
            ("answer", _, _) => answer = Some(t),
            ("match", _, _) => matches = Some(t),
            (_, Some(c), None) if c.is_ascii_digit() && c != '0' || ('a'..='h').contains(&c) => {
                choices.push((c, t))
            }
            _ => {
                return cx.err(
                    *ln,
                    format!(
                        "unknown ```predict field `{k}`{}; expected question, answer, match, or a choice key a–h or 1–9",
                        did_you_mean(k, PREDICT_KEYS.iter().copied())
                    ),
                );
            }
        }
    }
    let Some(question) = question else {
        return cx.err(open, "this ```predict block has no `question:` line");
    };
    let Some(answer) = answer else {
        return cx.err(
            open,
            "this ```predict block has no `answer:` line (the engine's answer, shown on reveal)",
        );
    };
    if choices.len() < 2 {
        return cx.err(open, "this ```predict block needs at least two choices, e.g. `a: the first token` and `b: the last token`");
    }
    Ok(Checkpoint {
        line: open,
        question,
        choices,
        answer,
        matches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "---\ntitle: T\nsummary: S\nprompt: \"Once upon\\n a time\"\norder: 3\n---\n# T\n\nIntro {{model.layers}}.\n\n## First\n```step\nview: attention\nstage: softmax\nlayer: 1\nhead: 0\nposition: last-1\nkey: top\n```\nScores {{attn.scores}} and top {{logits.top 3}}.\n\n```predict\nquestion: Which?\na: one\nb: two\nanswer: {{attn.top}}\n```\nAfter.\n";

    fn p(s: &str) -> Result<Lesson, LessonError> {
        parse("t", "t.md", s)
    }

    fn err_line(s: &str) -> (usize, String) {
        match p(s) {
            Err(LessonError::Syntax { line, msg, .. }) => (line, msg),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn parses_front_matter_steps_placeholders_and_checkpoints() {
        let l = p(GOOD).expect("parses");
        assert_eq!(l.prompt, "Once upon\n a time");
        assert_eq!(l.order, 3);
        assert_eq!(l.scenes.len(), 1);
        let s = &l.scenes[0];
        assert_eq!((s.view, s.stage), (View::Attention, Some(Stage::Softmax)));
        assert_eq!(s.select.position, Some(Pos::FromLast(1)));
        assert_eq!(s.select.key, Some(KeyPos::Top));
        assert_eq!(s.line, 11);
        let names: Vec<_> = l
            .placeholders()
            .iter()
            .map(|(_, p)| p.name.clone())
            .collect();
        assert_eq!(
            names,
            ["model.layers", "attn.scores", "logits.top", "attn.top"]
        );
        let top = l.placeholders()[2].1;
        assert_eq!(top.args[0], 3.0);
        assert_eq!(top.line, 20);
        assert_eq!(s.body.len(), 3, "text, checkpoint, text");
        assert!(matches!(&s.body[1], Block::Predict(c) if c.choices.len() == 2));
    }

    #[test]
    fn errors_name_the_line_and_what_was_expected() {
        let (l, m) = err_line("title: x\n");
        assert_eq!(l, 1);
        assert!(m.contains("expected `---`"), "{m}");
        let (l, m) = err_line(&GOOD.replace("view: attention", "view: atention"));
        assert_eq!(l, 13);
        assert!(m.contains("did you mean `attention`"), "{m}");
        let (l, m) = err_line(&GOOD.replace("stage: softmax", "stage: softmx"));
        assert_eq!(l, 14);
        assert!(m.contains("unknown stage"), "{m}");
        let (l, m) = err_line(&GOOD.replace("{{attn.scores}}", "{{atn.scores}}"));
        assert_eq!(l, 20);
        assert!(m.contains("did you mean `attn.scores`"), "{m}");
        let (l, m) = err_line(&GOOD.replace("{{logits.top 3}}", "{{logits.top x}}"));
        assert_eq!(l, 20);
        assert!(m.contains("expected a number"), "{m}");
        let (l, m) = err_line(&GOOD.replace("{{logits.top 3}}", "{{logits.top 3"));
        assert_eq!(l, 20);
        assert!(m.contains("expected `}}`"), "{m}");
        let (_, m) = err_line(&GOOD.replace("order: 3", "order: three"));
        assert!(m.contains("whole number"), "{m}");
        let (l, m) = err_line(&GOOD.replace("```step\n", ""));
        assert_eq!(l, 12);
        assert!(m.contains("expected a ```step block"), "{m}");
        let (_, m) = err_line(&GOOD.replace("prompt:", "promt:"));
        assert!(m.contains("did you mean `prompt`"), "{m}");
        let (l, m) = err_line(&GOOD.replace("answer: {{attn.top}}\n", ""));
        assert_eq!(l, 22);
        assert!(m.contains("answer"), "{m}");
        let (_, m) = err_line("---\ntitle: x\n");
        assert!(m.contains("closing the front matter"), "{m}");
        let (_, m) = err_line("---\ntitle: a\nsummary: b\nprompt: c\norder: 1\n---\nno steps\n");
        assert!(m.contains("no steps"), "{m}");
        let (l, m) = err_line(&GOOD.replace("position: last-1", "position: end"));
        assert_eq!(l, 17);
        assert!(m.contains("`last-N`"), "{m}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(400))]
        #[test]
        fn random_input_never_panics(s in "\\PC*") {
            let _ = p(&s);
        }

        #[test]
        fn mangled_lessons_never_panic(cut in 0usize..400, ins in "[-`{}:#\n a-z0-9]{0,12}") {
            let mut s = GOOD.to_string();
            let mut at = cut.min(s.len());
            while !s.is_char_boundary(at) { at -= 1; }
            s.insert_str(at, &ins);
            let _ = p(&s);
            let _ = p(&s[..at]);
        }
    }
}
