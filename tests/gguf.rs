//! GGUF read and write, checked against the `gguf` Python package (llama.cpp's
//! own reader and writer): a fixture it wrote (scripts/reference.py
//! gguf-fixtures) read by gptlens, and files gptlens writes read back by it
//! (scripts/gguf_read.py, run with the venv .ci/run makes).

use std::path::{Path, PathBuf};
use std::process::Command;

use gptlens::gguf::{GgufError, GgufFile, GgufWriter, Value, ValueType};
use gptlens::quant::{self, GgmlType};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gguf")
}

fn fixture_bytes() -> Vec<u8> {
    std::fs::read(fixture_dir().join("python.gguf")).unwrap()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn f32s(st: &safetensors::SafeTensors, name: &str) -> Vec<f32> {
    let t = st.tensor(name).unwrap();
    t.data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// The python that has the `gguf` package (.ci/run creates it).
fn gguf_python() -> PathBuf {
    if let Some(p) = std::env::var_os("GPTLENS_GGUF_PYTHON") {
        return p.into();
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    let p = Path::new(&home).join(".cache/gptlens/venv/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: the gguf package is the independent reader these tests need. Run .ci/run once, or: \
         python3 -m venv ~/.cache/gptlens/venv && ~/.cache/gptlens/venv/bin/pip install gguf numpy",
        p.display()
    );
    p
}

/// What the gguf package reads in `path`.
fn gguf_read(path: &Path) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gguf_read.py");
    let out = Command::new(gguf_python())
        .arg(script)
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "gguf_read.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn value_as_json(v: &Value) -> serde_json::Value {
    use serde_json::json;
    match v {
        Value::U8(x) => json!(x),
        Value::I8(x) => json!(x),
        Value::U16(x) => json!(x),
        Value::I16(x) => json!(x),
        Value::U32(x) => json!(x),
        Value::I32(x) => json!(x),
        Value::F32(x) => json!(f64::from(*x)),
        Value::Bool(x) => json!(x),
        Value::String(x) => json!(x),
        Value::Array(_, items) => {
            serde_json::Value::Array(items.iter().map(value_as_json).collect())
        }
        Value::U64(x) => json!(x),
        Value::I64(x) => json!(x),
        Value::F64(x) => json!(x),
    }
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::U8 => "UINT8",
        ValueType::I8 => "INT8",
        ValueType::U16 => "UINT16",
        ValueType::I16 => "INT16",
        ValueType::U32 => "UINT32",
        ValueType::I32 => "INT32",
        ValueType::F32 => "FLOAT32",
        ValueType::Bool => "BOOL",
        ValueType::String => "STRING",
        ValueType::Array => "ARRAY",
        ValueType::U64 => "UINT64",
        ValueType::I64 => "INT64",
        ValueType::F64 => "FLOAT64",
    }
}

#[test]
fn reads_the_gguf_package_fixture() {
    let f = GgufFile::open(&fixture_dir().join("python.gguf")).unwrap();
    let expected = json(&fixture_dir().join("python.json"));
    assert_eq!(f.version(), 3);
    assert_eq!(f.alignment(), 64);
    assert_eq!(f.data_offset() % 64, 0);
    assert_eq!(
        f.get("general.architecture").and_then(Value::as_str),
        Some("gptlens-test")
    );
    for m in expected["metadata"].as_array().unwrap() {
        let key = m[0].as_str().unwrap();
        let v = f.get(key).unwrap_or_else(|| panic!("{key} missing"));
        assert_eq!(type_name(v.value_type()), m[1].as_str().unwrap(), "{key}");
        if let Value::Array(ety, _) = v {
            assert_eq!(type_name(*ety), m[2]["type"].as_str().unwrap(), "{key}");
            assert_eq!(value_as_json(v), m[2]["values"], "{key}");
        } else {
            assert_eq!(value_as_json(v), m[2], "{key}");
        }
    }
    let values = std::fs::read(fixture_dir().join("python-values.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&values).unwrap();
    let tensors = expected["tensors"].as_array().unwrap();
    assert_eq!(f.tensors().len(), tensors.len());
    for (t, e) in f.tensors().iter().zip(tensors) {
        let name = e["name"].as_str().unwrap();
        assert_eq!(t.name, name);
        assert_eq!(t.ty.name(), e["type"].as_str().unwrap(), "{name}");
        let shape: Vec<usize> = serde_json::from_value(e["shape"].clone()).unwrap();
        assert_eq!(t.shape(), shape, "{name}");
        assert_eq!(t.offset % 64, 0, "{name}");
        // gguf's dequantization, bit for bit.
        let ours = f.dequantize(t).unwrap();
        let theirs = f32s(&st, &format!("dequant.{name}"));
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a.to_bits(), b.to_bits(), "{name}[{i}]: {a} vs {b}");
        }
        // Our quantizer makes the bytes gguf's reference quantizer made.
        let source = f32s(&st, &format!("source.{name}"));
        let bytes = quant::quantize(t.ty, &source).unwrap();
        assert!(
            bytes == f.data(t),
            "{name}: our {} bytes differ from gguf's",
            t.ty
        );
    }
}

/// Every prefix of the fixture shorter than its last tensor's end is refused
/// with a message (and no panic); a file that only lacks trailing padding reads.
#[test]
fn truncated_files_are_refused_at_every_length() {
    let bytes = fixture_bytes();
    let full = GgufFile::from_bytes(Path::new("python.gguf"), bytes.clone()).unwrap();
    let end = full
        .tensors()
        .iter()
        .map(|t| full.data_offset() + t.offset + t.size)
        .max()
        .unwrap() as usize;
    assert!(end <= bytes.len());
    for n in 0..bytes.len() {
        let r = GgufFile::from_bytes(Path::new("cut.gguf"), bytes[..n].to_vec());
        if n >= end {
            assert!(r.is_ok(), "{n} bytes: {:?}", r.err());
            continue;
        }
        let e = r.expect_err(&format!("{n} bytes of {end} must be refused"));
        let msg = e.to_string();
        assert!(msg.contains("cut.gguf"), "{n}: {msg}");
        assert!(
            msg.contains("truncated") || n < 4 && matches!(e, GgufError::NotGguf { .. }),
            "{n}: {msg}"
        );
    }
}

/// Byte offset of tensor `name`'s type field in a GGUF file.
fn type_field_at(bytes: &[u8], name: &str, n_dims: usize) -> usize {
    let mut key = (name.len() as u64).to_le_bytes().to_vec();
    key.extend(name.as_bytes());
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("tensor name in file");
    at + key.len() + 4 + 8 * n_dims
}

#[test]
fn unknown_tensor_type_names_the_type_and_the_tensor() {
    let mut bytes = fixture_bytes();
    let at = type_field_at(&bytes, "t.q4_1", 2);
    assert_eq!(&bytes[at..at + 4], &3u32.to_le_bytes(), "Q4_1 is type 3");
    bytes[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
    let e = GgufFile::from_bytes(Path::new("x.gguf"), bytes).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("t.q4_1") && msg.contains("type id 99"),
        "{msg}"
    );
    assert!(msg.contains("Q8_0"), "says what gptlens runs: {msg}");
}

#[test]
fn known_type_gptlens_does_not_run_is_named() {
    let mut w = GgufWriter::new();
    w.add_tensor(
        "blk.0.ffn_up.weight",
        &[1, 256],
        GgmlType::Q4K,
        vec![0; 144],
    )
    .unwrap();
    let f = GgufFile::from_bytes(Path::new("k.gguf"), w.to_bytes().unwrap()).unwrap();
    let t = &f.tensors()[0];
    assert_eq!(t.ty, GgmlType::Q4K);
    let msg = f.dequantize(t).unwrap_err().to_string();
    assert!(
        msg.contains("blk.0.ffn_up.weight") && msg.contains("Q4_K"),
        "{msg}"
    );
}

fn corrupt(bytes: Vec<u8>) -> String {
    GgufFile::from_bytes(Path::new("bad.gguf"), bytes)
        .expect_err("must be refused")
        .to_string()
}

fn one_tensor_file() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.set("general.architecture", Value::String("gpt2".into()));
    let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
    w.add_tensor(
        "a",
        &[2, 32],
        GgmlType::Q8_0,
        quant::quantize(GgmlType::Q8_0, &x).unwrap(),
    )
    .unwrap();
    w.add_tensor(
        "b",
        &[32],
        GgmlType::F32,
        quant::quantize(GgmlType::F32, &x[..32]).unwrap(),
    )
    .unwrap();
    w.to_bytes().unwrap()
}

#[test]
fn tensor_infos_that_disagree_with_the_data_are_refused() {
    let good = one_tensor_file();
    GgufFile::from_bytes(Path::new("ok.gguf"), good.clone()).unwrap();
    let offset_at = |name, dims| type_field_at(&good, name, dims) + 4;

    // Offset past the end of the file.
    let mut b = good.clone();
    let at = offset_at("b", 1);
    b[at..at + 8].copy_from_slice(&4096u64.to_le_bytes());
    let msg = corrupt(b);
    assert!(
        msg.contains("tensor b") && msg.contains("truncated"),
        "{msg}"
    );

    // Offset not a multiple of the alignment.
    let mut b = good.clone();
    b[at..at + 8].copy_from_slice(&8u64.to_le_bytes());
    assert!(corrupt(b).contains("alignment"));

    // Two tensors on the same bytes.
    let mut b = good.clone();
    b[at..at + 8].copy_from_slice(&32u64.to_le_bytes());
    assert!(corrupt(b).contains("overlap"));

    // A row length that is not a whole number of blocks: dims [32, 2] → [16, 4].
    let mut b = good.clone();
    let dims_at = type_field_at(&good, "a", 2) - 16;
    b[dims_at..dims_at + 8].copy_from_slice(&16u64.to_le_bytes());
    b[dims_at + 8..dims_at + 16].copy_from_slice(&4u64.to_le_bytes());
    assert!(corrupt(b).contains("whole number of Q8_0 blocks"));

    // A dimension so large that the element count overflows.
    let mut b = good.clone();
    b[dims_at + 8..dims_at + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(corrupt(b).contains("tensor a"));
}

#[test]
fn headers_with_impossible_counts_are_refused_before_allocating() {
    let good = one_tensor_file();
    // Tensor count (bytes 8..16), metadata count (16..24).
    for (at, what) in [(8, "tensors"), (16, "metadata entries")] {
        let mut b = good.clone();
        b[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        let msg = corrupt(b);
        assert!(msg.contains(what), "{msg}");
    }
    // A string (the first key) claiming more bytes than the file has.
    let mut b = good.clone();
    b[24..32].copy_from_slice(&(1u64 << 60).to_le_bytes());
    assert!(corrupt(b).contains("truncated"));
    // An array of 2^62 strings.
    let mut w = GgufWriter::new();
    w.set(
        "x",
        Value::Array(ValueType::String, vec![Value::String("a".into())]),
    );
    let mut b = w.to_bytes().unwrap();
    let n_at = 24 + 8 + 1 + 4 + 4;
    assert_eq!(&b[n_at..n_at + 8], &1u64.to_le_bytes());
    b[n_at..n_at + 8].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(corrupt(b).contains("truncated"));
}

#[test]
fn wrong_magic_version_and_alignment_are_refused() {
    let good = one_tensor_file();
    let mut b = good.clone();
    b[..4].copy_from_slice(b"PK\x03\x04");
    assert!(corrupt(b).contains("not a GGUF file"));
    let mut b = good.clone();
    b[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert!(corrupt(b).contains("version 1"));
    let mut w = GgufWriter::new();
    w.set("general.alignment", Value::U64(32));
    assert!(corrupt(w.to_bytes().unwrap()).contains("general.alignment"));
    let mut w = GgufWriter::new();
    w.set("k", Value::U32(1));
    let mut b = w.to_bytes().unwrap();
    b[24 + 8 + 1..24 + 8 + 1 + 4].copy_from_slice(&77u32.to_le_bytes());
    assert!(corrupt(b).contains("value type 77"));
}

/// Our writer's file, read back by the gguf package: every metadata type,
/// alignment, and each tensor dequantized by gguf.quants equal (bit for bit)
/// to our dequantization of the same bytes.
#[test]
fn gguf_package_reads_what_gptlens_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ours.gguf");
    let mut w = GgufWriter::new();
    let meta = [
        ("general.architecture", Value::String("gpt2".into())),
        ("general.alignment", Value::U32(128)),
        ("t.u8", Value::U8(7)),
        ("t.i8", Value::I8(-7)),
        ("t.u16", Value::U16(65535)),
        ("t.i16", Value::I16(-2)),
        ("t.u32", Value::U32(123456)),
        ("t.i32", Value::I32(-123456)),
        ("t.f32", Value::F32(1.5e-3)),
        ("t.bool", Value::Bool(false)),
        ("t.u64", Value::U64(u64::MAX)),
        ("t.i64", Value::I64(i64::MIN)),
        ("t.f64", Value::F64(-2.0f64.sqrt())),
        (
            "t.strings",
            Value::Array(
                ValueType::String,
                ["x", "Ġy", "ünï"].map(|s| Value::String(s.into())).to_vec(),
            ),
        ),
        (
            "t.u32s",
            Value::Array(ValueType::U32, vec![Value::U32(1), Value::U32(2)]),
        ),
    ];
    for (k, v) in &meta {
        w.set(k, v.clone());
    }
    let x: Vec<f32> = (0..3 * 96)
        .map(|i| ((i as f32) * 0.37).sin() * (1.0 + (i % 7) as f32))
        .collect();
    let types = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::Q8_0,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
    ];
    for ty in types {
        let name = format!("w.{}", ty.name());
        w.add_tensor(&name, &[3, 96], ty, quant::quantize(ty, &x).unwrap())
            .unwrap();
    }
    w.write(&path).unwrap();
    assert!(!dir.path().join("ours.gguf.tmp").exists());

    let ours = GgufFile::open(&path).unwrap();
    let theirs = gguf_read(&path);
    assert_eq!(theirs["alignment"], 128);
    assert_eq!(theirs["data_offset"].as_u64().unwrap(), ours.data_offset());
    for (k, v) in &meta {
        let m = &theirs["metadata"][*k];
        assert_eq!(
            m["types"][0].as_str().unwrap(),
            type_name(v.value_type()),
            "{k}"
        );
        assert_eq!(m["value"], value_as_json(v), "{k}");
    }
    let tensors = theirs["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), types.len());
    for (t, e) in ours.tensors().iter().zip(tensors) {
        assert_eq!(e["name"].as_str().unwrap(), t.name);
        assert_eq!(e["type"].as_str().unwrap(), t.ty.name());
        assert_eq!(e["dims"], serde_json::json!([96, 3]));
        let mine = ours.dequantize(t).unwrap();
        let vals = e["values"].as_array().unwrap();
        assert_eq!(vals.len(), mine.len());
        for (i, (a, b)) in mine.iter().zip(vals).enumerate() {
            let b = b.as_f64().unwrap() as f32;
            assert_eq!(a.to_bits(), b.to_bits(), "{}[{i}]: {a} vs {b}", t.name);
        }
    }
}

// ---- GPT-2 models as GGUF (gptlens quantize, --model FILE.gguf) ----

use gptlens::gguf::gpt2;
use gptlens::model::{Gpt, Interventions};
use gptlens::tokenizer::Tokenizer;

/// The prompt `reference.py gguf-logits` runs (its TINY_PROMPT).
const TINY_PROMPT: &str = "Once upon a time, there was a little girl named Lily. She liked to";

fn builtin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tiny-models/tinystories")
}

fn open_dir(dir: &Path) -> (Gpt, Tokenizer) {
    let gpt = Gpt::open(dir).unwrap();
    let tok = Tokenizer::open(&dir.join("tokenizer.json")).unwrap();
    (gpt, tok)
}

/// The built-in model written as `ty` into a temporary folder.
fn quantized_builtin(ty: GgmlType) -> (tempfile::TempDir, PathBuf, Vec<gpt2::Kept>) {
    let (gpt, tok) = open_dir(&builtin_dir());
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(format!("tinystories-{}.gguf", ty.name().to_lowercase()));
    let kept = gpt2::write(&gpt, &tok, ty, "tinystories", &path).unwrap();
    (dir, path, kept)
}

fn logits(gpt: &Gpt, ids: &[u32]) -> Vec<f32> {
    let t = gpt.trace(ids, &Interventions::default()).unwrap();
    t.logits.iter().copied().collect()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// transformers (`gguf_file=`) loaded the files `gptlens quantize` writes and
/// ran them in float64 (reference.py gguf-logits): our tokenizer from the
/// GGUF gives its ids, and our logits on the dequantized weights match.
#[test]
fn transformers_reads_our_gguf_and_agrees_on_the_logits() {
    for ty in [GgmlType::Q4_0, GgmlType::Q8_0] {
        let (_dir, path, kept) = quantized_builtin(ty);
        assert!(kept.is_empty(), "{kept:?}");
        let fx_path = fixture_dir().join(format!(
            "tinystories-{}.logits.safetensors",
            ty.name().to_lowercase()
        ));
        let fx = std::fs::read(&fx_path).unwrap();
        let st = safetensors::SafeTensors::deserialize(&fx).unwrap();
        let ids: Vec<u32> = st
            .tensor("input_ids")
            .unwrap()
            .data()
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()) as u32)
            .collect();
        let theirs = f32s(&st, "logits");

        let (gpt, tok, opened) = gpt2::open(&path).unwrap();
        assert_eq!(
            tok.encode(TINY_PROMPT).unwrap(),
            ids,
            "{ty}: tokenizer from the GGUF"
        );
        assert!(
            opened.types.iter().any(|(t, _)| *t == ty),
            "{:?}",
            opened.types
        );
        let ours = logits(&gpt, &ids);
        let err = max_abs_diff(&ours, &theirs);
        println!("{ty}: max |logit error| vs transformers {err:.2e}");
        assert!(err < 1e-4, "{ty}: {err}");
        // Teeth: the f32 model's logits are far from this fixture.
        let (f32_gpt, _) = open_dir(&builtin_dir());
        let gap = max_abs_diff(&logits(&f32_gpt, &ids), &theirs);
        assert!(
            gap > 100.0 * err.max(1e-6),
            "{ty}: the fixture hardly depends on quantization ({gap})"
        );
    }
}

#[test]
fn f32_gguf_round_trips_every_weight_exactly() {
    let (_dir, path, _) = quantized_builtin(GgmlType::F32);
    let (orig, orig_tok) = open_dir(&builtin_dir());
    let (back, tok, _) = gpt2::open(&path).unwrap();
    assert_eq!(back.config.n_layer, orig.config.n_layer);
    assert_eq!(back.config.n_positions, orig.config.n_positions);
    assert_eq!(back.config.layer_norm_epsilon, 1e-5);
    assert_eq!(
        back.config.tie_word_embeddings,
        orig.config.tie_word_embeddings
    );
    let a = orig.weights.named();
    let b = back.weights.named();
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert_eq!(ta.shape, tb.shape, "{na}");
        assert!(ta.data() == tb.data(), "{na} differs after the round trip");
    }
    let text = "Once upon a time <|endoftext|> Lily's dog ran, fast!";
    assert_eq!(tok.encode(text).unwrap(), orig_tok.encode(text).unwrap());
    assert_eq!(tok.end_of_text(), orig_tok.end_of_text());
}

/// Logits of `ids` two ways: the prompt in one call (the matmul path), and
/// token by token with the KV cache (the matvec path of decoding).
fn logits_both_ways(gpt: &Gpt, ids: &[u32]) -> (Vec<f32>, Vec<f32>) {
    use gptlens::model::KvCache;
    let iv = Interventions::default();
    let mut cache = KvCache::new(&gpt.config);
    let whole = gpt.forward(ids, &mut cache, &iv, None, true).unwrap();
    let mut cache = KvCache::new(&gpt.config);
    let mut stepped = vec![];
    for &t in ids {
        let l = gpt.forward(&[t], &mut cache, &iv, None, false).unwrap();
        stepped.extend(l.iter().copied());
    }
    (whole.iter().copied().collect(), stepped)
}

/// A quantized GGUF runs its blocks as they are: every matrix stays
/// quantized through the pass (the weights' bytes are the file's tensor bytes
/// before and after), and the logits are those of the same weights expanded
/// to f32, within f32 rounding (the kernels apply each block's scale once).
#[test]
fn quantized_gguf_runs_its_blocks_and_matches_the_dequantized_model() {
    let (f32_gpt, tok) = open_dir(&builtin_dir());
    let ids = tok.encode(TINY_PROMPT).unwrap();
    let f32_bytes = f32_gpt.config.n_params() * 4;
    for ty in [
        GgmlType::Q8_0,
        GgmlType::Q4_1,
        GgmlType::Q4_0,
        GgmlType::F16,
    ] {
        let (_dir, path, _) = quantized_builtin(ty);
        let (gpt, _, opened) = gpt2::open(&path).unwrap();
        let w = &gpt.weights;
        let quantized: Vec<String> = w
            .named()
            .into_iter()
            .filter(|(_, t)| t.quant().is_some_and(|q| q.ty() == ty))
            .map(|(n, _)| n)
            .collect();
        // Every 2-D weight but the position table (kept F32 by the writer,
        // except in an F16 file): wte and the four matrices of each block.
        let expect = 1 + 4 * gpt.config.n_layer + usize::from(ty == GgmlType::F16);
        assert_eq!(quantized.len(), expect, "{ty}: {quantized:?}");
        assert_eq!(
            w.bytes() as u64,
            opened.bytes,
            "{ty}: memory = the file's tensor bytes"
        );
        let reference = Gpt {
            config: gpt.config.clone(),
            weights: w.dequantized(),
        };
        assert!(!reference.weights.is_quantized());
        let (whole, stepped) = logits_both_ways(&gpt, &ids);
        let (ref_whole, ref_stepped) = logits_both_ways(&reference, &ids);
        let e_whole = max_abs_diff(&whole, &ref_whole);
        let e_step = max_abs_diff(&stepped, &ref_stepped);
        let scale = ref_whole.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        println!(
            "{ty}: {} of weights ({:.3} of f32), max |logit - dequantized| prompt {e_whole:.1e}, decode {e_step:.1e} (logits up to {scale:.1})",
            w.bytes(),
            w.bytes() as f64 / f32_bytes as f64
        );
        assert!(e_whole < 2e-4 && e_step < 2e-4, "{ty}: {e_whole} {e_step}");
        // Teeth: the format matters far more than that tolerance.
        let gap = max_abs_diff(&whole, &logits_both_ways(&f32_gpt, &ids).0);
        assert!(gap > 20.0 * e_whole.max(e_step), "{ty}: {gap}");
        // The pass expanded nothing.
        assert_eq!(w.bytes() as u64, opened.bytes, "{ty}: after the pass");
        let ratio = w.bytes() as f64 / f32_bytes as f64;
        let most = ty.bits_per_weight() / 32.0;
        assert!(ratio < most + 0.05, "{ty}: {ratio}");
    }
}

/// random-odd is 60 wide: no matrix row is a whole number of blocks, so each
/// is kept in F16 and named; the file still opens and runs.
#[test]
fn rows_that_are_not_whole_blocks_stay_f16_and_are_named() {
    let odd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/random-odd");
    let gpt = Gpt::open(&odd).unwrap();
    // random-odd has 97 ids: a 97-token byte-level tokenizer goes with it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.gguf");
    let small = small_tokenizer(gpt.config.vocab_size);
    let kept = gpt2::write(&gpt, &small, GgmlType::Q8_0, "odd", &path).unwrap();
    let names: Vec<&str> = kept.iter().map(|k| k.tensor.as_str()).collect();
    assert!(names.contains(&"token_embd.weight"), "{names:?}");
    assert!(names.contains(&"blk.2.ffn_down.weight"), "{names:?}");
    assert!(kept.iter().all(|k| k.ty == GgmlType::F16), "{kept:?}");
    let msg = kept[0].to_string();
    assert!(
        msg.contains("kept in F16") && msg.contains("60") && msg.contains("32"),
        "{msg}"
    );
    let f = GgufFile::open(&path).unwrap();
    assert!(f.tensors().iter().all(|t| t.ty != GgmlType::Q8_0));
    let (back, _, _) = gpt2::open(&path).unwrap();
    let ids = [1u32, 5, 7, 2];
    let err = max_abs_diff(&logits(&back, &ids), &logits(&gpt, &ids));
    assert!(err < 1e-2, "f16 weights change the logits by {err}");
}

/// A byte-level tokenizer of `n` single-character tokens (no merges).
fn small_tokenizer(n: usize) -> Tokenizer {
    let chars = gptlens::tokenizer::byte_to_char();
    let vocab: serde_json::Map<String, serde_json::Value> = chars[..n - 1]
        .iter()
        .enumerate()
        .map(|(i, c)| (c.to_string(), i.into()))
        .chain([("<|endoftext|>".to_string(), (n - 1).into())])
        .collect();
    let bl = serde_json::json!({"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true});
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": n - 1, "content": "<|endoftext|>", "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null, "pre_tokenizer": bl, "post_processor": null, "decoder": bl,
        "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                  "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                  "vocab": vocab, "merges": []}
    });
    Tokenizer::from_json(&json.to_string()).unwrap()
}

/// A copy of `f` with metadata key `key` set to `v` (or removed), and
/// tensors renamed by `rename`.
fn rewrite(f: &GgufFile, key: &str, v: Option<Value>, rename: &dyn Fn(&str) -> String) -> Vec<u8> {
    let mut w = GgufWriter::new();
    for (k, val) in f.metadata() {
        if k != key {
            w.set(k, val.clone());
        }
    }
    if let Some(v) = v {
        w.set(key, v);
    }
    for t in f.tensors() {
        w.add_tensor(&rename(&t.name), &t.shape(), t.ty, f.data(t).to_vec())
            .unwrap();
    }
    w.to_bytes().unwrap()
}

fn open_err(dir: &Path, bytes: Vec<u8>) -> String {
    let p = dir.join("bad.gguf");
    std::fs::write(&p, bytes).unwrap();
    match gpt2::open(&p) {
        Ok(_) => panic!("must be refused"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn gguf_models_that_disagree_with_themselves_are_refused() {
    let (dir, path, _) = quantized_builtin(GgmlType::Q8_0);
    let f = GgufFile::open(&path).unwrap();
    let same = |n: &str| n.to_string();

    let msg = open_err(
        dir.path(),
        rewrite(
            &f,
            "general.architecture",
            Some(Value::String("llama".into())),
            &same,
        ),
    );
    assert!(
        msg.contains("\"llama\"") && msg.contains("architecture gpt2"),
        "{msg}"
    );

    let msg = open_err(
        dir.path(),
        rewrite(&f, "gpt2.embedding_length", Some(Value::U32(96)), &same),
    );
    assert!(
        msg.contains("gpt2.embedding_length is 96") && msg.contains("128"),
        "{msg}"
    );

    let msg = open_err(
        dir.path(),
        rewrite(&f, "gpt2.feed_forward_length", Some(Value::U32(256)), &same),
    );
    assert!(
        msg.contains("blk.0.ffn_up.weight") && msg.contains("[256, 128]"),
        "{msg}"
    );

    let msg = open_err(
        dir.path(),
        rewrite(&f, "gpt2.block_count", Some(Value::U32(5)), &same),
    );
    assert!(msg.contains("blk.4.") && msg.contains("missing"), "{msg}");

    let msg = open_err(
        dir.path(),
        rewrite(&f, "gpt2.block_count", Some(Value::U32(3)), &same),
    );
    assert!(
        msg.contains("blk.3.") && msg.contains("block_count"),
        "{msg}"
    );

    let msg = open_err(
        dir.path(),
        rewrite(&f, "gpt2.attention.head_count", None, &same),
    );
    assert!(
        msg.contains("gpt2.attention.head_count is missing"),
        "{msg}"
    );

    let msg = open_err(
        dir.path(),
        rewrite(
            &f,
            "tokenizer.ggml.model",
            Some(Value::String("llama".into())),
            &same,
        ),
    );
    assert!(msg.contains("tokenizer.ggml.model"), "{msg}");

    let msg = open_err(
        dir.path(),
        rewrite(&f, "", None, &|n: &str| {
            n.replace("blk.1.attn_qkv", "blk.1.attn_q")
        }),
    );
    assert!(msg.contains("blk.1.attn_qkv.weight is missing"), "{msg}");
}

#[test]
fn cli_quantizes_and_runs_a_gguf_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m.gguf");
    let bin = env!("CARGO_BIN_EXE_gptlens");
    let model = builtin_dir();
    let r = Command::new(bin)
        .args(["--model".as_ref(), model.as_os_str()])
        .args(["quantize", "--type", "q4_1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("Q4_1"));
    let again = Command::new(bin)
        .args(["--model".as_ref(), model.as_os_str()])
        .args(["quantize", "--type", "q4_1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    let g = Command::new(bin)
        .arg("--model")
        .arg(&out)
        .args([
            "generate",
            "--prompt",
            "Once upon a time",
            "--max-tokens",
            "5",
            "--seed",
            "1",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&g.stderr);
    assert!(g.status.success(), "{err}");
    assert!(err.contains("Q4_1") && err.contains("as they are"), "{err}");
    assert!(String::from_utf8_lossy(&g.stdout).starts_with("Once upon a time"));
    // A truncated GGUF is a clear error, not a panic.
    let bytes = std::fs::read(&out).unwrap();
    let cut = dir.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let g = Command::new(bin)
        .arg("--model")
        .arg(&cut)
        .args(["generate", "--prompt", "Once", "--max-tokens", "2"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&g.stderr);
    assert_eq!(g.status.code(), Some(1), "{err}");
    assert!(err.contains("truncated"), "{err}");
}

/// The cost ledger's bytes per decoded token in each format
/// (`Ledger::weight_bytes_in`, which the quantization panel and lesson show)
/// equal what a token reads from the file `gptlens quantize` writes: every
/// tensor's bytes once, but of the position table one row, plus the token's
/// row of the embedding table (read again for the logits).
#[test]
fn the_ledgers_bytes_per_token_in_each_format_are_the_files() {
    use gptlens::cost::Ledger;
    let cfg = Gpt::open(&builtin_dir()).unwrap().config;
    let ledger = Ledger::for_forward(&cfg, 5, 1, false);
    for ty in quant::RUNNABLE {
        let (_dir, path, kept) = quantized_builtin(ty);
        assert!(kept.is_empty(), "{ty}: {kept:?}");
        let (gpt, _, _) = gpt2::open(&path).unwrap();
        let w = &gpt.weights;
        let rows = |t: &gptlens::model::Tensor| t.shape[0];
        let read =
            w.bytes() - w.wpe.bytes() + w.wpe.bytes() / rows(&w.wpe) + w.wte.bytes() / rows(&w.wte);
        assert_eq!(ledger.weight_bytes_in(ty), read as f64, "{ty}");
    }
    assert_eq!(
        ledger.weight_bytes_in(GgmlType::F32),
        ledger.weight_bytes(),
        "f32 is the ledger's own count"
    );
}

/// `quant::weights::quantized` (the in-memory model a lesson compares
/// with) holds exactly the blocks the GGUF writer writes and the reader
/// opens, tensor by tensor.
#[test]
fn quantizing_in_memory_gives_the_files_blocks() {
    let (gpt, _) = open_dir(&builtin_dir());
    for ty in [
        GgmlType::Q8_0,
        GgmlType::Q4_1,
        GgmlType::Q4_0,
        GgmlType::F16,
    ] {
        let mem = quant::weights::quantized(&gpt.weights, ty).unwrap();
        let (_dir, path, _) = quantized_builtin(ty);
        let (file, _, _) = gpt2::open(&path).unwrap();
        let mut blocks = 0;
        for ((name, a), (_, b)) in mem.named().into_iter().zip(file.weights.named()) {
            assert_eq!(a.shape, b.shape, "{ty} {name}");
            match (a.quant(), b.quant()) {
                (Some(x), Some(y)) => {
                    assert_eq!((x.ty(), x.dim()), (y.ty(), y.dim()), "{ty} {name}");
                    assert!(x.raw() == y.raw(), "{ty} {name}: other bytes");
                    blocks += 1;
                }
                (None, None) => assert!(a.data() == b.data(), "{ty} {name}"),
                (x, y) => panic!(
                    "{ty} {name}: in memory {:?}, in the file {:?}",
                    x.map(|q| q.ty()),
                    y.map(|q| q.ty())
                ),
            }
        }
        assert_eq!(
            blocks,
            1 + 4 * gpt.config.n_layer + usize::from(ty == GgmlType::F16),
            "{ty}"
        );
    }
}

/// A model 48 wide (rows of 48 are no whole number of blocks, the MLP's
/// 192 are): the ledger counts what the writer keeps in F16 as F16.
#[test]
fn the_ledger_counts_rows_kept_in_f16_as_the_file_does() {
    use gptlens::cost::Ledger;
    let gpt =
        gptlens::model::random_model(&gptlens::model::Config::new(2, 2, 48, 97, 16), 3, false);
    let ledger = Ledger::for_forward(&gpt.config, 2, 1, false);
    let tok = small_tokenizer(97);
    let dir = tempfile::tempdir().unwrap();
    for ty in [GgmlType::Q8_0, GgmlType::Q4_0] {
        let path = dir.path().join(format!("{ty}.gguf"));
        let kept = gpt2::write(&gpt, &tok, ty, "w48", &path).unwrap();
        assert!(
            !kept.is_empty() && kept.iter().all(|k| !k.tensor.contains("ffn_down")),
            "{kept:?}"
        );
        let (q, _, _) = gpt2::open(&path).unwrap();
        let w = &q.weights;
        let rows = |t: &gptlens::model::Tensor| t.shape[0];
        let read =
            w.bytes() - w.wpe.bytes() + w.wpe.bytes() / rows(&w.wpe) + w.wte.bytes() / rows(&w.wte);
        assert_eq!(ledger.weight_bytes_in(ty), read as f64, "{ty}");
    }
}
