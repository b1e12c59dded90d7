//! The MLP at the selected layer and position.

use super::{N, NONE, Spec, ph, table};
use crate::fmt::{list, num};
use crate::readout::ranked;

pub(super) const SPECS: &[Spec] = &[
    ph(
        "mlp.pre",
        N,
        "first n hidden units before GELU (x·W_up + b)",
        |c| {
            Ok(list(
                c.layer().mlp_pre.row(c.sel.pos).iter().copied(),
                c.n(),
            ))
        },
    ),
    ph("mlp.act", N, "the same units after GELU", |c| {
        Ok(list(
            c.layer().mlp_act.row(c.sel.pos).iter().copied(),
            c.n(),
        ))
    }),
    ph(
        "mlp.out",
        N,
        "first n components of the MLP's output (after W_down)",
        |c| {
            Ok(list(
                c.layer().mlp_out.row(c.sel.pos).iter().copied(),
                c.n(),
            ))
        },
    ),
    ph(
        "mlp.top",
        N,
        "a table of the n most active hidden units: before and after GELU",
        |c| {
            let (lt, p) = (c.layer(), c.sel.pos);
            let act: Vec<f32> = lt.mlp_act.row(p).to_vec();
            Ok(table(
                &[
                    c.say("unit", "单元"),
                    c.say("before GELU", "GELU 之前"),
                    c.say("after GELU", "GELU 之后"),
                ],
                ranked(&act)
                    .into_iter()
                    .take(c.n())
                    .map(|i| {
                        vec![
                            i.to_string(),
                            num(lt.mlp_pre[[p, i]] as f64),
                            num(act[i] as f64),
                        ]
                    })
                    .collect(),
            ))
        },
    ),
    ph(
        "mlp.active",
        NONE,
        "share of hidden units with a positive input (GELU passes them)",
        |c| {
            let row = c.layer().mlp_pre.row(c.sel.pos);
            let on = row.iter().filter(|&&x| x > 0.0).count();
            Ok(format!(
                "{on} of {} ({:.1}%)",
                row.len(),
                100.0 * on as f64 / row.len() as f64
            ))
        },
    ),
];
