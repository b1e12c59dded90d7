//! Attention at the selected layer, head, query and key.

use super::{Cx, N, NONE, Spec, ph, table};
use crate::fmt::{list, num};
use crate::i18n::Lang;
use crate::readout::attention::{Cell, head_row, masked_keys, top_key};
use crate::readout::entropy;

fn dk(c: &Cx) -> usize {
    c.cfg().head_dim()
}

/// The selected head's row at the selected query, of the scores or the weights.
fn row<'a>(c: &Cx, m: &'a [Vec<Vec<f32>>]) -> &'a [f32] {
    &m[c.sel.head][c.sel.pos]
}

/// The selected cell spelt out.
fn cell(c: &Cx) -> Cell {
    let s = c.sel;
    crate::readout::attention::cell(c.tr(), s.layer, s.head, s.pos, s.key, true)
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "attn.q",
        N,
        "first n components of the head's query vector at the position",
        |c| {
            Ok(list(
                head_row(&c.layer().q, c.sel.pos, c.sel.head, dk(c)),
                c.n(),
            ))
        },
    ),
    ph(
        "attn.k",
        N,
        "first n components of the head's key vector at the key",
        |c| {
            Ok(list(
                head_row(&c.layer().k, c.sel.key, c.sel.head, dk(c)),
                c.n(),
            ))
        },
    ),
    ph(
        "attn.v",
        N,
        "first n components of the head's value vector at the key",
        |c| {
            Ok(list(
                head_row(&c.layer().v, c.sel.key, c.sel.head, dk(c)),
                c.n(),
            ))
        },
    ),
    ph(
        "attn.dot",
        NONE,
        "q·k for the selected query and key (all dₖ components)",
        |c| Ok(num(cell(c).dot as f64)),
    ),
    ph(
        "attn.sqrt_dk",
        NONE,
        "√dₖ, what q·k is divided by",
        |c| Ok(num((dk(c) as f64).sqrt())),
    ),
    ph(
        "attn.score",
        NONE,
        "q·k/√dₖ for the selected query and key",
        |c| Ok(num(row(c, &c.layer().scores)[c.sel.key] as f64)),
    ),
    ph(
        "attn.scores",
        NONE,
        "the query's scores q·k/√dₖ for keys 0…position (the row the mask leaves)",
        |c| Ok(list(row(c, &c.layer().scores).iter().copied(), usize::MAX)),
    ),
    ph(
        "attn.weights",
        NONE,
        "softmax of that row: the attention weights",
        |c| Ok(list(row(c, &c.layer().probs).iter().copied(), usize::MAX)),
    ),
    ph("attn.weight", NONE, "the weight of the selected key", |c| {
        Ok(num(row(c, &c.layer().probs)[c.sel.key] as f64))
    }),
    ph(
        "attn.row",
        NONE,
        "a table of the row: key token, score, weight",
        |c| {
            let (scores, probs) = (row(c, &c.layer().scores), row(c, &c.layer().probs));
            Ok(table(
                &[
                    c.say("key", "键"),
                    c.say("token", "词元"),
                    c.say("score q·k/√dₖ", "分数 q·k/√dₖ"),
                    c.say("weight", "权重"),
                ],
                (0..probs.len())
                    .map(|j| {
                        vec![
                            j.to_string(),
                            c.tok(c.tr().tokens[j]),
                            num(scores[j] as f64),
                            num(probs[j] as f64),
                        ]
                    })
                    .collect(),
            ))
        },
    ),
    ph(
        "attn.masked",
        NONE,
        "how many later keys the causal mask hides from the query",
        |c| Ok(masked_keys(c.tr(), c.sel.pos).to_string()),
    ),
    ph(
        "attn.top",
        NONE,
        "the key the head weighs most, with its weight",
        |c| {
            let s = c.sel;
            let j = top_key(c.tr(), s.layer, s.head, s.pos);
            let (t, w) = (
                c.tok(c.tr().tokens[j]),
                num(row(c, &c.layer().probs)[j] as f64),
            );
            Ok(match c.lang {
                Lang::En => format!("{t} (position {j}, weight {w})"),
                Lang::Zh => format!("{t}（位置 {j}，权重 {w}）"),
            })
        },
    ),
    ph("attn.top.token", NONE, "just that key's token text", |c| {
        let s = c.sel;
        Ok(c.tok(c.tr().tokens[top_key(c.tr(), s.layer, s.head, s.pos)]))
    }),
    ph(
        "attn.entropy",
        NONE,
        "entropy of the weights in nats (0 = all on one key)",
        |c| Ok(num(entropy(row(c, &c.layer().probs)))),
    ),
    ph(
        "attn.out",
        N,
        "first n components of the head's output Σ weight·v",
        |c| {
            Ok(list(
                head_row(&c.layer().heads, c.sel.pos, c.sel.head, dk(c)),
                c.n(),
            ))
        },
    ),
    ph(
        "attn.heads",
        NONE,
        "a table: for every head of the layer, the key it weighs most",
        |c| {
            let (s, tr) = (c.sel, c.tr());
            Ok(table(
                &[
                    c.say("head", "头"),
                    c.say("weighs most", "最看重的键"),
                    c.say("weight", "权重"),
                    c.say("entropy", "熵"),
                ],
                (0..c.cfg().n_head)
                    .map(|h| {
                        let row = &c.layer().probs[h][s.pos];
                        let j = top_key(tr, s.layer, h, s.pos);
                        vec![
                            h.to_string(),
                            match c.lang {
                                Lang::En => format!("{} (position {j})", c.tok(tr.tokens[j])),
                                Lang::Zh => format!("{}（位置 {j}）", c.tok(tr.tokens[j])),
                            },
                            num(row[j] as f64),
                            num(entropy(row)),
                        ]
                    })
                    .collect(),
            ))
        },
    ),
    ph(
        "attn.concat",
        N,
        "first n components of all heads' outputs concatenated (before W_O)",
        |c| Ok(list(c.layer().heads.row(c.sel.pos).iter().copied(), c.n())),
    ),
    ph(
        "attn.proj",
        N,
        "first n components after the output projection W_O",
        |c| {
            Ok(list(
                c.layer().attn_out.row(c.sel.pos).iter().copied(),
                c.n(),
            ))
        },
    ),
];
