//! `gptlens explore` (and plain `gptlens`): the step-through explorer.

use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::path::Path;

use gptlens::model::Config;
use gptlens::sample::Sampling;
use gptlens::tui::draw::Loading;
use gptlens::tui::heatmap::{ColorMode, Palette, Theme};
use gptlens::tui::run::Tty;
use gptlens::tui::{App, Options};

/// The prompt plain `gptlens` opens with.
pub const DEFAULT_PROMPT: &str = "Once upon a time, there was a little";

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The text to start from.
    #[arg(long, short, default_value = DEFAULT_PROMPT)]
    prompt: String,
    /// A user message, opened as the model folder's chat template renders it
    /// with the generation prompt (the token strip shows the templated text).
    #[arg(long, value_name = "USER TEXT", conflicts_with = "prompt")]
    chat: Option<String>,
    /// Presenter mode: large cells, a formula card, high contrast (z toggles it).
    #[arg(long)]
    present: bool,
    /// Random seed for sampling: the same seed picks the same tokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sampling temperature to start with (t/T change it); 0 = greedy.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
    /// A second model (a folder or a GGUF file) run on the same tokens: the
    /// logits, loss and attention views show both and the difference B − A.
    /// It must share this model's tokenizer.
    #[arg(long, value_name = "MODEL")]
    compare: Option<std::path::PathBuf>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            prompt: DEFAULT_PROMPT.into(),
            chat: None,
            present: false,
            seed: 0,
            temperature: 1.0,
            compare: None,
        }
    }
}

/// How the global flags asked things to look.
pub struct Look {
    pub no_color: bool,
    pub ascii: bool,
    pub palette: Palette,
}

/// What the loading frame says about the model in `dir`, read from its
/// config and the size of its weights file (both cheap: nothing is loaded).
/// Anything unreadable is left out; opening the model reports it properly.
pub fn loading_info(dir: &Path) -> Loading {
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut details = vec![];
    if let Ok(c) = Config::read(&dir.join("config.json")) {
        let params = c
            .checked_params()
            .map_or("?".to_string(), |p| gptlens::fmt::si(p as f64));
        details.push(format!(
            "{params} parameters · layers {} · heads {} · width {} · context {}",
            c.n_layer, c.n_head, c.n_embd, c.n_positions
        ));
    }
    let weights = if gptlens::gguf::gpt2::is_gguf(dir) {
        dir.to_path_buf()
    } else {
        dir.join("model.safetensors")
    };
    let size = match gptlens::embedded::file(&weights) {
        Some(bytes) => Some(bytes.len() as u64),
        None => std::fs::metadata(&weights).ok().map(|m| m.len()),
    };
    if let Some(b) = size {
        let file = weights.file_name().unwrap_or_default().to_string_lossy();
        details.push(format!("{file} · {}", gptlens::fmt::bytes(b as f64)));
    }
    Loading { name, details }
}

pub fn run(
    model: Option<&std::path::Path>,
    look: Look,
    lang: gptlens::i18n::Lang,
    a: Args,
) -> Result<()> {
    // Everything that can fail cheaply is checked before the terminal
    // changes mode; loading itself runs under a frame that says so.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the explorer needs an interactive terminal (stdin and stdout are not both a terminal); for scripts use `gptlens generate` or `gptlens trace`"
        );
    }
    if a.chat.is_none() && a.prompt.is_empty() {
        anyhow::bail!(
            "the prompt is empty: give some text, for example --prompt \"Once upon a time\""
        );
    }
    let sampling = Sampling {
        temperature: a.temperature,
        ..Sampling::default()
    };
    sampling.validate()?;
    let theme = Theme {
        mode: ColorMode::detect(look.no_color),
        palette: look.palette,
        ascii: look.ascii,
        present: a.present,
        lang,
    };
    let dir = super::model_dir(model)?;
    let gguf = gptlens::gguf::gpt2::is_gguf(&dir);
    if !gguf && gptlens::paths::model_file(&dir, "config.json").is_err() {
        // Opening fails at once, saying why, before the screen changes.
        super::open_model(dir.clone(), &mut |_| {})?;
    }
    let mut tty = Tty::enter().context("setting up the terminal")?;
    tty.loading(&loading_info(&dir), &theme)
        .context("drawing the loading screen")?;
    let mut notes = vec![];
    let l = super::open_model(dir, &mut |w| notes.push(w))?;
    let compare = match &a.compare {
        Some(p) => Some(open_compare(&l, p, &mut notes)?),
        None => None,
    };
    let prompt = match &a.chat {
        Some(user) => gptlens::finetune::chat_prompt(&l.dir, &l.tokenizer, user)?.text,
        None => a.prompt.clone(),
    };
    let mut ids = l.tokenizer.encode(&prompt)?;
    if ids.is_empty() {
        anyhow::bail!("the prompt encodes to no tokens: give some text");
    }
    let ctx = l.gpt.config.n_positions;
    if ids.len() > ctx {
        notes.push(format!(
            "note: the prompt is {} tokens but the model's context is {ctx}: kept the last {ctx}",
            ids.len()
        ));
        ids.drain(..ids.len() - ctx);
    }
    let vocab: Vec<String> = (0..l.gpt.config.vocab_size as u32)
        .map(|i| l.tokenizer.token_display(i))
        .collect();
    let mut app = App::new(
        l.gpt.clone(),
        vocab,
        &ids,
        Options {
            theme,
            sampling,
            seed: a.seed,
        },
    )
    .context("running the prompt through the model")?;
    app.set_model_dir(&l.dir);
    if let Some(c) = compare {
        app.set_compare(c);
    }
    let catalog = super::lesson::Catalog::new(model, lang, &l)?;
    app.set_tokenizer(l.tokenizer);
    if !notes.is_empty() {
        app.set_status(Some(notes.join(" · ")));
    }
    let shell = gptlens::tui::player::Shell::explorer(app, Box::new(catalog));
    gptlens::tui::run::run_screen_on(tty, shell).context("the terminal explorer failed")
}

/// `--compare MODEL`: opened like `--model`, and refused unless its tokenizer
/// gives every id the same text as the first model's.
fn open_compare(
    a: &super::Loaded,
    path: &std::path::Path,
    notes: &mut Vec<String>,
) -> Result<gptlens::readout::compare::CompareModel> {
    let dir = super::model_dir(Some(path))?;
    let b = super::open_model(dir, &mut |w| notes.push(format!("--compare: {w}")))
        .with_context(|| format!("--compare {}", path.display()))?;
    gptlens::readout::compare::same_vocabulary(&a.tokenizer, &b.tokenizer)
        .map_err(|e| anyhow::anyhow!("--compare {}: {e}", path.display()))?;
    let name = path.file_name().map_or(path.display().to_string(), |n| {
        n.to_string_lossy().into_owned()
    });
    Ok(gptlens::readout::compare::CompareModel::new(b.gpt, &name))
}
