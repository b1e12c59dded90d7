//! The next-token distribution at the selected position.

use crate::i18n::Lang;
use ndarray::ArrayView1;

use super::{Cx, N, NONE, Spec, int, ph, real, table};
use crate::fmt::{list, num};
use crate::readout::logits::{lse, recompute_top, softmax_t};
use crate::readout::{argmax, entropy, ranked};

fn logits_row<'a>(c: &'a Cx) -> ArrayView1<'a, f32> {
    c.tr().logits.row(c.sel.pos)
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "logits.top",
        N,
        "a table of the n most likely next tokens: logit and probability",
        |c| {
            let row = logits_row(c);
            let probs = softmax_t(row, 1.0);
            Ok(table(
                &[
                    c.say("rank", "名次"),
                    c.say("token", "词元"),
                    "logit",
                    c.say("probability", "概率"),
                ],
                ranked(&probs)
                    .into_iter()
                    .take(c.n())
                    .enumerate()
                    .map(|(r, i)| {
                        vec![
                            (r + 1).to_string(),
                            c.tok(i as u32),
                            num(row[i] as f64),
                            num(probs[i] as f64),
                        ]
                    })
                    .collect(),
            ))
        },
    ),
    ph(
        "logits.top.token",
        NONE,
        "the most likely next token",
        |c| Ok(c.tok(argmax(&logits_row(c).to_vec()) as u32)),
    ),
    ph(
        "logits.rank",
        &[int("r", 1.0, 1.0, 1e6)],
        "the token ranked r-th (1 = most likely)",
        |c| {
            let (row, n) = (logits_row(c).to_vec(), c.n());
            match ranked(&row).get(n.saturating_sub(1)) {
                Some(&i) => Ok(c.tok(i as u32)),
                None => Err(format!("rank {n} is past the vocabulary's {}", row.len())),
            }
        },
    )
    .unless("when r is past the vocabulary"),
    ph("logits.values", N, "the n largest logits", |c| {
        let row = logits_row(c).to_vec();
        Ok(list(ranked(&row).into_iter().map(|i| row[i]), c.n()))
    }),
    ph(
        "logits.probs",
        N,
        "their probabilities softmax(logits)",
        |c| {
            let probs = softmax_t(logits_row(c), 1.0);
            Ok(list(ranked(&probs).into_iter().map(|i| probs[i]), c.n()))
        },
    ),
    ph(
        "logits.lse",
        NONE,
        "log Σ exp(logit) over the vocabulary: p = exp(logit − lse)",
        |c| Ok(num(lse(logits_row(c)))),
    ),
    ph(
        "logits.check",
        NONE,
        "the top logit recomputed as ln_f(x)·wte[token] (the tied unembedding)",
        |c| {
            let (j, re, engine) = recompute_top(c.env.gpt, c.tr(), c.sel.pos);
            let (t, re, engine) = (c.tok(j as u32), num(re as f64), num(engine as f64));
            Ok(match c.lang {
                Lang::En => {
                    format!("ln_f(x)·wte[{t}] = {re} (the logit the engine computed: {engine})")
                }
                Lang::Zh => format!("ln_f(x)·wte[{t}] = {re}（引擎算出的 logit：{engine}）"),
            })
        },
    ),
    ph(
        "logits.temp",
        &[real("t", 1.0, 0.01, 100.0), int("n", 5.0, 1.0, 64.0)],
        "the n top probabilities at temperature t",
        |c| {
            let probs = softmax_t(logits_row(c), c.arg(0) as f32);
            Ok(ranked(&probs)
                .into_iter()
                .take(c.arg(1) as usize)
                .map(|i| format!("{} {}", c.tok(i as u32), num(probs[i] as f64)))
                .collect::<Vec<_>>()
                .join(", "))
        },
    ),
    ph(
        "logits.entropy",
        &[real("t", 1.0, 0.01, 100.0)],
        "entropy of the next-token distribution at temperature t, in nats",
        |c| Ok(num(entropy(&softmax_t(logits_row(c), c.arg(0) as f32)))),
    ),
];
