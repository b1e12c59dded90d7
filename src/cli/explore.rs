//! `gptlens explore` (and plain `gptlens`): the step-through explorer.

use anyhow::{Context, Result};
use std::io::IsTerminal;

use gptlens::sample::Sampling;
use gptlens::tui::heatmap::{ColorMode, Palette, Theme};
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
    /// Presenter mode: larger cells, high contrast, fewer panels.
    #[arg(long)]
    present: bool,
    /// Random seed for sampling: the same seed picks the same tokens.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Sampling temperature to start with (t/T change it); 0 = greedy.
    #[arg(long, default_value_t = 1.0)]
    temperature: f32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            prompt: DEFAULT_PROMPT.into(),
            chat: None,
            present: false,
            seed: 0,
            temperature: 1.0,
        }
    }
}

/// How the global flags asked things to look.
pub struct Look {
    pub no_color: bool,
    pub ascii: bool,
    pub palette: Palette,
}

pub fn run(model: Option<&std::path::Path>, look: Look, a: Args) -> Result<()> {
    // Everything that can fail is checked before the terminal changes mode.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the explorer needs an interactive terminal (stdin and stdout are not both a terminal); for scripts use `gptlens generate` or `gptlens trace`"
        );
    }
    let l = super::load_model(model)?;
    let prompt = match &a.chat {
        Some(user) => gptlens::finetune::chat_prompt(&l.dir, &l.tokenizer, user)?.text,
        None => a.prompt.clone(),
    };
    let ids = super::encode_prompt(&l, &prompt)?;
    let vocab: Vec<String> = (0..l.gpt.config.vocab_size as u32)
        .map(|i| l.tokenizer.token_display(i))
        .collect();
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
    };
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
    gptlens::tui::run::run(app).context("the terminal explorer failed")
}
