//! One MLP neuron at one position, read off the trace: GPT-2's h → GELU(h),
//! or Llama's SwiGLU gate, SiLU(gate), up and their product.

use crate::model::{Activation, Mlp, Trace, gelu_erf, gelu_new, silu};

/// A neuron's numbers, the nonlinearity recomputed beside what the engine recorded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neuron {
    pub index: usize,
    /// What goes into the nonlinearity: h (GPT-2) or the gate x·W_gateᵀ (Llama).
    pub pre: f32,
    /// GELU(h) or SiLU(gate), recomputed from `pre`.
    pub act: f32,
    /// Llama: the up projection x·W_upᵀ (None for GPT-2).
    pub up: Option<f32>,
    /// What the down projection reads: GELU(h), or SiLU(gate)·up, recomputed.
    pub out: f32,
    /// The engine's SiLU(gate) (Llama) or GELU(h), and its value of `out`.
    pub engine_act: f32,
    pub engine_out: f32,
}

/// Neuron `i` of `layer`'s MLP at position `pos`.
pub fn neuron(tr: &Trace, layer: usize, pos: usize, i: usize) -> Neuron {
    let l = &tr.layers[layer];
    let pre = l.mlp_pre[[pos, i]];
    let engine_out = l.mlp_act[[pos, i]];
    match tr.arch.mlp {
        Mlp::SwiGlu => {
            let act = silu(pre);
            let up = l.mlp_up[[pos, i]];
            Neuron {
                index: i,
                pre,
                act,
                up: Some(up),
                out: act * up,
                engine_act: l.mlp_silu[[pos, i]],
                engine_out,
            }
        }
        Mlp::Plain(f) => {
            let act = match f {
                Activation::GeluTanh => gelu_new(pre),
                Activation::GeluErf => gelu_erf(pre),
            };
            Neuron {
                index: i,
                pre,
                act,
                up: None,
                out: act,
                engine_act: engine_out,
                engine_out,
            }
        }
    }
}

/// The neurons of `layer` at `pos` ordered by what the down projection reads,
/// largest first.
pub fn most_active(tr: &Trace, layer: usize, pos: usize) -> Vec<usize> {
    super::ranked(&tr.layers[layer].mlp_act.row(pos).to_vec())
}
