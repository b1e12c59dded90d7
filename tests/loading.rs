//! Bad input to the loader and the command line: each case gets an error that
//! names what is wrong, and nothing panics.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use gptlens::model::{
    Config, Gpt, Interventions, KvCache, ModelError, Tensor, Weights, random_model,
    write_safetensors,
};
use gptlens::session::{Session, fit_context};
use gptlens::tokenizer::{Tokenizer, bytes_tokenizer_json};

fn small_config() -> Config {
    Config::new(2, 2, 16, 257, 32)
}

/// A complete random model folder (config, weights, byte-level tokenizer).
fn model_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let gpt = random_model(&small_config(), 3, false);
    gpt.save(dir.path()).expect("saves");
    std::fs::write(dir.path().join("tokenizer.json"), bytes_tokenizer_json()).expect("writes");
    dir
}

fn open_err(dir: &Path) -> String {
    match Gpt::open(dir) {
        Ok(_) => panic!("{} opened but should not have", dir.display()),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message {msg:?} should mention {p:?}");
    }
}

#[test]
fn missing_config_json_is_named() {
    let dir = model_dir();
    std::fs::remove_file(dir.path().join("config.json")).expect("rm");
    let msg = open_err(dir.path());
    assert_mentions(&msg, &["config.json", "A model folder holds"]);
}

#[test]
fn missing_model_safetensors_is_named() {
    let dir = model_dir();
    std::fs::remove_file(dir.path().join("model.safetensors")).expect("rm");
    let msg = open_err(dir.path());
    assert_mentions(&msg, &["model.safetensors", "A model folder holds"]);
}

#[test]
fn missing_tokenizer_json_is_named() {
    let dir = model_dir();
    std::fs::remove_file(dir.path().join("tokenizer.json")).expect("rm");
    let msg = match Tokenizer::open(&dir.path().join("tokenizer.json")) {
        Ok(_) => panic!("opened a missing tokenizer"),
        Err(e) => e.to_string(),
    };
    assert_mentions(&msg, &["tokenizer.json", "A model folder holds"]);
}

#[test]
fn missing_model_folder_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let msg = open_err(&dir.path().join("nowhere"));
    assert_mentions(&msg, &["nowhere", "does not exist"]);
}

/// Rewrites model.safetensors with `edit` applied to the named tensors.
fn rewrite_weights(
    dir: &Path,
    edit: impl Fn(&str, &[usize], &[f32]) -> (String, Vec<usize>, Vec<f32>),
) {
    let gpt = Gpt::open(dir).expect("opens before the edit");
    let edited: Vec<(String, Vec<usize>, Vec<f32>)> = gpt
        .weights
        .named()
        .into_iter()
        .map(|(n, t)| edit(&n, &t.shape, t.data()))
        .collect();
    let refs: Vec<(String, &[usize], &[f32])> = edited
        .iter()
        .map(|(n, s, d)| (n.clone(), s.as_slice(), d.as_slice()))
        .collect();
    drop(gpt); // the old file is memory-mapped
    write_safetensors(&dir.join("model.safetensors"), &refs, &[("format", "pt")]).expect("writes");
}

#[test]
fn missing_tensor_is_named() {
    let dir = model_dir();
    rewrite_weights(dir.path(), |n, s, d| {
        let name = if n == "h.1.mlp.c_fc.weight" {
            "h.1.mlp.c_fc.renamed".to_string()
        } else {
            n.to_string()
        };
        (name, s.to_vec(), d.to_vec())
    });
    match Gpt::open(dir.path()) {
        Err(e @ ModelError::MissingTensor { .. }) => {
            assert_mentions(&e.to_string(), &["h.1.mlp.c_fc.weight", "missing"])
        }
        other => panic!("expected a missing-tensor error, got {other:?}"),
    }
}

#[test]
fn wrong_tensor_shape_names_expected_and_found() {
    let dir = model_dir();
    rewrite_weights(dir.path(), |n, s, d| {
        if n == "h.0.attn.c_proj.weight" {
            // [16, 16] stored as [8, 32]: same size, wrong shape.
            (n.to_string(), vec![8, 32], d.to_vec())
        } else {
            (n.to_string(), s.to_vec(), d.to_vec())
        }
    });
    match Gpt::open(dir.path()) {
        Err(e @ ModelError::TensorShape { .. }) => assert_mentions(
            &e.to_string(),
            &["h.0.attn.c_proj.weight", "[8, 32]", "[16, 16]"],
        ),
        other => panic!("expected a shape error, got {other:?}"),
    }
}

#[test]
fn config_and_tokenizer_disagreeing_on_vocabulary() {
    let tok = Tokenizer::from_json(&bytes_tokenizer_json()).expect("byte tokenizer");
    let mut cfg = small_config();
    cfg.vocab_size = 100;
    let msg = tok
        .check_matches(&cfg)
        .expect_err("257 tokens do not fit 100")
        .to_string();
    assert_mentions(&msg, &["256", "100", "vocab_size"]);
    cfg.vocab_size = 257;
    tok.check_matches(&cfg).expect("257 fits 257");
}

/// Edits one field of config.json and returns the error opening the folder gives.
fn open_with_config_field(key: &str, value: serde_json::Value) -> String {
    let dir = model_dir();
    let path = dir.path().join("config.json");
    let text = std::fs::read_to_string(&path).expect("reads");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v[key] = value;
    std::fs::write(&path, v.to_string()).expect("writes");
    open_err(dir.path())
}

#[test]
fn unsupported_activation_function() {
    let msg = open_with_config_field("activation_function", "relu".into());
    assert_mentions(&msg, &["relu", "gelu_new"]);
}

#[test]
fn unsupported_model_type_and_architecture() {
    let msg = open_with_config_field("model_type", "llama".into());
    assert_mentions(&msg, &["llama", "GPT-2"]);
    let msg = open_with_config_field("architectures", serde_json::json!(["LlamaForCausalLM"]));
    assert_mentions(&msg, &["LlamaForCausalLM", "not supported"]);
}

#[test]
fn config_json_that_is_not_json() {
    let dir = model_dir();
    std::fs::write(dir.path().join("config.json"), "{ \"n_layer\": 2,").expect("writes");
    assert_mentions(&open_err(dir.path()), &["config.json", "not a valid"]);
}

#[test]
fn truncated_safetensors_file() {
    let dir = model_dir();
    let path = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&path).expect("reads");
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("writes");
    match Gpt::open(dir.path()) {
        Err(e @ ModelError::CorruptWeights { .. }) => {
            assert_mentions(&e.to_string(), &["model.safetensors", "truncated"])
        }
        other => panic!("expected a corrupt-weights error, got {other:?}"),
    }
    // Cut inside the header, and plain garbage, too.
    std::fs::write(&path, &bytes[..20]).expect("writes");
    assert!(matches!(
        Gpt::open(dir.path()),
        Err(ModelError::CorruptWeights { .. })
    ));
    std::fs::write(&path, b"not a safetensors file at all").expect("writes");
    assert!(matches!(
        Gpt::open(dir.path()),
        Err(ModelError::CorruptWeights { .. })
    ));
}

#[test]
fn nan_and_infinite_weights_are_named() {
    let cfg = small_config();
    let gpt = random_model(&cfg, 5, false);
    assert!(gpt.weights.non_finite().is_empty());
    let mut named: BTreeMap<String, Tensor> = gpt
        .weights
        .named()
        .into_iter()
        .map(|(n, t)| (n, t.clone()))
        .collect();
    let poison = |t: &Tensor, v: f32| {
        let mut d = t.data().to_vec();
        d[3] = v;
        Tensor::from_vec(t.shape.clone(), d)
    };
    let w = poison(&named["h.1.attn.c_attn.weight"], f32::NAN);
    named.insert("h.1.attn.c_attn.weight".into(), w);
    let b = poison(&named["ln_f.bias"], f32::INFINITY);
    named.insert("ln_f.bias".into(), b);
    let weights = Weights::from_named(&cfg, named, "test").expect("builds");
    let mut bad = weights.non_finite();
    bad.sort();
    assert_eq!(bad, vec!["h.1.attn.c_attn.weight", "ln_f.bias"]);
    // And after a round trip through a file.
    let dir = tempfile::tempdir().expect("temp dir");
    Gpt {
        config: cfg,
        weights,
    }
    .save(dir.path())
    .expect("saves");
    let reopened = Gpt::open(dir.path()).expect("NaN weights load (with a warning)");
    assert_eq!(reopened.weights.non_finite().len(), 2);
}

#[test]
fn empty_prompt_and_out_of_range_ids_are_refused() {
    let gpt = random_model(&small_config(), 1, false);
    let iv = Interventions::default();
    let mut cache = KvCache::new(&gpt.config);
    let msg = gpt
        .forward(&[], &mut cache, &iv, None, false)
        .expect_err("empty")
        .to_string();
    assert_mentions(&msg, &["empty"]);
    let msg = gpt
        .forward(&[1, 257], &mut cache, &iv, None, false)
        .expect_err("out of range")
        .to_string();
    assert_mentions(&msg, &["257", "out of range"]);
    assert!(cache.is_empty(), "a refused call must not touch the cache");
    assert!(Session::new(gpt.into(), &[], Default::default(), 0).is_err());
}

#[test]
fn prompt_longer_than_context_keeps_the_last_positions() {
    let ids: Vec<u32> = (0..50).collect();
    let (kept, dropped) = fit_context(&ids, 32);
    assert_eq!(dropped, 18);
    assert_eq!(kept, (18..50).collect::<Vec<u32>>());
    let (kept, dropped) = fit_context(&ids[..10], 32);
    assert_eq!((kept.len(), dropped), (10, 0));

    let gpt = random_model(&small_config(), 1, false);
    let mut cache = KvCache::new(&gpt.config);
    let msg = gpt
        .forward(&ids, &mut cache, &Interventions::default(), None, false)
        .expect_err("50 > 32")
        .to_string();
    assert_mentions(&msg, &["50", "32", "context"]);
    let s = Session::new(gpt.into(), &ids, Default::default(), 0).expect("fits by dropping");
    assert_eq!(s.dropped, 18);
    assert_eq!(s.tokens, (18..50).collect::<Vec<u32>>());
}

/// Runs the built binary; returns (success, stderr).
fn gptlens(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gptlens"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the gptlens binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked"),
        "gptlens {args:?} panicked: {stderr}"
    );
    (out.status.success(), stderr)
}

#[test]
fn cli_refuses_out_of_range_ids() {
    let dir = model_dir();
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "trace", "--ids", "1,999999", "--json"]);
    assert!(!ok);
    assert_mentions(&err, &["999999", "out of range"]);
    let (ok, err) = gptlens(&["--model", d, "trace", "--ids", "1,two", "--json"]);
    assert!(!ok);
    assert_mentions(&err, &["two"]);
}

#[test]
fn cli_refuses_an_empty_prompt() {
    let dir = model_dir();
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "generate", "--prompt", ""]);
    assert!(!ok);
    assert_mentions(&err, &["empty"]);
}

#[test]
fn cli_names_a_missing_model_folder_and_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-model");
    let m = missing.to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", m, "generate", "--prompt", "hi"]);
    assert!(!ok);
    assert_mentions(&err, &["no-such-model", "does not exist"]);

    let model = model_dir();
    std::fs::remove_file(model.path().join("tokenizer.json")).expect("rm");
    let d = model.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "generate", "--prompt", "hi"]);
    assert!(!ok);
    assert_mentions(&err, &["tokenizer.json"]);
}

#[test]
fn cli_warns_about_nan_weights_but_runs() {
    let dir = model_dir();
    rewrite_weights(dir.path(), |n, s, d| {
        let mut d = d.to_vec();
        if n == "h.0.mlp.c_fc.bias" {
            d[0] = f32::NAN;
        }
        (n.to_string(), s.to_vec(), d)
    });
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "trace", "--ids", "1,2", "--json"]);
    assert!(ok, "NaN weights warn, they do not refuse: {err}");
    assert_mentions(&err, &["warning", "NaN", "h.0.mlp.c_fc.bias"]);
}
