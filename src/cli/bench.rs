//! `gptlens bench`: decode speed with the KV cache, prefill time, traced step time.
//! Prints medians over repeated runs; the README quotes them beside PyTorch's.
//! `--bandwidth` measures how fast both cores read memory instead, so that
//! `scripts/bench.sh` can put each format's ceiling (bytes per token ÷
//! bandwidth) beside its speed.

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
    /// Measure memory read bandwidth (all threads summing one large buffer)
    /// instead of running the model.
    #[arg(long)]
    bandwidth: bool,
    /// The buffer --bandwidth reads, in MiB (far larger than the caches).
    #[arg(long, default_value_t = 1024, value_name = "MIB")]
    mib: usize,
}

/// f32 sum of `x` in eight lanes, so it vectorises and streams.
fn lane_sum(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = x.chunks_exact(8);
    let rest: f32 = c.remainder().iter().sum();
    for v in c {
        for k in 0..8 {
            acc[k] += v[k];
        }
    }
    acc.iter().sum::<f32>() + rest
}

/// GB/s (10⁹ bytes) reading `mib` MiB with every rayon thread, median of
/// `repeat` passes after one untimed pass.
fn bandwidth(mib: usize, repeat: usize) -> Result<(f64, Vec<f64>)> {
    use rayon::prelude::*;
    if !(16..=65536).contains(&mib) {
        anyhow::bail!(
            "--mib {mib} is out of range; give 16 to 65536 (MiB), well above the CPU's caches"
        );
    }
    let n = mib << 18; // f32s
    let mut buf = Vec::new();
    buf.try_reserve_exact(n).map_err(|_| {
        anyhow::anyhow!("cannot allocate {mib} MiB for --bandwidth; give a smaller --mib")
    })?;
    buf.extend((0..n).map(|i| (i & 7) as f32));
    let chunk = n.div_ceil(rayon::current_num_threads().max(1) * 4);
    let pass = || -> f32 { buf.par_chunks(chunk).map(lane_sum).sum() };
    std::hint::black_box(pass());
    let mut runs = vec![];
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        std::hint::black_box(pass());
        runs.push((n * 4) as f64 / t.elapsed().as_secs_f64() / 1e9);
    }
    Ok((median(runs.clone()), runs))
}

fn run_bandwidth(a: &Args) -> Result<()> {
    let (gbs, runs) = bandwidth(a.mib, a.repeat.max(3))?;
    let mut out = super::out::stdout();
    if a.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({"bandwidth_gb_per_s": gbs, "runs": runs, "mib": a.mib,
                "threads": rayon::current_num_threads()})
        )?;
    } else {
        writeln!(
            out,
            "memory read bandwidth {gbs:.1} GB/s ({} MiB summed by {} threads, median of {})",
            a.mib,
            rayon::current_num_threads(),
            runs.len()
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The weight type holding most of the bytes ("F32" for a plain model).
fn format(w: &gptlens::model::Weights) -> String {
    let mut by: std::collections::BTreeMap<&str, usize> = Default::default();
    for (_, t) in w.named() {
        let ty = t.quant().map_or("F32", |q| q.ty().name());
        *by.entry(ty).or_default() += t.bytes();
    }
    by.into_iter()
        .max_by_key(|(_, b)| *b)
        .map_or("F32".into(), |(t, _)| t.to_string())
}

/// Weight bytes one decoded token reads: every tensor once (the tied
/// unembedding reads the whole table), but only one row of the position
/// table. The KV cache is not counted (at 64 tokens it is under 1% of GPT-2-small's).
fn bytes_per_token(gpt: &gptlens::model::Gpt) -> usize {
    let wpe = &gpt.weights.wpe;
    let rows = wpe.shape.first().copied().unwrap_or(0).max(1);
    gpt.weights.bytes() - wpe.bytes() + wpe.bytes() / rows
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    if a.bandwidth {
        return run_bandwidth(&a);
    }
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
                "format": format(&gpt.weights),
                "weight_bytes": gpt.weights.bytes(),
                "bytes_per_token": bytes_per_token(gpt),
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
        writeln!(
            out,
            "weights      {} ({}; {} read per decoded token)",
            format(&gpt.weights),
            gptlens::fmt::bytes(gpt.weights.bytes() as f64),
            gptlens::fmt::bytes(bytes_per_token(gpt) as f64)
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
