//! `gptlens cost`: what a GPT costs to run and to train, for the built-in model,
//! a published preset or any shape, with every assumption printed beside it.

use anyhow::{Context, Result, bail};
use std::io::Write;
use std::path::Path;

use gptlens::cost::{self, Assumptions, Estimate, Kind, Ledger, PRESETS, Shape, Speed, footnotes};
use gptlens::fmt::{bytes, human_duration, sig};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A published shape: gpt2, gpt2-medium, gpt2-large, gpt2-xl or gpt3. The
    /// options below override single fields. Without a preset or a shape: the
    /// --model (or built-in) model's shape.
    #[arg(long, value_name = "NAME")]
    preset: Option<String>,
    /// Transformer blocks.
    #[arg(long, value_parser = size, allow_hyphen_values = true)]
    layers: Option<usize>,
    /// Width of the residual stream (d_model).
    #[arg(long, value_parser = size, allow_hyphen_values = true)]
    embd: Option<usize>,
    /// Attention heads per block (must divide --embd).
    #[arg(long, value_parser = size, allow_hyphen_values = true)]
    heads: Option<usize>,
    /// Vocabulary size [default with an explicit shape: 50257, GPT-2's].
    #[arg(long, value_parser = size, allow_hyphen_values = true)]
    vocab: Option<usize>,
    /// Context length [default with an explicit shape: 1024, GPT-2's].
    #[arg(long, value_parser = size, allow_hyphen_values = true)]
    ctx: Option<usize>,
    /// Training tokens D (300e9, 3e11, 300B, 1.5T all work) [default: GPT-3's 300B].
    #[arg(long, value_parser = count, allow_hyphen_values = true, value_name = "D")]
    train_tokens: Option<f64>,
    /// Name of the accelerator in the output.
    #[arg(long, default_value = "A100")]
    accelerator: String,
    /// Peak FLOP/s of one accelerator (A100: 312e12 dense BF16).
    #[arg(long, value_parser = number, default_value = "312e12", allow_hyphen_values = true)]
    peak_flops: f64,
    /// Fraction of peak a training run sustains.
    #[arg(long, value_parser = number, default_value = "0.4", allow_hyphen_values = true)]
    utilisation: f64,
    /// Price of one accelerator-hour in US dollars (an assumption, not a quote).
    #[arg(long, value_parser = number, default_value = "2.0", allow_hyphen_values = true)]
    price: f64,
    /// Bytes per parameter of the weights (2 = fp16/bf16); also used for the KV cache.
    #[arg(long, value_parser = number, default_value = "2", allow_hyphen_values = true)]
    weight_bytes: f64,
    /// Bytes per parameter of the gradients.
    #[arg(long, value_parser = number, default_value = "2", allow_hyphen_values = true)]
    grad_bytes: f64,
    /// Bytes per parameter of the optimizer state (fp32 master copy + Adam m, v).
    #[arg(long, value_parser = number, default_value = "12", allow_hyphen_values = true)]
    optimizer_bytes: f64,
    /// This machine's FLOP/s, to skip measuring the --model (or built-in) model.
    #[arg(long, value_parser = number, allow_hyphen_values = true, value_name = "FLOP/S")]
    measured_flops: Option<f64>,
    /// Print a JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Parses a count such as 300e9, 3e11, 300_000, 300B, 1.5T or 20M.
fn count(s: &str) -> Result<f64, String> {
    let t = s.trim().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('B' | 'G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t.as_str(), 1.0),
    };
    let v: f64 = num.parse().map_err(|_| {
        format!("\"{s}\" is not a number; write it like 300e9, 300000000000 or 300B")
    })?;
    let v = v * mult;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("\"{s}\" must be a positive number"));
    }
    Ok(v)
}

/// Parses a model dimension: a positive whole number (1.2e4 is accepted).
fn size(s: &str) -> Result<usize, String> {
    let v: f64 = s
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number; give a positive whole number"))?;
    if !(v.is_finite() && v >= 1.0 && v.fract() == 0.0) {
        return Err(format!("\"{s}\" must be a positive whole number"));
    }
    if v > 1e12 {
        return Err(format!("\"{s}\" is absurdly large for a model dimension"));
    }
    Ok(v as usize)
}

/// Parses a plain number (checked by the library for its own range).
fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number"))?;
    if !v.is_finite() {
        return Err(format!("\"{s}\" must be a finite number"));
    }
    Ok(v)
}

/// The shape to price, a label saying where it came from, and the model when
/// one was opened for it (measuring reuses it: opened once, its load
/// warnings printed once).
fn resolve_shape(
    model: Option<&Path>,
    a: &Args,
) -> Result<(Shape, String, Option<cost::Preset>, Option<super::Loaded>)> {
    let explicit = a.layers.is_some() || a.embd.is_some() || a.heads.is_some();
    let mut loaded = None;
    let (base, label, preset) = match &a.preset {
        Some(name) => {
            let p = cost::preset(name)?;
            (p.shape, p.key.to_string(), Some(p))
        }
        None if explicit => {
            let missing: Vec<&str> = [
                ("--layers", a.layers),
                ("--embd", a.embd),
                ("--heads", a.heads),
            ]
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
            if !missing.is_empty() {
                bail!(
                    "an explicit shape needs --layers, --embd and --heads; missing {} (or start from --preset {})",
                    missing.join(", "),
                    PRESETS.map(|p| p.key).join("|")
                );
            }
            let s = Shape {
                n_layer: 0,
                n_head: 0,
                n_embd: 0,
                vocab_size: 50257,
                n_ctx: 1024,
                llama: None,
            };
            (s, "custom".to_string(), None)
        }
        None => {
            let l = super::load_model(model).context(
                "no shape given and no model to read one from; pass --preset NAME or --layers/--embd/--heads",
            )?;
            let s = Shape::of(&l.gpt.config);
            let label = l.dir.display().to_string();
            loaded = Some(l);
            (s, label, None)
        }
    };
    let shape = Shape {
        n_layer: a.layers.unwrap_or(base.n_layer),
        n_head: a.heads.unwrap_or(base.n_head),
        n_embd: a.embd.unwrap_or(base.n_embd),
        vocab_size: a.vocab.unwrap_or(base.vocab_size),
        n_ctx: a.ctx.unwrap_or(base.n_ctx),
        llama: base.llama,
    };
    let label = if preset.is_some() && shape != base {
        format!("{label}, modified")
    } else {
        label
    };
    shape.validate()?;
    Ok((shape, label, preset.filter(|p| p.shape == shape), loaded))
}

/// Measures the --model (or built-in) model here (`loaded` when it is open
/// already); what was measured, or why not.
fn measure_here(model: Option<&Path>, loaded: Option<super::Loaded>) -> Result<(Speed, String)> {
    let l = match loaded {
        Some(l) => l,
        None => super::load_model(model)?,
    };
    // Keep it quick: fewer tokens for bigger models (about 5e9 FLOPs a prefill).
    let mut prompt = 128;
    while prompt > 8 && Ledger::for_prompt(&l.gpt.config, prompt).flops() > 5e9 {
        prompt /= 2;
    }
    let speed = cost::measure(&l.gpt, prompt, prompt / 2, 5)?;
    Ok((speed, l.dir.display().to_string()))
}

pub fn run(model: Option<&Path>, a: Args) -> Result<()> {
    let (shape, label, preset, loaded) = resolve_shape(model, &a)?;
    let assumptions = Assumptions {
        accelerator: a.accelerator.clone(),
        peak_flops: a.peak_flops,
        utilisation: a.utilisation,
        price_per_hour: a.price,
        weight_bytes: a.weight_bytes,
        grad_bytes: a.grad_bytes,
        optimizer_bytes: a.optimizer_bytes,
    };
    let d = a.train_tokens.unwrap_or(300e9);
    // Check the inputs before spending time on a measurement.
    Estimate::new(shape, d, &assumptions, a.measured_flops)?;
    let (measured, speed, measured_what, measure_error) = match a.measured_flops {
        Some(f) => (
            Some(f),
            None,
            "given with --measured-flops".to_string(),
            None,
        ),
        None => match measure_here(model, loaded) {
            // Training is batched matrix–matrix work, like prefill.
            Ok((s, what)) => (Some(s.prefill.flops_per_s), Some(s), what, None),
            Err(e) => (None, None, String::new(), Some(format!("{e:#}"))),
        },
    };
    let e = Estimate::new(shape, d, &assumptions, measured)?;
    let cfg = shape.config();
    let ledger = Ledger::for_forward(&cfg, shape.n_ctx - 1, 1, false);
    let mut out = super::out::stdout();
    if a.json {
        let v = serde_json::json!({
            "shape_from": label,
            "preset": preset.map(|p| p.key),
            "published": preset.map(|p| serde_json::json!({
                "params": p.published_params,
                "train_tokens": p.published_training.map(|t| t.0),
                "training_flops": p.published_training.map(|t| t.1),
            })),
            "estimate": e,
            "ledger_one_token_full_context": ledger,
            "weight_bytes_per_token_by_format": gptlens::quant::RUNNABLE
                .iter()
                .map(|&t| (t.name().to_string(), ledger.weight_bytes_in(t)))
                .collect::<std::collections::BTreeMap<_, _>>(),
            "measured": speed,
            "measured_model": (!measured_what.is_empty()).then_some(measured_what),
            "measure_error": measure_error,
            "arithmetic": "64-bit floating point",
            "footnotes": footnotes(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        out.flush()?;
        return Ok(());
    }
    print_text(
        &mut out,
        &e,
        &label,
        preset,
        &ledger,
        speed.as_ref(),
        &measured_what,
        measure_error,
    )?;
    out.flush()?;
    Ok(())
}

/// 174.6B, 355.0M, 3.2k: a count a reader can say aloud.
fn short(x: f64) -> String {
    let (v, unit) = if x >= 1e12 {
        (x / 1e12, "T")
    } else if x >= 1e9 {
        (x / 1e9, "B")
    } else if x >= 1e6 {
        (x / 1e6, "M")
    } else if x >= 1e3 {
        (x / 1e3, "k")
    } else {
        return format!("{x:.0}");
    };
    format!("{v:.1}{unit}")
}

fn rate(x: f64) -> String {
    if x >= 1e12 {
        format!("{:.1} TFLOP/s", x / 1e12)
    } else if x >= 1e9 {
        format!("{:.2} GFLOP/s", x / 1e9)
    } else {
        format!("{:.1} MFLOP/s", x / 1e6)
    }
}

#[allow(clippy::too_many_arguments)]
fn print_text(
    out: &mut impl Write,
    e: &Estimate,
    label: &str,
    preset: Option<cost::Preset>,
    ledger: &Ledger,
    speed: Option<&Speed>,
    measured_what: &str,
    measure_error: Option<String>,
) -> std::io::Result<()> {
    let s = &e.shape;
    let a = &e.assumptions;
    let p = &e.params;
    let src = |p: cost::Preset| format!(" [{}]", p.source);
    writeln!(out, "gptlens cost: {label}")?;
    writeln!(
        out,
        "shape         {} layers, {} heads, {} wide, vocabulary {}, context {}{}{}",
        s.n_layer,
        s.n_head,
        s.n_embd,
        s.vocab_size,
        s.n_ctx,
        s.llama.map_or(String::new(), |ls| format!(
            "; Llama: {} key/value heads (grouped-query), SwiGLU {} wide (three matrices), {} head",
            ls.n_kv_head,
            ls.mlp_dim,
            if ls.tied { "tied" } else { "untied" }
        )),
        preset.map_or(String::new(), src)
    )?;
    let published = preset.map_or(String::new(), |p| {
        format!(" (published: {}{})", short(p.published_params), src(p))
    });
    writeln!(
        out,
        "parameters    {} total{published}; non-embedding N = {} ({} in weight matrices, {}); embeddings {}",
        short(p.total),
        short(p.non_embedding),
        short(p.matrices),
        if s.llama.is_some() {
            "L·(2C² + 2C·kv + 3C·M)"
        } else {
            "12·L·C²"
        },
        short(p.embedding)
    )?;
    writeln!(
        out,
        "inference     2·N = {} FLOPs per token [2]; the ledger counts {} for the last token of a full {}-token context (attention, logits and elementwise work included)",
        sig(e.inference_flops_per_token, 3),
        sig(e.ledger_flops_per_token_full_context, 3),
        s.n_ctx
    )?;
    writeln!(
        out,
        "KV cache      {} per token ({} numbers at {} bytes); {} for a full {}-token context",
        bytes(e.kv_cache_bytes_per_token),
        s.llama.map_or("2·L·C".to_string(), |ls| format!(
            "2·L·{}·dₖ ({} key/value heads for {} query heads)",
            ls.n_kv_head, ls.n_kv_head, s.n_head
        )),
        a.weight_bytes,
        bytes(e.kv_cache_bytes_full_context),
        s.n_ctx
    )?;
    writeln!(
        out,
        "memory        inference {} ({} weights at {} bytes/param + full KV cache); training {} at {} bytes/param (weights {}, gradients {}, optimizer {}) [5], activations not included",
        bytes(e.inference_memory_bytes),
        bytes(e.weights_bytes),
        a.weight_bytes,
        bytes(e.training_memory_bytes),
        a.weight_bytes + a.grad_bytes + a.optimizer_bytes,
        a.weight_bytes,
        a.grad_bytes,
        a.optimizer_bytes
    )?;
    let published_train = match preset.and_then(|p| p.published_training) {
        Some((tokens, flops)) if tokens == e.train_tokens => {
            format!(
                " (published: {}{})",
                sig(flops, 3),
                preset.map_or(String::new(), src)
            )
        }
        _ => String::new(),
    };
    writeln!(
        out,
        "training      D = {} tokens: 6·N·D ≈ {} FLOPs [2]{published_train}",
        short(e.train_tokens),
        sig(e.training_flops, 2),
    )?;
    writeln!(
        out,
        "              to 3 figures {}; {} counting the embeddings too; {} with the attention term 3·D·(2N + 2·L·T·C)",
        sig(e.training_flops, 3),
        sig(e.training_flops_all_params, 3),
        sig(e.training_flops_with_attention, 3)
    )?;
    writeln!(
        out,
        "accelerators  {} {}-hours at {} peak [4] × {} utilisation ({} on one); ${} at ${:.2} per hour",
        hours(e.accelerator_hours),
        a.accelerator,
        rate(a.peak_flops),
        a.utilisation,
        human_duration(e.accelerator_hours * 3600.0),
        money(e.price),
        a.price_per_hour
    )?;
    match (e.measured_flops_per_s, e.this_machine_seconds) {
        (Some(m), Some(secs)) => {
            let how = match speed {
                Some(sp) => format!(
                    "measured: prefill of {} tokens of {measured_what} on {} threads, median of 5; decode {} and {}/s at {:.0} tokens/s",
                    sp.prefill.tokens,
                    sp.threads,
                    rate(sp.decode.flops_per_s),
                    bytes(sp.decode.bytes_per_s),
                    sp.decode.tokens_per_s
                ),
                None => measured_what.to_string(),
            };
            writeln!(
                out,
                "this machine  at {} ({how}), 6·N·D would take {}",
                rate(m),
                human_duration(secs)
            )?;
        }
        _ => writeln!(
            out,
            "this machine  not measured ({}); pass --measured-flops F or --model DIR",
            measure_error.unwrap_or_default()
        )?,
    }
    writeln!(
        out,
        "assumptions   --accelerator {} --peak-flops {:e} --utilisation {} --price {} --weight-bytes {} --grad-bytes {} --optimizer-bytes {} (change any of them)",
        a.accelerator,
        a.peak_flops,
        a.utilisation,
        a.price_per_hour,
        a.weight_bytes,
        a.grad_bytes,
        a.optimizer_bytes
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "where one token's work goes (the last of a full {}-token context, f32 as this engine runs it):",
        s.n_ctx
    )?;
    let shares = ledger.shares();
    for (st, share) in ledger.rows.iter().zip(shares) {
        let ma = if st.kind == Kind::Matmul {
            sig(st.multiply_adds, 3)
        } else {
            "-".into()
        };
        writeln!(
            out,
            "  {:<28} {:>9} MAs {:>9} FLOPs {:>5.1}%  weights read {}",
            st.name,
            ma,
            sig(st.flops, 3),
            share * 100.0,
            bytes(st.weight_bytes)
        )?;
    }
    writeln!(
        out,
        "  total {} FLOPs; {} of weights and {} of KV cache read: {:.1} FLOPs per byte",
        sig(ledger.flops(), 3),
        bytes(ledger.weight_bytes()),
        bytes(ledger.kv_read_bytes),
        ledger.arithmetic_intensity()
    )?;
    let formats: Vec<String> = gptlens::quant::RUNNABLE
        .iter()
        .map(|&t| {
            format!(
                "{t} {} ({} bits/weight)",
                bytes(ledger.weight_bytes_in(t)),
                t.bits_per_weight()
            )
        })
        .collect();
    writeln!(
        out,
        "  weights read per token stored as `gptlens quantize --type` writes them: {}",
        formats.join(", ")
    )?;
    writeln!(out)?;
    for (i, f) in footnotes().iter().enumerate() {
        writeln!(out, "[{}] {f}", i + 1)?;
    }
    Ok(())
}

/// Small counts plainly (11.4), large ones in e-notation (7.0e5).
fn hours(x: f64) -> String {
    if x < 1e4 {
        format!("{x:.1}")
    } else {
        sig(x, 2)
    }
}

fn money(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.1}B", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.1}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_the_usual_notations() {
        for s in [
            "300e9",
            "3e11",
            "300_000_000_000",
            "300B",
            "0.3T",
            "300000M",
        ] {
            assert_eq!(count(s).unwrap(), 300e9, "{s}");
        }
        assert!(count("-5").unwrap_err().contains("positive"));
        assert!(count("lots").unwrap_err().contains("not a number"));
        assert!(count("inf").is_err());
    }

    #[test]
    fn sizes_are_positive_whole_numbers() {
        assert_eq!(size("12288").unwrap(), 12288);
        assert_eq!(size("1.2288e4").unwrap(), 12288);
        for bad in ["0", "-1", "1.5", "x", "1e30"] {
            assert!(size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_units() {
        assert_eq!(short(174.6e9), "174.6B");
        // Binary units, as the cost view prints them (was decimal "2.8 TB").
        assert_eq!(bytes(2.8e12), "2.55 TiB");
        assert_eq!(bytes(512.0), "512 bytes");
        assert_eq!(money(1.4e6), "1.4M");
        assert_eq!(hours(11.36), "11.4");
        assert_eq!(hours(6.97e5), "7.0e5");
        assert_eq!(rate(3.2e9), "3.20 GFLOP/s");
    }
}
