//! ggml's block formats: how a GGUF file stores a tensor, and the reference
//! quantizers that make them.
//!
//! A block is 32 consecutive values of one row (ggml's `ne0`, the input
//! dimension of a weight matrix) stored as a half-precision scale (and, for
//! Q4_1, a minimum) followed by small integers. The quantizers here round the
//! way ggml's reference C quantizers (and the `gguf` Python package) do, so the
//! same f32 input gives the same bytes.

use half::f16;

pub mod eval;
pub mod matrix;
pub mod prune;
pub mod record;
pub mod weights;

pub use matrix::{Kernel, QMatrix};

/// Values per block in every format gptlens writes.
pub const QK: usize = 32;

/// A ggml tensor type as a GGUF file names it (`ggml_type`). Every type the
/// format defines is known by name and size, so a file holding one gptlens
/// does not run can still be listed and refused by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q8_1,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    Q8K,
    Iq2Xxs,
    Iq2Xs,
    Iq3Xxs,
    Iq1S,
    Iq4Nl,
    Iq3S,
    Iq2S,
    Iq4Xs,
    I8,
    I16,
    I32,
    I64,
    F64,
    Iq1M,
    Bf16,
    Tq1_0,
    Tq2_0,
    Mxfp4,
}

/// (type, id in the file, name, values per block, bytes per block).
const TYPES: &[(GgmlType, u32, &str, usize, usize)] = &[
    (GgmlType::F32, 0, "F32", 1, 4),
    (GgmlType::F16, 1, "F16", 1, 2),
    (GgmlType::Q4_0, 2, "Q4_0", 32, 18),
    (GgmlType::Q4_1, 3, "Q4_1", 32, 20),
    (GgmlType::Q5_0, 6, "Q5_0", 32, 22),
    (GgmlType::Q5_1, 7, "Q5_1", 32, 24),
    (GgmlType::Q8_0, 8, "Q8_0", 32, 34),
    (GgmlType::Q8_1, 9, "Q8_1", 32, 40),
    (GgmlType::Q2K, 10, "Q2_K", 256, 84),
    (GgmlType::Q3K, 11, "Q3_K", 256, 110),
    (GgmlType::Q4K, 12, "Q4_K", 256, 144),
    (GgmlType::Q5K, 13, "Q5_K", 256, 176),
    (GgmlType::Q6K, 14, "Q6_K", 256, 210),
    (GgmlType::Q8K, 15, "Q8_K", 256, 292),
    (GgmlType::Iq2Xxs, 16, "IQ2_XXS", 256, 66),
    (GgmlType::Iq2Xs, 17, "IQ2_XS", 256, 74),
    (GgmlType::Iq3Xxs, 18, "IQ3_XXS", 256, 98),
    (GgmlType::Iq1S, 19, "IQ1_S", 256, 50),
    (GgmlType::Iq4Nl, 20, "IQ4_NL", 32, 18),
    (GgmlType::Iq3S, 21, "IQ3_S", 256, 110),
    (GgmlType::Iq2S, 22, "IQ2_S", 256, 82),
    (GgmlType::Iq4Xs, 23, "IQ4_XS", 256, 136),
    (GgmlType::I8, 24, "I8", 1, 1),
    (GgmlType::I16, 25, "I16", 1, 2),
    (GgmlType::I32, 26, "I32", 1, 4),
    (GgmlType::I64, 27, "I64", 1, 8),
    (GgmlType::F64, 28, "F64", 1, 8),
    (GgmlType::Iq1M, 29, "IQ1_M", 256, 56),
    (GgmlType::Bf16, 30, "BF16", 1, 2),
    (GgmlType::Tq1_0, 34, "TQ1_0", 256, 54),
    (GgmlType::Tq2_0, 35, "TQ2_0", 256, 66),
    (GgmlType::Mxfp4, 39, "MXFP4", 32, 17),
];

/// The types gptlens quantizes to and runs.
pub const RUNNABLE: [GgmlType; 5] = [
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::Q8_0,
    GgmlType::Q4_1,
    GgmlType::Q4_0,
];

impl GgmlType {
    fn entry(self) -> &'static (GgmlType, u32, &'static str, usize, usize) {
        TYPES
            .iter()
            .find(|e| e.0 == self)
            .expect("every GgmlType is in TYPES")
    }

    /// The type with this id in a GGUF tensor info, if ggml defines it.
    pub fn from_id(id: u32) -> Option<Self> {
        TYPES.iter().find(|e| e.1 == id).map(|e| e.0)
    }

    /// The type named as llama.cpp spells it (`Q8_0`, `q8_0`, `F16`…).
    pub fn from_name(name: &str) -> Option<Self> {
        TYPES
            .iter()
            .find(|e| e.2.eq_ignore_ascii_case(name))
            .map(|e| e.0)
    }

    pub fn id(self) -> u32 {
        self.entry().1
    }

    pub fn name(self) -> &'static str {
        self.entry().2
    }

    /// Values per block (1 for the plain number types).
    pub fn block_len(self) -> usize {
        self.entry().3
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        self.entry().4
    }

    /// Whether gptlens can dequantize (and run) it.
    pub fn runnable(self) -> bool {
        RUNNABLE.contains(&self)
    }

    /// Bits per weight, scales included (Q8_0: 8.5, Q4_0: 4.5, Q4_1: 5).
    pub fn bits_per_weight(self) -> f64 {
        self.block_bytes() as f64 * 8.0 / self.block_len() as f64
    }

    /// Bytes that `n` values take, or None when `n` is not a whole number of
    /// blocks or the product overflows.
    pub fn bytes_for(self, n: u64) -> Option<u64> {
        let bl = self.block_len() as u64;
        if !n.is_multiple_of(bl) {
            return None;
        }
        (n / bl).checked_mul(self.block_bytes() as u64)
    }
}

impl std::fmt::Display for GgmlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What can go wrong converting between f32 and blocks.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum QuantError {
    #[error(
        "{n} values are not a whole number of {ty} blocks of {block}; quantize rows whose length is a multiple of {block}, or keep the tensor in F16/F32"
    )]
    PartialBlock {
        ty: GgmlType,
        n: usize,
        block: usize,
    },
    #[error("{ty} data of {bytes} bytes does not hold {n} values ({expected} bytes expected)")]
    ByteCount {
        ty: GgmlType,
        n: usize,
        bytes: usize,
        expected: usize,
    },
    #[error(
        "gptlens does not run {ty} tensors; it runs {}",
        RUNNABLE.map(|t| t.name()).join(", ")
    )]
    Unsupported { ty: GgmlType },
    #[error(
        "sparsity {0} is outside [0, 1): give the fraction of each matrix's weights to set to zero, e.g. 0.5"
    )]
    Sparsity(f64),
}

fn check_len(ty: GgmlType, n: usize) -> Result<usize, QuantError> {
    let block = ty.block_len();
    if !n.is_multiple_of(block) {
        return Err(QuantError::PartialBlock { ty, n, block });
    }
    Ok(n / block * ty.block_bytes())
}

/// `x` in format `ty`, the bytes a GGUF file holds (little-endian).
pub fn quantize(ty: GgmlType, x: &[f32]) -> Result<Vec<u8>, QuantError> {
    let bytes = check_len(ty, x.len())?;
    let mut out = Vec::with_capacity(bytes);
    match ty {
        GgmlType::F32 => x.iter().for_each(|v| out.extend(v.to_le_bytes())),
        GgmlType::F16 => x
            .iter()
            .for_each(|v| out.extend(f16::from_f32(*v).to_le_bytes())),
        GgmlType::Q8_0 => x
            .chunks_exact(QK)
            .for_each(|b| out.extend(q8_0_block(b.try_into().expect("32")))),
        GgmlType::Q4_0 => x
            .chunks_exact(QK)
            .for_each(|b| out.extend(q4_0_block(b.try_into().expect("32")))),
        GgmlType::Q4_1 => x
            .chunks_exact(QK)
            .for_each(|b| out.extend(q4_1_block(b.try_into().expect("32")))),
        _ => return Err(QuantError::Unsupported { ty }),
    }
    Ok(out)
}

/// The values `bytes` (format `ty`, `n` values) stand for, written to `out`.
pub fn dequantize_into(ty: GgmlType, bytes: &[u8], out: &mut [f32]) -> Result<(), QuantError> {
    let n = out.len();
    let expected = check_len(ty, n)?;
    if bytes.len() != expected {
        return Err(QuantError::ByteCount {
            ty,
            n,
            bytes: bytes.len(),
            expected,
        });
    }
    if !ty.runnable() {
        return Err(QuantError::Unsupported { ty });
    }
    let bb = ty.block_bytes();
    let bl = ty.block_len();
    for (blk, o) in bytes.chunks_exact(bb).zip(out.chunks_exact_mut(bl)) {
        match ty {
            GgmlType::F32 => o[0] = f32::from_le_bytes([blk[0], blk[1], blk[2], blk[3]]),
            GgmlType::F16 => o[0] = f16_at(blk, 0),
            _ => dequantize_block(ty, blk, o.try_into().expect("32")),
        }
    }
    Ok(())
}

/// [`dequantize_into`] a new vector.
pub fn dequantize(ty: GgmlType, bytes: &[u8], n: usize) -> Result<Vec<f32>, QuantError> {
    // Checked before allocating: the byte count proves n is real.
    let expected = check_len(ty, n)?;
    if bytes.len() != expected {
        return Err(QuantError::ByteCount {
            ty,
            n,
            bytes: bytes.len(),
            expected,
        });
    }
    let mut out = vec![0.0; n];
    dequantize_into(ty, bytes, &mut out)?;
    Ok(out)
}

#[inline]
pub(crate) fn f16_at(b: &[u8], at: usize) -> f32 {
    f16::from_le_bytes([b[at], b[at + 1]]).to_f32()
}

/// One block of 32 values back from Q8_0, Q4_0 or Q4_1.
pub fn dequantize_block(ty: GgmlType, blk: &[u8], out: &mut [f32; QK]) {
    match ty {
        GgmlType::Q8_0 => {
            let d = f16_at(blk, 0);
            for (o, q) in out.iter_mut().zip(&blk[2..2 + QK]) {
                *o = (*q as i8) as f32 * d;
            }
        }
        GgmlType::Q4_0 => {
            let d = f16_at(blk, 0);
            for (j, q) in blk[2..2 + QK / 2].iter().enumerate() {
                out[j] = ((q & 0x0f) as i32 - 8) as f32 * d;
                out[j + QK / 2] = ((q >> 4) as i32 - 8) as f32 * d;
            }
        }
        GgmlType::Q4_1 => {
            let d = f16_at(blk, 0);
            let m = f16_at(blk, 2);
            for (j, q) in blk[4..4 + QK / 2].iter().enumerate() {
                out[j] = (q & 0x0f) as f32 * d + m;
                out[j + QK / 2] = (q >> 4) as f32 * d + m;
            }
        }
        _ => unreachable!("dequantize_block is only called for block formats"),
    }
}

/// Q8_0: scale d = max|x| / 127, q = round(x / d) (halves away from zero),
/// all in f32 as ggml's reference; d is stored as f16 afterwards.
pub fn q8_0_block(x: &[f32; QK]) -> [u8; 34] {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut out = [0u8; 34];
    out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    for (o, v) in out[2..].iter_mut().zip(x) {
        *o = ((v * id).round() as i8) as u8;
    }
    out
}

/// The value of largest magnitude, with its sign (the first one on a tie).
fn signed_absmax(x: &[f32; QK]) -> f32 {
    let mut best = 0.0f32;
    for &v in x {
        if v.abs() > best.abs() {
            best = v;
        }
    }
    best
}

/// Q4_0: d = (signed value of largest magnitude) / -8, q = trunc(x/d + 8.5)
/// clamped to 15; value j goes in the low nibble of byte j, value j+16 in the
/// high nibble. x·(1/d) and + 8.5 are each rounded to f32, as the released
/// `gguf` package (0.19) does. ggml's C, built with fused multiply-adds,
/// rounds once and can differ by one step where x/d + 8.5 lies within an f32
/// rounding of an integer (none in 128k random blocks; the fixture has some).
pub fn q4_0_block(x: &[f32; QK]) -> [u8; 18] {
    let max = signed_absmax(x);
    let d = max / -8.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q = |v: f32| -> u8 {
        let t = v * id + 8.5;
        (t.trunc() as u8).min(15)
    };
    let mut out = [0u8; 18];
    out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    for j in 0..QK / 2 {
        out[2 + j] = q(x[j]) | (q(x[j + QK / 2]) << 4);
    }
    out
}

/// Q4_1: d = (max − min) / 15, q = trunc((x − min)/d + 0.5) clamped to 15,
/// in f32; d and min stored as f16; the nibble order of Q4_0.
pub fn q4_1_block(x: &[f32; QK]) -> [u8; 20] {
    let (min, max) = x
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let d = (max - min) / 15.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let q = |v: f32| -> u8 { (((v - min) * id + 0.5).trunc() as u8).min(15) };
    let mut out = [0u8; 20];
    out[..2].copy_from_slice(&f16::from_f32(d).to_le_bytes());
    out[2..4].copy_from_slice(&f16::from_f32(min).to_le_bytes());
    for j in 0..QK / 2 {
        out[4 + j] = q(x[j]) | (q(x[j + QK / 2]) << 4);
    }
    out
}

#[cfg(test)]
mod tests;
