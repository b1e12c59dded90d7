//! A Llama model from a GGUF file (llama.cpp's format): the `llama.*`
//! metadata read into a [`Config`], ggml's tensor names mapped onto
//! `LlamaForCausalLM`'s (with the Q/K row order llama.cpp's converter
//! permutes undone), the tokenizer built from `tokenizer.ggml.*` as a
//! `tokenizers` tokenizer.json, and the chat template.
//!
//! Matrices in Q8_0, Q4_0, Q4_1 or F16 stay in their blocks (the pass
//! multiplies them as they are, `quant::QMatrix`; Q/K rows un-permuted as
//! whole rows of blocks); other tensors become f32, and a non-F32 one that
//! did is named in a [`LoadWarning::Dequantized`].

use std::collections::BTreeMap;
use std::path::Path;

use super::{Config, Gpt, LoadWarning, ModelError, Tensor, Weights};
use crate::gguf::{GgufFile, TensorInfo, Value};
use crate::quant::matrix::MATRIX_TYPES;
use crate::quant::{GgmlType, QMatrix};

/// A GGUF model opened: the engine model and what a model folder would hold
/// beside the weights.
pub struct GgufModel {
    pub gpt: Gpt,
    /// A byte-level BPE tokenizer.json built from `tokenizer.ggml.*`.
    pub tokenizer_json: String,
    /// `tokenizer.chat_template`, if the file has one.
    pub chat_template: Option<String>,
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    /// The file it was opened from (named in the companion folder, so that
    /// an error in its chat template points at the GGUF).
    pub path: std::path::PathBuf,
}

/// ggml's name of each tensor → the Llama name [`Weights`] expects.
fn hf_name(gguf: &str) -> Option<String> {
    let fixed = match gguf {
        "token_embd.weight" => Some("embed_tokens.weight"),
        "output_norm.weight" => Some("norm.weight"),
        "output.weight" => Some("lm_head.weight"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some(f.to_string());
    }
    let rest = gguf.strip_prefix("blk.")?;
    let (i, part) = rest.split_once('.')?;
    let i: usize = i.parse().ok()?;
    let hf = match part {
        "attn_norm.weight" => "input_layernorm.weight",
        "attn_q.weight" => "self_attn.q_proj.weight",
        "attn_k.weight" => "self_attn.k_proj.weight",
        "attn_v.weight" => "self_attn.v_proj.weight",
        "attn_output.weight" => "self_attn.o_proj.weight",
        "ffn_norm.weight" => "post_attention_layernorm.weight",
        "ffn_gate.weight" => "mlp.gate_proj.weight",
        "ffn_up.weight" => "mlp.up_proj.weight",
        "ffn_down.weight" => "mlp.down_proj.weight",
        _ => return None,
    };
    Some(format!("layers.{i}.{hf}"))
}

/// Undoes llama.cpp's Q/K permutation. Its converter reorders each head's
/// rows from transformers' halves layout (row j·d/2 + i) to interleaved pairs
/// (row 2i + j), for its RoPE kernel; transformers' rotate_half (and this
/// engine's) pairs row i with row i + d/2. `w` is [heads·d, cols] row-major
/// (f32 values, or a quantized matrix's bytes with `cols` its row bytes).
pub fn unpermute_rows<T: Copy + Default>(w: &[T], heads: usize, cols: usize) -> Vec<T> {
    let rows = w.len() / cols.max(1);
    let d = rows / heads.max(1);
    let half = d / 2;
    let mut out = vec![T::default(); w.len()];
    for h in 0..heads {
        for i in 0..half {
            for j in 0..2 {
                let src = h * d + 2 * i + j;
                let dst = h * d + j * half + i;
                out[dst * cols..(dst + 1) * cols].copy_from_slice(&w[src * cols..(src + 1) * cols]);
            }
        }
    }
    out
}

pub(super) fn gguf_err(e: crate::gguf::GgufError) -> ModelError {
    ModelError::Gguf(e.to_string())
}

impl GgufModel {
    /// Whether `path` is a GGUF file of architecture `llama` (false for
    /// anything unreadable: the opener then says what is wrong).
    pub fn is_llama_file(path: &Path) -> bool {
        crate::gguf::gpt2::is_gguf(path)
            && GgufFile::open(path).is_ok_and(|f| {
                f.get("general.architecture").and_then(Value::as_str) == Some("llama")
            })
    }

    /// Opens a `llama` GGUF file, refusing other architectures, tokenizers
    /// other than byte-level BPE, and sizes that disagree.
    pub fn open(path: &Path) -> Result<Self, ModelError> {
        let f = GgufFile::open(path).map_err(gguf_err)?;
        let bad = |m: String| ModelError::Gguf(format!("{}: {m}", path.display()));
        let arch = f
            .get("general.architecture")
            .and_then(Value::as_str)
            .unwrap_or("(none)");
        if arch != "llama" {
            return Err(bad(format!(
                "general.architecture is \"{arch}\"; gptlens runs llama GGUF files (and {} model folders)",
                super::SUPPORTED
            )));
        }
        let int = |k: &str| -> Result<usize, ModelError> {
            f.get(k)
                .and_then(Value::as_u64)
                .and_then(|v| usize::try_from(v).ok())
                .ok_or_else(|| bad(format!("metadata {k} is missing or not a whole number")))
        };
        let tokens = f
            .get("tokenizer.ggml.tokens")
            .and_then(Value::as_strings)
            .ok_or_else(|| bad("metadata tokenizer.ggml.tokens is missing".into()))?;
        let n_head = int("llama.attention.head_count")?;
        let n_embd = int("llama.embedding_length")?;
        let vocab = match f.get("llama.vocab_size").and_then(Value::as_u64) {
            Some(v) => v as usize,
            None => tokens.len(),
        };
        if vocab != tokens.len() {
            return Err(ModelError::VocabMismatch(format!(
                "{}: llama.vocab_size is {vocab} but tokenizer.ggml.tokens has {} tokens",
                path.display(),
                tokens.len()
            )));
        }
        if let Some(t) = f
            .get("llama.rope.scaling.type")
            .and_then(Value::as_str)
            .filter(|t| *t != "none")
        {
            return Err(bad(format!(
                "llama.rope.scaling.type is \"{t}\"; gptlens runs the default RoPE only"
            )));
        }
        if f.tensor("rope_freqs.weight").is_some() {
            return Err(bad(
                "the file has rope_freqs.weight (Llama 3's scaled RoPE); gptlens runs the default RoPE only".into(),
            ));
        }
        let mut cfg = Config::llama(
            int("llama.block_count")?,
            n_head,
            match f.get("llama.attention.head_count_kv") {
                Some(v) => v.as_u64().unwrap_or(0) as usize,
                None => n_head,
            },
            n_embd,
            int("llama.feed_forward_length")?,
            vocab,
            int("llama.context_length")?,
            f.get("llama.rope.freq_base")
                .and_then(Value::as_f64)
                .unwrap_or(10000.0),
        );
        if let Some(eps) = f
            .get("llama.attention.layer_norm_rms_epsilon")
            .and_then(Value::as_f64)
        {
            // Stored as f32: 1e-5 reads back as 9.99999974e-6; keep f32's value.
            cfg.layer_norm_epsilon = eps;
        }
        cfg.tie_word_embeddings = f.tensor("output.weight").is_none();
        let id = |k: &str| {
            f.get(k)
                .and_then(Value::as_u64)
                .and_then(|v| u32::try_from(v).ok())
        };
        cfg.bos_token_id = id("tokenizer.ggml.bos_token_id");
        cfg.eos_token_id = id("tokenizer.ggml.eos_token_id");
        cfg.validate().map_err(|e| bad(e.to_string()))?;
        if let Some(rd) = f.get("llama.rope.dimension_count").and_then(Value::as_u64)
            && rd as usize != cfg.head_dim()
        {
            return Err(bad(format!(
                "llama.rope.dimension_count is {rd} but the head width is {}; gptlens rotates whole heads",
                cfg.head_dim()
            )));
        }
        let tokenizer_json = tokenizer_json(&f, &tokens).map_err(bad)?;

        // Sizes before allocation: every expected tensor present with its
        // shape, checked from the infos before anything is dequantized.
        let expected: BTreeMap<String, Vec<usize>> =
            super::expected_tensors(&cfg).into_iter().collect();
        let mut infos: Vec<(&TensorInfo, String)> = vec![];
        let mut unknown = vec![];
        for t in f.tensors() {
            match hf_name(&t.name) {
                Some(n) if expected.contains_key(&n) => infos.push((t, n)),
                _ => unknown.push(t.name.clone()),
            }
        }
        for (t, n) in &infos {
            let want = &expected[n];
            if &t.shape() != want {
                if n == "embed_tokens.weight" && t.shape().first() != want.first() {
                    return Err(ModelError::VocabMismatch(format!(
                        "{}: the vocabulary has {vocab} tokens but token_embd.weight has {} rows",
                        path.display(),
                        t.shape().first().copied().unwrap_or(0)
                    )));
                }
                return Err(ModelError::TensorShape {
                    name: t.name.clone(),
                    expected: want.clone(),
                    found: t.shape(),
                });
            }
        }
        // Non-F32 tensors expanded to f32 (the warning's list) and their bytes.
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut expanded = 0u64;
        let mut named = BTreeMap::new();
        for (t, n) in infos {
            let heads = if n.ends_with("q_proj.weight") {
                Some(cfg.n_head)
            } else if n.ends_with("k_proj.weight") {
                Some(cfg.n_kv_head())
            } else {
                None
            };
            let shape = t.shape();
            if let [rows, cols] = shape[..]
                && MATRIX_TYPES.contains(&t.ty)
            {
                // Kept in blocks; a row of blocks moves as a whole.
                let mut bytes = f.data(t).to_vec();
                if let Some(h) = heads {
                    bytes = unpermute_rows(&bytes, h, bytes.len() / rows.max(1));
                }
                let q = QMatrix::new(t.ty, rows, cols, bytes)
                    .map_err(|e| bad(format!("tensor {}: {e}", t.name)))?;
                named.insert(n, Tensor::quantized(q, false));
                continue;
            }
            let mut data = f.dequantize(t).map_err(gguf_err)?;
            let cols = shape.last().copied().unwrap_or(1);
            if let Some(h) = heads {
                data = unpermute_rows(&data, h, cols);
            }
            if t.ty != GgmlType::F32 {
                *counts.entry(t.ty.name()).or_default() += 1;
                expanded += data.len() as u64 * 4;
            }
            named.insert(n, Tensor::from_vec(shape, data));
        }
        let mut weights = Weights::from_named(&cfg, named, &path.display().to_string())?;
        if !unknown.is_empty() {
            weights
                .warnings
                .push(LoadWarning::UnexpectedTensors { names: unknown });
        }
        let quantized: Vec<(String, usize)> = counts
            .iter()
            .filter(|(ty, _)| **ty != GgmlType::F32.name())
            .map(|(ty, n)| (ty.to_string(), *n))
            .collect();
        if !quantized.is_empty() {
            weights.warnings.push(LoadWarning::Dequantized {
                types: quantized,
                bytes: expanded,
            });
        }
        let token = |k: &str| {
            id(k)
                .and_then(|i| tokens.get(i as usize))
                .map(|s| s.to_string())
        };
        Ok(GgufModel {
            chat_template: f
                .get("tokenizer.chat_template")
                .and_then(Value::as_str)
                .map(str::to_string),
            bos_token: token("tokenizer.ggml.bos_token_id"),
            eos_token: token("tokenizer.ggml.eos_token_id"),
            path: path.to_path_buf(),
            tokenizer_json,
            gpt: Gpt {
                config: cfg,
                weights,
            },
        })
    }

    /// Where the companion files of `path` go: a folder per GGUF file (named
    /// by its stem and a hash of its absolute path and size) under
    /// $GPTLENS_CACHE, else ~/.cache/gptlens, else the temp dir, in `gguf/`.
    pub fn companion_dir(path: &Path) -> std::path::PathBuf {
        let base = std::env::var_os("GPTLENS_CACHE")
            .map(std::path::PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/gptlens"))
            })
            .unwrap_or_else(std::env::temp_dir);
        let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        // FNV-1a: stable across runs and platforms (std's hasher is not).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in abs.to_string_lossy().bytes().chain(len.to_le_bytes()) {
            h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        let stem = path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy());
        base.join("gguf").join(format!("{stem}-{h:016x}"))
    }

    /// Writes what a model folder holds beside the weights into `dir`:
    /// config.json, tokenizer.json and tokenizer_config.json (the chat
    /// template and its special tokens, where `--chat` reads them).
    pub fn write_companion(&self, dir: &Path) -> Result<(), ModelError> {
        let w = |name: &str, text: &str| {
            std::fs::write(dir.join(name), text).map_err(|err| ModelError::Write {
                path: dir.join(name),
                err,
            })
        };
        std::fs::create_dir_all(dir).map_err(|err| ModelError::Write {
            path: dir.to_path_buf(),
            err,
        })?;
        self.gpt.config.write(&dir.join("config.json"))?;
        w("tokenizer.json", &self.tokenizer_json)?;
        let mut tc = serde_json::json!({"tokenizer_class": "GPT2TokenizerFast"});
        if let Some(t) = &self.chat_template {
            tc["chat_template"] = t.clone().into();
            // Where the template really lives, for its error messages.
            tc[crate::finetune::GGUF_FILE_KEY] = self.path.to_string_lossy().into_owned().into();
        }
        if let Some(b) = &self.bos_token {
            tc["bos_token"] = b.clone().into();
        }
        if let Some(e) = &self.eos_token {
            tc["eos_token"] = e.clone().into();
        }
        w(
            "tokenizer_config.json",
            &(serde_json::to_string_pretty(&tc).expect("json") + "\n"),
        )
    }
}

/// The pre-tokenizer llama.cpp's `tokenizer.ggml.pre` names, as a
/// tokenizer.json `pre_tokenizer`.
fn pre_tokenizer(pre: &str) -> Result<serde_json::Value, String> {
    let byte_level = serde_json::json!({
        "type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true
    });
    match pre {
        "gpt2" | "default" => Ok(byte_level),
        // SmolLM: every digit on its own, then GPT-2's split.
        "smollm" => Ok(serde_json::json!({"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": true}, byte_level]})),
        other => Err(format!(
            "tokenizer.ggml.pre is \"{other}\"; gptlens builds the \"gpt2\" and \"smollm\" pre-tokenizers (another one would split text differently from the model's training)"
        )),
    }
}

/// A tokenizer.json for the byte-level BPE in `tokenizer.ggml.*`; control
/// and user-defined tokens become added tokens (control ones special).
fn tokenizer_json(f: &GgufFile, tokens: &[&str]) -> Result<String, String> {
    let model = f
        .get("tokenizer.ggml.model")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    if model != "gpt2" {
        return Err(format!(
            "tokenizer.ggml.model is \"{model}\"; gptlens needs a byte-level BPE tokenizer (\"gpt2\", as GPT-2, SmolLM and Llama 3 have), because it shows each token as a run of bytes"
        ));
    }
    let pre = f
        .get("tokenizer.ggml.pre")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let merges = f
        .get("tokenizer.ggml.merges")
        .and_then(Value::as_strings)
        .ok_or("metadata tokenizer.ggml.merges is missing")?;
    let types: Vec<u64> = f
        .get("tokenizer.ggml.token_type")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|v| v.as_u64().unwrap_or(1)).collect())
        .unwrap_or_default();
    let mut vocab = serde_json::Map::new();
    let mut added = vec![];
    for (i, t) in tokens.iter().enumerate() {
        if vocab.insert(t.to_string(), i.into()).is_some() {
            return Err(format!("token {t:?} occurs twice in tokenizer.ggml.tokens"));
        }
        // ggml token types: 3 control, 4 user-defined.
        let ty = types.get(i).copied().unwrap_or(1);
        if ty == 3 || ty == 4 {
            added.push(
                serde_json::json!({"id": i, "content": t, "single_word": false,
                "lstrip": false, "rstrip": false, "normalized": false, "special": ty == 3}),
            );
        }
    }
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": added, "normalizer": null,
        "pre_tokenizer": pre_tokenizer(pre)?,
        "post_processor": null,
        "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
            "vocab": vocab, "merges": merges},
    });
    Ok(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpermute_inverts_llama_cpp_permutation() {
        // llama.cpp: w.reshape(heads, 2, d/2, cols).swapaxes(1, 2).reshape(w.shape).
        let (heads, d, cols) = (3, 6, 2);
        let hf: Vec<f32> = (0..heads * d * cols).map(|x| x as f32).collect();
        let mut gguf = vec![0.0; hf.len()];
        for h in 0..heads {
            for j in 0..2 {
                for i in 0..d / 2 {
                    let src = h * d + j * (d / 2) + i; // [h, j, i]
                    let dst = h * d + i * 2 + j; // [h, i, j]
                    gguf[dst * cols..(dst + 1) * cols]
                        .copy_from_slice(&hf[src * cols..(src + 1) * cols]);
                }
            }
        }
        assert_ne!(gguf, hf);
        assert_eq!(unpermute_rows(&gguf, heads, cols), hf);
    }

    #[test]
    fn ggml_names_map_onto_llama_names() {
        assert_eq!(
            hf_name("blk.12.attn_k.weight").as_deref(),
            Some("layers.12.self_attn.k_proj.weight")
        );
        assert_eq!(
            hf_name("token_embd.weight").as_deref(),
            Some("embed_tokens.weight")
        );
        assert_eq!(hf_name("blk.x.attn_k.weight"), None);
        assert_eq!(hf_name("rope_freqs.weight"), None);
    }
}
