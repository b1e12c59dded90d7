//! A GPT-2 as llama.cpp's converter writes it to GGUF (architecture `gpt2`):
//! the metadata keys, the tensor names, the tokenizer inside, and the way
//! back into the engine's [`Weights`].
//!
//! llama.cpp stores weight matrices as torch's `Linear` does, `[out, in]`
//! (so each row, `dims[0]` = in, is what a block of 32 runs along), while
//! GPT-2's Conv1D and the engine keep `[in, out]`: the four block matrices are
//! transposed on the way out; on the way in, quantized ones stay `[out, in]`
//! in their blocks (a `Tensor::quantized` marked transposed), f32 ones are
//! transposed; the embeddings are `[V, C]` in both.

use std::collections::BTreeMap;
use std::path::Path;

use super::{GgufError, GgufFile, GgufWriter, Value, ValueType};
use crate::model::{Config, Gpt, Tensor, Weights};
use crate::quant::matrix::MATRIX_TYPES;
use crate::quant::{self, GgmlType, QMatrix};
use crate::tokenizer::Tokenizer;

/// The architectures whose GGUF files gptlens opens.
pub const ARCHITECTURES: &[&str] = &["gpt2"];

/// ggml's `llama_ftype` for a file whose matrices are mostly `ty`.
fn file_type(ty: GgmlType) -> u32 {
    match ty {
        GgmlType::F32 => 0,
        GgmlType::F16 => 1,
        GgmlType::Q4_0 => 2,
        GgmlType::Q4_1 => 3,
        GgmlType::Q8_0 => 7,
        _ => 0,
    }
}

// llama.cpp's token types.
const TOKEN_NORMAL: i32 = 1;
const TOKEN_CONTROL: i32 = 3;
const TOKEN_USER_DEFINED: i32 = 4;
const TOKEN_UNUSED: i32 = 5;

/// (engine name, GGUF name, transposed) for every tensor of `cfg`.
pub fn tensor_names(cfg: &Config) -> Vec<(String, String, bool)> {
    let mut v = vec![
        ("wte.weight".into(), "token_embd.weight".into(), false),
        ("wpe.weight".into(), "position_embd.weight".into(), false),
    ];
    for i in 0..cfg.n_layer {
        let pair =
            |hf: &str, gg: &str, t: bool| (format!("h.{i}.{hf}"), format!("blk.{i}.{gg}"), t);
        v.extend([
            pair("ln_1.weight", "attn_norm.weight", false),
            pair("ln_1.bias", "attn_norm.bias", false),
            pair("attn.c_attn.weight", "attn_qkv.weight", true),
            pair("attn.c_attn.bias", "attn_qkv.bias", false),
            pair("attn.c_proj.weight", "attn_output.weight", true),
            pair("attn.c_proj.bias", "attn_output.bias", false),
            pair("ln_2.weight", "ffn_norm.weight", false),
            pair("ln_2.bias", "ffn_norm.bias", false),
            pair("mlp.c_fc.weight", "ffn_up.weight", true),
            pair("mlp.c_fc.bias", "ffn_up.bias", false),
            pair("mlp.c_proj.weight", "ffn_down.weight", true),
            pair("mlp.c_proj.bias", "ffn_down.bias", false),
        ]);
    }
    v.push(("ln_f.weight".into(), "output_norm.weight".into(), false));
    v.push(("ln_f.bias".into(), "output_norm.bias".into(), false));
    if !cfg.tie_word_embeddings {
        v.push(("lm_head.weight".into(), "output.weight".into(), false));
    }
    v
}

/// `[r, c]` row-major → `[c, r]`.
fn transpose(x: &[f32], r: usize, c: usize) -> Vec<f32> {
    let mut out = vec![0.0; x.len()];
    for i in 0..r {
        for j in 0..c {
            out[j * r + i] = x[i * c + j];
        }
    }
    out
}

/// One tensor written in another type than asked for, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub tensor: String,
    pub ty: GgmlType,
    pub why: String,
}

impl std::fmt::Display for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} kept in {}: {}", self.tensor, self.ty, self.why)
    }
}

/// The type a tensor is written in when the file is mostly `ty`: matrices
/// `ty` (the position table stays F32 unless `ty` is F16: the figures
/// quantize every matrix but it), vectors F32, rows that are no whole number
/// of blocks F16 (said in the returned [`Kept`]).
fn type_for(gguf_name: &str, shape: &[usize], ty: GgmlType) -> (GgmlType, Option<Kept>) {
    if shape.len() < 2 {
        return (GgmlType::F32, None);
    }
    if gguf_name == "position_embd.weight" && ty != GgmlType::F16 {
        return (GgmlType::F32, None);
    }
    let row = shape[shape.len() - 1];
    if !row.is_multiple_of(ty.block_len()) {
        let kept = Kept {
            tensor: gguf_name.to_string(),
            ty: GgmlType::F16,
            why: format!(
                "its rows are {row} long, not a multiple of {ty}'s block of {}",
                ty.block_len()
            ),
        };
        return (GgmlType::F16, Some(kept));
    }
    (ty, None)
}

/// Tokens, token types and merges of a byte-level BPE tokenizer, padded to
/// `vocab` ids with `[PAD{id}]` (type unused) as llama.cpp's converter does.
fn tokenizer_metadata(
    tok: &Tokenizer,
    vocab: usize,
) -> Result<Vec<(&'static str, Value)>, GgufError> {
    let inner = tok.inner();
    let json = inner
        .to_string(false)
        .map_err(|e| GgufError::Input(format!("cannot serialize the tokenizer: {e}")))?;
    let v: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| GgufError::Input(format!("cannot read the tokenizer back: {e}")))?;
    let mut tokens: Vec<Option<(String, i32)>> = vec![None; vocab];
    for (text, id) in inner.get_vocab(false) {
        if let Some(slot) = tokens.get_mut(id as usize) {
            *slot = Some((text, TOKEN_NORMAL));
        }
    }
    for a in v["added_tokens"].as_array().into_iter().flatten() {
        if let (Some(id), Some(text)) = (a["id"].as_u64(), a["content"].as_str())
            && let Some(slot) = tokens.get_mut(id as usize)
        {
            let ty = if a["special"].as_bool() == Some(true) {
                TOKEN_CONTROL
            } else {
                TOKEN_USER_DEFINED
            };
            *slot = Some((text.to_string(), ty));
        }
    }
    let (texts, types): (Vec<Value>, Vec<Value>) = tokens
        .into_iter()
        .enumerate()
        .map(|(i, t)| match t {
            Some((s, ty)) => (Value::String(s), Value::I32(ty)),
            None => (Value::String(format!("[PAD{i}]")), Value::I32(TOKEN_UNUSED)),
        })
        .unzip();
    let mut merges = vec![];
    for m in v["model"]["merges"].as_array().into_iter().flatten() {
        // Either "a b" or ["a", "b"] (newer tokenizers write pairs).
        let s = match m {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(p) if p.len() == 2 => {
                let (a, b) = (p[0].as_str().unwrap_or(""), p[1].as_str().unwrap_or(""));
                if a.contains(' ') || b.contains(' ') {
                    return Err(GgufError::Input(format!(
                        "the merge {a:?} + {b:?} holds a space, which GGUF's \"a b\" merges cannot say"
                    )));
                }
                format!("{a} {b}")
            }
            _ => return Err(GgufError::Input(format!("unreadable merge {m}"))),
        };
        merges.push(Value::String(s));
    }
    let mut out = vec![
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("gpt-2".into())),
        (
            "tokenizer.ggml.tokens",
            Value::Array(ValueType::String, texts),
        ),
        (
            "tokenizer.ggml.token_type",
            Value::Array(ValueType::I32, types),
        ),
        (
            "tokenizer.ggml.merges",
            Value::Array(ValueType::String, merges),
        ),
    ];
    if let Some(eot) = tok.end_of_text() {
        out.push(("tokenizer.ggml.bos_token_id", Value::U32(eot)));
        out.push(("tokenizer.ggml.eos_token_id", Value::U32(eot)));
    }
    Ok(out)
}

/// Writes `gpt` (with its tokenizer) as a GGUF of mostly `ty` to `path`.
/// Returns the tensors kept in another type than `ty`, each with the reason.
pub fn write(
    gpt: &Gpt,
    tok: &Tokenizer,
    ty: GgmlType,
    name: &str,
    path: &Path,
) -> Result<Vec<Kept>, GgufError> {
    if !ty.runnable() {
        return Err(GgufError::Input(format!(
            "gptlens writes F32, F16, Q8_0, Q4_1 and Q4_0, not {ty}"
        )));
    }
    let cfg = &gpt.config;
    let mut w = GgufWriter::new();
    let s = |x: &str| Value::String(x.into());
    let u = |x: usize| Value::U32(x as u32);
    w.set("general.architecture", s("gpt2"));
    w.set("general.name", s(name));
    w.set("general.file_type", Value::U32(file_type(ty)));
    if ty.block_len() > 1 {
        w.set("general.quantization_version", Value::U32(2));
    }
    w.set("gpt2.block_count", u(cfg.n_layer));
    w.set("gpt2.context_length", u(cfg.n_positions));
    w.set("gpt2.embedding_length", u(cfg.n_embd));
    w.set("gpt2.feed_forward_length", u(cfg.mlp_dim()));
    w.set("gpt2.attention.head_count", u(cfg.n_head));
    w.set(
        "gpt2.attention.layer_norm_epsilon",
        Value::F32(cfg.layer_norm_epsilon as f32),
    );
    for (k, v) in tokenizer_metadata(tok, cfg.vocab_size)? {
        w.set(k, v);
    }
    let named: BTreeMap<String, &Tensor> = gpt.weights.named().into_iter().collect();
    let mut kept = vec![];
    for (hf, gg, transposed) in tensor_names(cfg) {
        let t = named[&hf];
        let (data, shape) = if transposed {
            let (r, c) = (t.shape[0], t.shape[1]);
            (transpose(t.data(), r, c), vec![c, r])
        } else {
            (t.data().to_vec(), t.shape.clone())
        };
        let (tty, why) = type_for(&gg, &shape, ty);
        kept.extend(why);
        let bytes =
            quant::quantize(tty, &data).map_err(|e| GgufError::Input(format!("{gg}: {e}")))?;
        w.add_tensor(&gg, &shape, tty, bytes)?;
    }
    w.write(path)?;
    Ok(kept)
}

/// What opening a GGUF found, for the CLI to say.
#[derive(Clone, Debug)]
pub struct Opened {
    /// Tensors per type, e.g. [(Q4_0, 25), (F32, 50)].
    pub types: Vec<(GgmlType, usize)>,
    /// The file's tensor bytes (what the weights take in memory too).
    pub bytes: u64,
}

fn meta_err(f: &GgufFile, why: String) -> GgufError {
    GgufError::Metadata {
        path: f.path().to_path_buf(),
        why,
    }
}

fn meta_u(f: &GgufFile, key: &str) -> Result<usize, GgufError> {
    match f.get(key) {
        None => Err(meta_err(
            f,
            format!("{key} is missing; a gpt2 GGUF from llama.cpp's converter has it"),
        )),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| meta_err(f, format!("{key} is {v:?}, not a whole number"))),
    }
}

/// The tokenizer a gpt2 GGUF carries, as a byte-level BPE tokenizer.json.
fn tokenizer_from(f: &GgufFile) -> Result<Tokenizer, GgufError> {
    let model = f.get("tokenizer.ggml.model").and_then(Value::as_str);
    if model != Some("gpt2") {
        return Err(meta_err(
            f,
            format!(
                "tokenizer.ggml.model is {model:?}; gptlens reads byte-level BPE tokenizers (\"gpt2\")"
            ),
        ));
    }
    let strings = |key: &str| -> Result<Vec<&str>, GgufError> {
        f.get(key)
            .and_then(Value::as_strings)
            .ok_or_else(|| meta_err(f, format!("{key} is missing or not a string array")))
    };
    let tokens = strings("tokenizer.ggml.tokens")?;
    let merges = strings("tokenizer.ggml.merges")?;
    let types: Vec<i64> = match f.get("tokenizer.ggml.token_type").and_then(Value::as_array) {
        Some(a) => a
            .iter()
            .map(|v| v.as_f64().map_or(TOKEN_NORMAL as i64, |x| x as i64))
            .collect(),
        None => vec![TOKEN_NORMAL as i64; tokens.len()],
    };
    if types.len() != tokens.len() {
        return Err(meta_err(
            f,
            format!(
                "tokenizer.ggml.token_type has {} entries but tokenizer.ggml.tokens has {}",
                types.len(),
                tokens.len()
            ),
        ));
    }
    let mut vocab = serde_json::Map::new();
    let mut added = vec![];
    for (id, (t, ty)) in tokens.iter().zip(&types).enumerate() {
        if *ty == TOKEN_UNUSED as i64 {
            continue;
        }
        if vocab.insert(t.to_string(), id.into()).is_some() {
            return Err(meta_err(
                f,
                format!("token {t:?} appears twice in tokenizer.ggml.tokens"),
            ));
        }
        if *ty == TOKEN_CONTROL as i64 || *ty == TOKEN_USER_DEFINED as i64 {
            added.push(
                serde_json::json!({"id": id, "content": t, "single_word": false, "lstrip": false,
                "rstrip": false, "normalized": false, "special": *ty == TOKEN_CONTROL as i64}),
            );
        }
    }
    let bl = serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": null, "pre_tokenizer": bl, "post_processor": null, "decoder": bl,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "ignore_merges": false, "vocab": vocab, "merges": merges}
    });
    Tokenizer::from_json(&json.to_string()).map_err(|e| meta_err(f, format!("its tokenizer: {e}")))
}

/// Opens a gpt2 GGUF into the engine: its matrices kept in their blocks
/// (Q8_0, Q4_0, Q4_1, F16: the pass multiplies them as they are), vectors
/// and F32 tensors as f32, and the tokenizer inside.
pub fn open(path: &Path) -> Result<(Gpt, Tokenizer, Opened), GgufError> {
    let f = GgufFile::open(path)?;
    let arch = f
        .get("general.architecture")
        .and_then(Value::as_str)
        .unwrap_or("(none)");
    if !ARCHITECTURES.contains(&arch) {
        return Err(meta_err(
            &f,
            format!(
                "general.architecture is {arch:?}; gptlens runs GGUF files of architecture {}",
                ARCHITECTURES.join(", ")
            ),
        ));
    }
    let n_layer = meta_u(&f, "gpt2.block_count")?;
    let n_embd = meta_u(&f, "gpt2.embedding_length")?;
    let n_head = meta_u(&f, "gpt2.attention.head_count")?;
    let n_ctx = meta_u(&f, "gpt2.context_length")?;
    let n_ff = meta_u(&f, "gpt2.feed_forward_length")?;
    let Some(wte) = f.tensor("token_embd.weight") else {
        return Err(meta_err(&f, "tensor token_embd.weight is missing".into()));
    };
    let [c, vocab] = wte.dims[..] else {
        return Err(meta_err(
            &f,
            format!(
                "token_embd.weight has dims {:?}; it should be [n_embd, vocab]",
                wte.dims
            ),
        ));
    };
    if c != n_embd as u64 {
        return Err(meta_err(
            &f,
            format!(
                "gpt2.embedding_length is {n_embd} but token_embd.weight is {c} wide (dims {:?}); the metadata does not describe these tensors",
                wte.dims
            ),
        ));
    }
    let mut cfg = Config::new(n_layer, n_head, n_embd, vocab as usize, n_ctx);
    cfg.n_inner = (n_ff != 4 * n_embd).then_some(n_ff);
    if let Some(eps) = f
        .get("gpt2.attention.layer_norm_epsilon")
        .and_then(Value::as_f64)
    {
        // The file holds an f32; its shortest decimal is the intended value (1e-5).
        cfg.layer_norm_epsilon = format!("{}", eps as f32).parse().unwrap_or(eps);
    }
    let eot = f
        .get("tokenizer.ggml.eos_token_id")
        .and_then(Value::as_u64)
        .map(|v| v as u32);
    cfg.bos_token_id = eot;
    cfg.eos_token_id = eot;
    cfg.tie_word_embeddings = match (f.tensor("output.weight"), wte) {
        (None, _) => true,
        (Some(o), w) => o.dims == w.dims && o.ty == w.ty && f.data(o) == f.data(w),
    };
    cfg.validate().map_err(|e| meta_err(&f, e.to_string()))?;
    let names = tensor_names(&cfg);
    // Every tensor's shape against the metadata before anything is dequantized.
    let expected = crate::model::expected_tensors(&cfg);
    let shape_of: BTreeMap<&str, &Vec<usize>> =
        expected.iter().map(|(n, s)| (n.as_str(), s)).collect();
    let mut named = BTreeMap::new();
    let mut types: BTreeMap<GgmlType, usize> = BTreeMap::new();
    for (hf, gg, transposed) in &names {
        let Some(t) = f.tensor(gg) else {
            return Err(meta_err(
                &f,
                format!(
                    "tensor {gg} is missing; gpt2.block_count = {n_layer} and the other metadata need it"
                ),
            ));
        };
        let mut want = shape_of[hf.as_str()].clone();
        if *transposed {
            want.reverse();
        }
        if t.shape() != want {
            return Err(meta_err(
                &f,
                format!(
                    "tensor {gg} has shape {:?} but the metadata (n_embd {n_embd}, n_ff {n_ff}, vocab {vocab}, context {n_ctx}) implies {want:?}",
                    t.shape()
                ),
            ));
        }
        *types.entry(t.ty).or_default() += 1;
        // Matrices stay in their blocks (the pass multiplies them as they
        // are); vectors, and types a QMatrix does not hold, become f32.
        if want.len() == 2 && MATRIX_TYPES.contains(&t.ty) {
            let q = QMatrix::new(t.ty, want[0], want[1], f.data(t).to_vec()).map_err(|e| {
                GgufError::Corrupt {
                    path: path.to_path_buf(),
                    why: format!("tensor {gg}: {e}"),
                }
            })?;
            named.insert(hf.clone(), Tensor::quantized(q, *transposed));
            continue;
        }
        let data = f.dequantize(t)?;
        let (data, shape) = if *transposed {
            (transpose(&data, want[0], want[1]), vec![want[1], want[0]])
        } else {
            (data, want)
        };
        named.insert(hf.clone(), Tensor::from_vec(shape, data));
    }
    let used: std::collections::HashSet<&str> = names.iter().map(|n| n.1.as_str()).collect();
    let extra: Vec<&str> = f
        .tensors()
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| !used.contains(n) && *n != "output.weight")
        .collect();
    if !extra.is_empty() {
        return Err(meta_err(
            &f,
            format!(
                "tensors {} are not part of a {n_layer}-block gpt2 model; gpt2.block_count may be wrong",
                extra.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let weights = Weights::from_named(&cfg, named, &path.display().to_string())
        .map_err(|e| meta_err(&f, e.to_string()))?;
    let tok = tokenizer_from(&f)?;
    let bytes = f.tensors().iter().map(|t| t.size).sum();
    let mut types: Vec<_> = types.into_iter().collect();
    types.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    Ok((
        Gpt {
            config: cfg,
            weights,
        },
        tok,
        Opened { types, bytes },
    ))
}

/// Whether `path` is a file that starts like a GGUF.
pub fn is_gguf(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && head == super::MAGIC
}
