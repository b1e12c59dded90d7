//! The residual stream at the selected layer and position, and the logit
//! lens read off it after every layer.

use super::{Cx, N, NONE, Spec, ph, table};
use crate::fmt::{list, num};
use crate::i18n::Lang;
use crate::readout::{lens, norm};

/// The read-out point from which the lens's top token stays the final one.
fn settles(c: &Cx) -> usize {
    lens::settles(&lens::tops(c.env.gpt, c.tr(), c.sel.pos))
}

pub(super) const SPECS: &[Spec] = &[
    ph(
        "resid.in",
        N,
        "first n components of the stream entering the layer",
        |c| {
            Ok(list(
                c.tr().resid_in(c.sel.layer).row(c.sel.pos).iter().copied(),
                c.n(),
            ))
        },
    ),
    ph("resid.mid", N, "… after attention was added", |c| {
        Ok(list(
            c.layer().resid_mid.row(c.sel.pos).iter().copied(),
            c.n(),
        ))
    }),
    ph(
        "resid.post",
        N,
        "… after the MLP was added (leaving the layer)",
        |c| {
            Ok(list(
                c.layer().resid_post.row(c.sel.pos).iter().copied(),
                c.n(),
            ))
        },
    ),
    ph(
        "resid.norms",
        NONE,
        "‖stream‖ at the position entering each layer and leaving the last",
        |c| {
            Ok((0..=c.cfg().n_layer)
                .map(|i| {
                    let label = match (i, c.lang) {
                        (0, _) => c.say("embeddings", "嵌入").to_string(),
                        (_, Lang::En) => format!("after layer {}", i - 1),
                        (_, Lang::Zh) => format!("第 {} 层之后", i - 1),
                    };
                    let x = c.tr().resid_in(i).row(c.sel.pos);
                    format!("{label} {}", num(norm(x) as f64))
                })
                .collect::<Vec<_>>()
                .join(" → "))
        },
    ),
    ph(
        "resid.attn_norm",
        NONE,
        "‖what attention adds‖ at the layer and position",
        |c| Ok(num(norm(c.layer().attn_out.row(c.sel.pos)) as f64)),
    ),
    ph(
        "resid.mlp_norm",
        NONE,
        "‖what the MLP adds‖ at the layer and position",
        |c| Ok(num(norm(c.layer().mlp_out.row(c.sel.pos)) as f64)),
    ),
    ph(
        "lens",
        NONE,
        "logit lens: the top next token read off the stream after each layer",
        |c| {
            Ok(table(
                &[
                    c.say("read after", "在哪里读出"),
                    c.say("top next token", "排第一的下一个词元"),
                    c.say("probability", "概率"),
                ],
                lens::tops(c.env.gpt, c.tr(), c.sel.pos)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (j, p))| {
                        let label = match (i, c.lang) {
                            (0, _) => c.say("embeddings", "嵌入").to_string(),
                            (_, Lang::En) => format!("layer {}", i - 1),
                            (_, Lang::Zh) => format!("第 {} 层", i - 1),
                        };
                        vec![label, c.tok(j as u32), num(p as f64)]
                    })
                    .collect(),
            ))
        },
    ),
    ph(
        "lens.first",
        NONE,
        "where the logit lens first shows the final top token and keeps it: \"the embeddings\" or \"layer k\"",
        |c| {
            Ok(match (settles(c), c.lang) {
                (0, _) => c.say("the embeddings", "嵌入").into(),
                (f, Lang::En) => format!("layer {}", f - 1),
                (f, Lang::Zh) => format!("第 {} 层", f - 1),
            })
        },
    ),
    ph(
        "lens.when",
        NONE,
        "the same as one of three phrases, for a predict block's `match:`: \"from the embeddings\", \"somewhere in between\", \"only after the last layer\"",
        |c| {
            Ok(match settles(c) {
                0 => c.say("from the embeddings", "从嵌入开始"),
                f if f == c.cfg().n_layer => c.say("only after the last layer", "要到最后一层之后"),
                _ => c.say("somewhere in between", "在中间某一层"),
            }
            .into())
        },
    ),
];
