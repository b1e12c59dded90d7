//! One flat f32 buffer for all parameters, laid out in [`expected_tensors`]
//! order, so that gradients and the AdamW moments share the same offsets and the
//! optimizer is one loop over one slice.

use std::collections::BTreeMap;

use crate::model::{Config, Gpt, Tensor, Weights, expected_tensors};

/// Name, shape and offset of every tensor in the flat buffer.
#[derive(Clone, Debug)]
pub struct Layout {
    pub names: Vec<String>,
    pub shapes: Vec<Vec<usize>>,
    pub offsets: Vec<usize>,
    pub total: usize,
}

impl Layout {
    pub fn new(cfg: &Config) -> Self {
        let mut names = Vec::new();
        let mut shapes = Vec::new();
        let mut offsets = Vec::new();
        let mut total = 0;
        for (name, shape) in expected_tensors(cfg) {
            offsets.push(total);
            total += shape.iter().product::<usize>();
            names.push(name);
            shapes.push(shape);
        }
        Layout {
            names,
            shapes,
            offsets,
            total,
        }
    }

    /// The range of tensor `i` in the flat buffer.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        let n: usize = self.shapes[i].iter().product();
        self.offsets[i]..self.offsets[i] + n
    }

    /// Index of a tensor by its GPT-2 name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// The tensors of one block, as slices of a flat buffer (named as the engine's
/// `LayerWeights`).
pub struct LayerP<S> {
    pub ln_1_g: S,
    pub ln_1_b: S,
    /// c_attn: x → q|k|v, [C, 3C].
    pub attn_w: S,
    pub attn_b: S,
    /// W_O, [C, C].
    pub attn_proj_w: S,
    pub attn_proj_b: S,
    pub ln_2_g: S,
    pub ln_2_b: S,
    /// MLP up, [C, M].
    pub fc_w: S,
    pub fc_b: S,
    /// MLP down, [M, C].
    pub mlp_proj_w: S,
    pub mlp_proj_b: S,
}

/// Every tensor of the model, as slices of a flat buffer.
pub struct ParamsP<S> {
    pub wte: S,
    pub wpe: S,
    pub layers: Vec<LayerP<S>>,
    pub ln_f_g: S,
    pub ln_f_b: S,
}

fn assemble<S>(parts: Vec<S>, n_layer: usize) -> ParamsP<S> {
    let mut it = parts.into_iter();
    let mut next = || it.next().expect("layout has every tensor");
    let wte = next();
    let wpe = next();
    let layers = (0..n_layer)
        .map(|_| LayerP {
            ln_1_g: next(),
            ln_1_b: next(),
            attn_w: next(),
            attn_b: next(),
            attn_proj_w: next(),
            attn_proj_b: next(),
            ln_2_g: next(),
            ln_2_b: next(),
            fc_w: next(),
            fc_b: next(),
            mlp_proj_w: next(),
            mlp_proj_b: next(),
        })
        .collect();
    let ln_f_g = next();
    let ln_f_b = next();
    ParamsP {
        wte,
        wpe,
        layers,
        ln_f_g,
        ln_f_b,
    }
}

/// Splits a flat buffer into named read-only views.
pub fn views<'a>(buf: &'a [f32], layout: &Layout) -> ParamsP<&'a [f32]> {
    let parts = (0..layout.names.len())
        .map(|i| &buf[layout.range(i)])
        .collect();
    assemble(parts, (layout.names.len() - 4) / 12)
}

/// Splits a flat buffer into named mutable views.
pub fn views_mut<'a>(buf: &'a mut [f32], layout: &Layout) -> ParamsP<&'a mut [f32]> {
    let mut parts = Vec::with_capacity(layout.names.len());
    let mut rest = buf;
    for i in 0..layout.names.len() {
        let n = layout.range(i).len();
        let (head, tail) = rest.split_at_mut(n);
        parts.push(head);
        rest = tail;
    }
    assemble(parts, (layout.names.len() - 4) / 12)
}

/// Copies a model's weights into a flat buffer.
pub fn flatten(gpt: &Gpt, layout: &Layout) -> Vec<f32> {
    let mut buf = vec![0.0; layout.total];
    for (i, (name, t)) in gpt.weights.named().into_iter().enumerate() {
        debug_assert_eq!(name, layout.names[i]);
        buf[layout.range(i)].copy_from_slice(t.data());
    }
    buf
}

/// Builds a model (owned tensors) from a flat buffer.
pub fn unflatten(cfg: &Config, buf: &[f32], layout: &Layout) -> Gpt {
    let named: BTreeMap<String, Tensor> = (0..layout.names.len())
        .map(|i| {
            (
                layout.names[i].clone(),
                Tensor::from_vec(layout.shapes[i].clone(), buf[layout.range(i)].to_vec()),
            )
        })
        .collect();
    let weights = Weights::from_named(cfg, named, "training buffer").expect("layout matches");
    Gpt {
        config: cfg.clone(),
        weights,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::random_model;

    #[test]
    fn flatten_and_unflatten_round_trip_and_views_follow_the_layout() {
        let cfg = Config::new(2, 2, 6, 11, 5);
        let gpt = random_model(&cfg, 3, true);
        let layout = Layout::new(&cfg);
        assert_eq!(layout.total, cfg.n_params());
        let buf = flatten(&gpt, &layout);
        let back = unflatten(&cfg, &buf, &layout);
        for ((_, a), (_, b)) in gpt.weights.named().iter().zip(back.weights.named()) {
            assert_eq!(a.data(), b.data());
        }
        let v = views(&buf, &layout);
        assert_eq!(v.layers[1].fc_w, gpt.weights.layers[1].fc_w.data());
        assert_eq!(v.ln_f_b, gpt.weights.ln_f_b.data());
        assert_eq!(v.wpe, gpt.weights.wpe.data());
    }
}
