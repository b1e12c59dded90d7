use super::*;

/// Deterministic weights with a spread of magnitudes and a few outliers.
fn data(n: usize, seed: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            (i as f32 * 0.713 + seed).sin() * 1.3
                + ((i * 7 % 13) as f32 - 6.0) * 0.05
                + if i % 41 == 5 { 3.0 } else { 0.0 }
        })
        .collect()
}

/// x · dequantize(M)ᵀ in f64, and Σ|x·w| per output (the rounding scale).
fn reference(m: &QMatrix, x: &[f32], n: usize) -> (Vec<f64>, Vec<f64>) {
    let w = m.dequantize();
    let (rows, cols) = m.dim();
    let mut y = vec![0.0f64; n * rows];
    let mut mag = vec![0.0f64; n * rows];
    for i in 0..n {
        for o in 0..rows {
            for k in 0..cols {
                let p = x[i * cols + k] as f64 * w[o * cols + k] as f64;
                y[i * rows + o] += p;
                mag[i * rows + o] += p.abs();
            }
        }
    }
    (y, mag)
}

fn kernels() -> Vec<Kernel> {
    if !avx2_available() {
        eprintln!("this CPU has no AVX2+FMA+F16C: Avx2 runs the scalar loop here");
    }
    if !super::avx512_available() {
        eprintln!("this CPU has no AVX-512F: Avx512 runs the AVX2 (or scalar) loop here");
    }
    vec![Kernel::Scalar, Kernel::Avx2, Kernel::Avx512]
}

/// f32 rounding over a few hundred terms: 1e-6 of Σ|x·w| is ten times what
/// f32 loses; a wrong nibble, offset or scale is off by a whole term.
const REL: f64 = 1e-6;

#[test]
fn products_equal_dequantize_then_multiply() {
    // Shapes below and above the threshold where the rows go to the threads;
    // 200 columns is not a whole number of 16-wide F16 steps.
    for (rows, cols) in [(37, 96), (300, 160)] {
        let w = data(rows * cols, 0.3);
        for ty in MATRIX_TYPES {
            let m = QMatrix::quantize(ty, &w, rows, cols).unwrap();
            for n in [1, 2, 9] {
                let x = data(n * cols, 1.7 + n as f32);
                let xa = ArrayView2::from_shape((n, cols), &x).unwrap();
                let (want, mag) = reference(&m, &x, n);
                for kernel in kernels() {
                    let y = m.matmul_with(xa, kernel);
                    assert_eq!(y.dim(), (n, rows));
                    for (k, (a, b)) in y.iter().zip(&want).enumerate() {
                        let tol = REL * mag[k] + 1e-30;
                        assert!(
                            ((*a as f64) - b).abs() <= tol,
                            "{ty} {rows}x{cols} n={n} {kernel:?} [{k}]: {a} vs {b} (tol {tol:e})"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn f16_rows_of_any_length_multiply() {
    let (rows, cols) = (5, 203);
    let w = data(rows * cols, 0.1);
    let x = data(cols, 2.2);
    let m = QMatrix::quantize(GgmlType::F16, &w, rows, cols).unwrap();
    let (want, mag) = reference(&m, &x, 1);
    for kernel in kernels() {
        for (k, (a, b)) in m.matvec_with(&x, kernel).iter().zip(&want).enumerate() {
            assert!(((*a as f64) - b).abs() <= REL * mag[k], "{kernel:?} [{k}]");
        }
    }
}

#[test]
fn avx2_and_scalar_paths_agree() {
    let (rows, cols) = (64, 32 * 24);
    let w = data(rows * cols, 2.1);
    let x = data(cols, 0.9);
    for ty in MATRIX_TYPES {
        let m = QMatrix::quantize(ty, &w, rows, cols).unwrap();
        let a = m.matvec_with(&x, Kernel::Scalar);
        let (_, mag) = reference(&m, &x, 1);
        for k in [Kernel::Avx2, Kernel::Avx512] {
            let b = m.matvec_with(&x, k);
            for o in 0..rows {
                assert!(
                    ((a[o] - b[o]) as f64).abs() <= REL * mag[o],
                    "{ty} {k:?} row {o}: {} vs {}",
                    a[o],
                    b[o]
                );
            }
        }
    }
}

#[test]
fn matmul_rows_equal_matvecs() {
    // The prompt path (dequantized rows, f32 dots) against the decode path
    // (blocks dequantized inside the dot), row by row.
    let (rows, cols, n) = (40, 128, 5);
    let w = data(rows * cols, 0.7);
    let x = data(n * cols, 0.2);
    for ty in MATRIX_TYPES {
        let m = QMatrix::quantize(ty, &w, rows, cols).unwrap();
        let y = m.matmul(ArrayView2::from_shape((n, cols), &x).unwrap());
        let (_, mag) = reference(&m, &x, n);
        for i in 0..n {
            let v = m.matvec(&x[i * cols..(i + 1) * cols]);
            for o in 0..rows {
                let d = (y[[i, o]] - v[o]) as f64;
                assert!(d.abs() <= REL * mag[i * rows + o], "{ty} [{i}, {o}]");
            }
        }
    }
}

#[test]
fn rows_come_back_as_dequantized() {
    let (rows, cols) = (6, 64);
    let w = data(rows * cols, 1.1);
    for ty in MATRIX_TYPES {
        let m = QMatrix::quantize(ty, &w, rows, cols).unwrap();
        let all = m.dequantize();
        let mut row = vec![0.0; cols];
        m.dequantize_row(4, &mut row);
        assert_eq!(row, all[4 * cols..5 * cols], "{ty}");
        // Teeth: quantization changed the values (F16 a little, Q4 a lot).
        assert_ne!(row, w[4 * cols..5 * cols], "{ty}");
    }
}

#[test]
fn wrong_sizes_and_types_are_refused() {
    assert!(matches!(
        QMatrix::new(GgmlType::Q8_0, 2, 48, vec![0; 68]),
        Err(QuantError::PartialBlock { .. })
    ));
    assert!(matches!(
        QMatrix::new(GgmlType::Q8_0, 2, 32, vec![0; 67]),
        Err(QuantError::ByteCount { .. })
    ));
    assert!(matches!(
        QMatrix::new(GgmlType::Q4K, 1, 256, vec![0; 144]),
        Err(QuantError::Unsupported { .. })
    ));
    assert!(matches!(
        QMatrix::new(GgmlType::F32, 2, 32, vec![0; 256]),
        Err(QuantError::Unsupported { .. })
    ));
    // rows × row bytes overflowing is a refusal, not a wrap-around.
    assert!(QMatrix::new(GgmlType::Q8_0, usize::MAX / 2, 32, vec![0; 34]).is_err());
    assert!(QMatrix::new(GgmlType::Q4_1, 2, 32, vec![0; 40]).is_ok());
    assert!(QMatrix::new(GgmlType::F16, 3, 5, vec![0; 30]).is_ok());
}

#[test]
fn non_finite_scales_are_found() {
    let w = data(2 * 64, 0.5);
    for ty in MATRIX_TYPES {
        let m = QMatrix::quantize(ty, &w, 2, 64).unwrap();
        assert!(!m.has_non_finite(), "{ty}");
        let mut raw = m.raw().to_vec();
        // The second block's scale (or the 40th F16 value) := +inf.
        let at = if ty == GgmlType::F16 {
            80
        } else {
            ty.block_bytes()
        };
        raw[at..at + 2].copy_from_slice(&half::f16::INFINITY.to_le_bytes());
        let bad = QMatrix::new(ty, 2, 64, raw).unwrap();
        assert!(bad.has_non_finite(), "{ty}");
    }
}
