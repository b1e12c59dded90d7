//! Measured speed: run the model here and divide the ledger's counts by the time.

use serde::Serialize;
use std::time::Instant;

use super::Ledger;
use crate::model::{Gpt, Interventions, KvCache, ModelError};

/// Achieved rates over one timed run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    /// "prefill" or "decode".
    pub what: &'static str,
    pub tokens: usize,
    pub seconds: f64,
    /// FLOPs the ledger counts for the timed calls.
    pub flops: f64,
    /// Bytes of weights and KV cache the timed calls read at least once.
    pub bytes: f64,
    pub flops_per_s: f64,
    pub bytes_per_s: f64,
    pub tokens_per_s: f64,
}

impl Measurement {
    /// Sums the ledgers of the timed calls and divides by the time taken.
    pub fn from_ledgers(what: &'static str, ledgers: &[Ledger], seconds: f64) -> Measurement {
        let tokens = ledgers.iter().map(|l| l.new_tokens).sum::<usize>();
        let flops = ledgers.iter().map(Ledger::flops).sum::<f64>();
        let bytes = ledgers.iter().map(Ledger::bytes_read).sum::<f64>();
        let rate = |x: f64| if seconds > 0.0 { x / seconds } else { 0.0 };
        Measurement {
            what,
            tokens,
            seconds,
            flops,
            bytes,
            flops_per_s: rate(flops),
            bytes_per_s: rate(bytes),
            tokens_per_s: rate(tokens as f64),
        }
    }
}

/// Prefill (many tokens in one call: matrix–matrix, compute-bound) and decode
/// (one token per call: matrix–vector, memory-bound at batch 1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Speed {
    pub threads: usize,
    pub prefill: Measurement,
    pub decode: Measurement,
}

/// Runs `gpt` here: a prefill of `prompt_len` tokens, then `decode_tokens`
/// greedy steps with the KV cache (both cut to fit the context), `repeats`
/// times; reports the run with the median time, since other programs share
/// the machine. The token ids are a fixed spread over the vocabulary, so no
/// tokenizer is needed.
pub fn measure(
    gpt: &Gpt,
    prompt_len: usize,
    decode_tokens: usize,
    repeats: usize,
) -> Result<Speed, ModelError> {
    let cfg = &gpt.config;
    let p = prompt_len.clamp(1, cfg.n_positions);
    let d = decode_tokens.min(cfg.n_positions - p);
    let ids: Vec<u32> = (0..p)
        .map(|i| ((i * 7919 + 13) % cfg.vocab_size) as u32)
        .collect();
    let iv = Interventions::default();
    // Warm up (page in the memory-mapped weights, start the thread pool).
    gpt.forward(&ids[..1], &mut KvCache::new(cfg), &iv, None, false)?;

    let (mut prefill_s, mut decode_s) = (Vec::new(), Vec::new());
    for _ in 0..repeats.max(1) {
        let mut cache = KvCache::new(cfg);
        let t = Instant::now();
        let mut logits = gpt.forward(&ids, &mut cache, &iv, None, false)?;
        prefill_s.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        for _ in 0..d {
            let next = logits
                .row(0)
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i as u32);
            logits = gpt.forward(&[next], &mut cache, &iv, None, false)?;
        }
        decode_s.push(t.elapsed().as_secs_f64());
    }
    let prefill = Measurement::from_ledgers(
        "prefill",
        &[Ledger::for_forward(cfg, 0, p, false)],
        median(prefill_s),
    );
    let ledgers: Vec<Ledger> = (0..d)
        .map(|i| Ledger::for_forward(cfg, p + i, 1, false))
        .collect();
    let decode = Measurement::from_ledgers("decode", &ledgers, median(decode_s));
    Ok(Speed {
        threads: rayon::current_num_threads(),
        prefill,
        decode,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}
