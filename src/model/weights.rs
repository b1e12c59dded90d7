//! GPT-2 weights: read from `model.safetensors` (memory-mapped) or built in memory,
//! and written back in the same Hugging Face layout.
//!
//! Invariant: every tensor is f32, row-major, with GPT-2's Conv1D layout
//! (`[in, out]`) for the four per-layer matrices. Files with f16/bf16 tensors are
//! converted to owned f32 on load; f32 tensors stay in the mapping, so thirty
//! gptlens processes on one server share one copy of the weights.

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::{Config, ModelError};

/// One f32 tensor, either borrowed from the file mapping or owned.
#[derive(Clone)]
pub struct Tensor {
    pub shape: Vec<usize>,
    store: Store,
}

#[derive(Clone)]
enum Store {
    Mapped {
        map: Arc<Mmap>,
        offset: usize,
        len: usize,
    },
    Owned(Arc<Vec<f32>>),
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

    pub fn data(&self) -> &[f32] {
        match &self.store {
            Store::Mapped { map, offset, len } => {
                bytemuck::cast_slice(&map[*offset..*offset + len * 4])
            }
            Store::Owned(v) => v,
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

/// All weights of a GPT-2 model. `lm_head` is tied to `wte` and not stored.
#[derive(Clone, Debug)]
pub struct Weights {
    pub wte: Tensor, // [V, C]
    pub wpe: Tensor, // [P, C]
    pub layers: Vec<LayerWeights>,
    pub ln_f_g: Tensor, // [C]
    pub ln_f_b: Tensor, // [C]
}

/// The GPT-2 name (without `transformer.`) and expected shape of every tensor.
pub fn expected_tensors(cfg: &Config) -> Vec<(String, Vec<usize>)> {
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
    v
}

impl Weights {
    /// Builds the weights from named tensors (GPT-2 names, no prefix),
    /// checking that each is present with the shape the config implies.
    pub fn from_named(
        cfg: &Config,
        mut named: BTreeMap<String, Tensor>,
        source: &str,
    ) -> Result<Self, ModelError> {
        for (name, shape) in expected_tensors(cfg) {
            match named.get(&name) {
                None => {
                    return Err(ModelError::MissingTensor {
                        name,
                        file: source.to_string(),
                    });
                }
                Some(t) if t.shape != shape => {
                    return Err(ModelError::TensorShape {
                        name,
                        expected: shape,
                        found: t.shape.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        let mut take = |n: String| named.remove(&n).expect("checked above");
        let layers = (0..cfg.n_layer)
            .map(|i| LayerWeights {
                ln_1_g: take(format!("h.{i}.ln_1.weight")),
                ln_1_b: take(format!("h.{i}.ln_1.bias")),
                attn_w: take(format!("h.{i}.attn.c_attn.weight")),
                attn_b: take(format!("h.{i}.attn.c_attn.bias")),
                attn_proj_w: take(format!("h.{i}.attn.c_proj.weight")),
                attn_proj_b: take(format!("h.{i}.attn.c_proj.bias")),
                ln_2_g: take(format!("h.{i}.ln_2.weight")),
                ln_2_b: take(format!("h.{i}.ln_2.bias")),
                fc_w: take(format!("h.{i}.mlp.c_fc.weight")),
                fc_b: take(format!("h.{i}.mlp.c_fc.bias")),
                mlp_proj_w: take(format!("h.{i}.mlp.c_proj.weight")),
                mlp_proj_b: take(format!("h.{i}.mlp.c_proj.bias")),
            })
            .collect();
        Ok(Weights {
            wte: take("wte.weight".into()),
            wpe: take("wpe.weight".into()),
            layers,
            ln_f_g: take("ln_f.weight".into()),
            ln_f_b: take("ln_f.bias".into()),
        })
    }

    /// Every tensor with its GPT-2 name, in file order.
    pub fn named(&self) -> Vec<(String, &Tensor)> {
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
        v
    }

    /// Names of tensors holding NaN or infinite values (worth a warning, not a refusal).
    pub fn non_finite(&self) -> Vec<String> {
        use rayon::prelude::*;
        self.named()
            .par_iter()
            .filter(|(_, t)| t.data().iter().any(|x| !x.is_finite()))
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Memory-maps `model.safetensors` and checks every tensor against the config.
    pub fn load_safetensors(cfg: &Config, path: &Path) -> Result<Self, ModelError> {
        let file = File::open(path).map_err(|e| ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        // SAFETY: the file is opened read-only; like every mmap user we rely on
        // nobody truncating the checkpoint while gptlens runs.
        let map = Arc::new(unsafe { Mmap::map(&file) }.map_err(|e| ModelError::Io {
            path: path.to_path_buf(),
            source: e,
        })?);
        let corrupt = |why: String| ModelError::CorruptWeights {
            path: path.to_path_buf(),
            why,
        };
        let st = SafeTensors::deserialize(&map[..]).map_err(|e| corrupt(e.to_string()))?;
        let base = map.as_ptr() as usize;
        let mut named = BTreeMap::new();
        for (name, view) in st.tensors() {
            let short = name
                .strip_prefix("transformer.")
                .unwrap_or(&name)
                .to_string();
            // The tied head, and the causal-mask buffers older checkpoints carry.
            if short.starts_with("lm_head")
                || short.ends_with("attn.bias") && view.shape().len() == 4
                || short.ends_with("attn.masked_bias")
            {
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
                    return Err(corrupt(format!(
                        "tensor {name} has dtype {other:?}; gptlens reads F32, F16 and BF16 weights"
                    )));
                }
            };
            named.insert(short, tensor);
        }
        Weights::from_named(cfg, named, &path.display().to_string())
    }

    /// Writes the weights as `model.safetensors` with GPT-2's tensor names
    /// (no prefix, tied head omitted), as `transformers` saves them.
    pub fn save_safetensors(&self, path: &Path) -> Result<(), ModelError> {
        let tensors: Vec<(String, &[usize], &[f32])> = self
            .named()
            .into_iter()
            .map(|(n, t)| (n, t.shape.as_slice(), t.data()))
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
    let io = |e| ModelError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut f = std::io::BufWriter::new(File::create(path).map_err(io)?);
    f.write_all(&(h.len() as u64).to_le_bytes()).map_err(io)?;
    f.write_all(h.as_bytes()).map_err(io)?;
    for (_, _, data) in tensors {
        f.write_all(bytemuck::cast_slice(data)).map_err(io)?;
    }
    f.flush().map_err(io)
}
