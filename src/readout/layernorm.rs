//! The three LayerNorm sites of the pass and what each computes at a position.

use ndarray::Array2;

use crate::model::{Gpt, LnTrace, Trace};
use crate::pass::Stage;

/// Which LayerNorm: before attention or before the MLP of a layer, or the final one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    Ln1(usize),
    Ln2(usize),
    Final,
}

impl Site {
    /// The LayerNorm a stage is about: LN2 for `ln2`, ln_f for `final-ln`,
    /// LN1 of the layer otherwise.
    pub fn of(stage: Stage, layer: usize) -> Site {
        match stage {
            Stage::Ln2 => Site::Ln2(layer),
            Stage::FinalLn => Site::Final,
            _ => Site::Ln1(layer),
        }
    }
}

/// A LayerNorm site's input, what the trace recorded, and its parameters.
pub struct At<'a> {
    pub site: Site,
    /// The residual stream it normalises, [T, C].
    pub input: &'a Array2<f32>,
    pub ln: &'a LnTrace,
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub eps: f32,
}

/// One component of the normalisation at one position, recomputed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Element {
    pub x: f32,
    pub mean: f32,
    pub var: f32,
    /// (x − μ)/√(σ² + ε).
    pub xhat: f32,
    /// x̂·γ + β.
    pub y: f32,
    /// What the engine recorded for x̂ and y.
    pub engine_xhat: f32,
    pub engine_y: f32,
}

pub fn at<'a>(gpt: &'a Gpt, tr: &'a Trace, site: Site) -> At<'a> {
    let w = &gpt.weights;
    let eps = gpt.config.layer_norm_epsilon as f32;
    let (input, ln, g, b) = match site {
        Site::Ln1(l) => (
            tr.resid_in(l),
            &tr.layers[l].ln_1,
            &w.layers[l].ln_1_g,
            &w.layers[l].ln_1_b,
        ),
        Site::Ln2(l) => (
            &tr.layers[l].resid_mid,
            &tr.layers[l].ln_2,
            &w.layers[l].ln_2_g,
            &w.layers[l].ln_2_b,
        ),
        Site::Final => (
            tr.resid_in(gpt.config.n_layer),
            &tr.ln_f,
            &w.ln_f_g,
            &w.ln_f_b,
        ),
    };
    At {
        site,
        input,
        ln,
        gamma: g.data(),
        beta: b.data(),
        eps,
    }
}

impl At<'_> {
    /// √(σ² + ε) at position `t`: what x − μ is divided by.
    pub fn std(&self, t: usize, eps: f64) -> f64 {
        (self.ln.var[t] as f64 + eps).sqrt()
    }

    /// Component `d` at position `t`, the formula filled in.
    pub fn element(&self, t: usize, d: usize) -> Element {
        let (mean, var) = (self.ln.mean[t], self.ln.var[t]);
        let x = self.input[[t, d]];
        let xhat = (x - mean) / (var + self.eps).sqrt();
        Element {
            x,
            mean,
            var,
            xhat,
            y: xhat * self.gamma[d] + self.beta[d],
            engine_xhat: self.ln.xhat[[t, d]],
            engine_y: self.ln.out[[t, d]],
        }
    }
}
