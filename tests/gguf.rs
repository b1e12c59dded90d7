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
