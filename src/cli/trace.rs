//! `gptlens trace --json`: the forward trace as JSON (schema: docs/trace-format.md).
//!
//! The document is streamed: each row is formatted straight into a buffered
//! stdout as the serializer reaches it, so memory stays near the size of the
//! `Trace` itself. (Built as one `serde_json::Value`, a GPT-2-small trace of
//! 1,024 tokens needed about 23 GB.) Selections (`--layers`, `--positions`,
//! `--fields`) ask for less.

use anyhow::{Result, bail};
use ndarray::{ArrayView2, s};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::collections::BTreeSet;
use std::io::Write;
use std::ops::Range;
use std::path::Path;

use gptlens::model::{Gpt, LayerTrace, LnTrace, Trace};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["prompt", "ids", "chat"])))]
pub struct Args {
    /// Text to run.
    #[arg(long, short)]
    prompt: Option<String>,
    /// A user message, run as the model folder's chat template renders it with
    /// the generation prompt (the tokens show the templated text).
    #[arg(long, value_name = "USER TEXT")]
    chat: Option<String>,
    /// Token ids to run, comma-separated (e.g. 15496,995).
    #[arg(long, value_delimiter = ',')]
    ids: Option<Vec<String>>,
    /// Print JSON (the only format for now; kept explicit for scripts).
    #[arg(long)]
    json: bool,
    /// Also include every hidden matrix (Q, K, V, MLP activations, residuals…),
    /// and LayerNorm outputs in the fields chosen.
    #[arg(long)]
    full: bool,
    /// Only these layers: numbers and ranges, e.g. 0,2 or 0..3 (end excluded).
    #[arg(long, value_name = "LIST")]
    layers: Option<String>,
    /// Only these positions: A..B (B excluded), A.., ..B or one position N.
    /// The model then runs on tokens 0..B, so `logits` and `top` are position B−1's.
    #[arg(long, value_name = "RANGE")]
    positions: Option<String>,
    /// Only these fields, comma-separated, e.g. attention,logits. Top level:
    /// embed_norm ln_f logits top tok_emb pos_emb embed; per layer: ln_1 attn
    /// (or attention) ln_2 resid_post_norm lens q k v heads attn_out resid_mid
    /// mlp_pre mlp_act mlp_out resid_post. format, config and tokens are always written.
    #[arg(long, value_name = "LIST")]
    fields: Option<String>,
    #[command(flatten)]
    intervene: super::intervene::Args,
}

/// Top-level fields, in the order the help lists them; the first four are
/// written by default, the rest with --full.
const TOP_FIELDS: &[&str] = &[
    "embed_norm",
    "ln_f",
    "logits",
    "top",
    "tok_emb",
    "pos_emb",
    "embed",
];
const TOP_DEFAULT: usize = 4;
/// Per-layer fields; the first five by default, the matrices with --full.
const LAYER_FIELDS: &[&str] = &[
    "ln_1",
    "attn",
    "ln_2",
    "resid_post_norm",
    "lens",
    "q",
    "k",
    "v",
    "heads",
    "attn_out",
    "resid_mid",
    "mlp_pre",
    "mlp_act",
    "mlp_out",
    "resid_post",
];
const LAYER_DEFAULT: usize = 5;

/// What to write: the result of checking the selection options against the trace.
#[derive(Debug, PartialEq)]
struct Plan {
    layers: Vec<usize>,
    rows: Range<usize>,
    fields: BTreeSet<&'static str>,
    /// LayerNorm entries carry `xhat` and `out`.
    ln_full: bool,
    /// Echoed as `selection` when any option was given.
    selected: bool,
}

fn field_list() -> String {
    format!(
        "top level: {}; per layer: {} (`attention` is `attn`); format, config and tokens are always written",
        TOP_FIELDS.join(", "),
        LAYER_FIELDS.join(", ")
    )
}

fn parse_fields(s: &str) -> Result<BTreeSet<&'static str>> {
    let mut out = BTreeSet::new();
    for f in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let f = if f == "attention" { "attn" } else { f };
        if f == "tokens" {
            continue;
        }
        match TOP_FIELDS.iter().chain(LAYER_FIELDS).find(|&&k| k == f) {
            Some(k) => out.insert(*k),
            None => bail!(
                "--fields: unknown field `{f}`; the fields are {}",
                field_list()
            ),
        };
    }
    if out.is_empty() && !s.split(',').any(|f| f.trim() == "tokens") {
        bail!("--fields is empty; the fields are {}", field_list());
    }
    Ok(out)
}

/// `N`, `A..B`, `A..` or `..B` (B excluded), checked against `0..n`.
fn parse_range(what: &str, s: &str, n: usize, unit: &str) -> Result<Range<usize>> {
    let num = |t: &str| -> Result<usize> {
        t.trim().parse().map_err(|_| {
            anyhow::anyhow!(
                "{what} {s}: \"{t}\" is not a whole number; give N, A..B (B excluded), A.. or ..B"
            )
        })
    };
    let r = match s.split_once("..") {
        None => {
            let i = num(s)?;
            i..i.saturating_add(1)
        }
        Some((a, b)) => {
            let a = if a.trim().is_empty() { 0 } else { num(a)? };
            let b = if b.trim().is_empty() { n } else { num(b)? };
            a..b
        }
    };
    if r.start >= r.end {
        bail!("{what} {s} is empty; give A..B with A < B (B is excluded), within 0..{n}");
    }
    if r.end > n {
        bail!(
            "{what} {s} is out of range: there are {n} {unit}, so the valid range is 0..{n} (0 to {})",
            n - 1
        );
    }
    Ok(r)
}

fn parse_layers(s: &str, n_layer: usize) -> Result<Vec<usize>> {
    let mut out = BTreeSet::new();
    for part in s.split(',').map(str::trim) {
        if part.is_empty() {
            continue;
        }
        out.extend(parse_range("--layers", part, n_layer, "layers")?);
    }
    if out.is_empty() {
        bail!(
            "--layers is empty; give layer numbers from 0 to {}",
            n_layer - 1
        );
    }
    Ok(out.into_iter().collect())
}

impl Plan {
    /// Checks the options against a trace of `n_tokens` tokens and `n_layer` layers.
    fn new(a: &Args, n_tokens: usize, n_layer: usize) -> Result<Plan> {
        let fields = match &a.fields {
            Some(f) => parse_fields(f)?,
            None => {
                let (top, layer) = if a.full {
                    (TOP_FIELDS.len(), LAYER_FIELDS.len())
                } else {
                    (TOP_DEFAULT, LAYER_DEFAULT)
                };
                TOP_FIELDS[..top]
                    .iter()
                    .chain(&LAYER_FIELDS[..layer])
                    .copied()
                    .collect()
            }
        };
        let layers = match &a.layers {
            Some(l) => {
                let v = parse_layers(l, n_layer)?;
                if !LAYER_FIELDS.iter().any(|f| fields.contains(f)) {
                    bail!(
                        "--layers {l} selects nothing: --fields names no per-layer field (per layer: {})",
                        LAYER_FIELDS.join(", ")
                    );
                }
                v
            }
            None => (0..n_layer).collect(),
        };
        let rows = match &a.positions {
            Some(p) => parse_range("--positions", p, n_tokens, "tokens")?,
            None => 0..n_tokens,
        };
        Ok(Plan {
            layers,
            rows,
            fields,
            ln_full: a.full,
            selected: a.layers.is_some() || a.positions.is_some() || a.fields.is_some(),
        })
    }

    fn has(&self, f: &str) -> bool {
        self.fields.contains(f)
    }
}

/// One value of the document, written when the serializer reaches it.
enum Item<'a> {
    Str(&'static str),
    Int(usize),
    /// Small and computed up front (config, selection, top).
    Json(serde_json::Value),
    /// `{id, text}` per token.
    Tokens(&'a [u32], &'a dyn Fn(u32) -> String),
    Floats(&'a [f32]),
    Row(ndarray::ArrayView1<'a, f32>),
    /// ‖row‖ per row.
    Norms(ArrayView2<'a, f32>),
    Rows(ArrayView2<'a, f32>),
    /// [head][query][key], only the query rows in the range.
    Heads(&'a [Vec<Vec<f32>>], Range<usize>),
    List(Vec<Item<'a>>),
    /// The logit lens of each row: its top tokens through ln_f and the unembedding.
    Lens(&'a Lens<'a>, ArrayView2<'a, f32>),
    /// Keys written in sorted order: the order the schema has always had.
    Obj(Vec<(&'static str, Item<'a>)>),
}

/// An f32 written as the f64 it widens to: the digits this format has always
/// used (it was built from `serde_json::Value`, which holds f64).
struct F(f32);

impl Serialize for F {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64)
    }
}

fn floats<S: Serializer>(v: impl ExactSizeIterator<Item = f32>, s: S) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for x in v {
        seq.serialize_element(&F(x))?;
    }
    seq.end()
}

struct RowOf<'a>(ndarray::ArrayView1<'a, f32>);

impl Serialize for RowOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        floats(self.0.iter().copied(), s)
    }
}

struct FloatsOf<'a>(&'a [f32]);

impl Serialize for FloatsOf<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        floats(self.0.iter().copied(), s)
    }
}

struct Head<'a>(&'a [Vec<f32>]);

impl Serialize for Head<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for row in self.0 {
            seq.serialize_element(&FloatsOf(row))?;
        }
        seq.end()
    }
}

#[derive(serde::Serialize)]
struct Token {
    id: u32,
    text: String,
}

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Item::Str(v) => s.serialize_str(v),
            Item::Int(v) => s.serialize_u64(*v as u64),
            Item::Json(v) => v.serialize(s),
            Item::Tokens(ids, text) => {
                let mut seq = s.serialize_seq(Some(ids.len()))?;
                for &id in *ids {
                    seq.serialize_element(&Token { id, text: text(id) })?;
                }
                seq.end()
            }
            Item::Floats(v) => floats(v.iter().copied(), s),
            Item::Row(v) => floats(v.iter().copied(), s),
            Item::Norms(a) => floats(a.rows().into_iter().map(|r| r.dot(&r).sqrt()), s),
            Item::Rows(a) => {
                let mut seq = s.serialize_seq(Some(a.nrows()))?;
                for r in a.rows() {
                    seq.serialize_element(&RowOf(r))?;
                }
                seq.end()
            }
            Item::Heads(heads, rows) => {
                let mut seq = s.serialize_seq(Some(heads.len()))?;
                for h in *heads {
                    seq.serialize_element(&Head(&h[rows.clone()]))?;
                }
                seq.end()
            }
            Item::Lens(lens, rows) => {
                let mut seq = s.serialize_seq(Some(rows.nrows()))?;
                for r in rows.rows() {
                    let top: Vec<serde_json::Value> = gptlens::readout::lens::top(
                        lens.gpt,
                        r,
                        LENS_TOP,
                        lens.skip_ln,
                    )
                    .into_iter()
                    .map(
                        |(id, p)| serde_json::json!({"id": id, "text": (lens.text)(id), "prob": p}),
                    )
                    .collect();
                    seq.serialize_element(&top)?;
                }
                seq.end()
            }
            Item::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Item::Obj(entries) => {
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

/// How many tokens the logit lens lists per position.
const LENS_TOP: usize = 5;

/// What the logit lens needs: the model's ln_f and unembedding, the token
/// text, and whether LayerNorm is switched off (then ln_f is too, as in the pass).
struct Lens<'a> {
    gpt: &'a Gpt,
    text: &'a dyn Fn(u32) -> String,
    skip_ln: bool,
}

fn obj<'a>(mut entries: Vec<(&'static str, Item<'a>)>) -> Item<'a> {
    entries.sort_by_key(|(k, _)| *k);
    Item::Obj(entries)
}

fn rows<'a>(a: &'a ndarray::Array2<f32>, r: &Range<usize>) -> ArrayView2<'a, f32> {
    a.slice(s![r.clone(), ..])
}

fn ln<'a>(l: &'a LnTrace, p: &Plan) -> Item<'a> {
    let r = &p.rows;
    let mut v = vec![
        ("mean", Item::Floats(&l.mean[r.clone()])),
        ("var", Item::Floats(&l.var[r.clone()])),
    ];
    if p.ln_full {
        v.push(("xhat", Item::Rows(rows(&l.xhat, r))));
        v.push(("out", Item::Rows(rows(&l.out, r))));
    }
    obj(v)
}

fn layer<'a>(i: usize, l: &'a LayerTrace, p: &Plan, lens: &'a Lens<'a>) -> Item<'a> {
    let r = &p.rows;
    let mut v = vec![("index", Item::Int(i))];
    if p.has("ln_1") {
        v.push(("ln_1", ln(&l.ln_1, p)));
    }
    if p.has("attn") {
        v.push((
            "attn",
            obj(vec![
                ("scores", Item::Heads(&l.scores, r.clone())),
                ("probs", Item::Heads(&l.probs, r.clone())),
            ]),
        ));
    }
    if p.has("ln_2") {
        v.push(("ln_2", ln(&l.ln_2, p)));
    }
    if p.has("resid_post_norm") {
        v.push(("resid_post_norm", Item::Norms(rows(&l.resid_post, r))));
    }
    if p.has("lens") {
        v.push(("lens", Item::Lens(lens, rows(&l.resid_post, r))));
    }
    for (k, a) in [
        ("q", &l.q),
        ("k", &l.k),
        ("v", &l.v),
        ("heads", &l.heads),
        ("attn_out", &l.attn_out),
        ("resid_mid", &l.resid_mid),
        ("mlp_pre", &l.mlp_pre),
        ("mlp_act", &l.mlp_act),
        ("mlp_out", &l.mlp_out),
        ("resid_post", &l.resid_post),
    ] {
        if p.has(k) {
            v.push((k, Item::Rows(rows(a, r))));
        }
    }
    obj(v)
}

/// The ten most likely next tokens after the trace's last position.
fn top(t: &Trace, text: &dyn Fn(u32) -> String) -> serde_json::Value {
    let last = t.last_logits().to_vec();
    let mut order: Vec<usize> = (0..last.len()).collect();
    order.sort_by(|&a, &b| last[b].total_cmp(&last[a]));
    let mut probs = last.clone();
    gptlens::model::softmax_in_place(&mut probs);
    order
        .iter()
        .take(10)
        .map(|&i| serde_json::json!({"id": i, "text": text(i as u32), "logit": last[i], "prob": probs[i]}))
        .collect()
}

/// The document for `t` as `p` selects it (nothing is formatted until it is serialized).
fn document<'a>(
    t: &'a Trace,
    lens: &'a Lens<'a>,
    iv: &gptlens::model::Interventions,
    p: &Plan,
) -> Item<'a> {
    let text = lens.text;
    let cfg = &lens.gpt.config;
    let r = &p.rows;
    let mut v = vec![
        ("format", Item::Str("gptlens-trace/1")),
        (
            "config",
            Item::Json(serde_json::to_value(cfg).unwrap_or_default()),
        ),
        ("tokens", Item::Tokens(&t.tokens[r.clone()], text)),
    ];
    if p.has("embed_norm") {
        v.push(("embed_norm", Item::Norms(rows(&t.embed, r))));
    }
    if LAYER_FIELDS.iter().any(|f| p.has(f)) {
        let layers = p
            .layers
            .iter()
            .map(|&i| layer(i, &t.layers[i], p, lens))
            .collect();
        v.push(("layers", Item::List(layers)));
    }
    if p.has("ln_f") {
        v.push(("ln_f", ln(&t.ln_f, p)));
    }
    if p.has("logits") {
        v.push(("logits", Item::Row(t.last_logits())));
    }
    if p.has("top") {
        v.push(("top", Item::Json(top(t, text))));
    }
    for (k, a) in [
        ("tok_emb", &t.tok_emb),
        ("pos_emb", &t.pos_emb),
        ("embed", &t.embed),
    ] {
        if p.has(k) {
            v.push((k, Item::Rows(rows(a, r))));
        }
    }
    if iv.is_active() {
        v.push(("interventions", Item::Json(super::intervene::json(iv))));
    }
    if p.selected {
        v.push((
            "selection",
            Item::Json(serde_json::json!({
                "layers": p.layers,
                "positions": [r.start, r.end],
                "fields": p.fields.iter().collect::<Vec<_>>(),
            })),
        ));
    }
    obj(v)
}

/// The token ids to run: the prompt's, or --ids checked against the vocabulary.
fn input_ids(l: &super::Loaded, a: &Args) -> Result<Vec<u32>> {
    if let Some(user) = &a.chat {
        let c = gptlens::finetune::chat_prompt(&l.dir, &l.tokenizer, user)?;
        return super::encode_prompt(l, &c.text);
    }
    match (&a.prompt, &a.ids) {
        (Some(p), _) => super::encode_prompt(l, p),
        (None, Some(ids)) => {
            let v = l.gpt.config.vocab_size;
            let mut out = vec![];
            for s in ids {
                let s = s.trim();
                let id: u32 = s.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "--ids: \"{s}\" is not a token id (give whole numbers separated by commas)"
                    )
                })?;
                if id as usize >= v {
                    bail!(
                        "--ids: token id {id} is out of range; this model's ids are 0 to {}",
                        v - 1
                    );
                }
                out.push(id);
            }
            if out.is_empty() {
                bail!("--ids is empty: give at least one token id");
            }
            let ctx = l.gpt.config.n_positions;
            if out.len() > ctx {
                super::out::warn(format_args!(
                    "{} ids but the context is {ctx}; keeping the last {ctx}",
                    out.len()
                ));
                out.drain(..out.len() - ctx);
            }
            Ok(out)
        }
        (None, None) => bail!("give --prompt TEXT, --chat \"USER TEXT\" or --ids 1,2,3"),
    }
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    let l = super::load_model(model)?;
    let mut ids = input_ids(&l, &a)?;
    let _ = a.json;
    let plan = Plan::new(&a, ids.len(), l.gpt.config.n_layer)?;
    // Causality: rows before B do not depend on later tokens, so they are not run.
    ids.truncate(plan.rows.end);
    let iv = a.intervene.resolve(&l.gpt.config)?;
    let trace = l.gpt.trace(&ids, &iv)?;
    if let Some(nf) = &trace.non_finite {
        eprintln!("warning: {nf}");
    }
    let tok = &l.tokenizer;
    let text = |id| tok.token_text(id);
    let lens = Lens {
        gpt: &l.gpt,
        text: &text,
        skip_ln: iv.skip_layernorm,
    };
    let doc = document(&trace, &lens, &iv, &plan);
    let mut out = super::out::stdout();
    doc.serialize(&mut serde_json::Serializer::new(&mut out))?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(layers: Option<&str>, positions: Option<&str>, fields: Option<&str>) -> Args {
        Args {
            prompt: None,
            chat: None,
            ids: Some(vec!["1".into()]),
            json: true,
            full: false,
            layers: layers.map(Into::into),
            positions: positions.map(Into::into),
            fields: fields.map(Into::into),
            intervene: Default::default(),
        }
    }

    fn err(a: Args) -> String {
        format!("{:#}", Plan::new(&a, 10, 4).unwrap_err())
    }

    #[test]
    fn selections_are_read_and_checked() {
        let p = Plan::new(
            &args(Some("0,2..4"), Some("3..7"), Some("attention,logits")),
            10,
            4,
        )
        .unwrap();
        assert_eq!(p.layers, [0, 2, 3]);
        assert_eq!(p.rows, 3..7);
        assert_eq!(p.fields, BTreeSet::from(["attn", "logits"]));
        assert!(p.selected);
        let p = Plan::new(&args(None, Some("5"), None), 10, 4).unwrap();
        assert_eq!((p.rows, p.layers.len()), (5..6, 4));
        assert_eq!(
            Plan::new(&args(None, Some("..4"), None), 10, 4)
                .unwrap()
                .rows,
            0..4
        );
        assert_eq!(
            Plan::new(&args(None, Some("8.."), None), 10, 4)
                .unwrap()
                .rows,
            8..10
        );
        let p = Plan::new(&args(None, None, None), 10, 4).unwrap();
        assert!(!p.selected && p.fields.len() == TOP_DEFAULT + LAYER_DEFAULT);

        let e = err(args(Some("4"), None, None));
        assert!(e.contains("4 layers") && e.contains("0 to 3"), "{e}");
        let e = err(args(None, Some("5..5"), None));
        assert!(e.contains("empty"), "{e}");
        let e = err(args(None, Some("7..3"), None));
        assert!(e.contains("empty"), "{e}");
        let e = err(args(None, Some("3..11"), None));
        assert!(e.contains("10 tokens") && e.contains("0..10"), "{e}");
        let e = err(args(None, Some("a..3"), None));
        assert!(e.contains("\"a\""), "{e}");
        let e = err(args(None, None, Some("logits,atention")));
        assert!(
            e.contains("`atention`") && e.contains("resid_post_norm") && e.contains("embed_norm"),
            "{e}"
        );
        let e = err(args(Some("1"), None, Some("logits")));
        assert!(e.contains("per-layer"), "{e}");
        let e = err(args(None, None, Some(",")));
        assert!(e.contains("empty"), "{e}");
    }
}
