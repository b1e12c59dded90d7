//! A weight matrix kept in its GGUF blocks and multiplied without expanding
//! it: each row's blocks are turned back into numbers inside the product.
//!
//! The matrix M is `[rows, cols]` = `[out, in]`, llama.cpp's layout (a row
//! is one output's weights; its blocks of 32 run along the input), and the
//! product is y = x·Mᵀ. For GPT-2's Conv1D weights W `[in, out]` that is
//! M = Wᵀ (the GGUF stores them so); for the tied unembedding M = wte `[V, C]`.
//!
//! Decoding one token (a matvec) reads every block once and dequantizes it in
//! registers while multiplying: AVX2 + FMA + F16C when the CPU has them (chosen
//! at run time), a scalar loop otherwise; the rows are split over the cores
//! with rayon. The activations stay f32: the result is the f32 product with the
//! dequantized weights, up to rounding (the scale is applied once per block:
//! d·Σ qᵢxᵢ rather than Σ (d·qᵢ)·xᵢ). A prompt of T tokens (a matmul)
//! dequantizes a few rows at a time into a scratch buffer and takes f32 dot
//! products with all T rows, so the conversion is paid once per weight, not T
//! times.

use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use std::sync::OnceLock;

use super::{GgmlType, QK, QuantError, f16_at};

/// A `[rows, cols]` matrix of Q8_0, Q4_0, Q4_1 or F16 values, row-major, in
/// the bytes a GGUF file holds.
#[derive(Clone)]
pub struct QMatrix {
    ty: GgmlType,
    rows: usize,
    cols: usize,
    row_bytes: usize,
    data: Vec<u8>,
}

impl std::fmt::Debug for QMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "QMatrix({} [{}, {}])", self.ty, self.rows, self.cols)
    }
}

/// Which inner loop multiplies: passed explicitly so tests can run both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// Plain Rust, any CPU.
    Scalar,
    /// x86-64 AVX2 + FMA + F16C intrinsics.
    Avx2,
    /// AVX-512F for the Q8_0, Q4_0 and Q4_1 decode loops (16 lanes: a block
    /// is two registers); the rest as Avx2.
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs, found once. `GPTLENS_KERNEL=scalar`
    /// (or `avx2`) forces that loop (to measure what the wider path buys).
    pub fn best() -> Kernel {
        static BEST: OnceLock<Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            let want = match std::env::var("GPTLENS_KERNEL").as_deref() {
                Ok("scalar") => Kernel::Scalar,
                Ok("avx2") => Kernel::Avx2,
                _ => Kernel::Avx512,
            };
            want.usable()
        })
    }

    /// `self`, or the best narrower kernel where the CPU lacks what `self` needs.
    fn usable(self) -> Kernel {
        match self {
            Kernel::Avx512 if avx512_available() => Kernel::Avx512,
            Kernel::Avx512 | Kernel::Avx2 if avx2_available() => Kernel::Avx2,
            _ => Kernel::Scalar,
        }
    }
}

/// Whether this CPU runs the AVX-512 kernels (AVX-512F, and what the AVX2
/// ones need, for the scales and the other types).
pub fn avx512_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx2_available() && std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU runs the AVX2 kernels (AVX2, FMA and F16C for the scales).
pub fn avx2_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("fma")
            && std::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The types a [`QMatrix`] holds.
pub const MATRIX_TYPES: [GgmlType; 4] = [
    GgmlType::Q8_0,
    GgmlType::Q4_1,
    GgmlType::Q4_0,
    GgmlType::F16,
];

/// Below this many weights a product runs on one thread (splitting costs
/// more than it saves).
const PARALLEL_MIN: usize = 1 << 15;

/// Rows dequantized together in a matmul: 8 rows of 3072 f32 are 96 KiB,
/// which stays in L2 while all T activation rows pass over them.
const MATMUL_ROWS: usize = 8;

impl QMatrix {
    /// `rows` × `cols` values of type `ty`, as the GGUF bytes `data`.
    pub fn new(ty: GgmlType, rows: usize, cols: usize, data: Vec<u8>) -> Result<Self, QuantError> {
        if !MATRIX_TYPES.contains(&ty) {
            return Err(QuantError::Unsupported { ty });
        }
        let block = ty.block_len();
        if !cols.is_multiple_of(block) {
            return Err(QuantError::PartialBlock { ty, n: cols, block });
        }
        let row_bytes = cols / block * ty.block_bytes();
        let expected = rows.checked_mul(row_bytes);
        if expected != Some(data.len()) {
            return Err(QuantError::ByteCount {
                ty,
                n: rows.saturating_mul(cols),
                bytes: data.len(),
                expected: expected.unwrap_or(usize::MAX),
            });
        }
        Ok(QMatrix {
            ty,
            rows,
            cols,
            row_bytes,
            data,
        })
    }

    /// Quantizes `m` (`[rows, cols]` row-major f32) to `ty`.
    pub fn quantize(ty: GgmlType, m: &[f32], rows: usize, cols: usize) -> Result<Self, QuantError> {
        if m.len() != rows.saturating_mul(cols) {
            return Err(QuantError::ByteCount {
                ty: GgmlType::F32,
                n: rows.saturating_mul(cols),
                bytes: m.len() * 4,
                expected: rows.saturating_mul(cols).saturating_mul(4),
            });
        }
        if !MATRIX_TYPES.contains(&ty) {
            return Err(QuantError::Unsupported { ty });
        }
        Self::new(ty, rows, cols, super::quantize(ty, m)?)
    }

    pub fn ty(&self) -> GgmlType {
        self.ty
    }

    /// (rows, cols) = (out, in).
    pub fn dim(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Bytes of blocks: what one product reads, and what the matrix holds.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// The raw bytes (the GGUF tensor data).
    pub fn raw(&self) -> &[u8] {
        &self.data
    }

    fn row_blocks(&self, r: usize) -> &[u8] {
        &self.data[r * self.row_bytes..(r + 1) * self.row_bytes]
    }

    /// Row `r` as f32 (a gathered embedding row).
    pub fn dequantize_row(&self, r: usize, out: &mut [f32]) {
        assert_eq!(out.len(), self.cols, "row length");
        super::dequantize_into(self.ty, self.row_blocks(r), out).expect("sizes checked in new");
    }

    /// Every value as f32, `[rows, cols]` row-major (for views that want the
    /// whole matrix; the products never need it).
    pub fn dequantize(&self) -> Vec<f32> {
        super::dequantize(self.ty, &self.data, self.rows * self.cols).expect("sizes checked in new")
    }

    /// Whether any scale (or minimum, or F16 value) is NaN or infinite; with
    /// finite scales every dequantized value is finite.
    pub fn has_non_finite(&self) -> bool {
        let bad = |b: &[u8], at: usize| !f16_at(b, at).is_finite();
        let bb = self.ty.block_bytes();
        self.data.chunks_exact(bb).any(|blk| match self.ty {
            GgmlType::Q4_1 => bad(blk, 0) || bad(blk, 2),
            _ => bad(blk, 0),
        })
    }

    /// y = x·Mᵀ: x `[n, cols]`, y `[n, rows]`, with the best kernel.
    pub fn matmul(&self, x: ArrayView2<f32>) -> Array2<f32> {
        self.matmul_with(x, Kernel::best())
    }

    /// [`QMatrix::matmul`] with a chosen kernel (Avx2 falls back to Scalar
    /// on a CPU without it).
    pub fn matmul_with(&self, x: ArrayView2<f32>, kernel: Kernel) -> Array2<f32> {
        assert_eq!(
            x.ncols(),
            self.cols,
            "x has {} columns, the matrix {}",
            x.ncols(),
            self.cols
        );
        let n = x.nrows();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        if n == 1 {
            let y = self.matvec_with(xs, kernel);
            return Array2::from_shape_vec((1, self.rows), y).expect("shape");
        }
        let kernel = kernel.usable();
        let (rows, cols) = (self.rows, self.cols);
        // yt[o][i] = row o · x row i, MATMUL_ROWS rows of M per task.
        let mut yt = vec![0.0f32; rows * n];
        let task = |scratch: &mut Vec<f32>, (c, chunk): (usize, &mut [f32])| {
            let r0 = c * MATMUL_ROWS;
            let nr = chunk.len() / n;
            scratch.resize(MATMUL_ROWS * cols, 0.0);
            for k in 0..nr {
                self.dequantize_row(r0 + k, &mut scratch[k * cols..(k + 1) * cols]);
            }
            for (k, out) in chunk.chunks_mut(n).enumerate() {
                let w = &scratch[k * cols..(k + 1) * cols];
                for (i, y) in out.iter_mut().enumerate() {
                    *y = dot_f32(kernel, w, &xs[i * cols..(i + 1) * cols]);
                }
            }
        };
        if rows * cols * n < PARALLEL_MIN {
            let mut scratch = vec![];
            yt.chunks_mut(MATMUL_ROWS * n)
                .enumerate()
                .for_each(|c| task(&mut scratch, c));
        } else {
            yt.par_chunks_mut(MATMUL_ROWS * n)
                .enumerate()
                .for_each_init(Vec::new, task);
        }
        let mut y = Array2::zeros((n, rows));
        for (o, col) in yt.chunks(n).enumerate() {
            for (i, v) in col.iter().enumerate() {
                y[[i, o]] = *v;
            }
        }
        y
    }

    /// y = M·x for one input row x `[cols]`: y `[rows]`, best kernel.
    pub fn matvec(&self, x: &[f32]) -> Vec<f32> {
        self.matvec_with(x, Kernel::best())
    }

    /// [`QMatrix::matvec`] with a chosen kernel. The rows are split among
    /// the threads in contiguous runs, so each core streams its own blocks.
    pub fn matvec_with(&self, x: &[f32], kernel: Kernel) -> Vec<f32> {
        assert_eq!(
            x.len(),
            self.cols,
            "x has {} values, the matrix {} columns",
            x.len(),
            self.cols
        );
        let kernel = kernel.usable();
        // Q4_1's minimum multiplies Σ x over the block: once per product.
        let xsum: Vec<f32> = if self.ty == GgmlType::Q4_1 {
            x.chunks_exact(QK).map(|b| b.iter().sum()).collect()
        } else {
            vec![]
        };
        let mut y = vec![0.0f32; self.rows];
        let fill = |r0: usize, ys: &mut [f32]| {
            for (k, v) in ys.iter_mut().enumerate() {
                *v = dot_row(kernel, self.ty, self.row_blocks(r0 + k), x, &xsum);
            }
        };
        if self.rows * self.cols < PARALLEL_MIN {
            fill(0, &mut y);
            return y;
        }
        // A few runs per thread: balanced when another process takes a core.
        let chunk = self
            .rows
            .div_ceil(4 * rayon::current_num_threads().max(1))
            .max(16);
        y.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(c, ys)| fill(c * chunk, ys));
        y
    }
}

/// One row's blocks · x. `xsum` holds Σ x per block (Q4_1 only).
fn dot_row(kernel: Kernel, ty: GgmlType, blocks: &[u8], x: &[f32], xsum: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Avx512 && ty != GgmlType::F16 {
        // SAFETY: Kernel::usable returned Avx512 only after avx512_available();
        // `blocks` holds x.len() / 32 blocks of `ty` (QMatrix::new).
        return unsafe {
            match ty {
                GgmlType::Q8_0 => avx512::q8_0(blocks, x),
                GgmlType::Q4_0 => avx512::q4_0(blocks, x),
                _ => avx512::q4_1(blocks, x, xsum),
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if matches!(kernel, Kernel::Avx2 | Kernel::Avx512) {
        // SAFETY: Kernel::usable returned Avx2 only after avx2_available();
        // `blocks` holds x.len() / block_len blocks of `ty` (QMatrix::new).
        return unsafe {
            match ty {
                GgmlType::Q8_0 => avx2::q8_0(blocks, x),
                GgmlType::Q4_0 => avx2::q4_0(blocks, x),
                GgmlType::Q4_1 => avx2::q4_1(blocks, x, xsum),
                _ => avx2::f16(blocks, x),
            }
        };
    }
    let _ = (kernel, xsum);
    scalar_dot(ty, blocks, x)
}

/// The reference loop: each block's integers times x, then the scale.
fn scalar_dot(ty: GgmlType, blocks: &[u8], x: &[f32]) -> f32 {
    if ty == GgmlType::F16 {
        return blocks
            .chunks_exact(2)
            .zip(x)
            .map(|(h, &v)| f16_at(h, 0) * v)
            .sum();
    }
    let bb = ty.block_bytes();
    let mut sum = 0.0f32;
    for (blk, xb) in blocks.chunks_exact(bb).zip(x.chunks_exact(QK)) {
        let d = f16_at(blk, 0);
        sum += match ty {
            GgmlType::Q8_0 => {
                let s: f32 = blk[2..]
                    .iter()
                    .zip(xb)
                    .map(|(&q, &v)| (q as i8) as f32 * v)
                    .sum();
                d * s
            }
            GgmlType::Q4_0 => {
                let mut s = 0.0f32;
                for (j, &q) in blk[2..].iter().enumerate() {
                    s += ((q & 0x0f) as i32 - 8) as f32 * xb[j];
                    s += ((q >> 4) as i32 - 8) as f32 * xb[j + QK / 2];
                }
                d * s
            }
            GgmlType::Q4_1 => {
                let m = f16_at(blk, 2);
                let (mut s, mut sx) = (0.0f32, 0.0f32);
                for (j, &q) in blk[4..].iter().enumerate() {
                    s += (q & 0x0f) as f32 * xb[j] + (q >> 4) as f32 * xb[j + QK / 2];
                    sx += xb[j] + xb[j + QK / 2];
                }
                d * s + m * sx
            }
            _ => unreachable!("QMatrix::new admits MATRIX_TYPES only"),
        };
    }
    sum
}

/// f32 a·b (the matmul's inner product over dequantized rows).
fn dot_f32(kernel: Kernel, a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if matches!(kernel, Kernel::Avx2 | Kernel::Avx512) {
        // SAFETY: Avx2 only after avx2_available(); a and b have one length.
        return unsafe { avx2::dot_f32(a, b) };
    }
    let _ = kernel;
    crate::train::kernels::dot(a, b)
}

/// The AVX-512 decode loops: a block of 32 weights is two 16-lane
/// registers. Per block, as compiled (`objdump -d` of the release build),
/// Q8_0 is 13 instructions for 34 bytes (AVX2: 19): two sign-extending
/// loads of 16 int8 → 16 int32, two int→float conversions, a multiply and a
/// multiply-add reading x from memory, the scale (a 16-bit broadcast and a
/// half→float conversion), its multiply-add into the accumulator, and 4 of
/// loop counting. Q4_0 is 16 for 18 bytes (AVX2: 27): one zero-extending
/// load of the 16 bytes → 16 int32, a shift and an AND for the two nibbles,
/// two subtracts of 8, then as Q8_0. Q4_1 (19) drops the subtracts, loads
/// d and m as one pair of halves and adds m times Σx of the block. The
/// lanes are summed once per row.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::QK;
    use std::arch::x86_64::*;

    /// The f16 at p as f32 in all 16 lanes.
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    unsafe fn scale(p: *const u8) -> __m512 {
        let bits = unsafe { (p as *const u16).read_unaligned() };
        _mm512_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32)))
    }

    /// Σ w·x over a block whose weights are two 16-lane registers.
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    unsafe fn block_sum(w0: __m512, w1: __m512, xp: *const f32) -> __m512 {
        unsafe {
            let a = _mm512_mul_ps(w0, _mm512_loadu_ps(xp));
            _mm512_fmadd_ps(w1, _mm512_loadu_ps(xp.add(16)), a)
        }
    }

    /// # Safety
    /// AVX-512F, AVX2, FMA and F16C; `blocks` holds x.len()/32 Q8_0 blocks.
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    pub unsafe fn q8_0(blocks: &[u8], x: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 34);
        let mut acc = _mm512_setzero_ps();
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 34);
                let q = p.add(2) as *const __m128i;
                let w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q)));
                let w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(q.add(1))));
                let s = block_sum(w0, w1, x.as_ptr().add(b * QK));
                acc = _mm512_fmadd_ps(scale(p), s, acc);
            }
        }
        _mm512_reduce_add_ps(acc)
    }

    /// The 32 values of a Q4 block's 16 bytes at p, in value order, as two
    /// registers of 16 int32: low nibbles (values 0..16), high (16..32).
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    unsafe fn nibbles(p: *const u8) -> (__m512i, __m512i) {
        let v = _mm512_cvtepu8_epi32(unsafe { _mm_loadu_si128(p as *const __m128i) });
        (
            _mm512_and_epi32(v, _mm512_set1_epi32(0x0f)),
            _mm512_srli_epi32::<4>(v),
        )
    }

    /// # Safety
    /// AVX-512F, AVX2, FMA and F16C; `blocks` holds x.len()/32 Q4_0 blocks.
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    pub unsafe fn q4_0(blocks: &[u8], x: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 18);
        let eight = _mm512_set1_epi32(8);
        let mut acc = _mm512_setzero_ps();
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 18);
                let (lo, hi) = nibbles(p.add(2));
                let w0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(lo, eight));
                let w1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(hi, eight));
                let s = block_sum(w0, w1, x.as_ptr().add(b * QK));
                acc = _mm512_fmadd_ps(scale(p), s, acc);
            }
        }
        _mm512_reduce_add_ps(acc)
    }

    /// # Safety
    /// AVX-512F, AVX2, FMA and F16C; `blocks` holds x.len()/32 Q4_1 blocks
    /// and `xsum` Σ x of each block.
    #[target_feature(enable = "avx512f,avx2,fma,f16c")]
    pub unsafe fn q4_1(blocks: &[u8], x: &[f32], xsum: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 20);
        debug_assert_eq!(xsum.len(), nb);
        let mut acc = _mm512_setzero_ps();
        let mut min_sum = 0.0f32;
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 20);
                let (lo, hi) = nibbles(p.add(4));
                let s = block_sum(
                    _mm512_cvtepi32_ps(lo),
                    _mm512_cvtepi32_ps(hi),
                    x.as_ptr().add(b * QK),
                );
                // d and m: two halves converted at once, [d, m, 0, 0].
                let dm = _mm_cvtph_ps(_mm_cvtsi32_si128((p as *const u32).read_unaligned() as i32));
                acc = _mm512_fmadd_ps(_mm512_broadcastss_ps(dm), s, acc);
                min_sum += _mm_cvtss_f32(_mm_movehdup_ps(dm)) * *xsum.get_unchecked(b);
            }
        }
        _mm512_reduce_add_ps(acc) + min_sum
    }
}

/// The AVX2 inner loops, one per block type. Per block of 32 weights, Q8_0
/// is 4 sign-extending loads (8 int8 → 8 int32 each), 4 int→float
/// conversions, 4 multiply-adds against x (loaded from L1), and the scale:
/// one 16-bit load, a half→float conversion, a broadcast and one more
/// multiply-add — about 17 instructions for 34 bytes. Q4_0 adds the nibble
/// split (a load of 16 bytes, two ANDs and a shift, a subtract of 8 and two
/// byte shifts) for 18 bytes, about 24 instructions. Q4_1 skips the subtract
/// and adds the minimum times Σx of the block (Σx computed once per product).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::QK;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx2,fma,f16c")]
    fn hsum(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        let s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
        _mm_cvtss_f32(s)
    }

    /// The f16 at p (and the one after it) as f32 lanes [p, p+1, 0, 0].
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn halves(p: *const u8) -> __m128 {
        let bits = unsafe { (p as *const u32).read_unaligned() };
        _mm_cvtph_ps(_mm_cvtsi32_si128(bits as i32))
    }

    /// 8 bytes at p, sign-extended, as 8 f32.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn i8x8(p: *const u8) -> __m256 {
        let b = unsafe { _mm_loadl_epi64(p as *const __m128i) };
        _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b))
    }

    /// Σ w·x over 32 weights already in four f32 registers.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn block_sum(w: [__m256; 4], xp: *const f32) -> __m256 {
        unsafe {
            let a = _mm256_mul_ps(w[0], _mm256_loadu_ps(xp));
            let b = _mm256_mul_ps(w[1], _mm256_loadu_ps(xp.add(8)));
            let a = _mm256_fmadd_ps(w[2], _mm256_loadu_ps(xp.add(16)), a);
            let b = _mm256_fmadd_ps(w[3], _mm256_loadu_ps(xp.add(24)), b);
            _mm256_add_ps(a, b)
        }
    }

    /// # Safety
    /// AVX2, FMA and F16C; `blocks` holds x.len()/32 Q8_0 blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn q8_0(blocks: &[u8], x: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 34);
        let mut acc = _mm256_setzero_ps();
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 34);
                let d = _mm256_broadcastss_ps(halves(p));
                let q = p.add(2);
                let w = [i8x8(q), i8x8(q.add(8)), i8x8(q.add(16)), i8x8(q.add(24))];
                acc = _mm256_fmadd_ps(d, block_sum(w, x.as_ptr().add(b * QK)), acc);
            }
        }
        hsum(acc)
    }

    /// The 32 nibbles of a Q4 block (16 bytes at p) in value order, as
    /// unsigned bytes: low nibbles are values 0..16, high ones 16..32.
    #[target_feature(enable = "avx2,fma,f16c")]
    unsafe fn nibbles(p: *const u8) -> (__m128i, __m128i) {
        let raw = unsafe { _mm_loadu_si128(p as *const __m128i) };
        let mask = _mm_set1_epi8(0x0f);
        (
            _mm_and_si128(raw, mask),
            _mm_and_si128(_mm_srli_epi16(raw, 4), mask),
        )
    }

    /// 16 bytes as two groups of 8 f32, signed or not.
    #[target_feature(enable = "avx2,fma,f16c")]
    fn widen(v: __m128i, signed: bool) -> [__m256; 2] {
        let hi = _mm_srli_si128(v, 8);
        if signed {
            [
                _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v)),
                _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)),
            ]
        } else {
            [
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v)),
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi)),
            ]
        }
    }

    /// # Safety
    /// AVX2, FMA and F16C; `blocks` holds x.len()/32 Q4_0 blocks.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn q4_0(blocks: &[u8], x: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 18);
        let eight = _mm_set1_epi8(8);
        let mut acc = _mm256_setzero_ps();
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 18);
                let d = _mm256_broadcastss_ps(halves(p));
                let (lo, hi) = nibbles(p.add(2));
                let [w0, w1] = widen(_mm_sub_epi8(lo, eight), true);
                let [w2, w3] = widen(_mm_sub_epi8(hi, eight), true);
                let s = block_sum([w0, w1, w2, w3], x.as_ptr().add(b * QK));
                acc = _mm256_fmadd_ps(d, s, acc);
            }
        }
        hsum(acc)
    }

    /// # Safety
    /// AVX2, FMA and F16C; `blocks` holds x.len()/32 Q4_1 blocks and `xsum`
    /// Σ x of each block.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn q4_1(blocks: &[u8], x: &[f32], xsum: &[f32]) -> f32 {
        let nb = x.len() / QK;
        debug_assert_eq!(blocks.len(), nb * 20);
        debug_assert_eq!(xsum.len(), nb);
        let mut acc = _mm256_setzero_ps();
        let mut min_sum = 0.0f32;
        for b in 0..nb {
            unsafe {
                let p = blocks.as_ptr().add(b * 20);
                let dm = halves(p); // [d, m, 0, 0]
                let d = _mm256_broadcastss_ps(dm);
                let (lo, hi) = nibbles(p.add(4));
                let [w0, w1] = widen(lo, false);
                let [w2, w3] = widen(hi, false);
                let s = block_sum([w0, w1, w2, w3], x.as_ptr().add(b * QK));
                acc = _mm256_fmadd_ps(d, s, acc);
                min_sum += _mm_cvtss_f32(_mm_shuffle_ps(dm, dm, 1)) * *xsum.get_unchecked(b);
            }
        }
        hsum(acc) + min_sum
    }

    /// # Safety
    /// AVX2, FMA and F16C; `halfs` holds x.len() f16 values.
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn f16(halfs: &[u8], x: &[f32]) -> f32 {
        let n = x.len();
        debug_assert_eq!(halfs.len(), 2 * n);
        let (mut a, mut b) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        let mut i = 0;
        unsafe {
            let (hp, xp) = (halfs.as_ptr(), x.as_ptr());
            while i + 16 <= n {
                let w0 = _mm256_cvtph_ps(_mm_loadu_si128(hp.add(2 * i) as *const __m128i));
                let w1 = _mm256_cvtph_ps(_mm_loadu_si128(hp.add(2 * i + 16) as *const __m128i));
                a = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xp.add(i)), a);
                b = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xp.add(i + 8)), b);
                i += 16;
            }
        }
        let mut s = hsum(_mm256_add_ps(a, b));
        for (h, v) in halfs[2 * i..].chunks_exact(2).zip(&x[i..]) {
            s += super::f16_at(h, 0) * v;
        }
        s
    }

    /// # Safety
    /// AVX2 and FMA; a.len() == b.len().
    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let mut acc = [_mm256_setzero_ps(); 4];
        let mut i = 0;
        unsafe {
            let (ap, bp) = (a.as_ptr(), b.as_ptr());
            while i + 32 <= n {
                for (k, s) in acc.iter_mut().enumerate() {
                    let o = i + 8 * k;
                    *s =
                        _mm256_fmadd_ps(_mm256_loadu_ps(ap.add(o)), _mm256_loadu_ps(bp.add(o)), *s);
                }
                i += 32;
            }
            while i + 8 <= n {
                acc[0] = _mm256_fmadd_ps(
                    _mm256_loadu_ps(ap.add(i)),
                    _mm256_loadu_ps(bp.add(i)),
                    acc[0],
                );
                i += 8;
            }
        }
        let v = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        let mut s = hsum(v);
        for j in i..n {
            s += a[j] * b[j];
        }
        s
    }
}

#[cfg(test)]
mod tests;
