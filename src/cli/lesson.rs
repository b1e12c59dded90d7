//! `gptlens lessons` and `gptlens lesson NAME`: list the lessons, open one in
//! the lesson player, or print one with its live numbers.

use anyhow::{Context, Result, bail};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use gptlens::i18n::{Lang, Msg};
use gptlens::lesson::{self, Env, Lesson, render};
use gptlens::sample::Sampling;
use gptlens::tui::heatmap::{ColorMode, Theme};
use gptlens::tui::player::{Entry, Lessons, Player, Shell};
use gptlens::tui::{App, Options};

use gptlens::text::safe_text;

use super::out::TextMode;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The lesson's name (see `gptlens lessons`).
    #[arg(value_name = "NAME", required_unless_present = "file")]
    name: Option<String>,
    /// Write the lesson with its live numbers to stdout as markdown (for handouts).
    #[arg(long)]
    print: bool,
    /// With --print: md (markdown), or html (a self-contained page with each
    /// step's screen inline as SVG).
    #[arg(long, value_name = "FORMAT", default_value = "md", requires = "print")]
    format: PrintFormat,
    /// Open a lesson file of your own instead of a built-in one (format: docs/lesson-format.md).
    #[arg(long, value_name = "PATH", conflicts_with = "name")]
    file: Option<PathBuf>,
    /// Presenter mode from the start: large cells, a formula card (z toggles it).
    #[arg(long)]
    present: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum PrintFormat {
    Md,
    Html,
}

/// `gptlens lessons`: one line per lesson, in teaching order, in `lang`
/// where translated (the others in English, marked and named at the end).
pub fn list(text: TextMode, lang: Lang) -> Result<()> {
    let lessons = lesson::all_in(lang).context("reading the lessons")?;
    let w = lessons.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = super::out::stdout();
    let mut untranslated = vec![];
    for l in &lessons {
        let mark = if l.lang == lang {
            ""
        } else {
            untranslated.push(l.name.as_str());
            Msg::ListUntranslatedMark.get(lang)
        };
        writeln!(
            out,
            "{:w$}  {}{mark}",
            text.show(&l.name),
            text.show(&l.summary)
        )?;
    }
    writeln!(out, "\n{}", Msg::ListFooter.get(lang))?;
    if !untranslated.is_empty() && lang != Lang::En {
        let names = untranslated.join(", ");
        writeln!(out, "{}", Msg::ListUntranslated.fill(lang, &[&names]))?;
    }
    out.flush()?;
    Ok(())
}

/// The model folder a lesson runs on: --model; else the model the lesson
/// names, a built-in one (tiny-models/NAME) or a folder beside the lesson
/// file (the parser has refused absolute paths and `..`); else the default.
pub(super) fn model_dir(
    model: Option<&Path>,
    l: &Lesson,
    beside: Option<&Path>,
) -> Result<Option<PathBuf>> {
    if let Some(m) = model {
        return Ok(Some(m.to_path_buf()));
    }
    let Some(name) = &l.model else {
        return Ok(None);
    };
    if let Some(builtin) = gptlens::paths::builtin_model(name) {
        return Ok(Some(builtin));
    }
    if let Some(local) = beside.map(|d| d.join(name)).filter(|d| d.is_dir()) {
        return Ok(Some(local));
    }
    let beside = beside.map_or(String::new(), |d| {
        format!(
            " and no folder `{name}` beside the lesson file in {}",
            d.display()
        )
    });
    bail!(
        "lesson `{}` runs on the model `{name}`, but there is no built-in model `{name}`{beside} (the built-in models: {}; or pass --model DIR to use another model)",
        safe_text(&l.name),
        gptlens::embedded::MODELS
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
}

pub fn run(
    model: Option<&Path>,
    look: super::explore::Look,
    text: TextMode,
    lang: Lang,
    a: Args,
) -> Result<()> {
    let (l, beside) = match (&a.file, &a.name) {
        (Some(f), _) => {
            let dir = f.parent().map(|d| {
                if d.as_os_str().is_empty() {
                    Path::new(".").to_path_buf()
                } else {
                    d.to_path_buf()
                }
            });
            (lesson::load_file(f)?, dir)
        }
        (None, Some(n)) => {
            let l = lesson::find_in(n, lang)?;
            if l.lang != lang {
                let _ = writeln!(
                    std::io::stderr(),
                    "{}",
                    Msg::FallbackNote.fill(lang, &[&safe_text(&l.name)])
                );
            }
            (l, lesson::lessons_dir())
        }
        (None, None) => bail!("name a lesson (see `gptlens lessons`) or give --file PATH"),
    };
    // Everything that can fail (model, prompt, every placeholder of every
    // step) is checked here, before the terminal changes mode.
    let dir = model_dir(model, &l, beside.as_deref())?;
    let loaded = super::load_model(dir.as_deref())?;
    let trace = render::trace_prompt(&l, &loaded.gpt, &loaded.tokenizer)?;
    let env = Env::new(
        &loaded.gpt,
        &loaded.tokenizer,
        &trace,
        &l.prompt,
        Some(&loaded.dir),
    );
    let md = render::markdown(&l, &env)?;
    let print = |md: &str| -> Result<()> {
        let mut out = super::out::stdout();
        out.write_all(text.show(md).as_bytes())?;
        out.flush()?;
        Ok(())
    };
    if a.print && a.format == PrintFormat::Html {
        let p = super::export::player(model, &look, lang, l, beside.as_deref())?;
        let mut out = super::out::stdout();
        out.write_all(super::export::handout(p, &md, (120, 40)).as_bytes())?;
        out.flush()?;
        return Ok(());
    }
    if a.print {
        return print(&md);
    }
    // Piped or redirected: the text is what can be shown.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        let _ = writeln!(
            std::io::stderr(),
            "note: the lesson player needs an interactive terminal (stdin and stdout are not both a terminal), so here is the lesson as text; `gptlens lesson {} --print` writes just this",
            safe_text(&l.name)
        );
        return print(&md);
    }
    if l.scenes.is_empty() {
        bail!(
            "{}: the lesson has no steps (`## ` headings each followed by a ```step block)",
            l.file
        );
    }
    let ids = trace.tokens.clone();
    let vocab: Vec<String> = (0..loaded.gpt.config.vocab_size as u32)
        .map(|i| loaded.tokenizer.token_display(i))
        .collect();
    let theme = Theme {
        mode: ColorMode::detect(look.no_color),
        palette: look.palette,
        ascii: look.ascii,
        present: a.present,
        lang,
    };
    let mut app = App::new(
        loaded.gpt.clone(),
        vocab,
        &ids,
        Options {
            theme,
            sampling: Sampling::default(),
            seed: 0,
        },
    )
    .context("running the lesson's prompt through the model")?;
    app.set_model_dir(&loaded.dir);
    let catalog = Catalog::new(model, lang, &loaded)?;
    let player = Player::new(app, l, loaded.tokenizer, Some(loaded.dir));
    let shell = Shell::lesson(player, Box::new(catalog));
    gptlens::tui::run::run_screen(shell).context("the lesson player failed")
}

/// The lessons the explorer and the player can move to without quitting
/// (`o`, and PgDn at a lesson's last step), in teaching order, with the
/// models they run on, loaded once each.
pub(super) struct Catalog {
    entries: Vec<Entry>,
    lang: Lang,
    /// --model, which every lesson then runs on.
    model: Option<PathBuf>,
    loaded: Vec<super::Loaded>,
}

impl Catalog {
    pub(super) fn new(
        model: Option<&Path>,
        lang: Lang,
        current: &super::Loaded,
    ) -> Result<Catalog> {
        let entries = lesson::all_in(lang)
            .context("reading the lessons")?
            .into_iter()
            .map(|l| Entry {
                name: l.name,
                title: l.title,
                summary: l.summary,
            })
            .collect();
        Ok(Catalog {
            entries,
            lang,
            model: model.map(Path::to_path_buf),
            loaded: vec![current.clone()],
        })
    }

    /// A player on lesson `name`, every placeholder of every step checked
    /// (as `gptlens lesson NAME` checks before it starts), looking like `from`.
    fn player(&mut self, name: &str, from: &App) -> Result<Player> {
        let l = lesson::find_in(name, self.lang)?;
        let dir = model_dir(self.model.as_deref(), &l, lesson::lessons_dir().as_deref())?;
        let dir = super::model_dir(dir.as_deref())?;
        let loaded = match self.loaded.iter().find(|m| m.dir == dir) {
            Some(m) => m.clone(),
            None => {
                let m = super::open_model(dir, &mut |_| {})?;
                self.loaded.push(m.clone());
                m
            }
        };
        let trace = render::trace_prompt(&l, &loaded.gpt, &loaded.tokenizer)?;
        let env = Env::new(
            &loaded.gpt,
            &loaded.tokenizer,
            &trace,
            &l.prompt,
            Some(&loaded.dir),
        );
        render::markdown(&l, &env)?;
        let vocab: Vec<String> = (0..loaded.gpt.config.vocab_size as u32)
            .map(|i| loaded.tokenizer.token_display(i))
            .collect();
        let mut app = App::new(
            loaded.gpt.clone(),
            vocab,
            &trace.tokens,
            Options {
                theme: *from.theme(),
                sampling: Sampling::default(),
                seed: 0,
            },
        )
        .context("running the lesson's prompt through the model")?;
        app.set_model_dir(&loaded.dir);
        Ok(Player::new(app, l, loaded.tokenizer, Some(loaded.dir)))
    }
}

impl Lessons for Catalog {
    fn list(&self) -> &[Entry] {
        &self.entries
    }

    fn open(&mut self, name: &str, from: &App) -> Result<Player, String> {
        self.player(name, from).map_err(|e| format!("{e:#}"))
    }
}
