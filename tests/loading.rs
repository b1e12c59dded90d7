//! Bad input to the loader and the command line: each case gets an error that
//! names what is wrong, and nothing panics.

mod common;

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
    // llama runs since issue 15; another family is named, with the supported ones.
    let msg = open_with_config_field("model_type", "mistral".into());
    assert_mentions(&msg, &["mistral", "gpt2 (GPT2LMHeadModel)", "llama"]);
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
    let out = common::in_english(&mut Command::new(env!("CARGO_BIN_EXE_gptlens")))
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

// ---------------------------------------------------------------------------
// Sizes are checked before anything is allocated (issue 10, point 2)
// ---------------------------------------------------------------------------

/// The error opening a folder whose config.json has `key` set to `value`,
/// as a typed error.
fn open_with_field(key: &str, value: serde_json::Value) -> ModelError {
    let dir = model_dir();
    let path = dir.path().join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("reads")).expect("json");
    v[key] = value;
    std::fs::write(&path, v.to_string()).expect("writes");
    match Gpt::open(dir.path()) {
        Ok(_) => panic!("{key} = {} opened", v[key]),
        Err(e) => e,
    }
}

#[test]
fn absurd_config_sizes_are_refused_naming_the_field_and_the_numbers() {
    // The file holds 2 layers, 16 wide, vocabulary 257, context 32.
    let cases: [(&str, serde_json::Value, &[&str]); 5] = [
        (
            "n_layer",
            1_000_000_000u64.into(),
            &["n_layer is 1000000000", "2 blocks"],
        ),
        (
            "n_embd",
            10_000_000u64.into(),
            &["n_embd is 10000000", "16 wide"],
        ),
        (
            "vocab_size",
            10_000_000_000u64.into(),
            &["vocab_size is 10000000000", "257 rows"],
        ),
        (
            "n_positions",
            1_000_000_000_000u64.into(),
            &["n_positions is 1000000000000", "32 rows"],
        ),
        (
            "n_inner",
            1_000_000_000u64.into(),
            &["n_inner is 1000000000", "64 wide"],
        ),
    ];
    for (key, value, parts) in cases {
        match open_with_field(key, value) {
            e @ ModelError::SizeMismatch { .. } => {
                let msg = e.to_string();
                assert_mentions(&msg, parts);
                assert_mentions(
                    &msg,
                    &["config.json describes", "the file holds 11216 numbers"],
                );
            }
            other => panic!("{key}: expected a size error, got {other:?}"),
        }
    }
    // So many parameters that the count itself overflows 64 bits.
    let dir = model_dir();
    let path = dir.path().join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    v["n_layer"] = u64::MAX.into();
    v["n_embd"] = 4_000_000_000u64.into();
    v["n_head"] = 1.into();
    std::fs::write(&path, v.to_string()).unwrap();
    let msg = open_err(dir.path());
    assert_mentions(&msg, &["more than 2^64 parameters", "n_embd is 4000000000"]);
}

#[test]
fn a_huge_config_json_is_not_read_whole() {
    let dir = model_dir();
    let path = dir.path().join("config.json");
    let f = std::fs::File::create(&path).expect("creates");
    f.set_len(3 << 30).expect("sparse 3 GiB file");
    assert_mentions(&open_err(dir.path()), &["config.json", "3221225472 bytes"]);
}

// ---------------------------------------------------------------------------
// Config switches that change the math (issue 10, point 5)
// ---------------------------------------------------------------------------

#[test]
fn untied_config_without_its_head_is_refused() {
    let e = open_with_field("tie_word_embeddings", false.into());
    assert_mentions(
        &e.to_string(),
        &["tie_word_embeddings is false", "no lm_head.weight"],
    );
}

#[test]
fn unsupported_activations_are_refused_and_gelu_is_erf() {
    for act in ["relu", "silu", "gelu_fast", "quick_gelu"] {
        let msg = open_with_config_field("activation_function", act.into());
        assert_mentions(&msg, &[act, "not supported", "gelu_new", "erf"]);
    }
    let mut cfg = small_config();
    cfg.activation_function = "gelu".into();
    assert_eq!(cfg.activation(), gptlens::model::Activation::GeluErf);
    cfg.activation_function = "gelu_pytorch_tanh".into();
    assert_eq!(cfg.activation(), gptlens::model::Activation::GeluTanh);
    let msg = open_with_config_field("n_inner", 0.into());
    assert_mentions(&msg, &["n_inner is 0"]);
}

#[test]
fn attention_scale_follows_the_config() {
    let mut cfg = Config::new(3, 2, 32, 10, 8); // dₖ = 16
    assert_eq!(cfg.attn_scale(2), 0.25);
    cfg.scale_attn_by_inverse_layer_idx = true;
    assert_eq!(cfg.attn_scale(0), 0.25);
    assert_eq!(cfg.attn_divisor(2), 12.0);
    assert!((cfg.attn_scale(2) - 0.25 / 3.0).abs() < 1e-8);
    cfg.scale_attn_weights = false;
    assert_eq!(cfg.attn_scale(1), 0.5);
}

/// Adds `extra` tensors to the folder's model.safetensors.
fn add_tensors(dir: &Path, extra: &[(&str, Vec<usize>, Vec<f32>)]) {
    let gpt = Gpt::open(dir).expect("opens before the edit");
    let mut all: Vec<(String, Vec<usize>, Vec<f32>)> = gpt
        .weights
        .named()
        .into_iter()
        .map(|(n, t)| (n, t.shape.clone(), t.data().to_vec()))
        .collect();
    all.extend(
        extra
            .iter()
            .map(|(n, s, d)| (n.to_string(), s.clone(), d.clone())),
    );
    let refs: Vec<(String, &[usize], &[f32])> = all
        .iter()
        .map(|(n, s, d)| (n.clone(), s.as_slice(), d.as_slice()))
        .collect();
    drop(gpt);
    write_safetensors(&dir.join("model.safetensors"), &refs, &[]).expect("writes");
}

#[test]
fn unexpected_tensors_and_an_ignored_head_are_warned_about() {
    use gptlens::model::LoadWarning;
    let dir = model_dir();
    assert!(Gpt::open(dir.path()).unwrap().weights.warnings.is_empty());
    let wte = Gpt::open(dir.path()).unwrap().weights.wte.data().to_vec();
    // A head equal to wte (as some tied checkpoints store it): nothing to say.
    add_tensors(
        dir.path(),
        &[("lm_head.weight", vec![257, 16], wte.clone())],
    );
    assert!(Gpt::open(dir.path()).unwrap().weights.warnings.is_empty());

    let dir = model_dir();
    let mut other = wte;
    other[5] += 1.0;
    add_tensors(
        dir.path(),
        &[
            ("lm_head.weight", vec![257, 16], other),
            ("h.2.ln_1.weight", vec![16], vec![1.0; 16]),
            ("h.2.ln_1.bias", vec![16], vec![0.0; 16]),
        ],
    );
    let gpt = Gpt::open(dir.path()).expect("extra tensors warn, they do not refuse");
    assert_eq!(
        gpt.weights.warnings,
        vec![
            LoadWarning::IgnoredHead,
            LoadWarning::UnexpectedTensors {
                names: vec!["h.2.ln_1.bias".into(), "h.2.ln_1.weight".into()]
            }
        ]
    );
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "trace", "--ids", "1,2", "--json"]);
    assert!(ok, "{err}");
    assert_mentions(
        &err,
        &[
            "warning: model.safetensors holds 2 tensor(s)",
            "h.2.ln_1.bias, h.2.ln_1.weight",
            "tie_word_embeddings",
        ],
    );
}

#[test]
fn an_untied_model_round_trips_and_uses_its_own_head() {
    let mut cfg = small_config();
    cfg.tie_word_embeddings = false;
    let gpt = random_model(&cfg, 9, true);
    let head = gpt
        .weights
        .lm_head
        .as_ref()
        .expect("untied init has a head");
    assert_ne!(head.data(), gpt.weights.wte.data());
    assert_eq!(cfg.n_params(), small_config().n_params() + 257 * 16);
    let dir = tempfile::tempdir().unwrap();
    gpt.save(dir.path()).unwrap();
    let back = Gpt::open(dir.path()).expect("reopens");
    assert!(!back.config.tie_word_embeddings);
    assert!(back.weights.warnings.is_empty());
    let ids = [1, 2, 3];
    let a = gpt.last_logits(&ids).unwrap();
    assert_eq!(a, back.last_logits(&ids).unwrap());
    let mut tied = back.clone();
    tied.weights.lm_head = None;
    assert_ne!(a, tied.last_logits(&ids).unwrap());
}

// ---------------------------------------------------------------------------
// Messages that say what is wrong (issue 10, point 10)
// ---------------------------------------------------------------------------

/// A safetensors file by hand: one tensor per (name, dtype, shape, bytes).
fn raw_safetensors(tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) -> Vec<u8> {
    let mut header = serde_json::Map::new();
    let mut data = vec![];
    for (name, dtype, shape, bytes) in tensors {
        header.insert(
            name.to_string(),
            serde_json::json!({"dtype": dtype, "shape": shape,
                "data_offsets": [data.len(), data.len() + bytes.len()]}),
        );
        data.extend_from_slice(bytes);
    }
    let h = serde_json::to_string(&header).unwrap();
    let mut out = (h.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(h.as_bytes());
    out.extend(data);
    out
}

#[test]
fn unsupported_dtypes_are_named_not_called_truncated() {
    for (dtype, width) in [("I64", 8), ("U8", 1), ("F64", 8), ("I32", 4)] {
        let dir = model_dir();
        let path = dir.path().join("model.safetensors");
        std::fs::write(
            &path,
            raw_safetensors(&[(
                "wte.weight",
                dtype,
                vec![257, 16],
                vec![0; 257 * 16 * width],
            )]),
        )
        .unwrap();
        match Gpt::open(dir.path()) {
            Err(e @ ModelError::UnsupportedDtype { .. }) => {
                let msg = e.to_string();
                assert_mentions(
                    &msg,
                    &[
                        "wte.weight",
                        &format!("dtype {dtype} is not supported; gptlens reads F32, F16, BF16"),
                    ],
                );
                assert!(!msg.contains("truncated"), "{msg}");
            }
            other => panic!("{dtype}: expected a dtype error, got {other:?}"),
        }
    }
}

#[test]
fn f16_and_bf16_weights_load_as_f32() {
    let dir = model_dir();
    let gpt = Gpt::open(dir.path()).unwrap();
    for (dtype, conv) in [
        (
            "F16",
            (|x: f32| half::f16::from_f32(x).to_le_bytes()) as fn(f32) -> [u8; 2],
        ),
        ("BF16", |x: f32| half::bf16::from_f32(x).to_le_bytes()),
    ] {
        let named = gpt.weights.named();
        let tensors: Vec<(&str, &str, Vec<usize>, Vec<u8>)> = named
            .iter()
            .map(|(n, t)| {
                (
                    n.as_str(),
                    dtype,
                    t.shape.clone(),
                    t.data().iter().flat_map(|&x| conv(x)).collect(),
                )
            })
            .collect();
        let out = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.path().join("config.json"),
            out.path().join("config.json"),
        )
        .unwrap();
        std::fs::write(
            out.path().join("model.safetensors"),
            raw_safetensors(&tensors),
        )
        .unwrap();
        let back = Gpt::open(out.path()).expect("half precision loads");
        let (a, b) = (
            gpt.weights.layers[1].fc_w.data(),
            back.weights.layers[1].fc_w.data(),
        );
        let err = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(err < 1e-3 && err > 0.0, "{dtype}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn folders_and_broken_links_where_a_file_should_be_are_named() {
    use std::os::unix::fs::symlink;
    let dir = model_dir();
    let p = dir.path();
    std::fs::remove_file(p.join("config.json")).unwrap();
    std::fs::create_dir(p.join("config.json")).unwrap();
    assert_mentions(&open_err(p), &["config.json is a folder", "plain file"]);

    let dir = model_dir();
    let p = dir.path();
    std::fs::remove_file(p.join("model.safetensors")).unwrap();
    symlink(p.join("gone.safetensors"), p.join("model.safetensors")).unwrap();
    let msg = open_err(p);
    assert_mentions(&msg, &["model.safetensors", "dangling link"]);
    assert!(!msg.contains("has no"), "{msg}");

    std::fs::remove_file(p.join("tokenizer.json")).unwrap();
    symlink(p.join("tokenizer.json"), p.join("tokenizer.json")).unwrap();
    let msg = match Tokenizer::open(&p.join("tokenizer.json")) {
        Ok(_) => panic!("a link loop opened"),
        Err(e) => e.to_string(),
    };
    assert_mentions(&msg, &["tokenizer.json", "loops back on itself"]);

    let model = model_dir();
    let file = model.path().join("config.json");
    assert_mentions(&open_err(&file), &["is a file, not a model folder"]);
}

#[test]
fn os_errors_are_said_once() {
    let e = ModelError::Io {
        path: "x/config.json".into(),
        err: std::io::Error::from_raw_os_error(21),
    };
    let shown = format!("{:#}", anyhow::Error::from(e).context("opening the model"));
    let once = std::io::Error::from_raw_os_error(21).to_string();
    assert_eq!(shown.matches(&once).count(), 1, "{shown}");
}

// ---------------------------------------------------------------------------
// A tokenizer smaller than the vocabulary (issue 10, point 6)
// ---------------------------------------------------------------------------

#[test]
fn ids_beyond_the_tokenizer_are_shown_and_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new(1, 2, 16, 4000, 16);
    random_model(&cfg, 4, false).save(dir.path()).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), bytes_tokenizer_json()).unwrap();
    let d = dir.path().to_str().expect("utf-8 temp path");
    let out = Command::new(env!("CARGO_BIN_EXE_gptlens"))
        .args(["--model", d, "trace", "--ids", "104,105,3999", "--json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_mentions(
        &stderr,
        &[
            "the tokenizer has 257 tokens but the model has 4000 ids",
            "3743 ids have no text",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_mentions(&stdout, &["<id 3999>"]);
}

// ---------------------------------------------------------------------------
// Finite weights that overflow in the pass (issue 10, point 11)
// ---------------------------------------------------------------------------

#[test]
fn overflow_in_the_pass_is_located_and_warned_about() {
    let cfg = small_config();
    let gpt = random_model(&cfg, 2, false);
    let mut cache = KvCache::new(&cfg);
    gpt.forward(
        &[1, 2, 3],
        &mut cache,
        &Interventions::default(),
        None,
        false,
    )
    .unwrap();
    assert_eq!(cache.non_finite(), None);

    // Finite but huge weights in layer 1's MLP: the sum x·W overflows there.
    let mut named: BTreeMap<String, Tensor> = gpt
        .weights
        .named()
        .into_iter()
        .map(|(n, t)| (n, t.clone()))
        .collect();
    let w = &named["h.1.mlp.c_fc.weight"];
    named.insert(
        "h.1.mlp.c_fc.weight".into(),
        Tensor::from_vec(w.shape.clone(), vec![3e38; w.len()]),
    );
    let bad = Gpt {
        config: cfg.clone(),
        weights: Weights::from_named(&cfg, named, "test").unwrap(),
    };
    assert!(
        bad.weights.non_finite().is_empty(),
        "every weight is finite"
    );
    let expect = gptlens::model::NonFinite {
        stage: "mlp_pre",
        layer: Some(1),
        position: 0,
    };
    let mut cache = KvCache::new(&cfg);
    bad.forward(
        &[1, 2, 3],
        &mut cache,
        &Interventions::default(),
        None,
        false,
    )
    .unwrap();
    assert_eq!(cache.non_finite(), Some(&expect), "fast path");
    let trace = bad.trace(&[1, 2, 3], &Interventions::default()).unwrap();
    assert_eq!(trace.non_finite, Some(expect.clone()), "traced path");
    assert_mentions(
        &expect.to_string(),
        &["layer 1's mlp_pre", "position 0", "too large for f32"],
    );

    let dir = tempfile::tempdir().unwrap();
    bad.save(dir.path()).unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), bytes_tokenizer_json()).unwrap();
    let d = dir.path().to_str().expect("utf-8 temp path");
    let (ok, err) = gptlens(&["--model", d, "trace", "--ids", "1,2", "--json"]);
    assert!(ok, "{err}");
    assert_mentions(
        &err,
        &[
            "warning: the forward pass produced NaN or infinite values",
            "layer 1's mlp_pre",
        ],
    );
    let (ok, err) = gptlens(&[
        "--model",
        d,
        "generate",
        "--prompt",
        "hi",
        "--max-tokens",
        "2",
    ]);
    assert!(ok, "{err}");
    assert_mentions(&err, &["layer 1's mlp_pre"]);
}

/// `--model classroom` opens the built-in model of that name when there is
/// no such folder where the command runs; a folder of that name wins; a
/// name that is neither is refused with the built-in names listed.
#[test]
fn a_bare_built_in_name_opens_that_model_unless_a_folder_has_the_name() {
    let run = |cwd: &Path, model: &str| {
        let out = common::in_english(&mut Command::new(env!("CARGO_BIN_EXE_gptlens")))
            .current_dir(cwd)
            .args([
                "generate",
                "--model",
                model,
                "--prompt",
                "Once",
                "--max-tokens",
                "3",
            ])
            .env("NO_COLOR", "1")
            .env_remove("GPTLENS_MODELS")
            .output()
            .expect("the gptlens binary runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let here = tempfile::tempdir().expect("temp dir");
    let (ok, text, err) = run(here.path(), "classroom");
    assert!(ok, "{err}");
    assert!(text.starts_with("Once"), "{text}");

    // A folder named classroom here is what --model classroom means.
    std::fs::create_dir(here.path().join("classroom")).expect("mkdir");
    let (ok, _, err) = run(here.path(), "classroom");
    assert!(!ok, "the empty folder, not the built-in model");
    assert_mentions(&err, &["config.json"]);

    let (ok, _, err) = run(here.path(), "no-such-model");
    assert!(!ok);
    assert_mentions(
        &err,
        &[
            "no-such-model",
            "does not exist",
            "tinystories",
            "classroom",
        ],
    );
}
