//! `gptlens export`: any view, or a lesson's step, drawn headlessly by the
//! explorer's own draw code into a buffer and written as SVG, HTML or text
//! (`gptlens::export`). `lesson NAME --print --format html` uses it for the
//! handout's pictures.

use anyhow::{Context, Result};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::io::Write;
use std::path::{Path, PathBuf};

use gptlens::export::{self, Format};
use gptlens::i18n::{Lang, Msg};
use gptlens::lesson::{self, Env, render};
use gptlens::pass::{Stage, View};
use gptlens::sample::Sampling;
use gptlens::tui::heatmap::{ColorMode, Theme};
use gptlens::tui::player::Player;
use gptlens::tui::run::Screen;
use gptlens::tui::{App, Options};

use super::out::usage;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The view to draw: tokens, embeddings, attention, layernorm, mlp,
    /// residual, logits, loss, cost, training (default: the stage's view).
    #[arg(long, value_name = "NAME")]
    view: Option<String>,
    /// The layer selected (from 0).
    #[arg(long, value_name = "L")]
    layer: Option<usize>,
    /// The head selected (from 0).
    #[arg(long, value_name = "H")]
    head: Option<usize>,
    /// The token position selected (from 0).
    #[arg(long, value_name = "P")]
    position: Option<usize>,
    /// The stage of the pass to stand at, e.g. softmax or mlp_act (in --layer).
    #[arg(long, value_name = "S")]
    stage: Option<String>,
    /// The text to run (default: the explorer's opening prompt).
    #[arg(long, short, conflicts_with = "lesson")]
    prompt: Option<String>,
    /// Draw a lesson's step (the lesson player's screen) instead of a view.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["view", "stage"])]
    lesson: Option<String>,
    /// The lesson's step, from 1.
    #[arg(long, value_name = "K", default_value_t = 1, requires = "lesson")]
    step: usize,
    /// Columns × rows of the screen drawn, at least 60x18.
    #[arg(long, value_name = "WxH", default_value = "120x40")]
    size: String,
    /// File format (default: from --out's extension, else svg).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Where to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// `WxH`, checked against the smallest screen the explorer draws.
pub fn parse_size(s: &str) -> Result<(u16, u16)> {
    use gptlens::tui::draw::{MIN_H, MIN_W};
    let bad = || {
        usage(format!(
            "--size {s}: give columns x rows, e.g. 120x40 (at least {MIN_W}x{MIN_H}, at most 1000x1000)"
        ))
    };
    let (w, h) = s.split_once(['x', 'X', '×']).ok_or_else(bad)?;
    let (w, h): (u16, u16) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if w < MIN_W || h < MIN_H || w > 1000 || h > 1000 {
        return Err(bad());
    }
    Ok((w, h))
}

/// Files get every colour: they are not a terminal, so neither the terminal's
/// colour depth nor NO_COLOR (about ANSI escapes) applies; --no-color does.
fn theme(look: &super::explore::Look, lang: Lang) -> Theme {
    Theme {
        mode: if look.no_color {
            ColorMode::None
        } else {
            ColorMode::TrueColor
        },
        palette: look.palette,
        ascii: look.ascii,
        present: false,
        lang,
    }
}

fn vocab(l: &super::Loaded) -> Vec<String> {
    (0..l.gpt.config.vocab_size as u32)
        .map(|i| l.tokenizer.token_text(i))
        .collect()
}

/// Draws a screen into a `w`×`h` buffer.
fn draw(screen: &mut impl Screen, (w, h): (u16, u16)) -> Buffer {
    gptlens::tui::event::run_jobs_blocking(screen.app_mut());
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    screen.draw(area, &mut buf);
    buf
}

/// The lesson player on `l`, as `gptlens lesson` opens it (`beside`: the
/// lesson file's folder, where a model it names may be).
pub fn player(
    model: Option<&Path>,
    look: &super::explore::Look,
    lang: Lang,
    l: lesson::Lesson,
    beside: Option<&Path>,
) -> Result<Player> {
    let dir = super::lesson::model_dir(model, &l, beside)?;
    let loaded = super::load_model(dir.as_deref())?;
    let trace = render::trace_prompt(&l, &loaded.gpt, &loaded.tokenizer)?;
    let env = Env::new(
        &loaded.gpt,
        &loaded.tokenizer,
        &trace,
        &l.prompt,
        Some(&loaded.dir),
    );
    render::fill_scenes(&l, &env)?;
    let app = App::new(
        loaded.gpt.clone(),
        vocab(&loaded),
        &trace.tokens,
        Options {
            theme: theme(look, lang),
            sampling: Sampling::default(),
            seed: 0,
        },
    )
    .context("running the lesson's prompt through the model")?;
    Ok(Player::new(app, l, loaded.tokenizer, Some(loaded.dir)))
}

pub fn run(model: Option<&Path>, look: super::explore::Look, lang: Lang, a: Args) -> Result<()> {
    // The command line is checked before the model is opened.
    let size = parse_size(&a.size)?;
    let view: Option<View> = match &a.view {
        Some(v) => Some(v.parse().map_err(|e| usage(format!("--view: {e}")))?),
        None => None,
    };
    let stage: Option<Stage> = match &a.stage {
        Some(s) => Some(s.parse().map_err(|e| usage(format!("--stage: {e}")))?),
        None => None,
    };
    if view.is_none() && stage.is_none() && a.lesson.is_none() {
        return Err(usage(
            "say what to draw: --view NAME (e.g. attention), --stage S, or --lesson NAME --step K",
        ));
    }
    let format = match (a.format, a.out.as_ref().and_then(|p| p.extension())) {
        (Some(f), _) => f,
        (None, Some(e)) if e == "html" || e == "htm" => Format::Html,
        (None, Some(e)) if e == "txt" => Format::Txt,
        _ => Format::Svg,
    };
    let (buf, title) = match &a.lesson {
        Some(name) => {
            let l = lesson::find_in(name, lang)?;
            if l.lang != lang {
                super::out::note(format_args!(
                    "{}",
                    Msg::FallbackNote.fill(lang, &[&gptlens::text::safe_text(&l.name)])
                ));
            }
            let mut p = player(model, &look, lang, l, lesson::lessons_dir().as_deref())?;
            if a.step == 0 || a.step > p.n_scenes() {
                return Err(usage(format!(
                    "--step {}: lesson `{name}` has steps 1 to {}",
                    a.step,
                    p.n_scenes()
                )));
            }
            p.goto(a.step - 1);
            let title = Msg::ExportLessonTitle.fill(lang, &[&name, &a.step]);
            (draw(&mut p, size), title)
        }
        None => {
            let l = super::load_model(model)?;
            let prompt = a
                .prompt
                .clone()
                .unwrap_or_else(|| super::explore::DEFAULT_PROMPT.to_string());
            let ids = super::encode_prompt(&l, &prompt)?;
            let (n_layer, n_head) = (l.gpt.config.n_layer, l.gpt.config.n_head);
            let check = |what: &str, v: Option<usize>, n: usize, unit: &str| -> Result<()> {
                match v {
                    Some(v) if v >= n => Err(usage(format!(
                        "--{what} {v} is out of range: there are {n} {unit} (0 to {})",
                        n - 1
                    ))),
                    _ => Ok(()),
                }
            };
            check("layer", a.layer, n_layer, "layers")?;
            check("head", a.head, n_head, "heads")?;
            check("position", a.position, ids.len(), "tokens in the prompt")?;
            let mut app = App::new(
                l.gpt.clone(),
                vocab(&l),
                &ids,
                Options {
                    theme: theme(&look, lang),
                    sampling: Sampling::default(),
                    seed: 0,
                },
            )?;
            app.set_model_dir(&l.dir);
            // A view on its own stands at its first stage (in --layer), so the
            // header and the view agree.
            let at = stage.or_else(|| {
                let v = view?;
                Stage::ALL.iter().copied().find(|s| s.view() == v)
            });
            if let Some(s) = at {
                app.goto_stage(s, a.layer.unwrap_or(0));
            }
            if let Some(v) = view {
                app.show_view(v);
            }
            if let Some(x) = a.layer {
                app.select_layer(x);
            }
            if let Some(x) = a.head {
                app.select_head(x);
            }
            if let Some(x) = a.position {
                app.select_pos(x);
            }
            let title = format!("gptlens {} view", app.view().name());
            (draw(&mut app, size), title)
        }
    };
    let doc = export::render(&buf, format, &title, lang);
    match &a.out {
        Some(path) => {
            std::fs::write(path, doc).with_context(|| format!("writing {}", path.display()))?;
            super::out::note(format_args!("wrote {}", path.display()));
        }
        None => {
            let mut out = super::out::stdout();
            out.write_all(doc.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(())
}

/// `gptlens lesson NAME --print --format html`: the lesson's text with each
/// step's screen (the explorer as the step sets it up) inline as SVG.
pub fn handout(mut p: Player, markdown: &str, size: (u16, u16)) -> String {
    use pulldown_cmark::{Options as Md, Parser, html};
    let to_html = |md: &str| {
        let mut s = String::new();
        html::push_html(&mut s, Parser::new_ext(md, Md::ENABLE_TABLES));
        s
    };
    // The markdown's steps start at lines "## K. title" (render::markdown).
    let mut sections: Vec<String> = vec![String::new()];
    let mut next = 1;
    for line in markdown.split_inclusive('\n') {
        if line.starts_with(&format!("## {next}. ")) {
            sections.push(String::new());
            next += 1;
        }
        sections.last_mut().expect("one section").push_str(line);
    }
    let mut body = to_html(&sections[0]);
    for (i, s) in sections.iter().enumerate().skip(1) {
        body.push_str(&to_html(s));
        if i <= p.n_scenes() {
            p.goto(i - 1);
            gptlens::tui::event::run_jobs_blocking(p.app_mut());
            let area = Rect::new(0, 0, size.0, size.1);
            let mut buf = Buffer::empty(area);
            gptlens::tui::draw::draw(p.app(), area, &mut buf);
            let lang = p.app().theme().lang;
            let svg = export::svg(&buf, &Msg::HandoutStep.fill(lang, &[&i]));
            body.push_str("<figure class=\"gptlens-step\">\n");
            body.push_str(&svg);
            body.push_str(&format!(
                "<figcaption>{}</figcaption>\n</figure>\n",
                export::escape(&Msg::HandoutCaption.fill(lang, &[&i]))
            ));
        }
    }
    let lang = p.app().theme().lang;
    export::html_page(
        &Msg::HandoutTitle.fill(lang, &[&p.lesson().name]),
        &body,
        lang,
    )
}
