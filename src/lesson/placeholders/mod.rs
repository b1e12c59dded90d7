//! The closed set of placeholders a lesson may use: a registry whose entries
//! carry their own evaluator.
//!
//! Each [`Spec`] is a name, its numeric arguments, a one-line doc and the
//! function that computes its text from the [`Trace`] of the lesson's prompt
//! at the step's selection (layer, head, position, key), plus the model's
//! weights and tokenizer where the trace does not hold the answer. The numbers
//! come from [`crate::readout`] and are written with [`crate::fmt`]. One file
//! per family; [`FAMILIES`] is the registry, in documentation order.
//! docs/lesson-format.md embeds [`reference_markdown`] (a test keeps it
//! current), and a test evaluates every entry on two models.
//!
//! [`Trace`]: crate::model::Trace

mod attn;
mod compression;
mod cost;
mod embed;
mod env;
mod finetune;
mod ln;
mod logits;
mod loss;
mod mlp;
mod model;
mod modern;
mod resid;
mod sample;
mod tokens;
mod train;

pub use env::{Env, Sel};
pub use modern::smollm2_path;
pub use tokens::{STORY_EN, STORY_ZH, TextCost};

use super::Placeholder;
use crate::i18n::Lang;
use crate::model::{Config, LayerTrace, Trace};

/// A numeric argument: `{{logits.top 5}}` has `n = 5`.
#[derive(Debug)]
pub struct Arg {
    pub name: &'static str,
    pub default: f64,
    pub min: f64,
    pub max: f64,
    pub integer: bool,
}

/// Computes a placeholder's text, or says why it cannot for this model,
/// prompt and selection.
pub type Eval = fn(&Cx<'_, '_>) -> Result<String, String>;

/// One placeholder: its name, arguments, a one-line description for the docs,
/// and its evaluator.
pub struct Spec {
    pub name: &'static str,
    pub args: &'static [Arg],
    pub doc: &'static str,
    pub eval: Eval,
    /// When it has no value ("" = always has one): the documented
    /// "not applicable" cases, such as a loss on a one-token prompt.
    pub not_applicable: &'static str,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

/// A placeholder that always has a value.
const fn ph(name: &'static str, args: &'static [Arg], doc: &'static str, eval: Eval) -> Spec {
    Spec {
        name,
        args,
        doc,
        eval,
        not_applicable: "",
    }
}

impl Spec {
    /// Documents when the placeholder has no value.
    const fn unless(self, not_applicable: &'static str) -> Spec {
        Spec {
            not_applicable,
            ..self
        }
    }
}

const fn int(name: &'static str, default: f64, min: f64, max: f64) -> Arg {
    Arg {
        name,
        default,
        min,
        max,
        integer: true,
    }
}

const fn real(name: &'static str, default: f64, min: f64, max: f64) -> Arg {
    Arg {
        name,
        default,
        min,
        max,
        integer: false,
    }
}

/// The usual "first n components" argument.
const N: &[Arg] = &[int("n", 6.0, 1.0, 64.0)];
const NONE: &[Arg] = &[];

/// The registry: every family's entries, in documentation order.
pub const FAMILIES: &[&[Spec]] = &[
    model::SPECS,
    tokens::SPECS,
    embed::SPECS,
    attn::SPECS,
    mlp::SPECS,
    resid::SPECS,
    logits::SPECS,
    sample::SPECS,
    loss::SPECS,
    train::SPECS,
    cost::SPECS,
    compression::SPECS,
    modern::SPECS,
    finetune::SPECS,
    ln::LN1,
    ln::LN2,
    ln::LNF,
];

/// What an evaluator reads: the lesson's environment, the resolved
/// selection and the placeholder's arguments (defaults filled in).
pub struct Cx<'c, 'e> {
    pub env: &'c Env<'e>,
    pub sel: &'c Sel,
    pub args: &'c [f64],
    /// The lesson's language: placeholders that write words write them in it.
    pub lang: Lang,
}

impl Cx<'_, '_> {
    /// `en` or `zh`, as the lesson's language asks: the two side by side
    /// where a placeholder writes words.
    fn say<'s>(&self, en: &'s str, zh: &'s str) -> &'s str {
        match self.lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// Argument `i` (0 when absent).
    fn arg(&self, i: usize) -> f64 {
        self.args.get(i).copied().unwrap_or(0.0)
    }

    /// The first argument as a count.
    fn n(&self) -> usize {
        self.arg(0) as usize
    }

    fn tr(&self) -> &Trace {
        self.env.trace
    }

    fn cfg(&self) -> &Config {
        self.env.cfg()
    }

    /// The selected layer's trace.
    fn layer(&self) -> &LayerTrace {
        &self.env.trace.layers[self.sel.layer]
    }

    fn tok(&self, id: u32) -> String {
        self.env.tok(id)
    }
}

/// The spec of a placeholder name, or None if it is not in the set.
pub fn spec(name: &str) -> Option<&'static Spec> {
    all().find(|s| s.name == name)
}

/// Every placeholder, in documentation order.
pub fn all() -> impl Iterator<Item = &'static Spec> {
    FAMILIES.iter().flat_map(|f| f.iter())
}

pub fn names() -> impl Iterator<Item = &'static str> {
    all().map(|s| s.name)
}

/// The value of a placeholder at a selection, as the text the lesson shows
/// (words in English).
pub fn eval(ph: &Placeholder, env: &Env, sel: &Sel) -> Result<String, String> {
    eval_in(ph, env, sel, Lang::En)
}

/// [`eval`] for a lesson in `lang`: the words a placeholder writes (table
/// headers, phrases, units) in that language, the numbers the same.
pub fn eval_in(ph: &Placeholder, env: &Env, sel: &Sel, lang: Lang) -> Result<String, String> {
    let spec = spec(&ph.name).ok_or_else(|| format!("unknown placeholder {}", ph.name))?;
    (spec.eval)(&Cx {
        env,
        sel,
        args: &ph.args,
        lang,
    })
}

/// A markdown table: header, then one row per entry.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut s = format!(
        "| {} |\n|{}\n",
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for r in rows {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s.trim_end().to_string()
}

/// Token texts, quoted, separated by spaces.
fn tokens_text(c: &Cx, ids: &[u32]) -> String {
    ids.iter().map(|&t| c.tok(t)).collect::<Vec<_>>().join(" ")
}

/// The placeholder reference as a markdown table: docs/lesson-format.md embeds
/// it between markers, and a test keeps the two identical.
pub fn reference_markdown() -> String {
    let mut s = String::from("| placeholder | arguments (default) | shows |\n|---|---|---|\n");
    for sp in all() {
        let args = if sp.args.is_empty() {
            "—".to_string()
        } else {
            sp.args
                .iter()
                .map(|a| format!("{} ({})", a.name, a.default))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let usage = if sp.args.is_empty() {
            format!("`{{{{{}}}}}`", sp.name)
        } else {
            let names: Vec<&str> = sp.args.iter().map(|a| a.name).collect();
            format!("`{{{{{} {}}}}}`", sp.name, names.join(" "))
        };
        s.push_str(&format!(
            "| {usage} | {args} | {} |\n",
            sp.doc.replace('|', "\\|")
        ));
    }
    s
}

#[cfg(test)]
mod tests;
