//! The residual stream at the selected layer and position, and the logit
//! lens read off it after every layer.

use super::{Cx, N, NONE, Spec, ph, table};
use crate::fmt::{list, num};
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
                    let label = if i == 0 {
                        "embeddings".to_string()
                    } else {
                        format!("after layer {}", i - 1)
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
                &["read after", "top next token", "probability"],
                lens::tops(c.env.gpt, c.tr(), c.sel.pos)
                    .into_iter()
                    .enumerate()
                    .map(|(i, (j, p))| {
                        let label = if i == 0 {
                            "embeddings".to_string()
                        } else {
                            format!("layer {}", i - 1)
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
            Ok(match settles(c) {
                0 => "the embeddings".into(),
                f => format!("layer {}", f - 1),
            })
        },
    ),
    ph(
        "lens.when",
        NONE,
        "the same as one of three phrases, for a predict block's `match:`: \"from the embeddings\", \"somewhere in between\", \"only after the last layer\"",
        |c| {
            Ok(match settles(c) {
                0 => "from the embeddings".into(),
                f if f == c.cfg().n_layer => "only after the last layer".into(),
                _ => "somewhere in between".into(),
            })
        },
    ),
];
