//! `gptlens trace --json`: the forward trace as JSON (schema: docs/trace-format.md).

use anyhow::{Result, bail};
use ndarray::Array2;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

use gptlens::model::{Interventions, LnTrace, Trace};

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["prompt", "ids"])))]
pub struct Args {
    /// Text to run.
    #[arg(long, short)]
    prompt: Option<String>,
    /// Token ids to run, comma-separated (e.g. 15496,995).
    #[arg(long, value_delimiter = ',')]
    ids: Option<Vec<String>>,
    /// Print JSON (the only format for now; kept explicit for scripts).
    #[arg(long)]
    json: bool,
    /// Also include every hidden matrix (Q, K, V, MLP activations, residuals…).
    #[arg(long)]
    full: bool,
}

fn mat(a: &Array2<f32>) -> Value {
    Value::from(a.rows().into_iter().map(|r| r.to_vec()).collect::<Vec<_>>())
}

fn ln(l: &LnTrace, full: bool) -> Value {
    let mut v = json!({"mean": l.mean, "var": l.var});
    if full {
        v["xhat"] = mat(&l.xhat);
        v["out"] = mat(&l.out);
    }
    v
}

fn norms(a: &Array2<f32>) -> Vec<f32> {
    a.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect()
}

pub fn to_json(
    t: &Trace,
    text: &dyn Fn(u32) -> String,
    cfg: &gptlens::model::Config,
    full: bool,
) -> Value {
    let layers: Vec<Value> = t
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut v = json!({
                "index": i,
                "ln_1": ln(&l.ln_1, full),
                "attn": {"scores": l.scores, "probs": l.probs},
                "ln_2": ln(&l.ln_2, full),
                "resid_post_norm": norms(&l.resid_post),
            });
            if full {
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
                    v[k] = mat(a);
                }
            }
            v
        })
        .collect();
    let last = t.last_logits().to_vec();
    let mut order: Vec<usize> = (0..last.len()).collect();
    order.sort_by(|&a, &b| last[b].total_cmp(&last[a]));
    let mut probs = last.clone();
    gptlens::model::softmax_in_place(&mut probs);
    let top: Vec<Value> = order
        .iter()
        .take(10)
        .map(|&i| json!({"id": i, "text": text(i as u32), "logit": last[i], "prob": probs[i]}))
        .collect();
    let mut v = json!({
        "format": "gptlens-trace/1",
        "config": cfg,
        "tokens": t.tokens.iter().map(|&id| json!({"id": id, "text": text(id)})).collect::<Vec<_>>(),
        "embed_norm": norms(&t.embed),
        "layers": layers,
        "ln_f": ln(&t.ln_f, full),
        "logits": last,
        "top": top,
    });
    if full {
        v["tok_emb"] = mat(&t.tok_emb);
        v["pos_emb"] = mat(&t.pos_emb);
        v["embed"] = mat(&t.embed);
    }
    v
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    let l = super::load_model(model)?;
    let ids: Vec<u32> = match (&a.prompt, &a.ids) {
        (Some(p), _) => super::encode_prompt(&l, p)?,
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
                        "--ids: token id {id} is out of range; this model's ids are 0..{}",
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
            out
        }
        (None, None) => bail!("give --prompt TEXT or --ids 1,2,3"),
    };
    let _ = a.json;
    let trace = l.gpt.trace(&ids, &Interventions::default())?;
    let tok = &l.tokenizer;
    let v = to_json(&trace, &|id| tok.token_text(id), &l.gpt.config, a.full);
    let mut out = super::out::stdout();
    serde_json::to_writer(&mut out, &v)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
