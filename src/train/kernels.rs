//! Element-wise kernels written so the compiler vectorizes them (fixed lanes,
//! no bounds checks in the inner loops, an `exp` without a libm call), plus a
//! dispatcher that runs them compiled for AVX2+FMA when the CPU has both: the
//! default x86-64 target only assumes SSE2.

/// Calls `f` inside a function compiled for AVX2 and FMA when the CPU has them,
/// so that the `#[inline(always)]` kernels it calls get 8-wide vectors.
#[inline]
pub fn with_simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn run512<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the CPU supports AVX-512F, AVX2 and FMA, checked just above.
            return unsafe { run512(f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            #[target_feature(enable = "avx2,fma")]
            unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { run(f) };
        }
    }
    f()
}

/// e^x for f32 without a libm call: x = n·ln2 + r, e^r by a degree-6
/// polynomial on |r| ≤ ln2/2, 2ⁿ by building the exponent bits. Relative error
/// below 2e-7 on [-87, 88]; smaller inputs give 0, larger are clamped.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by the 1.5·2²³ trick (no libm call; |x·log2 e| < 2²²).
    const MAGIC: f32 = 12_582_912.0;
    let n = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.666_666_7e-1
                    + r * (4.166_666_7e-2 + r * (8.333_334e-3 + r * 1.388_889e-3)))));
    let bits = ((n as i32 + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// tanh through [`exp`]: 1 − 2/(e^{2u} + 1). Absolute error ~1e-7.
#[inline(always)]
pub fn tanh(u: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * u) + 1.0)
}

/// Dot product with eight partial sums (one SIMD register).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    let mut s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// y += a·x.
#[inline(always)]
pub fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// Softmax of a row in place; returns the log of the normaliser (max + ln Σ).
#[inline(always)]
pub fn softmax(row: &mut [f32]) -> f32 {
    // The maximum in eight lanes (a compare-and-select the compiler vectorizes;
    // f32::max's NaN rule keeps it scalar).
    let mut lanes = [f32::NEG_INFINITY; 8];
    let mut it = row.chunks_exact(8);
    for c in &mut it {
        for j in 0..8 {
            lanes[j] = if c[j] > lanes[j] { c[j] } else { lanes[j] };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &x in lanes.iter().chain(it.remainder()) {
        max = if x > max { x } else { max };
    }
    let mut acc = [0.0f32; 8];
    let mut chunks = row.chunks_exact_mut(8);
    for c in &mut chunks {
        for j in 0..8 {
            c[j] = exp(c[j] - max);
            acc[j] += c[j];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for x in chunks.into_remainder() {
        *x = exp(*x - max);
        sum += *x;
    }
    let inv = 1.0 / sum;
    for x in row.iter_mut() {
        *x *= inv;
    }
    max + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_and_tanh_match_the_standard_library() {
        let mut x = -87.0f32;
        while x < 88.0 {
            let (a, b) = (exp(x), x.exp());
            assert!(((a - b) / b).abs() < 5e-7, "exp({x}) = {a} vs {b}");
            x += 0.173;
        }
        assert_eq!(exp(-200.0), exp(-87.0));
        for i in -400..400 {
            let u = i as f32 * 0.025;
            assert!((tanh(u) - u.tanh()).abs() < 3e-7, "tanh({u})");
        }
    }

    #[test]
    fn simd_dispatch_gives_the_same_dot_and_softmax() {
        let a: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..37).map(|i| (i as f32 * 0.11).cos()).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((with_simd(|| dot(&a, &b)) - naive).abs() < 1e-5);
        let mut row = a.clone();
        let lse = with_simd(|| softmax(&mut row));
        let max = a.iter().copied().fold(f32::MIN, f32::max);
        let want = max + a.iter().map(|x| (x - max).exp()).sum::<f32>().ln();
        assert!((lse - want).abs() < 1e-5);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}
