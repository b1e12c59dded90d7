//! The embeddings, forward and backward: token row plus position row in, and
//! the tied unembedding out (logits = ln_f · wteᵀ, the same `wte`).

use super::matmul::{Threads, mat_mul};
use ndarray::{ArrayView2, ArrayViewMut2};

/// embed[b·T + t] = wte[token] + wpe[t]: [B·T, C].
pub fn embedding_forward(embed: &mut [f32], inputs: &[u32], wte: &[f32], wpe: &[f32], t: usize) {
    let c = embed.len() / inputs.len();
    for (i, (&tok, x)) in inputs.iter().zip(embed.chunks_mut(c)).enumerate() {
        let pos = i % t;
        let te = &wte[tok as usize * c..(tok as usize + 1) * c];
        let pe = &wpe[pos * c..(pos + 1) * c];
        for j in 0..c {
            x[j] = te[j] + pe[j];
        }
    }
}

/// Every position's gradient goes to its token row and its position row.
pub fn embedding_backward(
    dwte: &mut [f32],
    dwpe: &mut [f32],
    dembed: &[f32],
    inputs: &[u32],
    t: usize,
) {
    let c = dembed.len() / inputs.len();
    for (i, (&tok, d)) in inputs.iter().zip(dembed.chunks_exact(c)).enumerate() {
        let pos = i % t;
        let te = &mut dwte[tok as usize * c..(tok as usize + 1) * c];
        for (a, b) in te.iter_mut().zip(d) {
            *a += b;
        }
        let pe = &mut dwpe[pos * c..(pos + 1) * c];
        for (a, b) in pe.iter_mut().zip(d) {
            *a += b;
        }
    }
}

/// Tied unembedding: logits[N, V] = ln_f[N, C] · wte[V, C]ᵀ.
pub fn unembed_forward(logits: &mut [f32], ln_f: &[f32], wte: &[f32], c: usize) {
    let (n, v) = (ln_f.len() / c, wte.len() / c);
    let a = ArrayView2::from_shape((n, c), ln_f).expect("ln_f shape");
    let w = ArrayView2::from_shape((v, c), wte).expect("wte shape");
    let mut o = ArrayViewMut2::from_shape((n, v), logits).expect("logits shape");
    mat_mul(1.0, &a, &w.t(), 0.0, &mut o, Threads::All);
}

/// Its backward: dln_f = dlogits · wte, dwte += dlogitsᵀ · ln_f.
pub fn unembed_backward(
    dln_f: &mut [f32],
    dwte: &mut [f32],
    dlogits: &[f32],
    ln_f: &[f32],
    wte: &[f32],
    c: usize,
) {
    let (n, v) = (ln_f.len() / c, wte.len() / c);
    let dl = ArrayView2::from_shape((n, v), dlogits).expect("dlogits");
    let w = ArrayView2::from_shape((v, c), wte).expect("wte");
    let mut dx = ArrayViewMut2::from_shape((n, c), dln_f).expect("dln_f");
    mat_mul(1.0, &dl, &w, 0.0, &mut dx, Threads::All);
    let x = ArrayView2::from_shape((n, c), ln_f).expect("ln_f");
    let mut dw = ArrayViewMut2::from_shape((v, c), dwte).expect("dwte");
    mat_mul(1.0, &dl.t(), &x, 1.0, &mut dw, Threads::All);
}
