//! `gptlens eval`: its loss equals `scripts/reference.py eval` (transformers)
//! on the built-in model, and against a reference it measures what
//! quantization lost.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// The shared corpus folder beside the clone (developer worktrees sit one
/// level deeper, hence the second path).
fn corpus_dir() -> PathBuf {
    let beside = root().join("../shared/corpus");
    if beside.join("tinystories_valid.txt").is_file() {
        beside
    } else {
        root().join("../../shared/corpus")
    }
}

fn gptlens(args: &[&std::ffi::OsStr]) -> std::process::Output {
    common::in_english(&mut Command::new(env!("CARGO_BIN_EXE_gptlens")))
        .args(args)
        .output()
        .unwrap()
}

fn eval_json(model: &Path, extra: &[&std::ffi::OsStr]) -> serde_json::Value {
    // The first 20,000 characters of the shared validation stories, read from
    // shared/ beside the clone (the corpus is never copied into the repo).
    let text = corpus_dir().join("tinystories_valid.txt");
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "--model".as_ref(),
        model.as_os_str(),
        "eval".as_ref(),
        "--text".as_ref(),
        text.as_os_str(),
        "--chars".as_ref(),
        "20000".as_ref(),
        "--json".as_ref(),
    ];
    args.extend(extra);
    let r = gptlens(&args);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    serde_json::from_slice(&r.stdout).unwrap()
}

/// reference.py eval on the same text (the first 20,000 characters of the
/// validation stories): same windows, same tokens, same loss.
#[test]
fn eval_matches_reference_py_on_the_builtin_model() {
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/gguf/eval-tinystories.json")).unwrap(),
    )
    .unwrap();
    let ours = eval_json(&root().join("tiny-models/tinystories"), &[]);
    for k in ["windows", "tokens", "stream_tokens", "bytes"] {
        assert_eq!(ours[k], fx[k], "{k}");
    }
    let (a, b) = (ours["loss"].as_f64().unwrap(), fx["loss"].as_f64().unwrap());
    println!("loss: gptlens {a:.7}, transformers {b:.7}");
    assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    assert!((ours["perplexity"].as_f64().unwrap() - a.exp()).abs() < 1e-9);
    let bpb = ours["bits_per_byte"].as_f64().unwrap();
    let want = a * 5327.0 / 20000.0 / std::f64::consts::LN_2;
    assert!((bpb - want).abs() < 1e-9, "{bpb} vs {want}");
}

#[test]
fn eval_against_a_reference_measures_what_quantization_lost() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = root().join("tiny-models/tinystories");
    let mut kl = vec![];
    for ty in ["q8_0", "q4_0"] {
        let out = dir.path().join(format!("{ty}.gguf"));
        let r = gptlens(&[
            "--model".as_ref(),
            builtin.as_os_str(),
            "quantize".as_ref(),
            "--type".as_ref(),
            ty.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let v = eval_json(&out, &["--reference".as_ref(), builtin.as_os_str()]);
        let r = &v["reference"];
        let k = r["mean_kl"].as_f64().unwrap();
        let top1 = r["top1_agreement"].as_f64().unwrap();
        let dppl = r["perplexity_change"].as_f64().unwrap();
        println!("{ty}: KL {k:.3e}, top-1 {top1:.4}, perplexity change {dppl:+.5}");
        assert!(k > 0.0 && k < 0.1, "{ty}: {k}");
        assert!(top1 > 0.8 && top1 < 1.0, "{ty}: {top1}");
        let expect = (v["loss"].as_f64().unwrap() - r["loss"].as_f64().unwrap()).exp() - 1.0;
        assert!((dppl - expect).abs() < 1e-12);
        let tensors = v["tensors"].as_array().unwrap();
        let qkv = tensors
            .iter()
            .find(|t| t["name"] == "h.0.attn.c_attn.weight")
            .expect("per tensor errors");
        assert!(qkv["rms"].as_f64().unwrap() > 0.0);
        assert!(qkv["max"].as_f64().unwrap() >= qkv["rms"].as_f64().unwrap());
        let ln = tensors
            .iter()
            .find(|t| t["name"] == "h.0.ln_1.weight")
            .unwrap();
        assert_eq!(ln["max"].as_f64().unwrap(), 0.0, "vectors stay f32");
        kl.push(k);
    }
    assert!(kl[1] > kl[0] * 5.0, "4-bit loses more than 8-bit: {kl:?}");
    // The model against itself: nothing lost.
    let v = eval_json(&builtin, &["--reference".as_ref(), builtin.as_os_str()]);
    assert!(v["reference"]["mean_kl"].as_f64().unwrap().abs() < 1e-12);
    assert_eq!(v["reference"]["top1_agreement"].as_f64().unwrap(), 1.0);
}

#[test]
fn eval_refuses_a_text_too_short_for_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("short.txt");
    std::fs::write(&t, "Once upon a time.\n").unwrap();
    let r = gptlens(&["eval".as_ref(), "--text".as_ref(), t.as_os_str()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(1), "{err}");
    assert!(err.contains("longer text"), "{err}");
    let r = gptlens(&[
        "eval".as_ref(),
        "--text".as_ref(),
        dir.path().join("none.txt").as_os_str(),
    ]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("does not exist"));
}

/// `bench --json` on a quantized model says its format and the bytes a
/// token reads; `bench --bandwidth` refuses a buffer that fits in a cache.
#[test]
fn bench_reports_format_and_bytes_and_checks_the_bandwidth_buffer() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("m-q4_0.gguf");
    let r = gptlens(&[
        "quantize".as_ref(),
        "--type".as_ref(),
        "q4_0".as_ref(),
        "--out".as_ref(),
        q.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let r = gptlens(&[
        "--model".as_ref(),
        q.as_os_str(),
        "bench".as_ref(),
        "--tokens".as_ref(),
        "2".as_ref(),
        "--repeat".as_ref(),
        "1".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let j: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(j["format"], "Q4_0");
    let (bytes, per_token) = (
        j["weight_bytes"].as_u64().unwrap(),
        j["bytes_per_token"].as_u64().unwrap(),
    );
    let f32_bytes = j["params"].as_u64().unwrap() * 4;
    // 4.5 bits for the matrices, f32 for the position table and vectors.
    assert!(bytes < f32_bytes / 4, "{bytes} of {f32_bytes}");
    // The position table is read one row per token.
    assert!(per_token < bytes, "{per_token} {bytes}");
    let r = gptlens(&[
        "bench".as_ref(),
        "--bandwidth".as_ref(),
        "--mib".as_ref(),
        "4".as_ref(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("--mib 4") && err.contains("16 to 65536"),
        "{err}"
    );
}

/// `gptlens prune` writes a model folder whose linear layers have exactly
/// ⌊S·n⌋ zeros each and whose other tensors and tokenizer are the original's;
/// a sparsity outside [0, 1) is refused before anything is written.
#[test]
fn prune_writes_a_sparse_model_and_refuses_a_bad_sparsity() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pruned");
    for bad in ["1", "1.5", "-0.1", "nan", "half"] {
        let r = gptlens(&[
            "prune".as_ref(),
            "--sparsity".as_ref(),
            bad.as_ref(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(r.status.code(), Some(2), "{bad}");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains("--sparsity"), "{bad}: {err}");
        assert!(
            err.contains("[0, 1)") || err.contains("not a number"),
            "{bad}: {err}"
        );
        assert!(!out.exists(), "{bad}: something was written");
    }
    let r = gptlens(&[
        "prune".as_ref(),
        "--sparsity".as_ref(),
        "0.3".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("16 matrices"), "{err}");
    let orig = gptlens::model::Gpt::open(&root().join("tiny-models/tinystories")).unwrap();
    let pruned = gptlens::model::Gpt::open(&out).unwrap();
    for ((name, a), (_, b)) in orig.weights.named().iter().zip(pruned.weights.named()) {
        let zeros = b.data().iter().filter(|v| **v == 0.0).count();
        let linear = name.ends_with("c_attn.weight")
            || name.ends_with("c_proj.weight")
            || name.ends_with("c_fc.weight");
        if linear {
            assert_eq!(zeros, (0.3 * a.len() as f64).floor() as usize, "{name}");
        } else {
            assert!(a.data() == b.data(), "{name} changed");
        }
    }
    let text = "Once upon a time, Lily's dog <|endoftext|>";
    let t0 =
        gptlens::tokenizer::Tokenizer::open(&root().join("tiny-models/tinystories/tokenizer.json"))
            .unwrap();
    let t1 = gptlens::tokenizer::Tokenizer::open(&out.join("tokenizer.json")).unwrap();
    assert_eq!(t0.encode(text).unwrap(), t1.encode(text).unwrap());
    // An existing folder is kept unless --force.
    let r = gptlens(&[
        "prune".as_ref(),
        "--sparsity".as_ref(),
        "0.1".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--force"));
}
