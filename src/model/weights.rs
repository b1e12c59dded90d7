//! GPT-2 weights: read from `model.safetensors` (memory-mapped) or built in memory,
//! and written back in the same Hugging Face layout.
//!
//! Invariant: every tensor is f32, row-major, with GPT-2's Conv1D layout
//! (`[in, out]`) for GPT-2's four per-layer matrices; Llama's seven keep
//! `nn.Linear`'s `[out, in]` (as the file and GGUF store them, so they stay
//! mapped), and the pass computes x·Wᵀ for them. Files with f16/bf16 tensors are
//! converted to owned f32 on load; f32 tensors stay in the mapping, so thirty
//! gptlens processes on one server share one copy of the weights.
//!
//! A GGUF's quantized matrices stay in their blocks ([`QMatrix`], `[out, in]`
//! as the file stores them): the pass multiplies them as they are
//! ([`Tensor::quant`]), and the f32 values are made only when something else
//! asks for them ([`Tensor::data`]: a view of the whole matrix, a re-export).

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::{Config, LoadWarning, ModelError};
use crate::quant::QMatrix;

/// One f32 tensor, either borrowed from the file mapping or owned.
#[derive(Clone)]
pub struct Tensor {
    pub shape: Vec<usize>,
    store: Store,
}

#[derive(Clone)]
enum Store {
    Mapped {
        map: Arc<Bytes>,
        offset: usize,
        len: usize,
    },
    Owned(Arc<Vec<f32>>),
    Quant(Arc<QStore>),
}

/// A matrix in its GGUF blocks. `transposed`: the engine's shape is the
/// blocks' `[out, in]` turned round (GPT-2's Conv1D `[in, out]`).
struct QStore {
    q: QMatrix,
    transposed: bool,
    /// The f32 values in the engine's layout, made on first [`Tensor::data`].
    f32: OnceLock<Vec<f32>>,
}

impl QStore {
    fn expand(&self) -> Vec<f32> {
        let w = self.q.dequantize();
        if !self.transposed {
            return w;
        }
        let (r, c) = self.q.dim();
        let mut out = vec![0.0; w.len()];
        for i in 0..r {
            for j in 0..c {
                out[j * r + i] = w[i * c + j];
            }
        }
        out
    }
}

/// The bytes of a safetensors file: memory-mapped, or built into the binary
/// (`crate::embedded`, aligned for f32).
enum Bytes {
    Map(Mmap),
    Static(&'static [u8]),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Map(m) => m,
            Bytes::Static(b) => b,
        }
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor{:?}", self.shape)
    }
}

impl Tensor {
    pub fn from_vec(shape: Vec<usize>, data: Vec<f32>) -> Self {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "shape/data mismatch"
        );
        Tensor {
            shape,
            store: Store::Owned(Arc::new(data)),
        }
    }

    /// A matrix kept in its blocks: `q` is `[out, in]`; the tensor's shape
    /// is that, or `[in, out]` when `transposed` (GPT-2's Conv1D weights).
    pub fn quantized(q: QMatrix, transposed: bool) -> Self {
        let (r, c) = q.dim();
        let shape = if transposed { vec![c, r] } else { vec![r, c] };
        Tensor {
            shape,
            store: Store::Quant(Arc::new(QStore {
                q,
                transposed,
                f32: OnceLock::new(),
            })),
        }
    }

    /// The blocks, if this tensor is kept quantized: products should use
    /// them (`QMatrix::matmul` computes x·Mᵀ with M `[out, in]`).
    pub fn quant(&self) -> Option<&QMatrix> {
        match &self.store {
            Store::Quant(s) => Some(&s.q),
            _ => None,
        }
    }

    /// The values as f32, row-major in `shape`. A quantized tensor is
    /// dequantized on the first call (and kept): the pass never calls this
    /// on one, only views and exports do.
    pub fn data(&self) -> &[f32] {
        match &self.store {
            Store::Mapped { map, offset, len } => {
                bytemuck::cast_slice(&map[*offset..*offset + len * 4])
            }
            Store::Owned(v) => v,
            Store::Quant(s) => s.f32.get_or_init(|| s.expand()),
        }
    }

    /// Rows `ids` of a matrix as `[ids.len(), cols]` (an embedding lookup):
    /// gathered from the blocks when quantized, without expanding the rest.
    pub fn rows(&self, ids: &[usize]) -> ndarray::Array2<f32> {
        if let Store::Quant(s) = &self.store
            && !s.transposed
            && s.f32.get().is_none()
        {
            let cols = s.q.dim().1;
            let mut out = ndarray::Array2::zeros((ids.len(), cols));
            for (mut row, &id) in out.rows_mut().into_iter().zip(ids) {
                s.q.dequantize_row(id, row.as_slice_mut().expect("standard layout"));
            }
            return out;
        }
        self.view2().select(ndarray::Axis(0), ids)
    }

    /// Bytes this tensor holds in memory (mapped f32 included; a quantized
    /// tensor's blocks, plus its f32 copy once something asked for one).
    pub fn bytes(&self) -> usize {
        match &self.store {
            Store::Mapped { len, .. } => len * 4,
            Store::Owned(v) => v.len() * 4,
            Store::Quant(s) => s.q.bytes() + s.f32.get().map_or(0, |v| v.len() * 4),
        }
    }

    /// Whether any value is NaN or infinite (read off the scales when quantized).
    pub fn has_non_finite(&self) -> bool {
        match &self.store {
            Store::Quant(s) => s.q.has_non_finite(),
            _ => self.data().iter().any(|x| !x.is_finite()),
        }
    }

    /// The same values as a plain f32 tensor (a quantized one's blocks are
    /// expanded into the copy, not into this tensor).
    pub fn to_f32(&self) -> Tensor {
        match &self.store {
            Store::Quant(s) => Tensor::from_vec(
                self.shape.clone(),
                s.f32.get().cloned().unwrap_or_else(|| s.expand()),
            ),
            _ => self.clone(),
        }
    }

    /// The tensor as a matrix view (1-D tensors become one row).
    pub fn view2(&self) -> ndarray::ArrayView2<'_, f32> {
        let (r, c) = match self.shape.as_slice() {
            [r, c] => (*r, *c),
            [n] => (1, *n),
            _ => (1, self.data().len()),
        };
        ndarray::ArrayView2::from_shape((r, c), self.data()).expect("shape checked on load")
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The weights of one transformer block.
#[derive(Clone, Debug)]
pub struct LayerWeights {
    pub ln_1_g: Tensor,      // [C]
    pub ln_1_b: Tensor,      // [C]
    pub attn_w: Tensor,      // [C, 3C]  c_attn: x -> q|k|v
    pub attn_b: Tensor,      // [3C]
    pub attn_proj_w: Tensor, // [C, C]   W_O
    pub attn_proj_b: Tensor, // [C]
    pub ln_2_g: Tensor,      // [C]
    pub ln_2_b: Tensor,      // [C]
    pub fc_w: Tensor,        // [C, M]   MLP up
    pub fc_b: Tensor,        // [M]
    pub mlp_proj_w: Tensor,  // [M, C]   MLP down
    pub mlp_proj_b: Tensor,  // [C]
}

/// The weights of one Llama block. Matrices are `nn.Linear`'s [out, in];
/// d = dₖ, Hq query heads, Hkv key/value heads, M the SwiGLU width.
#[derive(Clone, Debug)]
pub struct LlamaLayerWeights {
    pub attn_norm: Tensor, // [C]        input_layernorm γ
    pub wq: Tensor,        // [Hq·d, C]  q_proj
    pub wk: Tensor,        // [Hkv·d, C] k_proj
    pub wv: Tensor,        // [Hkv·d, C] v_proj
    pub wo: Tensor,        // [C, Hq·d]  o_proj (W_O)
    pub mlp_norm: Tensor,  // [C]        post_attention_layernorm γ
    pub w_gate: Tensor,    // [M, C]     gate_proj
    pub w_up: Tensor,      // [M, C]     up_proj
    pub w_down: Tensor,    // [C, M]     down_proj
}

/// All weights of a GPT-2 model. The unembedding is tied to `wte` unless the
/// config says `tie_word_embeddings: false`; then `lm_head` holds its own.
#[derive(Clone, Debug)]
///
/// A Llama model has its blocks in `llama_layers` and none in `layers`;
/// `wte` is `embed_tokens`, `wpe` is empty ([0, C]: no position table),
/// `ln_f_g` is the final RMSNorm's γ and `ln_f_b` zeros (it has no β).
pub struct Weights {
    pub wte: Tensor, // [V, C]
    pub wpe: Tensor, // [P, C]
    /// GPT-2 blocks (empty for Llama).
    pub layers: Vec<LayerWeights>,
    /// Llama blocks (empty for GPT-2).
    pub llama_layers: Vec<LlamaLayerWeights>,
    pub ln_f_g: Tensor, // [C]
    pub ln_f_b: Tensor, // [C]
    /// The untied unembedding [V, C], or None when it is `wte`.
    pub lm_head: Option<Tensor>,
    /// What loading noticed but did not refuse (unexpected tensors, an
    /// ignored head); the CLI prints them.
    pub warnings: Vec<LoadWarning>,
}

/// The GPT-2 name (without `transformer.`) and expected shape of every tensor;
/// for Llama, its Hugging Face names without `model.`.
pub fn expected_tensors(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    if cfg.is_llama() {
        return llama_tensors(cfg);
    }
    let (c, m) = (cfg.n_embd, cfg.mlp_dim());
    let mut v = vec![
        ("wte.weight".to_string(), vec![cfg.vocab_size, c]),
        ("wpe.weight".to_string(), vec![cfg.n_positions, c]),
    ];
    for i in 0..cfg.n_layer {
        let p = |s: &str| format!("h.{i}.{s}");
        v.extend([
            (p("ln_1.weight"), vec![c]),
            (p("ln_1.bias"), vec![c]),
            (p("attn.c_attn.weight"), vec![c, 3 * c]),
            (p("attn.c_attn.bias"), vec![3 * c]),
            (p("attn.c_proj.weight"), vec![c, c]),
            (p("attn.c_proj.bias"), vec![c]),
            (p("ln_2.weight"), vec![c]),
            (p("ln_2.bias"), vec![c]),
            (p("mlp.c_fc.weight"), vec![c, m]),
            (p("mlp.c_fc.bias"), vec![m]),
            (p("mlp.c_proj.weight"), vec![m, c]),
            (p("mlp.c_proj.bias"), vec![c]),
        ]);
    }
    v.push(("ln_f.weight".to_string(), vec![c]));
    v.push(("ln_f.bias".to_string(), vec![c]));
    if !cfg.tie_word_embeddings {
        v.push(("lm_head.weight".to_string(), vec![cfg.vocab_size, c]));
    }
    v
}

/// Llama's tensors in `LlamaForCausalLM` order (names without `model.`).
fn llama_tensors(cfg: &Config) -> Vec<(String, Vec<usize>)> {
    let (c, m, kv) = (cfg.n_embd, cfg.mlp_dim(), cfg.kv_dim());
    let mut v = vec![("embed_tokens.weight".to_string(), vec![cfg.vocab_size, c])];
    for i in 0..cfg.n_layer {
        let p = |s: &str| format!("layers.{i}.{s}");
        v.extend([
            (p("input_layernorm.weight"), vec![c]),
            (p("self_attn.q_proj.weight"), vec![c, c]),
            (p("self_attn.k_proj.weight"), vec![kv, c]),
            (p("self_attn.v_proj.weight"), vec![kv, c]),
            (p("self_attn.o_proj.weight"), vec![c, c]),
            (p("post_attention_layernorm.weight"), vec![c]),
            (p("mlp.gate_proj.weight"), vec![m, c]),
            (p("mlp.up_proj.weight"), vec![m, c]),
            (p("mlp.down_proj.weight"), vec![c, m]),
        ]);
    }
    v.push(("norm.weight".to_string(), vec![c]));
    if !cfg.tie_word_embeddings {
        v.push(("lm_head.weight".to_string(), vec![cfg.vocab_size, c]));
    }
    v
}

/// Removes `name` from `named`, checking it has `shape`.
fn take(
    named: &mut BTreeMap<String, Tensor>,
    name: String,
    shape: &[usize],
    source: &str,
) -> Result<Tensor, ModelError> {
    match named.remove(&name) {
        None => Err(ModelError::MissingTensor {
            name,
            file: source.to_string(),
        }),
        Some(t) if t.shape != shape => Err(ModelError::TensorShape {
            name,
            expected: shape.to_vec(),
            found: t.shape,
        }),
        Some(t) => Ok(t),
    }
}

/// Why a file with `file_values` numbers cannot hold the model `cfg`
/// describes, naming the config field that disagrees with the file's tensor
/// shapes where one does. `shapes` are the file's tensors (GPT-2 names).
fn size_disagreement(
    cfg: &Config,
    shapes: &BTreeMap<String, Vec<usize>>,
    file_values: u64,
) -> String {
    let need = match cfg.checked_params() {
        Some(n) => format!("{n} parameters"),
        None => "more than 2^64 parameters".to_string(),
    };
    let totals = format!("config.json describes {need} but the file holds {file_values} numbers");
    let dim = |name: &str, i: usize| shapes.get(name).and_then(|s| s.get(i).copied());
    let llama = cfg.is_llama();
    // GPT-2's and Llama's names for the embedding, the MLP's up matrix (and
    // which axis is its width) and the block prefix.
    let (emb, up, up_axis, block) = if llama {
        (
            "embed_tokens.weight",
            "layers.0.mlp.up_proj.weight",
            0,
            "layers.",
        )
    } else {
        ("wte.weight", "h.0.mlp.c_fc.weight", 1, "h.")
    };
    let mut field = None;
    if let Some(v) = dim(emb, 0).filter(|&v| v != cfg.vocab_size) {
        field = Some(format!(
            "vocab_size is {} but {emb} has {v} rows",
            cfg.vocab_size
        ));
    } else if let Some(c) = dim(emb, 1).filter(|&c| c != cfg.n_embd) {
        field = Some(format!("n_embd is {} but {emb} is {c} wide", cfg.n_embd));
    } else if let Some(p) = dim("wpe.weight", 0).filter(|&p| !llama && p != cfg.n_positions) {
        field = Some(format!(
            "n_positions is {} but wpe.weight has {p} rows",
            cfg.n_positions
        ));
    } else if let Some(m) = dim(up, up_axis).filter(|&m| m != cfg.mlp_dim()) {
        let name = if llama {
            "intermediate_size"
        } else {
            "n_inner"
        };
        field = Some(format!("{name} is {} but {up} is {m} wide", cfg.mlp_dim()));
    } else {
        let blocks = shapes
            .keys()
            .filter_map(|n| {
                n.strip_prefix(block)?
                    .split('.')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .max()
            .map_or(0, |i| i + 1);
        if blocks != cfg.n_layer {
            field = Some(format!(
                "n_layer is {} but the file has {blocks} blocks ({block}0 … {block}{})",
                cfg.n_layer,
                blocks.saturating_sub(1)
            ));
        } else if !cfg.tie_word_embeddings && !shapes.contains_key("lm_head.weight") {
            field = Some("tie_word_embeddings is false but the file has no lm_head.weight".into());
        }
    }
    match field {
        Some(f) => format!("{f} ({totals})"),
        None => totals,
    }
}

impl Weights {
    /// Builds the weights from named tensors (GPT-2 names, no prefix),
    /// checking that each is present with the shape the config implies.
    /// Tensors left over are listed in `warnings`.
    pub fn from_named(
        cfg: &Config,
        mut named: BTreeMap<String, Tensor>,
        source: &str,
    ) -> Result<Self, ModelError> {
        if cfg.is_llama() {
            return Self::from_named_llama(cfg, named, source);
        }
        let (c, m, v) = (cfg.n_embd, cfg.mlp_dim(), cfg.vocab_size);
        let named = &mut named;
        let wte = take(named, "wte.weight".into(), &[v, c], source)?;
        let wpe = take(named, "wpe.weight".into(), &[cfg.n_positions, c], source)?;
        // Block by block, so that nothing proportional to n_layer is built
        // before the tensors themselves have been found.
        let mut layers = Vec::new();
        for i in 0..cfg.n_layer {
            let mut t = |s: &str, shape: &[usize]| take(named, format!("h.{i}.{s}"), shape, source);
            layers.push(LayerWeights {
                ln_1_g: t("ln_1.weight", &[c])?,
                ln_1_b: t("ln_1.bias", &[c])?,
                attn_w: t("attn.c_attn.weight", &[c, 3 * c])?,
                attn_b: t("attn.c_attn.bias", &[3 * c])?,
                attn_proj_w: t("attn.c_proj.weight", &[c, c])?,
                attn_proj_b: t("attn.c_proj.bias", &[c])?,
                ln_2_g: t("ln_2.weight", &[c])?,
                ln_2_b: t("ln_2.bias", &[c])?,
                fc_w: t("mlp.c_fc.weight", &[c, m])?,
                fc_b: t("mlp.c_fc.bias", &[m])?,
                mlp_proj_w: t("mlp.c_proj.weight", &[m, c])?,
                mlp_proj_b: t("mlp.c_proj.bias", &[c])?,
            });
        }
        let ln_f_g = take(named, "ln_f.weight".into(), &[c], source)?;
        let ln_f_b = take(named, "ln_f.bias".into(), &[c], source)?;
        let mut warnings = vec![];
        let lm_head = if cfg.tie_word_embeddings {
            if let Some(h) = named.remove("lm_head.weight")
                && h.data() != wte.data()
            {
                warnings.push(LoadWarning::IgnoredHead);
            }
            None
        } else {
            Some(take(named, "lm_head.weight".into(), &[v, c], source)?)
        };
        if !named.is_empty() {
            warnings.push(LoadWarning::UnexpectedTensors {
                names: named.keys().cloned().collect(),
            });
        }
        Ok(Weights {
            wte,
            wpe,
            layers,
            llama_layers: vec![],
            ln_f_g,
            ln_f_b,
            lm_head,
            warnings,
        })
    }

    /// [`Weights::from_named`] for Llama names (no `model.` prefix).
    fn from_named_llama(
        cfg: &Config,
        mut named: BTreeMap<String, Tensor>,
        source: &str,
    ) -> Result<Self, ModelError> {
        let (c, m, v, kv) = (cfg.n_embd, cfg.mlp_dim(), cfg.vocab_size, cfg.kv_dim());
        let named = &mut named;
        // The vocabulary is named plainly: it is the size most often mixed up
        // (a tokenizer's or a padded vocabulary instead of the model's).
        for name in ["embed_tokens.weight", "lm_head.weight"] {
            if let Some(t) = named.get(name)
                && t.shape.len() == 2
                && t.shape[0] != v
            {
                return Err(ModelError::VocabMismatch(format!(
                    "config.json's vocab_size is {v} but {name} in {source} has {} rows",
                    t.shape[0]
                )));
            }
        }
        let wte = take(named, "embed_tokens.weight".into(), &[v, c], source)?;
        let mut llama_layers = Vec::new();
        for i in 0..cfg.n_layer {
            let mut t =
                |s: &str, shape: &[usize]| take(named, format!("layers.{i}.{s}"), shape, source);
            llama_layers.push(LlamaLayerWeights {
                attn_norm: t("input_layernorm.weight", &[c])?,
                wq: t("self_attn.q_proj.weight", &[c, c])?,
                wk: t("self_attn.k_proj.weight", &[kv, c])?,
                wv: t("self_attn.v_proj.weight", &[kv, c])?,
                wo: t("self_attn.o_proj.weight", &[c, c])?,
                mlp_norm: t("post_attention_layernorm.weight", &[c])?,
                w_gate: t("mlp.gate_proj.weight", &[m, c])?,
                w_up: t("mlp.up_proj.weight", &[m, c])?,
                w_down: t("mlp.down_proj.weight", &[c, m])?,
            });
        }
        let ln_f_g = take(named, "norm.weight".into(), &[c], source)?;
        let mut warnings = vec![];
        let lm_head = if cfg.tie_word_embeddings {
            if let Some(h) = named.remove("lm_head.weight")
                && h.data() != wte.data()
            {
                warnings.push(LoadWarning::IgnoredHead);
            }
            None
        } else {
            Some(take(named, "lm_head.weight".into(), &[v, c], source)?)
        };
        if !named.is_empty() {
            warnings.push(LoadWarning::UnexpectedTensors {
                names: named.keys().cloned().collect(),
            });
        }
        Ok(Weights {
            wte,
            wpe: Tensor::from_vec(vec![0, c], vec![]),
            layers: vec![],
            llama_layers,
            ln_f_g,
            ln_f_b: Tensor::from_vec(vec![c], vec![0.0; c]),
            lm_head,
            warnings,
        })
    }

    /// Whether these are a Llama model's weights.
    pub fn is_llama(&self) -> bool {
        !self.llama_layers.is_empty()
    }

    /// The unembedding [V, C]: `lm_head` when untied, else `wte`.
    pub fn unembedding(&self) -> &Tensor {
        self.lm_head.as_ref().unwrap_or(&self.wte)
    }

    /// Every tensor with its GPT-2 name (Llama: its name without `model.`), in file order.
    pub fn named(&self) -> Vec<(String, &Tensor)> {
        if self.is_llama() {
            let mut v = vec![("embed_tokens.weight".to_string(), &self.wte)];
            for (i, l) in self.llama_layers.iter().enumerate() {
                let p = |s: &str| format!("layers.{i}.{s}");
                v.extend([
                    (p("input_layernorm.weight"), &l.attn_norm),
                    (p("self_attn.q_proj.weight"), &l.wq),
                    (p("self_attn.k_proj.weight"), &l.wk),
                    (p("self_attn.v_proj.weight"), &l.wv),
                    (p("self_attn.o_proj.weight"), &l.wo),
                    (p("post_attention_layernorm.weight"), &l.mlp_norm),
                    (p("mlp.gate_proj.weight"), &l.w_gate),
                    (p("mlp.up_proj.weight"), &l.w_up),
                    (p("mlp.down_proj.weight"), &l.w_down),
                ]);
            }
            v.push(("norm.weight".to_string(), &self.ln_f_g));
            if let Some(h) = &self.lm_head {
                v.push(("lm_head.weight".to_string(), h));
            }
            return v;
        }
        let mut v = vec![
            ("wte.weight".to_string(), &self.wte),
            ("wpe.weight".to_string(), &self.wpe),
        ];
        for (i, l) in self.layers.iter().enumerate() {
            let p = |s: &str| format!("h.{i}.{s}");
            v.extend([
                (p("ln_1.weight"), &l.ln_1_g),
                (p("ln_1.bias"), &l.ln_1_b),
                (p("attn.c_attn.weight"), &l.attn_w),
                (p("attn.c_attn.bias"), &l.attn_b),
                (p("attn.c_proj.weight"), &l.attn_proj_w),
                (p("attn.c_proj.bias"), &l.attn_proj_b),
                (p("ln_2.weight"), &l.ln_2_g),
                (p("ln_2.bias"), &l.ln_2_b),
                (p("mlp.c_fc.weight"), &l.fc_w),
                (p("mlp.c_fc.bias"), &l.fc_b),
                (p("mlp.c_proj.weight"), &l.mlp_proj_w),
                (p("mlp.c_proj.bias"), &l.mlp_proj_b),
            ]);
        }
        v.push(("ln_f.weight".to_string(), &self.ln_f_g));
        v.push(("ln_f.bias".to_string(), &self.ln_f_b));
        if let Some(h) = &self.lm_head {
            v.push(("lm_head.weight".to_string(), h));
        }
        v
    }

    /// Names of tensors holding NaN or infinite values (worth a warning, not a refusal).
    pub fn non_finite(&self) -> Vec<String> {
        use rayon::prelude::*;
        self.named()
            .par_iter()
            .filter(|(_, t)| t.has_non_finite())
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Bytes the weights hold in memory (quantized tensors at their block size).
    pub fn bytes(&self) -> usize {
        self.named().iter().map(|(_, t)| t.bytes()).sum()
    }

    /// Whether any tensor is kept in quantized blocks.
    pub fn is_quantized(&self) -> bool {
        self.named().iter().any(|(_, t)| t.quant().is_some())
    }

    /// A copy with every tensor in f32 (a quantized model as it was run
    /// before the quantized kernels: the reference its products are checked
    /// against).
    pub fn dequantized(&self) -> Weights {
        let f = |t: &Tensor| t.to_f32();
        Weights {
            wte: f(&self.wte),
            wpe: f(&self.wpe),
            layers: self
                .layers
                .iter()
                .map(|l| LayerWeights {
                    ln_1_g: f(&l.ln_1_g),
                    ln_1_b: f(&l.ln_1_b),
                    attn_w: f(&l.attn_w),
                    attn_b: f(&l.attn_b),
                    attn_proj_w: f(&l.attn_proj_w),
                    attn_proj_b: f(&l.attn_proj_b),
                    ln_2_g: f(&l.ln_2_g),
                    ln_2_b: f(&l.ln_2_b),
                    fc_w: f(&l.fc_w),
                    fc_b: f(&l.fc_b),
                    mlp_proj_w: f(&l.mlp_proj_w),
                    mlp_proj_b: f(&l.mlp_proj_b),
                })
                .collect(),
            llama_layers: self
                .llama_layers
                .iter()
                .map(|l| LlamaLayerWeights {
                    attn_norm: f(&l.attn_norm),
                    wq: f(&l.wq),
                    wk: f(&l.wk),
                    wv: f(&l.wv),
                    wo: f(&l.wo),
                    mlp_norm: f(&l.mlp_norm),
                    w_gate: f(&l.w_gate),
                    w_up: f(&l.w_up),
                    w_down: f(&l.w_down),
                })
                .collect(),
            ln_f_g: f(&self.ln_f_g),
            ln_f_b: f(&self.ln_f_b),
            lm_head: self.lm_head.as_ref().map(f),
            warnings: self.warnings.clone(),
        }
    }

    /// Memory-maps `model.safetensors` and checks every tensor against the config.
    ///
    /// The config is checked against the file's size first: a config whose
    /// tensors would need more numbers than the file holds is refused before
    /// anything proportional to the config is built.
    pub fn load_safetensors(cfg: &Config, path: &Path) -> Result<Self, ModelError> {
        let io = |err| ModelError::Io {
            path: path.to_path_buf(),
            err,
        };
        let map = Arc::new(match crate::embedded::file(path) {
            Some(b) => Bytes::Static(b),
            None => {
                let file = File::open(path).map_err(io)?;
                // SAFETY: the file is opened read-only; like every mmap user we rely on
                // nobody truncating the checkpoint while gptlens runs.
                Bytes::Map(unsafe { Mmap::map(&file) }.map_err(io)?)
            }
        });
        let corrupt = |why: String| ModelError::CorruptWeights {
            path: path.to_path_buf(),
            why,
        };
        // The header is bounded by the file size and checked by the crate:
        // offsets inside the file, shape × dtype size = byte length.
        let st = SafeTensors::deserialize(&map[..]).map_err(|e| corrupt(e.to_string()))?;
        let mut shapes = BTreeMap::new();
        let mut file_values = 0u64;
        // GPT-2's tensors may carry `transformer.`, Llama's carry `model.`.
        let prefix = if cfg.is_llama() {
            "model."
        } else {
            "transformer."
        };
        for (name, view) in st.iter() {
            let short = name.strip_prefix(prefix).unwrap_or(name);
            // The causal-mask buffers older checkpoints carry are not
            // parameters, nor are older Llama checkpoints' RoPE frequencies.
            if short.ends_with("attn.bias") && view.shape().len() == 4
                || short.ends_with("attn.masked_bias")
                || short.ends_with("rotary_emb.inv_freq")
            {
                continue;
            }
            if !matches!(view.dtype(), Dtype::F32 | Dtype::F16 | Dtype::BF16) {
                return Err(ModelError::UnsupportedDtype {
                    path: path.to_path_buf(),
                    name: name.to_string(),
                    dtype: format!("{:?}", view.dtype()),
                });
            }
            let n: usize = view.shape().iter().product(); // ≤ file bytes, checked by the crate
            file_values = file_values.saturating_add(n as u64);
            shapes.insert(short.to_string(), view.shape().to_vec());
        }
        if cfg.checked_params().is_none_or(|need| need > file_values) {
            return Err(ModelError::SizeMismatch {
                path: path.to_path_buf(),
                why: size_disagreement(cfg, &shapes, file_values),
            });
        }
        let base = map.as_ptr() as usize;
        let mut named = BTreeMap::new();
        for (name, view) in st.iter() {
            let short = name.strip_prefix(prefix).unwrap_or(name).to_string();
            let name = name.to_string();
            if !shapes.contains_key(&short) {
                continue;
            }
            let shape = view.shape().to_vec();
            let bytes = view.data();
            let tensor = match view.dtype() {
                Dtype::F32 => {
                    let offset = bytes.as_ptr() as usize - base;
                    if offset.is_multiple_of(4) {
                        Tensor {
                            shape,
                            store: Store::Mapped {
                                map: map.clone(),
                                offset,
                                len: bytes.len() / 4,
                            },
                        }
                    } else {
                        let v = bytes
                            .chunks_exact(4)
                            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                            .collect();
                        Tensor::from_vec(shape, v)
                    }
                }
                Dtype::F16 => Tensor::from_vec(
                    shape,
                    bytes
                        .chunks_exact(2)
                        .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                        .collect(),
                ),
                Dtype::BF16 => Tensor::from_vec(
                    shape,
                    bytes
                        .chunks_exact(2)
                        .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                        .collect(),
                ),
                other => {
                    return Err(ModelError::UnsupportedDtype {
                        path: path.to_path_buf(),
                        name,
                        dtype: format!("{other:?}"),
                    });
                }
            };
            named.insert(short, tensor);
        }
        Weights::from_named(cfg, named, &path.display().to_string())
    }

    /// Writes the weights as `model.safetensors` with GPT-2's tensor names
    /// (no prefix; the head only when untied), as `transformers` saves them.
    pub fn save_safetensors(&self, path: &Path) -> Result<(), ModelError> {
        let llama = self.is_llama();
        let tensors: Vec<(String, &[usize], &[f32])> = self
            .named()
            .into_iter()
            .map(|(n, t)| {
                // LlamaForCausalLM's names: everything but the head under `model.`.
                let n = if llama && n != "lm_head.weight" {
                    format!("model.{n}")
                } else {
                    n
                };
                (n, t.shape.as_slice(), t.data())
            })
            .collect();
        write_safetensors(path, &tensors, &[("format", "pt")])
    }
}

/// Writes f32 tensors in the safetensors format (8-byte length, JSON header padded
/// to 8 bytes, then the little-endian data).
pub fn write_safetensors(
    path: &Path,
    tensors: &[(String, &[usize], &[f32])],
    metadata: &[(&str, &str)],
) -> Result<(), ModelError> {
    use std::io::Write;
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        let m: serde_json::Map<String, serde_json::Value> = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
            .collect();
        header.insert("__metadata__".into(), m.into());
    }
    let mut offset = 0usize;
    for (name, shape, data) in tensors {
        let bytes = data.len() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let mut h = serde_json::to_string(&header).expect("json");
    while !h.len().is_multiple_of(8) {
        h.push(' ');
    }
    let io = |err| ModelError::Write {
        path: path.to_path_buf(),
        err,
    };
    let mut f = std::io::BufWriter::new(File::create(path).map_err(io)?);
    f.write_all(&(h.len() as u64).to_le_bytes()).map_err(io)?;
    f.write_all(h.as_bytes()).map_err(io)?;
    for (_, _, data) in tensors {
        f.write_all(bytemuck::cast_slice(data)).map_err(io)?;
    }
    f.flush().map_err(io)
}
