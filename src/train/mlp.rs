//! The MLP, forward and backward: up-projection to M, GPT-2's tanh GELU, down
//! to C. The GELU constants are the engine's (`model::gelu_new`).

use rayon::prelude::*;

use super::kernels::{tanh, with_simd};
use super::linear::{linear_backward, linear_forward};
use super::params::LayerP;
use crate::model::{GELU_CUBIC, GELU_SQRT_2_OVER_PI};

/// out = mlp_proj(gelu(fc(inp))), keeping `mlp_pre` (before GELU) and
/// `mlp_act` (after), both [B·T, M]. `inp` is ln_2's output [B·T, C].
pub fn mlp_forward(
    out: &mut [f32],
    mlp_pre: &mut [f32],
    mlp_act: &mut [f32],
    inp: &[f32],
    w: &LayerP<&[f32]>,
) {
    let c = w.ln_2_g.len();
    let m = w.fc_b.len();
    linear_forward(mlp_pre, inp, w.fc_w, Some(w.fc_b), c);
    gelu_forward(mlp_act, mlp_pre);
    linear_forward(out, mlp_act, w.mlp_proj_w, Some(w.mlp_proj_b), m);
}

/// Its backward: from d out to d inp (written, not added), accumulating the
/// gradients of both projections; `dmlp` [B·T, M] is scratch.
#[allow(clippy::too_many_arguments)]
pub fn mlp_backward(
    dinp: &mut [f32],
    dmlp: &mut [f32],
    g: &mut LayerP<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    mlp_pre: &[f32],
    mlp_act: &[f32],
    w: &LayerP<&[f32]>,
) {
    let c = w.ln_2_g.len();
    let m = w.fc_b.len();
    linear_backward(
        dmlp,
        g.mlp_proj_w,
        Some(g.mlp_proj_b),
        dout,
        mlp_act,
        w.mlp_proj_w,
        m,
        false,
    );
    gelu_backward(dmlp, mlp_pre);
    linear_backward(dinp, g.fc_w, Some(g.fc_b), dmlp, inp, w.fc_w, c, false);
}

/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), element-wise.
pub fn gelu_forward(out: &mut [f32], inp: &[f32]) {
    out.par_chunks_mut(4096)
        .zip(inp.par_chunks(4096))
        .for_each(|(o, x)| {
            with_simd(|| {
                for (o, &x) in o.iter_mut().zip(x) {
                    *o = 0.5 * x * (1.0 + tanh(GELU_SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
                }
            })
        });
}

/// GELU (tanh form) backward, in place: dx = dy · gelu'(x).
pub fn gelu_backward(d: &mut [f32], inp: &[f32]) {
    d.par_chunks_mut(4096)
        .zip(inp.par_chunks(4096))
        .for_each(|(d, x)| {
            with_simd(|| {
                for (d, &x) in d.iter_mut().zip(x) {
                    let u = GELU_SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x);
                    let th = tanh(u);
                    let du = GELU_SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * x * x);
                    *d *= 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * du;
                }
            })
        });
}
