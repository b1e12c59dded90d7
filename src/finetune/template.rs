//! Chat templates: the Jinja program in a model folder's `tokenizer_config.json`
//! (`chat_template`, the Hugging Face convention) that turns a conversation into
//! the text the model reads, rendered with minijinja under the settings
//! transformers uses (`trim_blocks`, `lstrip_blocks`, `raise_exception`), so
//! `apply_chat_template` gives the same bytes.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FinetuneError;

/// The template gptlens writes into a fine-tune of a model that has none:
/// "Q: … \nA: …<|endoftext|>".
pub const DEFAULT_CHAT_TEMPLATE: &str = include_str!("default_chat_template.jinja");

/// The file that carries the template (and the special tokens' text).
pub const TOKENIZER_CONFIG: &str = "tokenizer_config.json";

/// The key of a GGUF's companion tokenizer_config.json that names the GGUF
/// file its `chat_template` was copied from (`tokenizer.chat_template`).
pub const GGUF_FILE_KEY: &str = "gptlens_gguf_file";

/// One turn of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Message {
            role: role.to_string(),
            content: content.to_string(),
        }
    }
}

/// A compiled chat template with the special tokens it may print.
pub struct ChatTemplate {
    env: minijinja::Environment<'static>,
    pub source: String,
    pub bos_token: String,
    pub eos_token: String,
    /// Where the template came from, for error messages.
    origin: String,
}

impl std::fmt::Debug for ChatTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatTemplate")
            .field("origin", &self.origin)
            .field("bos_token", &self.bos_token)
            .field("eos_token", &self.eos_token)
            .finish()
    }
}

/// The engine's message with the template line it points at.
fn engine_error(origin: &str, e: &minijinja::Error) -> FinetuneError {
    let at = match e.line() {
        Some(l) => format!("{origin}, line {l}"),
        None => origin.to_string(),
    };
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    FinetuneError::Template { at, message: msg }
}

impl ChatTemplate {
    /// Compiles `source`; `origin` names it in errors (a file, or "the default template").
    pub fn new(
        source: &str,
        bos_token: &str,
        eos_token: &str,
        origin: &str,
    ) -> Result<Self, FinetuneError> {
        let mut env = minijinja::Environment::new();
        // What transformers' ImmutableSandboxedEnvironment is created with.
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.add_function(
            "raise_exception",
            |msg: String| -> Result<String, minijinja::Error> {
                Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    msg,
                ))
            },
        );
        env.add_template_owned("chat_template", source.to_string())
            .map_err(|e| engine_error(origin, &e))?;
        Ok(ChatTemplate {
            env,
            source: source.to_string(),
            bos_token: bos_token.to_string(),
            eos_token: eos_token.to_string(),
            origin: origin.to_string(),
        })
    }

    /// The built-in template, with `eos` as both special tokens (GPT-2 has one).
    pub fn default_for(eos: &str) -> Self {
        Self::new(DEFAULT_CHAT_TEMPLATE, eos, eos, "the default chat template")
            .expect("the default template compiles (tested)")
    }

    /// The conversation as text; with `add_generation_prompt` the template
    /// appends what starts the assistant's reply.
    pub fn render(
        &self,
        messages: &[Message],
        add_generation_prompt: bool,
    ) -> Result<String, FinetuneError> {
        let t = self
            .env
            .get_template("chat_template")
            .map_err(|e| engine_error(&self.origin, &e))?;
        t.render(minijinja::context! {
            messages => minijinja::Value::from(minijinja::value::Serde(messages)),
            add_generation_prompt => add_generation_prompt,
            bos_token => self.bos_token.as_str(),
            eos_token => self.eos_token.as_str(),
        })
        .map_err(|e| engine_error(&self.origin, &e))
    }

    /// One user turn with the generation prompt: the text `--chat` runs
    /// (and the `modern` lesson shows).
    pub fn user_turn(&self, user: &str) -> Result<String, FinetuneError> {
        self.render(&[Message::new("user", user)], true)
    }

    /// The template of a model folder, if its tokenizer_config.json has one.
    /// Special tokens missing from the file default to `eos` (GPT-2's
    /// `<|endoftext|>` serves as both).
    pub fn from_model_dir(dir: &Path, eos: &str) -> Result<Option<Self>, FinetuneError> {
        let path = dir.join(TOKENIZER_CONFIG);
        // A built-in model's files are in the binary.
        if crate::embedded::file(&path).is_none() && !path.is_file() {
            return Ok(None);
        }
        let text = crate::embedded::read_to_string(&path).map_err(|e| FinetuneError::Io {
            path: path.clone(),
            source: e,
        })?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            FinetuneError::Input(format!(
                "{} is not valid JSON ({e}); fix it or remove it",
                path.display()
            ))
        })?;
        let source = match v.get("chat_template") {
            None | Some(serde_json::Value::Null) => return Ok(None),
            Some(serde_json::Value::String(s)) => s.clone(),
            // The list form: [{"name": "default", "template": "..."}, ...].
            Some(serde_json::Value::Array(list)) => list
                .iter()
                .find(|t| t.get("name").and_then(|n| n.as_str()) == Some("default"))
                .and_then(|t| t.get("template")?.as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    FinetuneError::Input(format!(
                        "{}: chat_template is a list without a template named \"default\"",
                        path.display()
                    ))
                })?,
            Some(_) => {
                return Err(FinetuneError::Input(format!(
                    "{}: chat_template must be a string (a Jinja template)",
                    path.display()
                )));
            }
        };
        // A special token is a string or an AddedToken object {"content": ...}.
        let token = |key: &str| -> String {
            match v.get(key) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(o) => o
                    .get("content")
                    .and_then(|c| c.as_str())
                    .unwrap_or(eos)
                    .to_string(),
                None => eos.to_string(),
            }
        };
        let origin = match v.get(GGUF_FILE_KEY).and_then(|g| g.as_str()) {
            Some(gguf) => format!("the tokenizer.chat_template of {gguf}"),
            None => format!("the chat_template of {}", path.display()),
        };
        Self::new(&source, &token("bos_token"), &token("eos_token"), &origin).map(Some)
    }

    /// tokenizer_config.json for a folder that carries this template.
    pub fn config_json(&self) -> String {
        let v = serde_json::json!({
            "chat_template": self.source,
            "bos_token": self.bos_token,
            "eos_token": self.eos_token,
            "tokenizer_class": "GPT2TokenizerFast",
        });
        serde_json::to_string_pretty(&v).expect("json") + "\n"
    }
}

/// What `--chat "user text"` runs: one user turn through the model folder's
/// template with `add_generation_prompt`, and the tokens that end the reply.
#[derive(Clone, Debug)]
pub struct ChatPrompt {
    /// The templated text the model reads (e.g. "Q: …\nA:").
    pub text: String,
    /// The template's end-of-turn token first, then `<|endoftext|>` if it differs.
    pub stop: Vec<u32>,
}

/// Applies the chat template of the model in `dir` to `user`; a folder without
/// a template is told how to get one.
pub fn chat_prompt(
    dir: &Path,
    tokenizer: &crate::tokenizer::Tokenizer,
    user: &str,
) -> Result<ChatPrompt, FinetuneError> {
    use crate::tokenizer::END_OF_TEXT;
    if user.is_empty() {
        return Err(FinetuneError::Input(
            "--chat is empty: give the user's message, e.g. --chat \"Write a story about Mia.\""
                .into(),
        ));
    }
    let Some(template) =
        ChatTemplate::from_model_dir(dir, END_OF_TEXT).map_err(|e| go_on(e, dir))?
    else {
        return Err(FinetuneError::Input(format!(
            "--chat needs a chat template, and the model in {} has none (no \"chat_template\" in its {TOKENIZER_CONFIG}). A model fine-tuned by `gptlens finetune` carries one; for another model add a \"chat_template\" (a Jinja template, e.g. the default Q:/A: one in docs/finetuning.md) to {}, or write the prompt out with --prompt",
            dir.display(),
            dir.join(TOKENIZER_CONFIG).display()
        )));
    };
    let text = template.user_turn(user).map_err(|e| go_on(e, dir))?;
    let mut stop = Vec::new();
    for t in [template.eos_token.as_str(), END_OF_TEXT] {
        if let Some(id) = tokenizer.inner().token_to_id(t)
            && !stop.contains(&id)
        {
            stop.push(id);
        }
    }
    Ok(ChatPrompt { text, stop })
}

/// A template that does not compile or render, said with how to go on:
/// without --chat, or with the template fixed where it lives.
fn go_on(e: FinetuneError, dir: &Path) -> FinetuneError {
    if !matches!(e, FinetuneError::Template { .. }) {
        return e;
    }
    let config = dir.join(TOKENIZER_CONFIG);
    let gguf = crate::embedded::read_to_string(&config)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get(GGUF_FILE_KEY)?.as_str().map(str::to_string));
    let fix = match gguf {
        Some(g) => format!(
            "write a corrected template into a copy of the file with the `gguf` Python package: gguf-new-metadata {g} FIXED.gguf --chat-template \"$(cat template.jinja)\""
        ),
        None => format!("correct \"chat_template\" in {}", config.display()),
    };
    FinetuneError::Input(format!(
        "--chat cannot use this model's chat template. {e}. To go on, leave out --chat and give the conversation as plain text with --prompt (the special tokens written out as the template would write them), or {fix}"
    ))
}
