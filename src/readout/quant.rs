//! One real block of a weight matrix in each of ggml's block formats: the 32
//! weights, what Q8_0, Q4_0 and Q4_1 store for them (scale, minimum, the
//! integers), the values they come back as and each one's error; and, for
//! every format, its bits per weight and the bytes one decoded token reads.
//!
//! A block is 32 consecutive weights of one row of the matrix as GGUF stores
//! it, `[out, in]`: one output's weights for 32 consecutive inputs. The
//! engine keeps GPT-2's Conv1D matrices `[in, out]`, so that row is a column
//! of the engine's tensor. The codes are made by [`crate::quant`]'s own
//! quantizers and read back by its own dequantizer; the bytes per token are
//! the cost ledger's ([`Ledger::weight_bytes_in`]). On a model opened from a
//! GGUF the weights are the file's values and the file's own block is shown
//! as the file stores it.

use crate::cost::Ledger;
use crate::model::{Config, Tensor, Weights};
use crate::quant::{self, GgmlType, QK};

/// The block formats the panel spells out, in the order it shows them.
pub const FORMATS: [GgmlType; 3] = [GgmlType::Q8_0, GgmlType::Q4_0, GgmlType::Q4_1];

/// Every format gptlens writes, largest first: the bytes-per-token table.
pub const ALL_FORMATS: [GgmlType; 5] = [
    GgmlType::F32,
    GgmlType::F16,
    GgmlType::Q8_0,
    GgmlType::Q4_1,
    GgmlType::Q4_0,
];

/// A weight matrix the panel can show.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// The engine's tensor name (`h.0.attn.c_attn.weight`).
    pub name: String,
    /// What it does, in words (`Q, K, V projection`).
    pub what: &'static str,
    /// Its layer, or None for the token table (and an untied head).
    pub layer: Option<usize>,
    /// Outputs (rows as GGUF stores the matrix) and inputs (a row's length).
    pub rows: usize,
    pub cols: usize,
    /// How the open model holds it: F32, or the GGUF's type.
    pub stored: GgmlType,
    /// Whether the engine's tensor is `[in, out]` (GPT-2's Conv1D).
    transposed: bool,
}

impl Matrix {
    /// Blocks of 32 in the matrix (0 when a row is no whole number of them).
    pub fn blocks(&self) -> usize {
        if self.cols.is_multiple_of(QK) {
            self.rows * (self.cols / QK)
        } else {
            0
        }
    }
}

/// The matrices of `layer` (the block's products in the pass's order), then
/// the token table and an untied head.
pub fn matrices(w: &Weights, layer: usize) -> Vec<Matrix> {
    let named = w.named();
    let find = |name: &str| named.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
    let mut out = vec![];
    let mut push = |name: String, what: &'static str, layer: Option<usize>, transposed: bool| {
        if let Some(t) = find(&name)
            && let [a, b] = t.shape[..]
        {
            let (rows, cols) = if transposed { (b, a) } else { (a, b) };
            out.push(Matrix {
                name,
                what,
                layer,
                rows,
                cols,
                stored: t.quant().map_or(GgmlType::F32, |q| q.ty()),
                transposed,
            });
        }
    };
    let parts: &[(&str, &str)] = if w.is_llama() {
        &[
            ("self_attn.q_proj.weight", "query projection W_Q"),
            ("self_attn.k_proj.weight", "key projection W_K"),
            ("self_attn.v_proj.weight", "value projection W_V"),
            ("self_attn.o_proj.weight", "output projection W_O"),
            ("mlp.gate_proj.weight", "MLP gate"),
            ("mlp.up_proj.weight", "MLP up"),
            ("mlp.down_proj.weight", "MLP down"),
        ]
    } else {
        &[
            ("attn.c_attn.weight", "Q, K, V projection"),
            ("attn.c_proj.weight", "output projection W_O"),
            ("mlp.c_fc.weight", "MLP up"),
            ("mlp.c_proj.weight", "MLP down"),
        ]
    };
    let (prefix, n) = if w.is_llama() {
        ("layers", w.llama_layers.len())
    } else {
        ("h", w.layers.len())
    };
    if layer < n {
        for (p, what) in parts {
            // GPT-2's Conv1D matrices are [in, out]; Llama's Linear [out, in].
            push(
                format!("{prefix}.{layer}.{p}"),
                what,
                Some(layer),
                !w.is_llama(),
            );
        }
    }
    let wte = if w.is_llama() {
        "embed_tokens.weight"
    } else {
        "wte.weight"
    };
    let tied = w.lm_head.is_none();
    push(
        wte.into(),
        if tied {
            "token embedding (and the unembedding)"
        } else {
            "token embedding"
        },
        None,
        false,
    );
    push(
        "lm_head.weight".into(),
        "unembedding (untied head)",
        None,
        false,
    );
    out
}

/// One block in one format: what the file holds for it and what it means.
#[derive(Clone, Debug, PartialEq)]
pub struct Coded {
    pub ty: GgmlType,
    /// The scale d (as stored: an f16, read back as f32).
    pub scale: f32,
    /// Q4_1's minimum m (an f16 too).
    pub min: Option<f32>,
    /// The stored integers: Q8_0's q in −127…127, the 4-bit formats' q in 0…15.
    pub ints: [i32; QK],
    /// What a value comes back as: d·q (Q8_0), d·(q − 8) (Q4_0), d·q + m (Q4_1).
    pub values: [f32; QK],
    /// value − weight for each of the 32 (None for the file's own block: the
    /// weights before it was quantized are not in the file).
    pub errors: Option<[f32; QK]>,
    /// The block's bytes as a GGUF holds them.
    pub bytes: Vec<u8>,
    /// Whether these are the open file's own bytes rather than made here.
    pub from_file: bool,
}

impl Coded {
    /// √(mean error²) over the block.
    pub fn rms(&self) -> Option<f32> {
        self.errors
            .map(|e| (e.iter().map(|x| x * x).sum::<f32>() / QK as f32).sqrt())
    }

    /// The largest |error| in the block.
    pub fn max_error(&self) -> Option<f32> {
        self.errors
            .map(|e| e.iter().fold(0.0f32, |m, x| m.max(x.abs())))
    }

    /// How the format turns q back into a value, with its constants.
    pub fn formula(&self) -> &'static str {
        match self.ty {
            GgmlType::Q8_0 => "d·q",
            GgmlType::Q4_0 => "d·(q − 8)",
            _ => "d·q + m",
        }
    }
}

/// Reads a block format's bytes: scale, minimum, the integers and (through
/// [`quant::dequantize_block`]) the values.
pub fn decode(ty: GgmlType, bytes: &[u8]) -> Option<Coded> {
    if !FORMATS.contains(&ty) || bytes.len() != ty.block_bytes() {
        return None;
    }
    let f16 = |at: usize| half::f16::from_le_bytes([bytes[at], bytes[at + 1]]).to_f32();
    let mut ints = [0i32; QK];
    let (min, nibbles) = match ty {
        GgmlType::Q8_0 => {
            for (q, b) in ints.iter_mut().zip(&bytes[2..]) {
                *q = *b as i8 as i32;
            }
            (None, None)
        }
        GgmlType::Q4_0 => (None, Some(&bytes[2..])),
        _ => (Some(f16(2)), Some(&bytes[4..])),
    };
    if let Some(nb) = nibbles {
        // Value j in the low nibble of byte j, value j + 16 in its high one.
        for (j, b) in nb.iter().enumerate() {
            ints[j] = (b & 0x0f) as i32;
            ints[j + QK / 2] = (b >> 4) as i32;
        }
    }
    let mut values = [0.0f32; QK];
    quant::dequantize_block(ty, bytes, &mut values);
    Some(Coded {
        ty,
        scale: f16(0),
        min,
        ints,
        values,
        errors: None,
        bytes: bytes.to_vec(),
        from_file: false,
    })
}

/// `x` quantized to `ty` by gptlens's quantizer, read back, with its errors.
pub fn code(ty: GgmlType, x: &[f32; QK]) -> Option<Coded> {
    let bytes = quant::quantize(ty, x).ok()?;
    let mut c = decode(ty, &bytes)?;
    let mut e = [0.0f32; QK];
    for (e, (v, w)) in e.iter_mut().zip(c.values.iter().zip(x)) {
        *e = v - w;
    }
    c.errors = Some(e);
    Some(c)
}

/// A format's footprint on this model.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatCost {
    pub ty: GgmlType,
    /// Bits per weight, scales included.
    pub bits_per_weight: f64,
    /// Bytes of weights one decoded token reads (the ledger's count).
    pub bytes_per_token: f64,
    /// f32's bytes per token ÷ this format's: how much faster a decoder
    /// limited by memory bandwidth can at most get.
    pub fewer_than_f32: f64,
}

/// Bits per weight and bytes per decoded token of every format on `cfg`.
pub fn format_costs(cfg: &Config) -> Vec<FormatCost> {
    let ledger = Ledger::for_forward(cfg, 0, 1, false);
    let f32_bytes = ledger.weight_bytes_in(GgmlType::F32);
    ALL_FORMATS
        .iter()
        .map(|&ty| {
            let b = ledger.weight_bytes_in(ty);
            FormatCost {
                ty,
                bits_per_weight: ty.bits_per_weight(),
                bytes_per_token: b,
                fewer_than_f32: if b > 0.0 { f32_bytes / b } else { 0.0 },
            }
        })
        .collect()
}

/// One block of one matrix, in every block format.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub matrix: Matrix,
    /// Which block (0-based, row by row), of `matrix.blocks()`.
    pub index: usize,
    /// The output row it belongs to and its first input.
    pub row: usize,
    pub col: usize,
    /// The 32 weights the open model multiplies by.
    pub weights: [f32; QK],
    /// Q8_0, Q4_0, Q4_1 of those weights; the one the file holds is the
    /// file's own bytes (`from_file`).
    pub coded: Vec<Coded>,
    /// Every format's bits per weight and bytes per token on this model.
    pub costs: Vec<FormatCost>,
}

/// Why a block cannot be shown.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BlockError {
    #[error("this model has no weight matrix number {0} in layer {1}")]
    NoMatrix(usize, usize),
    #[error(
        "{name}'s rows are {cols} long, not a whole number of blocks of 32: `gptlens quantize` keeps it in F16"
    )]
    PartialRows { name: String, cols: usize },
}

/// Block `index` of the `matrix`-th matrix of `layer` (both as
/// [`matrices`] lists them); `index` past the last block shows the last.
pub fn block(
    w: &Weights,
    cfg: &Config,
    layer: usize,
    matrix: usize,
    index: usize,
) -> Result<Block, BlockError> {
    let m = matrices(w, layer)
        .into_iter()
        .nth(matrix)
        .ok_or(BlockError::NoMatrix(matrix, layer))?;
    if m.blocks() == 0 {
        return Err(BlockError::PartialRows {
            name: m.name,
            cols: m.cols,
        });
    }
    let t: &Tensor = w
        .named()
        .into_iter()
        .find(|(n, _)| *n == m.name)
        .map(|(_, t)| t)
        .ok_or(BlockError::NoMatrix(matrix, layer))?;
    let index = index.min(m.blocks() - 1);
    let per_row = m.cols / QK;
    let (row, col) = (index / per_row, index % per_row * QK);
    let mut weights = [0.0f32; QK];
    let mut file = None;
    match t.quant() {
        Some(q) => {
            // The file's own bytes: [out, in] rows of blocks.
            let rb = q.bytes() / q.dim().0;
            let bb = q.ty().block_bytes() * QK / q.ty().block_len();
            let at = row * rb + col / QK * bb;
            let raw = &q.raw()[at..at + bb];
            quant::dequantize_into(q.ty(), raw, &mut weights)
                .expect("one block of a checked matrix");
            file = decode(q.ty(), raw).map(|c| Coded {
                from_file: true,
                ..c
            });
        }
        None => {
            let d = t.data();
            for (j, v) in weights.iter_mut().enumerate() {
                *v = if m.transposed {
                    d[(col + j) * m.rows + row]
                } else {
                    d[row * m.cols + col + j]
                };
            }
        }
    }
    let coded = FORMATS
        .iter()
        .filter_map(|&ty| match &file {
            Some(f) if f.ty == ty => Some(f.clone()),
            _ => code(ty, &weights),
        })
        .collect();
    Ok(Block {
        matrix: m,
        index,
        row,
        col,
        weights,
        coded,
        costs: format_costs(cfg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Gpt, random_model};

    fn builtin() -> Gpt {
        Gpt::open(&crate::paths::default_model_dir()).unwrap()
    }

    /// The built-in model written as a `ty` GGUF and opened again.
    fn as_gguf(gpt: &Gpt, ty: GgmlType) -> Gpt {
        let dir = crate::paths::default_model_dir();
        let tok = crate::tokenizer::Tokenizer::open(&dir.join("tokenizer.json")).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m.gguf");
        crate::gguf::gpt2::write(gpt, &tok, ty, "tinystories", &path).unwrap();
        crate::gguf::gpt2::open(&path).unwrap().0
    }

    #[test]
    fn every_code_comes_back_through_the_quantizers_dequantize() {
        let gpt = builtin();
        let w = &gpt.weights;
        for (matrix, m) in matrices(w, 1).iter().enumerate() {
            for index in [0, 1, m.blocks() / 2, m.blocks() - 1] {
                let b = block(w, &gpt.config, 1, matrix, index).unwrap();
                assert_eq!(b.coded.len(), 3);
                for c in &b.coded {
                    let bytes = quant::quantize(c.ty, &b.weights).unwrap();
                    assert_eq!(c.bytes, bytes, "{} {index}: the quantizer's bytes", m.name);
                    let back = quant::dequantize(c.ty, &bytes, QK).unwrap();
                    assert_eq!(c.values[..], back[..], "{} {index}", m.name);
                    let e = c.errors.unwrap();
                    for j in 0..QK {
                        assert_eq!(e[j], back[j] - b.weights[j]);
                        // The integers redo the value with the stated formula.
                        let v = match c.ty {
                            GgmlType::Q8_0 => c.scale * c.ints[j] as f32,
                            GgmlType::Q4_0 => c.scale * (c.ints[j] - 8) as f32,
                            _ => c.scale * c.ints[j] as f32 + c.min.unwrap(),
                        };
                        assert_eq!(v, c.values[j], "{} {j}", c.ty);
                    }
                    assert!(c.rms().unwrap() <= c.max_error().unwrap());
                }
            }
        }
    }

    #[test]
    fn the_block_is_a_row_of_the_matrix_as_gguf_stores_it() {
        let gpt = builtin();
        let w = &gpt.weights;
        let (c, m3) = (gpt.config.n_embd, 3 * gpt.config.n_embd);
        let list = matrices(w, 0);
        assert_eq!(list[0].name, "h.0.attn.c_attn.weight");
        assert_eq!((list[0].rows, list[0].cols), (m3, c));
        assert_eq!(list.last().unwrap().name, "wte.weight");
        // Block 5 of c_attn: output 5 / (C/32), inputs from 32·(5 mod C/32).
        let per_row = c / QK;
        let b = block(w, &gpt.config, 0, 0, 5).unwrap();
        assert_eq!((b.row, b.col), (5 / per_row, 5 % per_row * QK));
        let d = w.layers[0].attn_w.data(); // [C, 3C]
        for j in 0..QK {
            assert_eq!(b.weights[j], d[(b.col + j) * m3 + b.row]);
        }
        // The token table is [V, C] in both layouts.
        let last = list.len() - 1;
        let e = block(w, &gpt.config, 0, last, per_row + 1).unwrap();
        assert_eq!((e.row, e.col), (1, QK));
        assert_eq!(e.weights[..], w.wte.data()[c + QK..c + 2 * QK]);
        // Past the end: the last block; no such matrix: an error.
        let m = &list[0];
        assert_eq!(
            block(w, &gpt.config, 0, 0, usize::MAX).unwrap().index,
            m.blocks() - 1
        );
        assert!(block(w, &gpt.config, 0, 99, 0).is_err());
    }

    /// One block worked by hand: Q8_0's d = max|x|/127 and q = round(x/d);
    /// Q4_0's d = (signed largest)/−8, q = ⌊x/d + 8.5⌋ ≤ 15; Q4_1's m = min,
    /// d = (max − min)/15, q = ⌊(x − m)/d + 0.5⌋.
    #[test]
    fn a_block_worked_by_hand() {
        let mut x = [0.0f32; QK];
        for (j, v) in x.iter_mut().enumerate() {
            *v = (j as f32 - 8.0) / 16.0; // −0.5 … 1.4375
        }
        let q8 = code(GgmlType::Q8_0, &x).unwrap();
        let d8 = half::f16::from_f32(1.4375 / 127.0).to_f32();
        assert_eq!(q8.scale, d8);
        assert_eq!(q8.ints[31], 127);
        assert_eq!(q8.ints[0], -44); // −0.5 / (1.4375/127) = −44.17
        assert_eq!(q8.ints[8], 0);
        assert_eq!(q8.values[0], -44.0 * d8);
        let q40 = code(GgmlType::Q4_0, &x).unwrap();
        // Largest magnitude is +1.4375: d = −0.1797, so it becomes q = 0.
        let d40 = half::f16::from_f32(1.4375 / -8.0).to_f32();
        assert_eq!(q40.scale, d40);
        assert_eq!(q40.ints[31], 0);
        assert_eq!(q40.values[31], -8.0 * d40);
        assert_eq!(q40.ints[8], 8); // 0 → 8
        // −0.5 / −0.1797 + 8.5 = 11.28 → 11.
        assert_eq!(q40.ints[0], 11);
        let q41 = code(GgmlType::Q4_1, &x).unwrap();
        assert_eq!(q41.min, Some(-0.5));
        let d41 = half::f16::from_f32(1.9375 / 15.0).to_f32();
        assert_eq!(q41.scale, d41);
        assert_eq!((q41.ints[0], q41.ints[31]), (0, 15));
        // (0 − (−0.5))/0.12917 + 0.5 = 4.37 → 4.
        assert_eq!(q41.ints[8], 4);
        assert_eq!(q41.values[8], 4.0 * d41 - 0.5);
        let e = q41.errors.unwrap();
        assert_eq!(e[8], 4.0 * d41 - 0.5);
        assert!(q8.max_error().unwrap() < q41.max_error().unwrap());
    }

    #[test]
    fn a_gguf_models_block_is_the_files_own() {
        let gpt = builtin();
        let cfg = gpt.config.clone();
        for ty in FORMATS {
            let opened = as_gguf(&gpt, ty);
            let q = &opened.weights;
            let b = block(q, &cfg, 2, 2, 7).unwrap();
            assert_eq!(b.matrix.stored, ty);
            let own = b.coded.iter().find(|c| c.ty == ty).unwrap();
            assert!(own.from_file && own.errors.is_none(), "{ty}");
            // The file's bytes for that block, and the weights are its values.
            let t = q.layers[2].fc_w.quant().unwrap();
            let per_row = t.dim().1 / QK;
            let at = (7 / per_row) * (t.bytes() / t.dim().0) + 7 % per_row * ty.block_bytes();
            assert_eq!(own.bytes, t.raw()[at..at + ty.block_bytes()]);
            assert_eq!(own.values, b.weights);
            // The other two are made from those values here.
            assert!(b.coded.iter().filter(|c| c.ty != ty).all(|c| !c.from_file));
            // And the f32 model's block of the same place agrees to the format.
            let f = block(&gpt.weights, &cfg, 2, 2, 7).unwrap();
            let made = f.coded.iter().find(|c| c.ty == ty).unwrap();
            assert_eq!(made.bytes, own.bytes, "{ty}: quantize wrote this block");
        }
    }

    #[test]
    fn format_costs_are_the_ledgers_and_shrink_with_the_bits() {
        let cfg = Config::new(2, 4, 64, 100, 16);
        let costs = format_costs(&cfg);
        let ledger = Ledger::for_forward(&cfg, 0, 1, false);
        assert_eq!(costs[0].bytes_per_token, ledger.weight_bytes());
        assert_eq!(costs[0].fewer_than_f32, 1.0);
        let bits: Vec<f64> = costs.iter().map(|c| c.bits_per_weight).collect();
        assert_eq!(bits, [32.0, 16.0, 8.5, 5.0, 4.5]);
        for w in costs.windows(2) {
            assert!(w[1].bytes_per_token < w[0].bytes_per_token);
        }
        for c in &costs {
            assert_eq!(c.bytes_per_token, ledger.weight_bytes_in(c.ty));
        }
    }

    #[test]
    fn rows_that_are_no_whole_blocks_are_refused_with_the_reason() {
        let gpt = random_model(&Config::new(1, 2, 20, 30, 8), 3, false);
        let e = block(&gpt.weights, &gpt.config, 0, 0, 0).unwrap_err();
        assert!(e.to_string().contains("20 long"), "{e}");
        assert_eq!(matrices(&gpt.weights, 0)[0].blocks(), 0);
    }
}
