//! The Llama block against transformers' `LlamaForCausalLM` (fixtures written
//! by `scripts/reference.py llama-fixtures`: float64 forward passes of seeded
//! random models of odd sizes), and the Llama folder's bad inputs.
//!
//! `cargo test --release --test llama -- --nocapture` prints the measured errors.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gptlens::model::{
    Config, Family, Gpt, Interventions, KvCache, ModelError, Norm, Positions, random_model,
};
use gptlens::tokenizer::Tokenizer;
use ndarray::{ArrayView2, s};
use safetensors::{Dtype, SafeTensors};

fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct RefTensor {
    shape: Vec<usize>,
    f: Vec<f32>,
    ids: Vec<i64>,
}

fn read_fixture(path: &Path) -> BTreeMap<String, RefTensor> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (scripts/reference.py llama-fixtures writes it)",
            path.display()
        )
    });
    let st = SafeTensors::deserialize(&bytes).expect("safetensors");
    st.tensors()
        .into_iter()
        .map(|(name, v)| {
            let (f, ids) = match v.dtype() {
                Dtype::F32 => (
                    v.data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        .collect(),
                    vec![],
                ),
                Dtype::I64 => (
                    vec![],
                    v.data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                        .collect(),
                ),
                d => panic!("{name}: unexpected dtype {d:?}"),
            };
            let shape = v.shape().to_vec();
            (name, RefTensor { shape, f, ids })
        })
        .collect()
}

fn get<'a>(fx: &'a BTreeMap<String, RefTensor>, name: &str) -> &'a RefTensor {
    fx.get(name)
        .unwrap_or_else(|| panic!("fixture has no tensor {name}"))
}

/// Largest |a − b| relative to the reference's largest |value| (at least 1).
fn rel_err(ours: ArrayView2<f32>, r: &RefTensor, what: &str) -> f32 {
    assert_eq!(vec![ours.nrows(), ours.ncols()], r.shape, "{what}: shape");
    let scale = r.f.iter().map(|v| v.abs()).fold(1.0, f32::max);
    ours.iter()
        .zip(&r.f)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
        / scale
}

/// Errors per stage (each the max over layers and positions, relative to
/// the tensor's scale except the attention probabilities, which are absolute).
#[derive(Debug, Default)]
struct Errors {
    logits: f32,
    resid: f32,
    norm_ms: f32,
    attn: f32,
    qkv: f32,
    mlp: f32,
}

fn compare(name: &str) -> Errors {
    let dir = fixture_dir(name);
    let gpt = Gpt::open(&dir).expect("fixture model opens");
    let fx = read_fixture(&dir.join("reference.safetensors"));
    let cfg = &gpt.config;
    let ids: Vec<u32> = get(&fx, "input_ids")
        .ids
        .iter()
        .map(|&i| i as u32)
        .collect();
    let t = ids.len();
    let tr = gpt.trace(&ids, &Interventions::default()).expect("runs");
    let mut e = Errors {
        logits: rel_err(tr.logits.view(), get(&fx, "logits"), "logits"),
        ..Default::default()
    };
    for i in 0..=cfg.n_layer {
        let r = get(&fx, &format!("resid.{i}"));
        e.resid = e
            .resid
            .max(rel_err(tr.resid_in(i).view(), r, &format!("resid.{i}")));
    }
    let mut ms = |ours: &[f32], key: &str| {
        let r = get(&fx, &format!("{key}.ms"));
        let v = ndarray::ArrayView2::from_shape((1, ours.len()), ours).unwrap();
        let r2 = RefTensor {
            shape: vec![1, r.f.len()],
            f: r.f.clone(),
            ids: vec![],
        };
        e.norm_ms = e.norm_ms.max(rel_err(v, &r2, key));
    };
    for (i, l) in tr.layers.iter().enumerate() {
        ms(&l.ln_1.var, &format!("norm_1.{i}"));
        ms(&l.ln_2.var, &format!("norm_2.{i}"));
        // RMS is √mean(x²) and mean is 0: RMSNorm does not centre.
        assert!(l.ln_1.mean.iter().all(|&m| m == 0.0));
        for (r, v) in l.ln_1.rms.iter().zip(&l.ln_1.var) {
            assert!((r * r - v).abs() <= 1e-5 * v.max(1.0));
        }
    }
    ms(&tr.ln_f.var, "norm_f");
    let d = cfg.head_dim();
    let group = cfg.n_head / cfg.n_kv_head();
    for (i, l) in tr.layers.iter().enumerate() {
        let a = get(&fx, &format!("attn.{i}"));
        assert_eq!(a.shape, vec![cfg.n_head, t, t], "attn.{i}: shape");
        for (h, rows) in l.probs.iter().enumerate() {
            for (q, row) in rows.iter().enumerate() {
                assert_eq!(row.len(), q + 1, "row {q} holds keys 0..={q}");
                for (k, &p) in a.f[(h * t + q) * t..(h * t + q + 1) * t].iter().enumerate() {
                    let ours = row.get(k).copied().unwrap_or(0.0);
                    e.attn = e.attn.max((ours - p).abs());
                }
            }
        }
        // q before RoPE is q_proj's output; k and v are laid out per query
        // head: the reference's key/value head g is our head g·group.
        e.qkv = e.qkv.max(rel_err(
            l.q_pre_rope.view(),
            get(&fx, &format!("q_proj.{i}")),
            "q_proj",
        ));
        for (ours, key) in [(&l.k_pre_rope, "k_proj"), (&l.v, "v_proj")] {
            let r = get(&fx, &format!("{key}.{i}"));
            let mut kv = ndarray::Array2::zeros((t, cfg.kv_dim()));
            for g in 0..cfg.n_kv_head() {
                let h = g * group;
                kv.slice_mut(s![.., g * d..(g + 1) * d])
                    .assign(&ours.slice(s![.., h * d..(h + 1) * d]));
            }
            e.qkv = e.qkv.max(rel_err(kv.view(), r, key));
        }
        for (ours, key) in [
            (&l.mlp_pre, "gate"),
            (&l.mlp_up, "up"),
            (&l.mlp_act, "mlp_act"),
        ] {
            e.mlp = e
                .mlp
                .max(rel_err(ours.view(), get(&fx, &format!("{key}.{i}")), key));
        }
        // The SiLU factor times the up projection is what down_proj reads.
        let prod = &l.mlp_silu * &l.mlp_up;
        assert!(
            prod.iter()
                .zip(&l.mlp_act)
                .all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0))
        );
    }
    println!(
        "{name}: relative max |Δ| logits {:.2e}, residual streams {:.2e}, RMSNorm mean(x²) {:.2e}, \
         q/k/v before RoPE {:.2e}, gate/up/SwiGLU {:.2e}; attention probs {:.2e} absolute",
        e.logits, e.resid, e.norm_ms, e.qkv, e.mlp, e.attn
    );
    e
}

/// The reference is float64 of the same f32 weights: these bound the f32
/// rounding of the engine (measured errors are 10–100× smaller).
fn assert_within(e: &Errors, name: &str) {
    assert!(e.logits <= 1e-5, "{name}: logits off by {}", e.logits);
    assert!(
        e.resid <= 1e-5,
        "{name}: residual stream off by {}",
        e.resid
    );
    assert!(e.norm_ms <= 1e-5, "{name}: RMSNorm off by {}", e.norm_ms);
    assert!(e.attn <= 1e-5, "{name}: attention off by {}", e.attn);
    assert!(e.qkv <= 1e-5, "{name}: q/k/v off by {}", e.qkv);
    assert!(e.mlp <= 1e-5, "{name}: MLP off by {}", e.mlp);
}

/// 3 layers, 9 query heads over 3 key/value heads, width 54, SwiGLU width 71,
/// rope_theta 5000 in transformers 5's rope_parameters, untied head.
#[test]
fn matches_transformers_on_random_gqa_llama_with_untied_head() {
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    let a = gpt.config.arch();
    assert_eq!(a.family, Family::Llama);
    assert_eq!((a.n_head, a.n_kv_head), (9, 3));
    assert!(!a.tied_unembedding && gpt.weights.lm_head.is_some());
    assert_eq!(gpt.config.rope_theta, Some(5000.0));
    let e = compare("random-llama");
    assert_within(&e, "random-llama");
}

/// 2 layers, 6 query heads over 2 key/value heads, tied head, and the older
/// config form: top-level rope_theta 321 with rope_scaling null.
#[test]
fn matches_transformers_on_tied_llama_with_top_level_rope_theta() {
    let gpt = Gpt::open(&fixture_dir("random-llama-tied")).unwrap();
    assert_eq!(gpt.config.rope_theta, Some(321.0));
    assert!(gpt.weights.lm_head.is_none());
    assert_eq!(gpt.config.arch().norm, Norm::RmsNorm);
    assert_eq!(gpt.config.arch().positions, Positions::Rotary);
    let e = compare("random-llama-tied");
    assert_within(&e, "random-llama-tied");
}

/// Each piece is needed: a wrong rotary base, a tied head read as untied or
/// plain multi-head attention would all be caught by the fixture.
#[test]
fn the_fixture_catches_a_wrong_rope_base() {
    let dir = fixture_dir("random-llama");
    let mut gpt = Gpt::open(&dir).unwrap();
    gpt.config.rope_theta = Some(10000.0);
    let fx = read_fixture(&dir.join("reference.safetensors"));
    let ids: Vec<u32> = get(&fx, "input_ids")
        .ids
        .iter()
        .map(|&i| i as u32)
        .collect();
    let tr = gpt.trace(&ids, &Interventions::default()).unwrap();
    let err = rel_err(tr.logits.view(), get(&fx, "logits"), "logits");
    println!("rope_theta 10000 instead of 5000: relative logit error {err:.2e}");
    assert!(
        err > 1e-3,
        "θ = 10000 instead of 5000 changed logits by only {err}"
    );
}

#[test]
fn cached_decoding_of_the_fixture_equals_the_full_pass() {
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    let ids = [5u32, 17, 82, 0, 40, 40, 3, 66, 12];
    let full = gpt.trace(&ids, &Interventions::default()).unwrap();
    let mut cache = KvCache::new(&gpt.config);
    // A prompt of four, then one token at a time.
    let mut logits = gpt
        .forward(
            &ids[..4],
            &mut cache,
            &Interventions::default(),
            None,
            false,
        )
        .unwrap();
    for &t in &ids[4..] {
        logits = gpt
            .forward(&[t], &mut cache, &Interventions::default(), None, false)
            .unwrap();
    }
    let err = logits
        .row(0)
        .iter()
        .zip(full.last_logits())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-5, "{err}");
    assert_eq!(
        cache.bytes(),
        3 * 2 * ids.len() * 18 * 4,
        "GQA: 3 of 9 heads cached"
    );
}

#[test]
fn a_saved_random_llama_reopens_with_llama_names_and_the_same_logits() {
    let cfg = Config::llama(2, 5, 1, 20, 33, 45, 12, 777.0);
    let gpt = random_model(&cfg, 4, true);
    let dir = tempfile::tempdir().unwrap();
    gpt.save(dir.path()).unwrap();
    let text = std::fs::read_to_string(dir.path().join("config.json")).unwrap();
    assert!(text.contains("\"num_key_value_heads\": 1"), "{text}");
    let bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let names: Vec<String> = st.names().into_iter().map(String::from).collect();
    assert!(names.contains(&"model.layers.1.mlp.gate_proj.weight".to_string()));
    assert!(names.contains(&"lm_head.weight".to_string()));
    let back = Gpt::open(dir.path()).unwrap();
    assert_eq!(back.config, cfg);
    let ids = [1u32, 44, 2, 9];
    assert_eq!(
        back.last_logits(&ids).unwrap(),
        gpt.last_logits(&ids).unwrap()
    );
}

/// A copy of a fixture folder with config.json edited.
fn edited_fixture(edit: impl Fn(&mut serde_json::Value)) -> tempfile::TempDir {
    let src = fixture_dir("random-llama");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        src.join("model.safetensors"),
        dir.path().join("model.safetensors"),
    )
    .unwrap();
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(dir.path().join("config.json"), cfg.to_string()).unwrap();
    dir
}

fn open_err(dir: &Path) -> String {
    match Gpt::open(dir) {
        Ok(_) => panic!("{} opened", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn vocabulary_disagreeing_between_config_and_tensors_is_named() {
    // Smaller in config.json than in the file: the embedding's rows are named.
    let dir = edited_fixture(|c| c["vocab_size"] = 80.into());
    let e = open_err(dir.path());
    assert!(
        e.contains("vocabulary sizes disagree")
            && e.contains("vocab_size is 80 but embed_tokens.weight")
            && e.contains("has 83 rows"),
        "{e}"
    );
    // Larger: refused before anything is allocated, with the same two numbers.
    let dir = edited_fixture(|c| c["vocab_size"] = 500.into());
    let e = open_err(dir.path());
    assert!(
        e.contains("vocab_size is 500 but embed_tokens.weight has 83 rows"),
        "{e}"
    );
}

#[test]
fn vocabulary_disagreeing_between_tokenizer_and_config_is_named() {
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    // A byte-level tokenizer with 257 ids for a model of 83.
    let tok = Tokenizer::from_json(&gptlens::tokenizer::bytes_tokenizer_json()).unwrap();
    let e = tok.check_matches(&gpt.config).unwrap_err().to_string();
    assert!(
        e.contains("ids up to 256") && e.contains("vocab_size is 83"),
        "{e}"
    );
}

#[test]
fn an_unsupported_architecture_is_named_with_the_supported_ones() {
    let dir = edited_fixture(|c| {
        c["model_type"] = "mistral".into();
        c["architectures"] = serde_json::json!(["MistralForCausalLM"]);
    });
    let e = open_err(dir.path());
    assert!(e.contains("\"mistral\" (MistralForCausalLM)"), "{e}");
    assert!(
        e.contains("gpt2 (GPT2LMHeadModel) and llama (LlamaForCausalLM"),
        "{e}"
    );
    let dir = edited_fixture(|c| {
        c["rope_parameters"] =
            serde_json::json!({"rope_type": "yarn", "rope_theta": 5000.0, "factor": 4.0});
    });
    let e = open_err(dir.path());
    assert!(e.contains("rope_type \"yarn\" is not supported"), "{e}");
}

#[test]
fn a_missing_llama_tensor_names_it() {
    let cfg = Config::llama(1, 2, 1, 8, 10, 12, 8, 100.0);
    let gpt = random_model(&cfg, 1, false);
    let dir = tempfile::tempdir().unwrap();
    gpt.save(dir.path()).unwrap();
    // Drop one tensor by rewriting the file without it.
    let keep: Vec<(String, Vec<usize>, Vec<f32>)> = gpt
        .weights
        .named()
        .into_iter()
        .filter(|(n, _)| n != "layers.0.mlp.up_proj.weight")
        .map(|(n, t)| (format!("model.{n}"), t.shape.clone(), t.data().to_vec()))
        .collect();
    let refs: Vec<(String, &[usize], &[f32])> = keep
        .iter()
        .map(|(n, s, d)| (n.clone(), s.as_slice(), d.as_slice()))
        .collect();
    gptlens::model::write_safetensors(&dir.path().join("model.safetensors"), &refs, &[]).unwrap();
    match Gpt::open(dir.path()) {
        Err(e @ ModelError::SizeMismatch { .. }) | Err(e @ ModelError::MissingTensor { .. }) => {
            let m = e.to_string();
            assert!(m.contains("up_proj") || m.contains("parameters"), "{m}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn finetune_refuses_a_llama_model_instead_of_training_it_as_gpt2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("pairs.jsonl");
    std::fs::write(&data, "{\"prompt\": \"a\", \"response\": \"b\"}\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gptlens"))
        .args(["finetune", "--model"])
        .arg(fixture_dir("random-llama"))
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("is a Llama model") && !err.contains("panicked"),
        "{err}"
    );
}

/// The random-llama fixture written as llama.cpp's converter would (ggml
/// names, Q/K rows permuted for its RoPE, F32), with `edit` applied to the
/// metadata; returns the file.
fn fixture_as_gguf(edit: impl Fn(&mut gptlens::gguf::GgufWriter)) -> tempfile::NamedTempFile {
    use gptlens::gguf::{GgufWriter, Value, ValueType};
    use gptlens::quant::GgmlType;
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    let c = &gpt.config;
    let mut w = GgufWriter::new();
    let s = |v: &str| Value::String(v.into());
    let u = |v: usize| Value::U32(v as u32);
    w.set("general.architecture", s("llama"));
    w.set("llama.block_count", u(c.n_layer));
    w.set("llama.context_length", u(c.n_positions));
    w.set("llama.embedding_length", u(c.n_embd));
    w.set("llama.feed_forward_length", u(c.mlp_dim()));
    w.set("llama.attention.head_count", u(c.n_head));
    w.set("llama.attention.head_count_kv", u(c.n_kv_head()));
    w.set("llama.rope.freq_base", Value::F32(5000.0));
    w.set("llama.attention.layer_norm_rms_epsilon", Value::F32(1e-6));
    w.set("llama.rope.dimension_count", u(c.head_dim()));
    let chars = gptlens::tokenizer::byte_to_char();
    let tokens: Vec<Value> = (0..c.vocab_size)
        .map(|i| s(&chars[32 + i].to_string()))
        .collect();
    w.set("tokenizer.ggml.model", s("gpt2"));
    w.set("tokenizer.ggml.pre", s("gpt2"));
    w.set(
        "tokenizer.ggml.tokens",
        Value::Array(ValueType::String, tokens),
    );
    w.set(
        "tokenizer.ggml.merges",
        Value::Array(ValueType::String, vec![]),
    );
    w.set(
        "tokenizer.chat_template",
        s("{% for m in messages %}<{{ m['content'] }}>{% endfor %}"),
    );
    edit(&mut w);
    // llama.cpp's permute: rows [heads, 2, d/2] → [heads, d/2, 2].
    let permute = |data: &[f32], heads: usize, cols: usize| {
        let d = data.len() / cols / heads;
        let mut out = vec![0.0; data.len()];
        for h in 0..heads {
            for j in 0..2 {
                for i in 0..d / 2 {
                    let (src, dst) = (h * d + j * (d / 2) + i, h * d + 2 * i + j);
                    out[dst * cols..(dst + 1) * cols]
                        .copy_from_slice(&data[src * cols..(src + 1) * cols]);
                }
            }
        }
        out
    };
    for (name, t) in gpt.weights.named() {
        let g = match name.as_str() {
            "embed_tokens.weight" => "token_embd.weight".to_string(),
            "norm.weight" => "output_norm.weight".to_string(),
            "lm_head.weight" => "output.weight".to_string(),
            n => {
                let (i, part) = n.strip_prefix("layers.").unwrap().split_once('.').unwrap();
                let g = match part {
                    "input_layernorm.weight" => "attn_norm",
                    "self_attn.q_proj.weight" => "attn_q",
                    "self_attn.k_proj.weight" => "attn_k",
                    "self_attn.v_proj.weight" => "attn_v",
                    "self_attn.o_proj.weight" => "attn_output",
                    "post_attention_layernorm.weight" => "ffn_norm",
                    "mlp.gate_proj.weight" => "ffn_gate",
                    "mlp.up_proj.weight" => "ffn_up",
                    "mlp.down_proj.weight" => "ffn_down",
                    p => panic!("{p}"),
                };
                format!("blk.{i}.{g}.weight")
            }
        };
        let cols = *t.shape.last().unwrap();
        let data = if g.ends_with("attn_q.weight") {
            permute(t.data(), c.n_head, cols)
        } else if g.ends_with("attn_k.weight") {
            permute(t.data(), c.n_kv_head(), cols)
        } else {
            t.data().to_vec()
        };
        let bytes: Vec<u8> = data.iter().flat_map(|x| x.to_le_bytes()).collect();
        w.add_tensor(&g, &t.shape, GgmlType::F32, bytes).unwrap();
    }
    let f = tempfile::Builder::new().suffix(".gguf").tempfile().unwrap();
    w.write(f.path()).unwrap();
    f
}

#[test]
fn a_llama_gguf_with_permuted_q_k_computes_what_the_safetensors_folder_does() {
    let f = fixture_as_gguf(|_| {});
    let m = gptlens::model::GgufModel::open(f.path()).unwrap();
    let st = Gpt::open(&fixture_dir("random-llama")).unwrap();
    assert_eq!(m.gpt.config.rope_theta, Some(5000.0));
    assert!(
        !m.gpt.config.tie_word_embeddings,
        "output.weight present: untied"
    );
    let ids = [4u32, 81, 0, 33, 33, 7];
    assert_eq!(
        m.gpt.last_logits(&ids).unwrap(),
        st.last_logits(&ids).unwrap()
    );
    // F32 only: nothing was dequantized, so nothing is said.
    assert!(
        m.gpt.weights.warnings.is_empty(),
        "{:?}",
        m.gpt.weights.warnings
    );
    // Gpt::open takes the file too, and the tokenizer and template come along.
    assert_eq!(
        Gpt::open(f.path()).unwrap().last_logits(&ids).unwrap(),
        st.last_logits(&ids).unwrap()
    );
    let tok = Tokenizer::from_json(&m.tokenizer_json).unwrap();
    assert_eq!(tok.vocab_size(), 83);
    assert!(m.chat_template.unwrap().contains("m['content']"));
}

#[test]
fn a_gguf_tokenizer_that_is_not_byte_level_bpe_is_refused() {
    use gptlens::gguf::Value;
    let f = fixture_as_gguf(|w| w.set("tokenizer.ggml.model", Value::String("llama".into())));
    let e = gptlens::model::GgufModel::open(f.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tokenizer.ggml.model is \"llama\"") && e.contains("byte-level BPE"),
        "{e}"
    );
    let f = fixture_as_gguf(|w| w.set("tokenizer.ggml.pre", Value::String("qwen2".into())));
    let e = gptlens::model::GgufModel::open(f.path())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("tokenizer.ggml.pre is \"qwen2\""), "{e}");
}

#[test]
fn a_gguf_vocabulary_disagreeing_with_its_tokens_is_named() {
    use gptlens::gguf::Value;
    let f = fixture_as_gguf(|w| w.set("llama.vocab_size", Value::U32(90)));
    let e = gptlens::model::GgufModel::open(f.path())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("vocabulary sizes disagree") && e.contains("llama.vocab_size is 90"),
        "{e}"
    );
}

#[test]
fn a_gguf_of_another_architecture_is_named() {
    use gptlens::gguf::Value;
    let f = fixture_as_gguf(|w| w.set("general.architecture", Value::String("qwen2".into())));
    let e = gptlens::model::GgufModel::open(f.path())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("\"qwen2\"") && e.contains("llama"), "{e}");
}

#[test]
fn the_cost_ledger_counts_the_smaller_kv_cache_and_swiglus_three_matrices() {
    use gptlens::cost::{Key, Ledger, Params};
    use gptlens::pass::Stage;
    // SmolLM2-135M's shape: 30 layers, 9 query heads over 3 key/value heads.
    let cfg = Config::llama(30, 9, 3, 576, 1536, 49152, 8192, 1e5);
    let mut tied = cfg.clone();
    tied.tie_word_embeddings = true;
    let p = Params::of(&tied);
    assert_eq!(
        p.total,
        tied.n_params() as f64,
        "the ledger and the loader count alike"
    );
    assert!(
        (p.total - 134.5e6).abs() < 0.1e6,
        "SmolLM2-135M: {}",
        p.total
    );
    let (l, c, m, kv) = (30.0, 576.0, 1536.0, 192.0);
    let t = 100;
    let led = Ledger::for_forward(&cfg, t - 1, 1, false);
    assert_eq!(led.kv_cache_bytes, 2.0 * l * t as f64 * kv * 4.0);
    // Multi-head attention of the same width caches 9/3 = 3 times as much.
    let mut mha = cfg.clone();
    mha.n_kv_head = Some(9);
    let full = Ledger::for_forward(&mha, t - 1, 1, false);
    assert_eq!(full.kv_cache_bytes, 3.0 * led.kv_cache_bytes);
    // Gate and up (C → 2M) and down (M → C): three C·M matrices, no biases.
    let up = led.stage(Stage::MlpUp).unwrap();
    let down = led.stage(Stage::MlpDown).unwrap();
    assert_eq!(up.multiply_adds, l * c * 2.0 * m);
    assert_eq!(up.weight_bytes + down.weight_bytes, l * 3.0 * c * m * 4.0);
    let qkv = led.stage(Stage::Qkv).unwrap();
    assert_eq!(qkv.weight_bytes, l * c * (c + 2.0 * kv) * 4.0);
    assert!(led.stage(Stage::Ln1).unwrap().name.contains("RMSNorm"));
    assert!(led.row(Key::BiasResidual).unwrap().name.contains("RoPE"));
}

/// A random Llama folder (byte tokenizer, 257 tokens): 2 layers, 4 query
/// heads over 2 key/value heads, untied head.
fn random_llama_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let gpt = random_model(&Config::llama(2, 4, 2, 64, 96, 257, 256, 10000.0), 5, true);
    gpt.save(tmp.path()).unwrap();
    std::fs::write(
        tmp.path().join("tokenizer.json"),
        gptlens::tokenizer::bytes_tokenizer_json(),
    )
    .unwrap();
    tmp
}

#[test]
fn every_lesson_renders_on_a_llama_model_without_panicking() {
    use gptlens::lesson::{self, Env, render};
    let dir = random_llama_dir();
    let gpt = Gpt::open(dir.path()).unwrap();
    let tok = Tokenizer::open(&dir.path().join("tokenizer.json")).unwrap();
    for l in lesson::all().unwrap() {
        let trace =
            render::trace_prompt(&l, &gpt, &tok).unwrap_or_else(|e| panic!("{}: {e}", l.name));
        let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(dir.path()));
        let md = render::markdown(&l, &env).unwrap_or_else(|e| panic!("{}: {e}", l.name));
        assert!(md.contains("## 1. "), "{}: no steps rendered", l.name);
    }
}

/// The logit lens of a Llama reads the residual through its RMSNorm: after
/// the last layer it is the model's own next-token distribution.
#[test]
fn the_logit_lens_after_the_last_layer_is_the_llama_models_own_prediction() {
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    let tr = gpt
        .trace(&[3, 14, 15, 9, 26], &Interventions::default())
        .unwrap();
    let pos = 4;
    let lens = gptlens::readout::lens::probs(&gpt, tr.resid_in(gpt.config.n_layer).row(pos), false);
    let own = gptlens::readout::logits::softmax_t(tr.logits.row(pos), 1.0);
    let worst = lens
        .iter()
        .zip(&own)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "lens and logits differ by {worst}");
}

/// What the views show of a Llama, read off the trace: RMSNorm recomputed
/// without mean or β, RoPE's rotation of each pair, GQA's groups, SwiGLU's
/// factors — each against what the engine recorded.
#[test]
fn readout_recomputes_rmsnorm_rope_gqa_and_swiglu_from_the_trace() {
    use gptlens::readout::{layernorm, mlp, rope};
    let gpt = Gpt::open(&fixture_dir("random-llama")).unwrap();
    let tr = gpt
        .trace(&[3, 14, 15, 9, 26, 5], &Interventions::default())
        .unwrap();
    for site in [
        layernorm::Site::Ln1(1),
        layernorm::Site::Ln2(2),
        layernorm::Site::Final,
    ] {
        let at = layernorm::at(&gpt, &tr, site);
        assert!(at.beta.is_empty(), "RMSNorm has no β");
        assert_eq!(at.norm, Norm::RmsNorm);
        for (t, d) in [(0, 0), (5, 53), (3, 20)] {
            let e = at.element(t, d);
            assert_eq!(e.mean, 0.0);
            assert!((e.xhat - e.engine_xhat).abs() < 1e-5, "{site:?} {e:?}");
            assert!((e.y - e.engine_y).abs() < 1e-5, "{site:?} {e:?}");
            let rms = at.rms(t).unwrap();
            assert!((rms * rms - e.var).abs() < 1e-5 * e.var.max(1.0));
        }
    }
    // RoPE: θᵢ = pos·5000^(−2i/6); turning q and k before gives after.
    let pairs = rope::pairs(&gpt, &tr, 1, 4, 5, 10);
    assert_eq!(pairs.len(), 3, "dₖ = 6: three pairs");
    for p in &pairs {
        assert_eq!(p.dims, (p.i, p.i + 3));
        let want = 5.0 * 5000f64.powf(-(2.0 * p.i as f64) / 6.0);
        assert!(
            (p.angle as f64 - want).abs() < 1e-5 * want.max(1.0),
            "{p:?}"
        );
        for (b, a) in [(p.q_before, p.q_after), (p.k_before, p.k_after)] {
            let r = p.rotate(b);
            assert!(
                (r.0 - a.0).abs() < 1e-5 && (r.1 - a.1).abs() < 1e-5,
                "{p:?}"
            );
        }
    }
    assert!(
        rope::pairs(&gpt, &tr, 0, 0, 0, 3)
            .iter()
            .all(|p| p.angle == 0.0 && p.q_before == p.q_after)
    );
    // 9 query heads over 3 key/value heads: 0–2, 3–5, 6–8.
    assert_eq!(rope::kv_head(&tr.arch, 4), 1);
    assert_eq!(rope::sharing(&tr.arch, 2), 6..9);
    let (gqa, mha) = rope::kv_bytes_per_position(&tr.arch, gpt.config.head_dim());
    assert_eq!((gqa, mha), (2 * 3 * 6 * 4, 2 * 9 * 6 * 4));
    // Heads of one group see the same keys.
    let l = &tr.layers[1];
    assert_eq!(l.k.row(2).slice(s![18..24]), l.k.row(2).slice(s![30..36]));
    // SwiGLU: SiLU(gate)·up is what the down projection read.
    for i in mlp::most_active(&tr, 2, 4).into_iter().take(5) {
        let n = mlp::neuron(&tr, 2, 4, i);
        assert!((n.act - n.engine_act).abs() < 1e-6, "{n:?}");
        assert!((n.out - n.engine_out).abs() < 1e-6, "{n:?}");
        assert!((n.out - n.act * n.up.unwrap()).abs() < 1e-6);
    }
    // A GPT-2 has no RoPE pairs.
    let g = random_model(&Config::new(1, 2, 8, 20, 8), 1, false);
    let gt = g.trace(&[1, 2], &Interventions::default()).unwrap();
    assert!(rope::pairs(&g, &gt, 0, 0, 1, 3).is_empty());
}

/// `gptlens cost --model FILE.gguf` opened the model twice (once for its
/// shape, once to measure it) and so printed each load message twice.
#[test]
fn cost_on_a_llama_gguf_prints_each_load_message_once() {
    let f = fixture_as_gguf(|_| {});
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gptlens"))
        .arg("--model")
        .arg(f.path())
        .arg("cost")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let said: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("warning:") || l.starts_with("note:"))
        .collect();
    assert!(!said.is_empty(), "the load says what it holds: {err}");
    let mut seen = std::collections::BTreeSet::new();
    for l in &said {
        assert!(seen.insert(*l), "printed twice: {l}\n{err}");
    }
}

/// The modern lesson runs without SmolLM2 (a newcomer's fresh clone): its
/// Llama numbers come from the seeded random Llama, and it says so.
#[test]
fn the_modern_lesson_runs_without_smollm2_on_a_random_llama_and_says_so() {
    let text = common::cli::gptlens_ok(
        &["lesson", "modern", "--print"],
        &[("GPTLENS_SMOLLM2", "/nonexistent/SmolLM2.gguf".as_ref())],
    );
    assert!(
        text.contains("a random 4-layer Llama made by gptlens"),
        "{text}"
    );
    assert!(text.contains("scripts/fetch-smollm2.sh"), "{text}");
    assert!(
        text.contains("6 query heads over 2 key/value heads"),
        "{text}"
    );
    assert!(text.contains("3× smaller"), "{text}");
    assert!(!text.contains("{{"), "{text}");
}

/// The modern lesson opened on a Llama shows that model's own chat template,
/// read and rendered as `generate --chat` does (it said "no chat template":
/// it looked only at the other side, the built-in GPT-2). A random Llama
/// folder whose tokenizer_config.json carries a template (the GGUF's
/// tokenizer.chat_template goes the same way: tests/smollm2.rs).
#[test]
fn the_modern_lesson_on_a_llama_shows_its_own_chat_template() {
    let dir = random_llama_dir();
    std::fs::write(
        dir.path().join("tokenizer_config.json"),
        serde_json::json!({"chat_template": "{% for m in messages %}<{{ m['content'] }}>{% endfor %}"})
            .to_string(),
    )
    .unwrap();
    let text = common::cli::gptlens_ok(
        &[
            "--model".as_ref(),
            dir.path().as_os_str(),
            "lesson".as_ref(),
            "modern".as_ref(),
            "--print".as_ref(),
        ],
        &[("GPTLENS_SMOLLM2", "/nonexistent/SmolLM2.gguf".as_ref())],
    );
    // The fixture's template writes each message's content in <…>.
    assert!(
        text.contains("```\n<What is the capital of France?>\n```"),
        "{text}"
    );
    assert!(!text.contains("no chat template"), "{text}");
}

/// A GGUF whose chat template raises while rendering, or does not compile.
fn gguf_with_template(template: &str) -> tempfile::NamedTempFile {
    use gptlens::gguf::Value;
    fixture_as_gguf(|w| w.set("tokenizer.chat_template", Value::String(template.into())))
}

const RAISING: &str = "{% for m in messages %}{% if m['role'] == 'user' %}{{ raise_exception('only-system-turns-here') }}{% endif %}{% endfor %}";

/// `generate --chat` on a GGUF whose template fails: exit 1, the engine's
/// message, the GGUF (not the companion folder) named as where it lives, and
/// how to go on (without --chat, or the template corrected). It named only
/// the companion tokenizer_config.json and said nothing of how to go on.
#[test]
fn generate_chat_on_a_gguf_whose_template_fails_says_why_and_how_to_go_on() {
    for (template, why) in [
        (RAISING, "only-system-turns-here"),
        ("{% for m in messages %}<{{ m['content'] }}>", "line 1"),
    ] {
        let f = gguf_with_template(template);
        let model = f.path().as_os_str();
        let out = common::cli::gptlens(
            &[
                "--model".as_ref(),
                model,
                "generate".as_ref(),
                "--chat".as_ref(),
                "hello".as_ref(),
            ],
            &[],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(out.stdout.is_empty(), "{err}");
        for part in [
            why,
            &format!("tokenizer.chat_template of {}", f.path().display()),
            "leave out --chat",
            "--prompt",
            "gguf-new-metadata",
        ] {
            assert!(err.contains(part), "{part:?} missing from {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `explore --chat` on the same GGUF: the terminal is given back and the
/// same message is printed, exit 1.
#[test]
fn explore_chat_on_a_gguf_whose_template_fails_says_why_and_exits_1() {
    let f = gguf_with_template(RAISING);
    let cache = tempfile::tempdir().unwrap();
    let cmd = format!(
        "GPTLENS_CACHE={} {} --model {} explore --chat hello; echo GPTLENS-EXIT=$?; sleep 30",
        cache.path().display(),
        env!("CARGO_BIN_EXE_gptlens"),
        f.path().display()
    );
    let s = common::tmux::Session::start(
        &format!("gptlens-llama-template-{}", std::process::id()),
        &cmd,
        200,
        50,
    );
    let pane = s.wait_for_all(&["GPTLENS-EXIT="]);
    // Wrapped lines are cut at the pane's width: join them before looking.
    let text = pane.replace('\n', "");
    assert!(text.contains("GPTLENS-EXIT=1"), "{pane}");
    for part in ["only-system-turns-here", "gguf-new-metadata", "--prompt"] {
        assert!(text.contains(part), "{part:?} missing from {pane}");
    }
    assert!(!text.contains("panicked"), "{pane}");
}

/// The lessons written for GPT-2, opened on a Llama, in English and Chinese:
/// each starts with a note (before its first step, in the intro the player
/// shows first) of what this model does instead of the parts its text names
/// — RMSNorm for LayerNorm, RoPE for wpe, SwiGLU for GELU — and points to
/// `lesson modern`; `modern` (written for both) has none, nor does any
/// lesson on a GPT-2. Their text said wpe/LayerNorm/GELU with no word that
/// the model on screen has none of them.
#[test]
fn every_gpt2_lesson_opened_on_a_llama_says_what_differs_at_its_top() {
    use gptlens::i18n::Lang;
    use gptlens::lesson::{self, Env, render};
    let dir = random_llama_dir();
    let gpt = Gpt::open(dir.path()).unwrap();
    let tok = Tokenizer::open(&dir.path().join("tokenizer.json")).unwrap();
    let mut lessons = lesson::all().unwrap();
    lessons.extend(lesson::written_in(Lang::Zh).unwrap());
    let mut noted = 0;
    for l in &lessons {
        let (head, pairs) = match l.lang {
            Lang::Zh => (
                "本课按 GPT-2 编写；屏幕上的模型是 Llama",
                [
                    ("LayerNorm", "RMSNorm，而不是 LayerNorm"),
                    ("wpe", "没有位置编码表 wpe"),
                    ("GELU", "SwiGLU，而不是 GELU"),
                ],
            ),
            Lang::En => (
                "written for GPT-2; the model on screen is a Llama",
                [
                    ("LayerNorm", "RMSNorm, not LayerNorm"),
                    ("wpe", "no position table wpe"),
                    ("GELU", "SwiGLU, not GELU"),
                ],
            ),
        };
        let what = format!("{} ({:?})", l.name, l.lang);
        let trace = render::trace_prompt(l, &gpt, &tok).unwrap_or_else(|e| panic!("{what}: {e}"));
        let env = Env::new(&gpt, &tok, &trace, &l.prompt, Some(dir.path()));
        let md = render::markdown(l, &env).unwrap_or_else(|e| panic!("{what}: {e}"));
        if l.name == "modern" {
            assert!(!md.contains(head), "{what}: written for both\n{md}");
            continue;
        }
        let intro = render::fill_intro(l, &env).unwrap();
        assert!(
            intro.contains(head),
            "{what}: no note in the intro\n{intro}"
        );
        let at = md.find(head).unwrap();
        assert!(at < md.find("## 1. ").unwrap(), "{what}: note after a step");
        // The note is the block quote that starts there; the rest is the text.
        let start = md[..at].rfind('\n').map_or(0, |i| i + 1);
        let len = md[start..]
            .lines()
            .take_while(|line| line.starts_with('>'))
            .map(|line| line.len() + 1)
            .sum::<usize>();
        let (note, body) = (
            &md[start..start + len],
            format!("{}{}", &md[..start], &md[start + len..]),
        );
        // Chinese --print wraps at 80 columns: an item's next line must not
        // read as a new item; then read the note as one text.
        assert!(
            note.lines()
                .filter(|line| line.starts_with("> - "))
                .all(|line| line.starts_with("> - **")),
            "{what}: an item's next line reads as a new item: {note}"
        );
        let flat = |s: &str| -> String {
            s.lines()
                .map(|line| line.trim_start_matches('>'))
                .collect::<String>()
                .split_whitespace()
                .collect()
        };
        let says = |part: &str| flat(note).contains(&flat(part));
        assert!(says("gptlens lesson modern"), "{what}: {note}");
        for (word, instead) in pairs {
            if body.contains(word) {
                assert!(says(instead), "{what} says {word}: {note}");
            }
        }
        noted += 1;
    }
    assert!(noted >= 20, "only {noted} lessons");
    // On a GPT-2 no lesson carries the note.
    let gdir = gptlens::paths::default_model_dir();
    let g = Gpt::open(&gdir).unwrap();
    let gtok = Tokenizer::open(&gdir.join("tokenizer.json")).unwrap();
    for l in &lessons {
        let trace = render::trace_prompt(l, &g, &gtok).unwrap();
        let env = Env::new(&g, &gtok, &trace, &l.prompt, Some(&gdir));
        let md = render::markdown(l, &env).unwrap();
        assert!(
            !md.contains("the model on screen is") && !md.contains("屏幕上的模型是"),
            "{}: {md}",
            l.name
        );
    }
}
