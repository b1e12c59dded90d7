//! The three LayerNorms, the same eight placeholders each: `ln_1` (before
//! attention), `ln_2` (before the MLP) of the selected layer, and `ln_f`.

use super::{Cx, N, NONE, Spec, ph};
use crate::fmt::{list, num};
use crate::readout::layernorm::{At, Site, at};

/// The LayerNorm a family reads, at the selection.
fn site<'c>(c: &'c Cx, which: fn(usize) -> Site) -> At<'c> {
    at(c.env.gpt, c.tr(), which(c.sel.layer))
}

fn ln1(layer: usize) -> Site {
    Site::Ln1(layer)
}

fn ln2(layer: usize) -> Site {
    Site::Ln2(layer)
}

fn lnf(_: usize) -> Site {
    Site::Final
}

macro_rules! ln_specs {
    ($p:literal, $what:literal, $site:expr) => {
        &[
            ph(
                concat!($p, ".mean"),
                NONE,
                concat!("μ, the mean of ", $what, " at the position"),
                |c| Ok(num(site(c, $site).ln.mean[c.sel.pos] as f64)),
            ),
            ph(
                concat!($p, ".var"),
                NONE,
                concat!("σ², the (biased) variance of ", $what, " at the position"),
                |c| Ok(num(site(c, $site).ln.var[c.sel.pos] as f64)),
            ),
            ph(
                concat!($p, ".std"),
                NONE,
                "√(σ² + ε), what x − μ is divided by",
                |c| {
                    let eps = c.cfg().layer_norm_epsilon;
                    Ok(num(site(c, $site).std(c.sel.pos, eps)))
                },
            ),
            ph(
                concat!($p, ".x"),
                N,
                concat!("the first n components of the input x (", $what, ")"),
                |c| {
                    let row = site(c, $site).input.row(c.sel.pos);
                    Ok(list(row.iter().copied(), c.n()))
                },
            ),
            ph(
                concat!($p, ".xhat"),
                N,
                "the first n components of x̂ = (x − μ)/√(σ² + ε)",
                |c| {
                    let row = site(c, $site).ln.xhat.row(c.sel.pos);
                    Ok(list(row.iter().copied(), c.n()))
                },
            ),
            ph(
                concat!($p, ".gamma"),
                N,
                "the first n components of the learned scale γ",
                |c| Ok(list(site(c, $site).gamma.iter().copied(), c.n())),
            ),
            ph(
                concat!($p, ".beta"),
                N,
                "the first n components of the learned shift β",
                |c| Ok(list(site(c, $site).beta.iter().copied(), c.n())),
            ),
            ph(
                concat!($p, ".out"),
                N,
                "the first n components of the output x̂·γ + β",
                |c| {
                    let row = site(c, $site).ln.out.row(c.sel.pos);
                    Ok(list(row.iter().copied(), c.n()))
                },
            ),
        ]
    };
}

pub(super) const LN1: &[Spec] = ln_specs!("ln_1", "the residual stream entering the layer", ln1);
pub(super) const LN2: &[Spec] = ln_specs!("ln_2", "the residual stream after attention", ln2);
pub(super) const LNF: &[Spec] = ln_specs!("ln_f", "the residual stream after the last layer", lnf);
