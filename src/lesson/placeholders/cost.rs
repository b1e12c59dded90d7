//! What running and training cost: the ledger for the next token, a speed
//! measured on this machine (once per lesson), and GPT-3 for scale.

use super::{Cx, NONE, Spec, ph};
use crate::cost::{Assumptions, Estimate, F32_BYTES, Ledger, Measurement, Params};
use crate::fmt::{bytes, count, human_duration_in, num, sig};
use crate::i18n::Lang;
use crate::pass::Stage;

/// The cost ledger for running the token after the prompt (KV cache of the prompt, batch 1).
fn next_token_ledger(c: &Cx) -> Ledger {
    Ledger::for_forward(c.cfg(), c.tr().len(), 1, false)
}

/// GPT-3's parameters as published (Brown et al. 2020, Table 2.1).
fn gpt3_params() -> f64 {
    crate::cost::preset("gpt3").map_or(175e9, |p| p.published_params)
}

/// `gptlens cost --preset gpt3 --train-tokens 300e9` with the default assumptions.
fn gpt3(measured_flops: Option<f64>) -> Result<Estimate, String> {
    let p = crate::cost::preset("gpt3").map_err(|e| e.to_string())?;
    Estimate::new(p.shape, 300e9, &Assumptions::default(), measured_flops)
        .map_err(|e| e.to_string())
}

/// KV-cached greedy decoding at batch 1, timed once per Env by the cost module.
fn measured<'e>(c: &Cx<'e, '_>) -> Result<&'e Measurement, String> {
    let env = c.env;
    if env.measured.get().is_none() {
        let cfg = env.cfg();
        let prompt = env
            .trace
            .len()
            .min(cfg.n_positions.saturating_sub(1))
            .max(1);
        let speed = crate::cost::measure(env.gpt, prompt, 32, 3).map_err(|e| e.to_string())?;
        let _ = env.measured.set(speed.decode);
    }
    env.measured
        .get()
        .ok_or_else(|| "the speed measurement failed".to_string())
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "cost.params",
        NONE,
        "parameters, all of them (the tied unembedding counted once)",
        |c| Ok(count(Params::of(c.cfg()).total)),
    ),
    ph(
        "cost.params_nonembed",
        NONE,
        "N: parameters outside the embedding tables (Kaplan et al.'s N)",
        |c| Ok(count(Params::of(c.cfg()).non_embedding)),
    ),
    ph(
        "cost.flops_token",
        NONE,
        "2·N: the closed-form FLOPs to run one token",
        |c| Ok(num(2.0 * Params::of(c.cfg()).non_embedding)),
    ),
    ph(
        "cost.ledger_flops_token",
        NONE,
        "the engine's exact count for the next token after the prompt (unembedding, attention and elementwise work included)",
        |c| Ok(num(next_token_ledger(c).flops())),
    ),
    ph(
        "cost.attn_flops_token",
        NONE,
        "of that, attention's scores and weighted sum, which grow with the context",
        |c| Ok(num(next_token_ledger(c).attention_flops())),
    ),
    ph(
        "cost.unembed_flops_token",
        NONE,
        "of that, the unembedding (2·V·C)",
        |c| match next_token_ledger(c).stage(Stage::Logits) {
            Some(st) => Ok(num(st.flops)),
            None => Err("the cost ledger has no `logits` (unembedding) stage".into()),
        },
    ),
    ph(
        "cost.train_flops_token",
        NONE,
        "6·N: FLOPs to train on one token (forward, and twice that for backward)",
        |c| Ok(num(6.0 * Params::of(c.cfg()).non_embedding)),
    ),
    ph(
        "cost.weight_bytes",
        NONE,
        "bytes of weights at 4 bytes (f32) per parameter",
        |c| Ok(bytes(F32_BYTES * Params::of(c.cfg()).total)),
    ),
    ph(
        "cost.kv_token",
        NONE,
        "bytes of KV cache per token: 2 (K and V) · L · C · 4",
        |c| Ok(bytes(Ledger::for_prompt(c.cfg(), 1).kv_cache_bytes)),
    ),
    ph(
        "cost.kv_context",
        NONE,
        "bytes of KV cache for a full context",
        |c| {
            Ok(bytes(
                Ledger::for_prompt(c.cfg(), c.cfg().n_positions).kv_cache_bytes,
            ))
        },
    ),
    ph(
        "cost.measured",
        NONE,
        "tokens per second measured now on this machine (KV-cached greedy decoding, batch 1)",
        |c| Ok(num(measured(c)?.tokens_per_s)),
    ),
    ph(
        "cost.measured_flops",
        NONE,
        "the FLOP/s of that run (the ledger's counts over the time)",
        |c| Ok(num(measured(c)?.flops_per_s)),
    ),
    ph(
        "cost.measured_bytes",
        NONE,
        "the bytes/s of weights and KV cache it read",
        |c| Ok(bytes(measured(c)?.bytes_per_s)),
    ),
    ph(
        "cost.assumptions",
        NONE,
        "the accelerator, peak, utilisation and price `gptlens cost` assumes by default",
        |c| {
            let a = Assumptions::default();
            let (peak, used) = (sig(a.peak_flops, 3), a.utilisation * 100.0);
            Ok(match c.lang {
                Lang::En => format!(
                    "{} accelerators at {peak} FLOP/s peak, {used}% of it sustained, ${} per accelerator-hour",
                    a.accelerator, a.price_per_hour
                ),
                Lang::Zh => format!(
                    "{} 加速器，峰值 {peak} FLOP/s，持续跑到峰值的 {used}%，每个加速器每小时 ${}",
                    a.accelerator, a.price_per_hour
                ),
            })
        },
    ),
    ph(
        "cost.gpt3_ratio",
        NONE,
        "how many times more parameters GPT-3 (175 billion) has than this model",
        |c| Ok(count(gpt3_params() / Params::of(c.cfg()).total)),
    ),
    ph(
        "cost.gpt3_train_flops",
        NONE,
        "6·N·D for GPT-3, D = 300 billion tokens",
        |_| Ok(sig(gpt3(None)?.training_flops, 3)),
    ),
    ph(
        "cost.gpt3_gpu_hours",
        NONE,
        "accelerator-hours for that under the default assumptions",
        |_| Ok(count(gpt3(None)?.accelerator_hours)),
    ),
    ph(
        "cost.gpt3_dollars",
        NONE,
        "their price under the default assumptions",
        |_| Ok(format!("${}", count(gpt3(None)?.price))),
    ),
    ph(
        "cost.gpt3_here",
        NONE,
        "how long GPT-3's training would take at the FLOP/s measured here",
        |c| {
            let m = measured(c)?.flops_per_s;
            Ok(human_duration_in(
                gpt3(Some(m))?.this_machine_seconds.unwrap_or(f64::INFINITY),
                c.lang,
            ))
        },
    ),
    ph(
        "cost.gpt3_kv_token",
        NONE,
        "GPT-3's KV cache per token (2 bytes per number)",
        |_| Ok(bytes(gpt3(None)?.kv_cache_bytes_per_token)),
    ),
    ph(
        "cost.gpt3_weight_bytes",
        NONE,
        "GPT-3's weights at 2 bytes per parameter",
        |_| Ok(bytes(gpt3(None)?.weights_bytes)),
    ),
];
