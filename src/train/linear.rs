//! Linear layers (GPT-2's Conv1D: weights stored `[in, out]`), forward and
//! backward. Every projection of the model goes through these: c_attn, W_O,
//! and the MLP's up and down projections.

use super::matmul::{Threads, mat_mul};
use ndarray::{ArrayView2, ArrayViewMut2};

/// out[N, OC] = inp[N, IC] · w[IC, OC] + bias.
pub fn linear_forward(out: &mut [f32], inp: &[f32], w: &[f32], bias: Option<&[f32]>, ic: usize) {
    let oc = w.len() / ic;
    let n = inp.len() / ic;
    let a = ArrayView2::from_shape((n, ic), inp).expect("linear input shape");
    let wv = ArrayView2::from_shape((ic, oc), w).expect("linear weight shape");
    let mut o = ArrayViewMut2::from_shape((n, oc), out).expect("linear output shape");
    let beta = match bias {
        Some(b) => {
            for row in o.rows_mut() {
                row.into_slice().expect("contiguous").copy_from_slice(b);
            }
            1.0
        }
        None => 0.0,
    };
    mat_mul(1.0, &a, &wv, beta, &mut o, Threads::All);
}

/// Backward of out = inp·w + b: dinp = dout·wᵀ (or += with `accumulate`),
/// dw += inpᵀ·dout, db += Σ rows of dout.
#[allow(clippy::too_many_arguments)]
pub fn linear_backward(
    dinp: &mut [f32],
    dw: &mut [f32],
    db: Option<&mut [f32]>,
    dout: &[f32],
    inp: &[f32],
    w: &[f32],
    ic: usize,
    accumulate: bool,
) {
    let oc = w.len() / ic;
    let n = inp.len() / ic;
    let d = ArrayView2::from_shape((n, oc), dout).expect("dout shape");
    let x = ArrayView2::from_shape((n, ic), inp).expect("inp shape");
    let wv = ArrayView2::from_shape((ic, oc), w).expect("w shape");
    let mut dx = ArrayViewMut2::from_shape((n, ic), dinp).expect("dinp shape");
    mat_mul(
        1.0,
        &d,
        &wv.t(),
        if accumulate { 1.0 } else { 0.0 },
        &mut dx,
        Threads::All,
    );
    let mut dwv = ArrayViewMut2::from_shape((ic, oc), dw).expect("dw shape");
    mat_mul(1.0, &x.t(), &d, 1.0, &mut dwv, Threads::All);
    if let Some(db) = db {
        for row in dout.chunks_exact(oc) {
            for (g, r) in db.iter_mut().zip(row) {
                *g += r;
            }
        }
    }
}
