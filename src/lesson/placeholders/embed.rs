//! The embedding: the token and position rows and their sum.

use super::{N, NONE, Spec, ph};
use crate::fmt::{list, num};
use crate::readout::embedding::nearest_tokens;
use crate::readout::norm;

pub(super) const SPECS: &[Spec] = &[
    ph(
        "emb.tok",
        N,
        "first n components of the token's row of wte",
        |c| Ok(list(c.tr().tok_emb.row(c.sel.pos).iter().copied(), c.n())),
    ),
    ph(
        "emb.pos",
        N,
        "first n components of the position's row of wpe (a model with RoPE has none: says so)",
        |c| {
            if c.tr().arch.positions == crate::model::Positions::Rotary {
                return Ok(format!(
                    "(none: this model has no wpe; position {} enters inside attention, where RoPE turns q and k by an angle proportional to it)",
                    c.sel.pos
                ));
            }
            Ok(list(c.tr().pos_emb.row(c.sel.pos).iter().copied(), c.n()))
        },
    ),
    ph(
        "emb.sum",
        N,
        "first n components of their sum, the residual stream entering layer 0",
        |c| Ok(list(c.tr().embed.row(c.sel.pos).iter().copied(), c.n())),
    ),
    ph(
        "emb.norm",
        NONE,
        "length ‖wte[token] + wpe[position]‖",
        |c| Ok(num(norm(c.tr().embed.row(c.sel.pos)) as f64)),
    ),
    ph(
        "emb.nearest",
        N,
        "the n tokens whose wte rows are most similar (cosine) to this token's",
        |c| {
            let id = c.tr().tokens[c.sel.pos];
            let row = c.env.gpt.weights.wte.view2();
            Ok(nearest_tokens(c.env.gpt, row.row(id as usize), c.n() + 1)
                .into_iter()
                .filter(|&(i, _)| i != id)
                .take(c.n())
                .map(|(i, s)| format!("{} ({})", c.tok(i), num(s as f64)))
                .collect::<Vec<_>>()
                .join(", "))
        },
    ),
];
