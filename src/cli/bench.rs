//! `gptlens bench`: decode speed with the KV cache, prefill time, traced step time.
//! Prints medians over repeated runs; the README quotes them beside PyTorch's.

use anyhow::Result;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use gptlens::model::{Interventions, KvCache, Trace};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Tokens to decode (greedy, not stopping at end-of-text).
    #[arg(long, default_value_t = 64)]
    tokens: usize,
    /// Repeat the measurement this many times and report the median.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// The prompt prefilled before decoding.
    #[arg(long, default_value = "Once upon a time, there was a little")]
    prompt: String,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    let t0 = Instant::now();
    let l = super::load_model(model)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let gpt = &l.gpt;
    let ids = super::encode_prompt(&l, &a.prompt)?;
    let room = gpt.config.n_positions.saturating_sub(ids.len());
    let n = a.tokens.min(room);
    let iv = Interventions::default();
    let (mut prefill, mut decode, mut traced) = (vec![], vec![], vec![]);
    for _ in 0..a.repeat.max(1) {
        let mut cache = KvCache::new(&gpt.config);
        let t = Instant::now();
        let mut logits = gpt.forward(&ids, &mut cache, &iv, None, false)?;
        prefill.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        for _ in 0..n {
            let row = logits.row(0);
            let next = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i as u32);
            logits = gpt.forward(&[next], &mut cache, &iv, None, false)?;
        }
        decode.push(n as f64 / t.elapsed().as_secs_f64());
        // One traced step: the prompt is already traced; trace one more token.
        let mut trace = Trace::new(&gpt.config);
        let mut cache = KvCache::new(&gpt.config);
        gpt.forward(&ids, &mut cache, &iv, Some(&mut trace), true)?;
        let t = Instant::now();
        gpt.forward(&[ids[0]], &mut cache, &iv, Some(&mut trace), true)?;
        traced.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (prefill_ms, tps, traced_ms) = (median(prefill), median(decode), median(traced));
    let c = &gpt.config;
    let mut out = super::out::stdout();
    if a.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({
                "model": l.dir.display().to_string(),
                "n_layer": c.n_layer, "n_head": c.n_head, "n_embd": c.n_embd, "vocab_size": c.vocab_size,
                "params": c.n_params(),
                "threads": rayon::current_num_threads(),
                "load_ms": load_ms,
                "prompt_tokens": ids.len(),
                "decode_tokens": n,
                "prefill_ms": prefill_ms,
                "decode_tokens_per_s": tps,
                "traced_step_ms": traced_ms,
                // What the work was, from the cost ledger (docs/cost.md).
                "ledger_prefill": gptlens::cost::Ledger::for_forward(c, 0, ids.len(), false),
                "decode_flops_per_s": (0..n)
                    .map(|i| gptlens::cost::Ledger::for_forward(c, ids.len() + i, 1, false).flops())
                    .sum::<f64>() * tps / n.max(1) as f64,
            })
        )?;
    } else {
        writeln!(
            out,
            "model        {} ({} layers, {} heads, {} wide, vocab {}, {:.1}M params)",
            l.dir.display(),
            c.n_layer,
            c.n_head,
            c.n_embd,
            c.vocab_size,
            c.n_params() as f64 / 1e6
        )?;
        writeln!(out, "load         {load_ms:.1} ms")?;
        writeln!(
            out,
            "prefill      {prefill_ms:.2} ms for {} tokens",
            ids.len()
        )?;
        writeln!(
            out,
            "decode       {tps:.1} tokens/s ({n} tokens, KV cache, greedy, {} threads)",
            rayon::current_num_threads()
        )?;
        writeln!(
            out,
            "traced step  {traced_ms:.3} ms (one token, every stage recorded)"
        )?;
    }
    out.flush()?;
    Ok(())
}
