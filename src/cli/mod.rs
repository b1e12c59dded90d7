//! Command-line surface: argument definitions and dispatch.
//!
//! Options that several commands share (`--model`, the display options,
//! `--raw`) sit under their own help heading and only on the commands they
//! act on; given before the command name they apply to it, and before a
//! command they do not act on they are a usage error.

mod bench;
mod cost;
mod distil;
mod eval;
mod explore;
mod export;
mod finetune;
mod generate;
mod init;
mod intervene;
mod lesson;
pub mod out;
mod prune;
mod quantize;
mod trace;
mod train;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gptlens::i18n::Lang;
use gptlens::model::Gpt;
use gptlens::tokenizer::Tokenizer;
use gptlens::tui::heatmap::Palette;

/// What `gptlens --help` and the README say about exit statuses.
pub const EXIT_CODES: &str = "\
Exit status: 0 done; 1 a runtime error (a file, a model, the disk); 2 a usage \
error (an unknown option, a missing or out-of-range value); 141 the reader of \
the output went away (a closed pipe).";

/// Watch a GPT think: run a small GPT-2 token by token and see every stage of it.
#[derive(Parser, Debug)]
#[command(name = "gptlens", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Model folder (config.json, model.safetensors, tokenizer.json) or a GGUF file (gpt2). Default: the built-in tiny model.
    #[arg(long, value_name = "DIR", help_heading = "Model")]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub look: LookOpts,
    #[command(flatten)]
    pub raw: RawOpt,
    /// Language of the lessons and the interface: zh (中文) or en. Default: zh
    /// when LC_ALL, LC_MESSAGES or LANG names Chinese (e.g. zh_CN.UTF-8), else en.
    #[arg(long, value_enum, global = true, value_name = "LANG")]
    pub lang: Option<Lang>,
}

/// `--model`, on the commands that run a model.
#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Model")]
pub struct ModelOpt {
    /// Model folder (config.json, model.safetensors, tokenizer.json), a GGUF
    /// file (gpt2), or (built-in)/NAME. Default: the built-in tiny model.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
}

/// How the explorer and the lesson player draw.
#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Display")]
pub struct LookOpts {
    /// No colours (also honoured: the NO_COLOR environment variable).
    #[arg(long)]
    pub no_color: bool,
    /// No block or box-drawing glyphs (for terminals and fonts without them).
    #[arg(long)]
    pub ascii: bool,
    /// Colormap for magnitudes [default: viridis] (signed values use blue–white–red).
    #[arg(long, value_enum)]
    pub palette: Option<Palette>,
}

impl LookOpts {
    fn given(&self) -> Option<&'static str> {
        if self.no_color {
            Some("--no-color")
        } else if self.ascii {
            Some("--ascii")
        } else if self.palette.is_some() {
            Some("--palette")
        } else {
            None
        }
    }

    /// These options, with any given before the command name.
    fn with(self, top: &LookOpts) -> explore::Look {
        explore::Look {
            no_color: self.no_color || top.no_color,
            ascii: self.ascii || top.ascii,
            palette: self.palette.or(top.palette).unwrap_or(Palette::Viridis),
        }
    }
}

/// `--raw`, on the commands that print untrusted text.
#[derive(clap::Args, Debug, Default, Clone)]
#[command(next_help_heading = "Output")]
pub struct RawOpt {
    /// Write prompt, token and lesson text raw even to a terminal (control
    /// characters and escape sequences included). Without it they are shown
    /// escaped (␛, \u{7}) on a terminal, and raw to a pipe or file.
    #[arg(long)]
    pub raw: bool,
}

impl RawOpt {
    fn with(&self, top: &RawOpt) -> out::TextMode {
        out::TextMode::for_stdout(self.raw || top.raw)
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Generate a continuation and print it (for scripts).
    Generate {
        #[command(flatten)]
        args: generate::Args,
        #[command(flatten)]
        model: ModelOpt,
        #[command(flatten)]
        raw: RawOpt,
    },
    /// Print the full forward trace of a prompt as JSON.
    Trace {
        #[command(flatten)]
        args: trace::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// Write a seeded random model folder (for tests and benchmarks).
    Init(init::Args),
    /// Step through the forward pass in the terminal (the default command).
    Explore {
        #[command(flatten)]
        args: explore::Args,
        #[command(flatten)]
        model: ModelOpt,
        #[command(flatten)]
        look: LookOpts,
    },
    /// Measure decode speed, prefill time and the time of one traced step.
    Bench {
        #[command(flatten)]
        args: bench::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// Train a GPT-2 from scratch on a text corpus (or time training with --bench).
    Train(train::Args),
    /// Fine-tune a model on prompt/response pairs (or --eval: their response loss).
    Finetune {
        #[command(flatten)]
        args: finetune::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// What a GPT costs: parameters, FLOPs, memory, accelerator-hours, for any shape.
    Cost {
        #[command(flatten)]
        args: cost::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// Loss, perplexity and bits per byte on a text; with --reference, what was lost (KL, top-1, per tensor).
    Eval {
        #[command(flatten)]
        args: eval::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// Write the model as a GGUF file with quantized weights (q8_0, q4_0, q4_1) or f16.
    Quantize {
        #[command(flatten)]
        args: quantize::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// Train a smaller student against a teacher's softened distributions (knowledge distillation).
    Distil(distil::Args),
    /// Set the smallest fraction of each linear layer's weights to zero (magnitude pruning).
    Prune {
        #[command(flatten)]
        args: prune::Args,
        #[command(flatten)]
        model: ModelOpt,
    },
    /// List the lessons with one-line summaries.
    Lessons {
        #[command(flatten)]
        raw: RawOpt,
    },
    /// Draw any view (or a lesson's step) headlessly and write it as SVG, HTML or text.
    Export {
        #[command(flatten)]
        args: export::Args,
        #[command(flatten)]
        model: ModelOpt,
        #[command(flatten)]
        look: LookOpts,
    },
    /// Open a lesson (NAME from `gptlens lessons`, or --file PATH); --print writes it as markdown.
    Lesson {
        #[command(flatten)]
        args: lesson::Args,
        #[command(flatten)]
        model: ModelOpt,
        #[command(flatten)]
        look: LookOpts,
        #[command(flatten)]
        raw: RawOpt,
    },
}

/// Parses the command line, numbers with a minus sign included (so
/// `--temperature -1` reaches the program, which says what the range is).
/// Errors are clap's: "error: …", exit status 2.
pub fn parse() -> Cli {
    fn negatives(c: clap::Command) -> clap::Command {
        c.allow_negative_numbers(true).mut_subcommands(negatives)
    }
    let cmd = negatives(Cli::command());
    let m = match cmd.clone().try_get_matches() {
        Ok(m) => m,
        Err(e) => negative_for_unsigned(e).exit(),
    };
    Cli::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
}

/// "invalid digit found in string" for `--top-k -1` becomes "must be 0 or more".
fn negative_for_unsigned(e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let s = |k| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let (Some(value), Some(arg)) = (s(ContextKind::InvalidValue), s(ContextKind::InvalidArg))
    else {
        return e;
    };
    // Only the standard integer parser's complaint; a command's own parser
    // already says what it wants.
    if e.kind() != ErrorKind::ValueValidation
        || !e.to_string().contains("invalid digit found in string")
        || !value.starts_with('-')
        || value[1..].parse::<f64>().is_err()
    {
        return e;
    }
    let msg = format!("invalid value '{value}' for '{arg}': it must be 0 or more");
    // The usage line of the subcommand the value was given to.
    let mut cmd = Cli::command();
    cmd.build();
    let sub = std::env::args()
        .skip(1)
        .find(|a| cmd.find_subcommand(a).is_some());
    match sub.and_then(|s| cmd.find_subcommand_mut(s)) {
        Some(c) => c.error(ErrorKind::ValueValidation, msg),
        None => cmd.error(ErrorKind::ValueValidation, msg),
    }
}

/// A usage error for an option given before a command it does not act on.
fn not_here(opt: &str, cmd: &str, acts_on: &str) -> anyhow::Error {
    out::usage(format!(
        "{opt} does not apply to `gptlens {cmd}` (it acts on {acts_on}); see `gptlens {cmd} --help`"
    ))
}

const LOOK_ACTS_ON: &str = "what draws a screen: explore, lesson, export";
const RAW_ACTS_ON: &str = "the commands that print text: generate, lessons, lesson";
const MODEL_ACTS_ON: &str = "the commands that run a model";

pub fn run(cli: Cli) -> Result<()> {
    let top_model = cli.model.clone();
    let lang = cli.lang.unwrap_or_else(Lang::from_env);
    let (top_look, top_raw) = (cli.look, cli.raw);
    let model = |m: ModelOpt| m.model.or(top_model.clone());
    let name = cli.command.as_ref().map(command_name).unwrap_or("explore");
    let takes_look = matches!(
        cli.command,
        None | Some(Command::Explore { .. })
            | Some(Command::Lesson { .. })
            | Some(Command::Export { .. })
    );
    let takes_raw = matches!(
        cli.command,
        None | Some(Command::Generate { .. })
            | Some(Command::Lessons { .. })
            | Some(Command::Lesson { .. })
    );
    let takes_model = !matches!(
        cli.command,
        Some(Command::Init(_))
            | Some(Command::Train(_))
            | Some(Command::Distil(_))
            | Some(Command::Lessons { .. })
    );
    if let (false, Some(opt)) = (takes_look, top_look.given()) {
        return Err(not_here(opt, name, LOOK_ACTS_ON));
    }
    if !takes_raw && top_raw.raw {
        return Err(not_here("--raw", name, RAW_ACTS_ON));
    }
    if !takes_model && top_model.is_some() {
        return Err(not_here("--model", name, MODEL_ACTS_ON));
    }
    match cli.command {
        Some(Command::Explore {
            args,
            model: m,
            look,
        }) => explore::run(model(m).as_deref(), look.with(&top_look), lang, args),
        Some(Command::Generate {
            args,
            model: m,
            raw,
        }) => generate::run(model(m).as_deref(), raw.with(&top_raw), args),
        Some(Command::Trace { args, model: m }) => trace::run(model(m).as_deref(), args),
        Some(Command::Init(a)) => init::run(a),
        Some(Command::Bench { args, model: m }) => bench::run(model(m).as_deref(), args),
        Some(Command::Train(a)) => train::run(a, lang),
        Some(Command::Finetune { args, model: m }) => finetune::run(model(m).as_deref(), args),
        Some(Command::Cost { args, model: m }) => cost::run(model(m).as_deref(), args),
        Some(Command::Eval { args, model: m }) => eval::run(model(m).as_deref(), args),
        Some(Command::Quantize { args, model: m }) => quantize::run(model(m).as_deref(), args),
        Some(Command::Prune { args, model: m }) => prune::run(model(m).as_deref(), args),
        Some(Command::Distil(a)) => distil::run(a),
        Some(Command::Lessons { raw }) => lesson::list(raw.with(&top_raw), lang),
        Some(Command::Export {
            args,
            model: m,
            look,
        }) => export::run(model(m).as_deref(), look.with(&top_look), lang, args),
        Some(Command::Lesson {
            args,
            model: m,
            look,
            raw,
        }) => lesson::run(
            model(m).as_deref(),
            look.with(&top_look),
            raw.with(&top_raw),
            lang,
            args,
        ),
        None => explore::run(
            top_model.as_deref(),
            LookOpts::default().with(&top_look),
            lang,
            explore::Args::default(),
        ),
    }
}

/// The subcommand's name as typed.
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Generate { .. } => "generate",
        Command::Trace { .. } => "trace",
        Command::Init(_) => "init",
        Command::Explore { .. } => "explore",
        Command::Bench { .. } => "bench",
        Command::Train(_) => "train",
        Command::Finetune { .. } => "finetune",
        Command::Cost { .. } => "cost",
        Command::Eval { .. } => "eval",
        Command::Quantize { .. } => "quantize",
        Command::Prune { .. } => "prune",
        Command::Distil(_) => "distil",
        Command::Lessons { .. } => "lessons",
        Command::Export { .. } => "export",
        Command::Lesson { .. } => "lesson",
    }
}

/// The built-in default model (`(built-in)/tinystories`).
pub fn default_model() -> Result<PathBuf> {
    gptlens::paths::default_model().ok_or_else(|| {
        anyhow::anyhow!(
            "there is no model `{}` in GPTLENS_MODELS ({}): unset it to use the built-in model, or pass --model DIR",
            gptlens::paths::DEFAULT_MODEL,
            std::env::var_os("GPTLENS_MODELS").unwrap_or_default().to_string_lossy()
        )
    })
}

/// A loaded model and its tokenizer, checked against each other.
#[derive(Clone)]
pub struct Loaded {
    pub gpt: Arc<Gpt>,
    pub tokenizer: Tokenizer,
    pub dir: PathBuf,
}

/// Opens `--model DIR`, or the built-in model.
pub fn load_model(dir: Option<&Path>) -> Result<Loaded> {
    use std::io::Write as _;
    open_model(model_dir(dir)?, &mut |line| {
        let _ = writeln!(std::io::stderr(), "{line}");
    })
}

/// The folder `--model DIR` names (checked to be a folder, or a GGUF
/// file), or the built-in model's.
pub fn model_dir(dir: Option<&Path>) -> Result<PathBuf> {
    Ok(match dir {
        Some(d) if gptlens::model::GgufModel::is_llama_file(d) => d.to_path_buf(),
        Some(d) if gptlens::gguf::gpt2::is_gguf(d) => d.to_path_buf(),
        Some(d) if d.is_file() => {
            let hint = d
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(String::new(), |p| format!(" (perhaps {})", p.display()));
            anyhow::bail!(
                "--model {} is a file, not a folder: give the model folder that holds config.json, model.safetensors and tokenizer.json{hint}",
                d.display()
            );
        }
        Some(d) => builtin_by_name(d).unwrap_or_else(|| d.to_path_buf()),
        None => default_model()?,
    })
}

/// `--model classroom`: a bare name that is no file or folder here but is
/// a built-in model's name opens that model (a folder of that name wins).
fn builtin_by_name(d: &Path) -> Option<PathBuf> {
    let mut parts = d.components();
    let name = match (parts.next(), parts.next()) {
        (Some(std::path::Component::Normal(n)), None) => n.to_str()?,
        _ => return None,
    };
    if d.symlink_metadata().is_ok() {
        return None;
    }
    gptlens::paths::builtin_model(name)
}

/// Opens the model in `dir` (or the GGUF file); what loading notices but
/// does not refuse goes to `warn` as whole lines ("warning: …", "note: …"):
/// the explorer shows them on screen, the other commands on stderr.
pub fn open_model(dir: PathBuf, warn: &mut dyn FnMut(String)) -> Result<Loaded> {
    if gptlens::model::GgufModel::is_llama_file(&dir) {
        return load_llama_gguf(&dir, warn);
    }
    if gptlens::gguf::gpt2::is_gguf(&dir) {
        return load_gguf(&dir, warn);
    }
    let gpt = Gpt::open(&dir).with_context(|| format!("opening the model in {}", dir.display()))?;
    let tokenizer = Tokenizer::open(&dir.join("tokenizer.json"))
        .with_context(|| format!("opening the tokenizer in {}", dir.display()))?;
    tokenizer.check_matches(&gpt.config)?;
    for w in gpt
        .weights
        .warnings
        .iter()
        .chain(tokenizer.coverage_warning(&gpt.config).as_ref())
    {
        warn(format!("warning: {w}"));
    }
    let bad = gpt.weights.non_finite();
    if !bad.is_empty() {
        warn(format!(
            "warning: {} tensor(s) hold NaN or infinite values ({}); the outputs will not mean much",
            bad.len(),
            bad.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(Loaded {
        gpt: Arc::new(gpt),
        tokenizer,
        dir,
    })
}

/// Opens a Llama `--model FILE.gguf` (matrices kept in their blocks, as
/// for GPT-2). The tokenizer and chat template are written to a small
/// companion folder (`GgufModel::companion_dir`), which `Loaded::dir` names,
/// so `--chat` finds the template as in a model folder.
fn load_llama_gguf(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Loaded> {
    let m = gptlens::model::GgufModel::open(path)
        .with_context(|| format!("opening the GGUF model {}", path.display()))?;
    let dir = gptlens::model::GgufModel::companion_dir(path);
    m.write_companion(&dir).with_context(|| {
        format!(
            "writing the tokenizer and chat template of {}",
            path.display()
        )
    })?;
    let tokenizer = Tokenizer::from_json(&m.tokenizer_json)
        .with_context(|| format!("building the tokenizer of {}", path.display()))?;
    tokenizer.check_matches(&m.gpt.config)?;
    for w in &m.gpt.weights.warnings {
        warn(format!("warning: {w}"));
    }
    warn(format!("note: {}: {}", path.display(), memory_note(&m.gpt)));
    Ok(Loaded {
        gpt: Arc::new(m.gpt),
        tokenizer,
        dir,
    })
}

/// How a GGUF model is held: blocks multiplied as they are, or all f32.
fn memory_note(gpt: &gptlens::model::Gpt) -> String {
    let how = if gpt.weights.is_quantized() {
        "the pass multiplies the quantized blocks as they are"
    } else {
        "all f32"
    };
    format!(
        "{how} ({} of weights in memory, {} in f32)",
        gptlens::fmt::bytes(gpt.weights.bytes() as f64),
        gptlens::fmt::bytes(gpt.config.n_params() as f64 * 4.0),
    )
}

/// Opens `--model FILE.gguf`: its quantized matrices stay in their blocks.
fn load_gguf(path: &Path, warn: &mut dyn FnMut(String)) -> Result<Loaded> {
    let (gpt, tokenizer, opened) = gptlens::gguf::gpt2::open(path)
        .with_context(|| format!("opening the GGUF model {}", path.display()))?;
    tokenizer.check_matches(&gpt.config)?;
    let types = opened
        .types
        .iter()
        .map(|(t, n)| format!("{n} {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    warn(format!(
        "note: {} holds {types} tensors; {}",
        path.display(),
        memory_note(&gpt)
    ));
    Ok(Loaded {
        gpt: Arc::new(gpt),
        tokenizer,
        dir: path.to_path_buf(),
    })
}

/// Encodes a prompt, refusing an empty one and keeping the last n_positions
/// tokens of a long one (with a warning).
pub fn encode_prompt(l: &Loaded, prompt: &str) -> Result<Vec<u32>> {
    if prompt.is_empty() {
        anyhow::bail!(
            "the prompt is empty: give some text, for example --prompt \"Once upon a time\""
        );
    }
    let ids = l.tokenizer.encode(prompt)?;
    let ctx = l.gpt.config.n_positions;
    if ids.len() > ctx {
        out::warn(format_args!(
            "the prompt is {} tokens but the model's context is {ctx}; keeping the last {ctx}",
            ids.len()
        ));
        return Ok(ids[ids.len() - ctx..].to_vec());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_every_option_has_help() {
        Cli::command().debug_assert();
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in c.get_arguments() {
                let id = a.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                if a.get_help().is_none() && a.get_long_help().is_none() {
                    missing.push(format!("{path} {}", a.get_long().unwrap_or(id)));
                }
            }
            for s in c.get_subcommands() {
                walk(s, &format!("{path} {}", s.get_name()), missing);
            }
        }
        let mut missing = vec![];
        walk(&Cli::command(), "gptlens", &mut missing);
        assert!(missing.is_empty(), "options without help text: {missing:?}");
    }
}
