//! The one matrix product of training: C = β·C + α·A·B on strided views.
//!
//! Training spends most of its time here, so it goes through the `gemm`
//! crate, whose kernels are chosen at run time (AVX-512, AVX2+FMA, scalar)
//! and which packs small-k panels (GPT-2's 128-wide layers) well; on this
//! project's 2-core test machine it ran the shapes of a training step about
//! twice as fast as `ndarray`'s `general_mat_mul`. Every call site keeps
//! ndarray's argument order (α for the product, β for C), so the formula reads
//! the same as before.

use ndarray::{ArrayView2, ArrayViewMut2};

/// Who runs one product: all of rayon's threads, or only the caller (inside a
/// loop that is itself parallel, e.g. attention's per-sequence loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Threads {
    All,
    One,
}

/// C[m, n] = β·C + α·A[m, k]·B[k, n]. With β = 0, C is written without being
/// read (it may hold anything, NaN included).
pub fn mat_mul(
    alpha: f32,
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
    threads: Threads,
) {
    let (m, k) = a.dim();
    let (kb, n) = b.dim();
    assert_eq!(k, kb, "mat_mul: A is {m}×{k} but B is {kb}×{n}");
    assert_eq!(c.dim(), (m, n), "mat_mul: C has the wrong shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.mapv_inplace(|x| if beta == 0.0 { 0.0 } else { beta * x });
        return;
    }
    let parallelism = match threads {
        Threads::All if rayon::current_num_threads() > 1 => {
            gemm::Parallelism::Rayon(rayon::current_num_threads())
        }
        _ => gemm::Parallelism::None,
    };
    let (cs, ast, bst) = (c.strides().to_vec(), a.strides(), b.strides());
    // SAFETY: each pointer and its (row, column) strides come from an ndarray
    // view of exactly the shape passed, so every element gemm touches is in
    // bounds; C is borrowed mutably, so it aliases neither A nor B.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            cs[1],
            cs[0],
            beta != 0.0,
            a.as_ptr(),
            ast[1],
            ast[0],
            b.as_ptr(),
            bst[1],
            bst[0],
            beta,
            alpha,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn naive(
        alpha: f32,
        a: &ArrayView2<f32>,
        b: &ArrayView2<f32>,
        beta: f32,
        c: &Array2<f32>,
    ) -> Array2<f32> {
        let mut out = c.clone();
        for i in 0..a.nrows() {
            for j in 0..b.ncols() {
                let s: f64 = (0..a.ncols())
                    .map(|p| a[[i, p]] as f64 * b[[p, j]] as f64)
                    .sum();
                out[[i, j]] = beta * c[[i, j]] + alpha * s as f32;
            }
        }
        out
    }

    fn filled(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            (((i * 31 + j * 17 + seed) % 23) as f32 - 11.0) * 0.05
        })
    }

    #[test]
    fn products_match_the_definition_for_plain_transposed_and_strided_views() {
        for &(m, k, n) in &[(1, 1, 1), (7, 5, 3), (64, 128, 96), (130, 33, 257)] {
            for threads in [Threads::All, Threads::One] {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    let a_store = if ta { filled(k, m, 1) } else { filled(m, k, 1) };
                    let b_store = if tb { filled(n, k, 2) } else { filled(k, n, 2) };
                    let a = if ta { a_store.t() } else { a_store.view() };
                    let b = if tb { b_store.t() } else { b_store.view() };
                    let c0 = filled(m, n, 3);
                    for (alpha, beta) in [(1.0, 0.0), (0.5, 1.0), (-2.0, 0.25)] {
                        let want = naive(alpha, &a, &b, beta, &c0);
                        let mut got = c0.clone();
                        mat_mul(alpha, &a, &b, beta, &mut got.view_mut(), threads);
                        let err = (&got - &want).iter().fold(0f32, |e, x| e.max(x.abs()));
                        assert!(
                            err < 1e-4 * (k as f32).sqrt(),
                            "{m}x{k}x{n} ta={ta} tb={tb} {threads:?} α={alpha} β={beta}: max error {err}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn beta_zero_overwrites_whatever_c_held() {
        let a = filled(9, 4, 1);
        let b = filled(4, 6, 2);
        let mut c = Array2::from_elem((9, 6), f32::NAN);
        mat_mul(
            1.0,
            &a.view(),
            &b.view(),
            0.0,
            &mut c.view_mut(),
            Threads::All,
        );
        let want = naive(1.0, &a.view(), &b.view(), 0.0, &Array2::zeros((9, 6)));
        assert!(c.iter().zip(&want).all(|(x, y)| (x - y).abs() < 1e-5));
    }

    #[test]
    fn a_window_of_a_wider_buffer_leaves_the_rest_untouched() {
        // C is every other column block of a [4, 10] buffer: row stride 10.
        let a = filled(4, 3, 1);
        let b = filled(3, 5, 2);
        let mut buf = Array2::from_elem((4, 10), 7.0f32);
        {
            let mut win = buf.slice_mut(ndarray::s![.., 2..7]);
            mat_mul(1.0, &a.view(), &b.view(), 0.0, &mut win, Threads::One);
        }
        let want = naive(1.0, &a.view(), &b.view(), 0.0, &Array2::zeros((4, 5)));
        for i in 0..4 {
            for j in 0..10 {
                if (2..7).contains(&j) {
                    assert!((buf[[i, j]] - want[[i, j - 2]]).abs() < 1e-5);
                } else {
                    assert_eq!(buf[[i, j]], 7.0);
                }
            }
        }
    }

    #[test]
    fn an_empty_inner_dimension_scales_c() {
        let a = Array2::<f32>::zeros((3, 0));
        let b = Array2::<f32>::zeros((0, 2));
        let mut c = Array2::from_elem((3, 2), 2.0f32);
        mat_mul(
            1.0,
            &a.view(),
            &b.view(),
            0.5,
            &mut c.view_mut(),
            Threads::All,
        );
        assert!(c.iter().all(|&x| x == 1.0));
    }
}
