//! Compression: bytes per weight and per token in every format (the cost
//! ledger), one real block of the step's layer quantized (the quantization
//! view's block: its Q, K, V matrix, block 0; `readout::quant`), the model
//! against its own quantized copy on the prompt (`readout::compare`, live),
//! the measured accuracy of each format and pruning sparsity (the model
//! folder's `compression.tsv`, written by `scripts/compression-record.sh`),
//! and the teacher's softened distribution that distillation trains on.

use super::{Arg, Cx, N, NONE, Spec, int, ph};
use crate::fmt::{bytes, num, percent, sig_digits};
use crate::i18n::Msg;
use crate::model::Gpt;
use crate::quant::record::{self, Measured};
use crate::quant::{GgmlType, QK};
use crate::readout::quant::{self, Block, Coded};
use crate::readout::{compare, logits::softmax_t, ranked};

const I: &[Arg] = &[int("i", 0.0, 0.0, 31.0)];

/// The block the quantization view shows at this step: the step's layer,
/// its first matrix, block 0.
fn the_block(c: &Cx) -> Result<Block, String> {
    quant::block(&c.env.gpt.weights, c.cfg(), c.sel.layer, 0, 0).map_err(|e| e.to_string())
}

fn coded(c: &Cx, ty: GgmlType) -> Result<Coded, String> {
    the_block(c)?
        .coded
        .into_iter()
        .find(|x| x.ty == ty)
        .ok_or_else(|| format!("no {ty} code of the block"))
}

fn list(xs: impl Iterator<Item = String>, n: usize) -> String {
    let all: Vec<String> = xs.collect();
    let mut s: Vec<String> = all.iter().take(n).cloned().collect();
    if all.len() > n {
        s.push("…".into());
    }
    format!("[{}]", s.join(", "))
}

fn floats(xs: &[f32], n: usize) -> String {
    list(xs.iter().map(|&x| num(x as f64)), n)
}

fn ints(xs: &[i32], n: usize) -> String {
    list(xs.iter().map(|q| q.to_string()), n)
}

fn at(c: &Cx) -> usize {
    (c.arg(0) as usize).min(QK - 1)
}

fn bytes_per_token(c: &Cx, ty: GgmlType) -> Result<f64, String> {
    quant::format_costs(c.cfg())
        .into_iter()
        .find(|f| f.ty == ty)
        .map(|f| f.bytes_per_token)
        .ok_or_else(|| format!("no {ty} in the cost table"))
}

fn fewer(c: &Cx, ty: GgmlType) -> Result<String, String> {
    let f = quant::format_costs(c.cfg());
    let x = f.iter().find(|f| f.ty == ty).map(|f| f.fewer_than_f32);
    x.map(|x| format!("{:.2}", x))
        .ok_or_else(|| format!("no {ty} in the cost table"))
}

/// The table of every format: bits per weight, bytes per token, ÷ f32.
fn formats(c: &Cx) -> String {
    let mut s = String::from(c.say(
        "| format | bits per weight | bytes per token | fewer bytes than f32 |\n|---|---|---|---|\n",
        "| 格式 | 每个权重的位数 | 每个词元读取的字节 | 比 f32 少几倍 |\n|---|---|---|---|\n",
    ));
    for f in quant::format_costs(c.cfg()) {
        s.push_str(&format!(
            "| {} | {} | {} | {:.2}× |\n",
            f.ty,
            sig_digits(f.bits_per_weight, 2),
            bytes(f.bytes_per_token),
            f.fewer_than_f32
        ));
    }
    s.trim_end().to_string()
}

/// The model's `ty` copy (quantized in memory) on the prompt, against the model.
fn against_copy(c: &Cx, ty: GgmlType) -> Result<compare::Summary, String> {
    let gpt = c.env.gpt;
    let weights = crate::quant::weights::quantized(&gpt.weights, ty).map_err(|e| e.to_string())?;
    let copy = Gpt {
        config: gpt.config.clone(),
        weights,
    };
    let b = copy
        .trace(&c.tr().tokens, &Default::default())
        .map_err(|e| e.to_string())?;
    Ok(compare::summary(c.tr(), &b))
}

fn recorded(c: &Cx) -> Result<Option<Vec<Measured>>, String> {
    match c.env.model_dir {
        None => Ok(None),
        Some(d) => record::read(d),
    }
}

/// `f(row)` for the record's row, or the sentence saying there is none.
fn from_record(
    c: &Cx,
    what: &str,
    setting: &str,
    f: fn(&Measured) -> String,
) -> Result<String, String> {
    Ok(match recorded(c) {
        Err(e) => Msg::CompressUnreadable.fill(c.lang, &[&e]),
        Ok(None) => Msg::CompressNotRecorded.get(c.lang).into(),
        Ok(Some(rows)) => match record::find(&rows, what, setting) {
            Some(r) => f(r),
            None => Msg::CompressNoRow.fill(c.lang, &[&what, &setting]),
        },
    })
}

fn change(r: &Measured) -> String {
    let p = 100.0 * r.perplexity_change;
    if p.abs() < 0.01 {
        format!("{}{}%", if p < 0.0 { "−" } else { "+" }, num(p.abs()))
    } else {
        format!("{}{:.2}%", if p < 0.0 { "−" } else { "+" }, p.abs())
    }
}

/// A markdown table of the record's `what` rows: setting, bits, perplexity,
/// change, mean KL, top-1 agreement.
fn record_table(c: &Cx, what: &str, first: &str) -> Result<String, String> {
    Ok(match recorded(c) {
        Err(e) => Msg::CompressUnreadable.fill(c.lang, &[&e]),
        Ok(None) => Msg::CompressNotRecorded.get(c.lang).into(),
        Ok(Some(rows)) => {
            let mut s = match c.lang {
                crate::i18n::Lang::En => format!(
                    "| {first} | bits per weight | perplexity | change | mean KL (nats) | same top token |\n|---|---|---|---|---|---|\n"
                ),
                crate::i18n::Lang::Zh => format!(
                    "| {first} | 每个权重的位数 | 困惑度 | 变化 | 平均 KL（奈特） | 排第一的词元相同 |\n|---|---|---|---|---|---|\n"
                ),
            };
            for r in rows.iter().filter(|r| r.what == what) {
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} |\n",
                    r.setting,
                    sig_digits(r.bits_per_weight, 2),
                    num(r.perplexity),
                    change(r),
                    num(r.mean_kl),
                    percent(r.top1_agreement)
                ));
            }
            s.trim_end().to_string()
        }
    })
}

/// The teacher's n most likely next tokens at the position, at T = 1 and T = 2.
fn soft(c: &Cx) -> String {
    let row = c.tr().logits.row(c.sel.pos);
    let (p1, p2) = (softmax_t(row, 1.0), softmax_t(row, 2.0));
    let mut s = String::from(c.say(
        "| next token | p at T = 1 | p at T = 2 |\n|---|---|---|\n",
        "| 下一个词元 | T = 1 时的 p | T = 2 时的 p |\n|---|---|---|\n",
    ));
    for i in ranked(&p1).into_iter().take(c.n()) {
        s.push_str(&format!(
            "| {} | {} | {} |\n",
            c.tok(i as u32),
            num(p1[i] as f64),
            num(p2[i] as f64)
        ));
    }
    s.trim_end().to_string()
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "compress.formats",
        NONE,
        "a table of every format: bits per weight, bytes one decoded token reads (the cost ledger), how many times fewer than f32",
        |c| Ok(formats(c)),
    ),
    ph(
        "compress.f32.token",
        NONE,
        "bytes of weights one decoded token reads at f32",
        |c| Ok(bytes(bytes_per_token(c, GgmlType::F32)?)),
    ),
    ph("compress.q8.token", NONE, "the same in Q8_0", |c| {
        Ok(bytes(bytes_per_token(c, GgmlType::Q8_0)?))
    }),
    ph("compress.q4.token", NONE, "the same in Q4_0", |c| {
        Ok(bytes(bytes_per_token(c, GgmlType::Q4_0)?))
    }),
    ph(
        "compress.q8.fewer",
        NONE,
        "f32's bytes per token ÷ Q8_0's",
        |c| fewer(c, GgmlType::Q8_0),
    ),
    ph(
        "compress.q4.fewer",
        NONE,
        "f32's bytes per token ÷ Q4_0's",
        |c| fewer(c, GgmlType::Q4_0),
    ),
    ph(
        "compress.block",
        NONE,
        "which block the quantization view shows: the step's layer's first matrix, block 0 (its output and inputs)",
        |c| {
            let b = the_block(c)?;
            Ok(Msg::CompressBlock.fill(
                c.lang,
                &[
                    &b.matrix.name,
                    &b.matrix.what,
                    &b.row,
                    &b.col,
                    &(b.col + QK - 1),
                ],
            ))
        },
    ),
    ph(
        "compress.weights",
        N,
        "the first n of the block's 32 weights",
        |c| Ok(floats(&the_block(c)?.weights, c.n())),
    ),
    ph("compress.weight", I, "weight i of the block", |c| {
        Ok(num(the_block(c)?.weights[at(c)] as f64))
    }),
    ph(
        "compress.absmax",
        NONE,
        "the block's largest |weight|",
        |c| {
            let b = the_block(c)?;
            Ok(num(
                b.weights.iter().fold(0.0f32, |m, x| m.max(x.abs())) as f64
            ))
        },
    ),
    ph(
        "compress.q8.d",
        NONE,
        "Q8_0's scale d = max|w| / 127, stored as a 16-bit float",
        |c| Ok(num(coded(c, GgmlType::Q8_0)?.scale as f64)),
    ),
    ph(
        "compress.q8.ints",
        N,
        "the first n of Q8_0's integers q = round(w / d)",
        |c| Ok(ints(&coded(c, GgmlType::Q8_0)?.ints, c.n())),
    ),
    ph("compress.q8.int", I, "Q8_0's integer for weight i", |c| {
        Ok(coded(c, GgmlType::Q8_0)?.ints[at(c)].to_string())
    }),
    ph(
        "compress.q8.value",
        I,
        "what weight i comes back as from Q8_0: d·q",
        |c| Ok(num(coded(c, GgmlType::Q8_0)?.values[at(c)] as f64)),
    ),
    ph(
        "compress.q8.rms",
        NONE,
        "the block's RMS error in Q8_0",
        |c| Ok(num(coded(c, GgmlType::Q8_0)?.rms().unwrap_or(0.0) as f64)),
    ),
    ph(
        "compress.q4.d",
        NONE,
        "Q4_0's scale d = (the weight of largest magnitude) / −8",
        |c| Ok(num(coded(c, GgmlType::Q4_0)?.scale as f64)),
    ),
    ph(
        "compress.q4.ints",
        N,
        "the first n of Q4_0's 4-bit integers q (0…15; the value is d·(q − 8))",
        |c| Ok(ints(&coded(c, GgmlType::Q4_0)?.ints, c.n())),
    ),
    ph("compress.q4.int", I, "Q4_0's integer for weight i", |c| {
        Ok(coded(c, GgmlType::Q4_0)?.ints[at(c)].to_string())
    }),
    ph(
        "compress.q4.value",
        I,
        "what weight i comes back as from Q4_0: d·(q − 8)",
        |c| Ok(num(coded(c, GgmlType::Q4_0)?.values[at(c)] as f64)),
    ),
    ph(
        "compress.q4.rms",
        NONE,
        "the block's RMS error in Q4_0",
        |c| Ok(num(coded(c, GgmlType::Q4_0)?.rms().unwrap_or(0.0) as f64)),
    ),
    ph(
        "compress.q41.d",
        NONE,
        "Q4_1's scale d = (max − min) / 15",
        |c| Ok(num(coded(c, GgmlType::Q4_1)?.scale as f64)),
    ),
    ph(
        "compress.q41.m",
        NONE,
        "Q4_1's minimum m (the value is d·q + m)",
        |c| Ok(num(coded(c, GgmlType::Q4_1)?.min.unwrap_or(0.0) as f64)),
    ),
    ph(
        "compress.q41.rms",
        NONE,
        "the block's RMS error in Q4_1",
        |c| Ok(num(coded(c, GgmlType::Q4_1)?.rms().unwrap_or(0.0) as f64)),
    ),
    ph(
        "compress.accuracy",
        NONE,
        "the recorded table: each format's perplexity, its change, mean KL and top-1 agreement against f32 (compression.tsv)",
        |c| record_table(c, "quant", c.say("format", "格式")),
    ),
    ph(
        "compress.q8.change",
        NONE,
        "the recorded perplexity change of Q8_0",
        |c| from_record(c, "quant", "Q8_0", change),
    ),
    ph(
        "compress.q4.change",
        NONE,
        "the recorded perplexity change of Q4_0",
        |c| from_record(c, "quant", "Q4_0", change),
    ),
    ph(
        "compress.pruning",
        NONE,
        "the recorded pruning curve: each sparsity's perplexity, change, mean KL and top-1 agreement (compression.tsv)",
        |c| record_table(c, "prune", c.say("sparsity", "稀疏度")),
    ),
    ph(
        "compress.prune.half",
        NONE,
        "the recorded perplexity change with half of every matrix's weights set to zero",
        |c| from_record(c, "prune", "0.5", change),
    ),
    ph(
        "compress.q4.kl",
        NONE,
        "on the prompt, live: mean KL(model ‖ its Q4_0 copy) per position, nats",
        |c| Ok(num(against_copy(c, GgmlType::Q4_0)?.mean_kl)),
    ),
    ph(
        "compress.q4.top1",
        NONE,
        "on the prompt, live: positions where the Q4_0 copy's top token is the model's, as k of n",
        |c| {
            let s = against_copy(c, GgmlType::Q4_0)?;
            Ok(Msg::CompressOfN.fill(c.lang, &[&s.top1_agree, &s.rows]))
        },
    ),
    ph(
        "compress.q4.loss",
        NONE,
        "on the prompt, live: mean loss of the model and of its Q4_0 copy, as a → b",
        |c| {
            let s = against_copy(c, GgmlType::Q4_0)?;
            Ok(format!("{} → {}", num(s.mean_a), num(s.mean_b)))
        },
    ),
    ph(
        "compress.q8.kl",
        NONE,
        "on the prompt, live: mean KL(model ‖ its Q8_0 copy) per position, nats",
        |c| Ok(num(against_copy(c, GgmlType::Q8_0)?.mean_kl)),
    ),
    ph(
        "compress.soft",
        N,
        "a table of the model's n most likely next tokens at the position, at temperature 1 and 2: the softened targets a distilled student learns",
        |c| Ok(soft(c)),
    ),
];
