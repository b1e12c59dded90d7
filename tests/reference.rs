//! The engine against the independent PyTorch reference (fixtures written by
//! `scripts/reference.py fixtures`), plus the invariants no fixture is needed
//! for: cached decoding equals recomputation, softmax rows sum to 1, causality,
//! and the GPT-2 tokenizer's round trip.
//!
//! Run with `cargo test --release --test reference -- --nocapture` to see the
//! measured errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gptlens::model::{Config, Gpt, Interventions, KvCache, Trace, random_model};
use gptlens::tokenizer::Tokenizer;
use ndarray::{Array2, ArrayView2};
use safetensors::{Dtype, SafeTensors};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// GPT-2's tokenizer, from the shared/ folder beside the clone (never copied
/// into the repo). Developer worktrees sit one level deeper, hence the second path.
const GPT2_TOKENIZER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/gpt2-tokenizer/tokenizer.json"
);
const GPT2_TOKENIZER_WORKTREE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/gpt2-tokenizer/tokenizer.json"
);

/// A reference tensor: its shape and values (f32 tensors, or I64 ids widened).
struct RefTensor {
    shape: Vec<usize>,
    f: Vec<f32>,
    ids: Vec<i64>,
}

fn read_fixture(path: &Path) -> BTreeMap<String, RefTensor> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read fixture {}: {e} (scripts/reference.py fixtures writes it)",
            path.display()
        )
    });
    let st = SafeTensors::deserialize(&bytes)
        .unwrap_or_else(|e| panic!("{} is not safetensors: {e}", path.display()));
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
                d => panic!("{name} in {} has unexpected dtype {d:?}", path.display()),
            };
            (
                name,
                RefTensor {
                    shape: v.shape().to_vec(),
                    f,
                    ids,
                },
            )
        })
        .collect()
}

fn get<'a>(fx: &'a BTreeMap<String, RefTensor>, name: &str) -> &'a RefTensor {
    fx.get(name)
        .unwrap_or_else(|| panic!("fixture has no tensor {name}"))
}

/// Largest |a − b| over two equally shaped matrices.
fn max_err_2d(ours: ArrayView2<f32>, reference: &RefTensor, what: &str) -> f32 {
    assert_eq!(
        vec![ours.nrows(), ours.ncols()],
        reference.shape,
        "{what}: shape"
    );
    ours.iter()
        .zip(&reference.f)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

fn max_err_1d(ours: &[f32], reference: &RefTensor, what: &str) -> f32 {
    assert_eq!(vec![ours.len()], reference.shape, "{what}: shape");
    ours.iter()
        .zip(&reference.f)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max)
}

/// Largest absolute value of a reference tensor (to state errors relative to scale).
fn scale(t: &RefTensor) -> f32 {
    t.f.iter().map(|v| v.abs()).fold(0.0, f32::max)
}

/// Errors per stage, each the maximum over layers and positions.
#[derive(Default, Debug)]
struct Errors {
    logits: f32,
    resid: f32,
    ln_mean: f32,
    ln_var_rel: f32,
    attn: f32,
    mlp_act: f32,
}

/// Runs `ids` through `gpt` with a full trace and compares every stage the
/// fixture holds. Returns the maximum errors.
fn compare(gpt: &Gpt, fx: &BTreeMap<String, RefTensor>, label: &str) -> Errors {
    let ids: Vec<u32> = get(fx, "input_ids")
        .ids
        .iter()
        .map(|&i| u32::try_from(i).expect("id fits u32"))
        .collect();
    let t = ids.len();
    let trace = gpt
        .trace(&ids, &Interventions::default())
        .expect("trace runs");
    let cfg = &gpt.config;
    let mut e = Errors {
        logits: max_err_2d(trace.logits.view(), get(fx, "logits"), "logits"),
        ..Errors::default()
    };
    for i in 0..=cfg.n_layer {
        let r = get(fx, &format!("resid.{i}"));
        // Relative to the stream's size: it grows layer by layer.
        let err = max_err_2d(trace.resid_in(i).view(), r, &format!("resid.{i}"));
        e.resid = e.resid.max(err / scale(r).max(1.0));
    }
    let mut ln = |ours: &gptlens::model::LnTrace, key: &str| {
        let m = get(fx, &format!("{key}.mean"));
        let v = get(fx, &format!("{key}.var"));
        e.ln_mean = e
            .ln_mean
            .max(max_err_1d(&ours.mean, m, key) / scale(m).max(1.0));
        e.ln_var_rel = e
            .ln_var_rel
            .max(max_err_1d(&ours.var, v, key) / scale(v).max(1.0));
    };
    for (i, l) in trace.layers.iter().enumerate() {
        ln(&l.ln_1, &format!("ln_1.{i}"));
        ln(&l.ln_2, &format!("ln_2.{i}"));
    }
    ln(&trace.ln_f, "ln_f");
    for (i, l) in trace.layers.iter().enumerate() {
        let a = get(fx, &format!("attn.{i}"));
        assert_eq!(a.shape, vec![cfg.n_head, t, t], "attn.{i}: shape");
        for (h, rows) in l.probs.iter().enumerate() {
            assert_eq!(rows.len(), t, "layer {i} head {h}: one row per position");
            for (q, row) in rows.iter().enumerate() {
                assert_eq!(row.len(), q + 1, "row {q} must hold keys 0..={q} only");
                let refrow = &a.f[(h * t + q) * t..(h * t + q + 1) * t];
                for (k, &p) in refrow.iter().enumerate() {
                    let ours = row.get(k).copied().unwrap_or(0.0);
                    e.attn = e.attn.max((ours - p).abs());
                }
            }
        }
        let m = get(fx, &format!("mlp_act.{i}"));
        e.mlp_act = e
            .mlp_act
            .max(max_err_2d(l.mlp_act.view(), m, &format!("mlp_act.{i}")));
    }
    println!(
        "{label}: max |Δ| logits {:.2e} (|logits| ≤ {:.1}), attention probs {:.2e}, MLP GELU out {:.2e}; \
         relative to each tensor's max: residual streams {:.2e}, LN mean {:.2e}, LN var {:.2e}",
        e.logits,
        scale(get(fx, "logits")),
        e.attn,
        e.mlp_act,
        e.resid,
        e.ln_mean,
        e.ln_var_rel
    );
    e
}

/// The tolerances the fixtures must meet. The reference is float64 of the same
/// f32 weights, so these bound the engine's own f32 rounding error.
fn assert_within(e: &Errors, label: &str) {
    assert!(e.logits <= 1e-4, "{label}: logits off by {}", e.logits);
    assert!(e.attn <= 1e-5, "{label}: attention off by {}", e.attn);
    assert!(
        e.mlp_act <= 1e-4,
        "{label}: MLP activations off by {}",
        e.mlp_act
    );
    assert!(
        e.resid <= 1e-5,
        "{label}: residual stream off by {}",
        e.resid
    );
    assert!(e.ln_mean <= 1e-5, "{label}: LN mean off by {}", e.ln_mean);
    assert!(
        e.ln_var_rel <= 1e-5,
        "{label}: LN var off by {}",
        e.ln_var_rel
    );
}

fn check_random_fixture(name: &str) {
    let dir = fixture_dir(name);
    let gpt = Gpt::open(&dir).expect("fixture model opens");
    let fx = read_fixture(&dir.join("reference.safetensors"));
    let e = compare(&gpt, &fx, name);
    assert_within(&e, name);
}

/// 3 layers, 5 heads, 60 wide, vocabulary 97, context 23; tensors saved by
/// transformers with the `transformer.` prefix.
#[test]
fn matches_pytorch_on_odd_random_model() {
    check_random_fixture("random-odd");
}

/// n_inner = 100 (not 4·n_embd); tensor names without the prefix, as the hub's
/// gpt2 and distilgpt2 checkpoints have them.
#[test]
fn matches_pytorch_with_explicit_n_inner_and_unprefixed_names() {
    let gpt = Gpt::open(&fixture_dir("random-inner")).expect("opens");
    assert_eq!(gpt.config.n_inner, Some(100));
    assert_eq!(gpt.weights.layers[0].fc_w.shape, vec![42, 100]);
    check_random_fixture("random-inner");
}

/// A GPT2Config switch fixture: the engine matches transformers with the
/// switch honoured, and `ignore` (the engine as if it did not know the
/// switch) misses by more than `teeth` in the logits. Returns (max |Δlogit|
/// honoured, max |Δlogit| ignored).
fn check_variant(name: &str, ignore: impl Fn(&mut Gpt), teeth: f32) -> (f32, f32) {
    let dir = fixture_dir(name);
    let mut gpt = Gpt::open(&dir).expect("fixture model opens");
    assert!(
        gpt.weights.warnings.is_empty(),
        "{name}: {:?}",
        gpt.weights.warnings
    );
    let fx = read_fixture(&dir.join("reference.safetensors"));
    let e = compare(&gpt, &fx, name);
    assert_within(&e, name);
    ignore(&mut gpt);
    let ids: Vec<u32> = get(&fx, "input_ids")
        .ids
        .iter()
        .map(|&i| i as u32)
        .collect();
    let wrong = gpt.trace(&ids, &Interventions::default()).expect("runs");
    let err = max_err_2d(wrong.logits.view(), get(&fx, "logits"), "logits");
    println!("{name}: ignoring the switch gives max |Δlogit| {err:.2e}");
    assert!(
        err > teeth,
        "{name}: ignoring the switch is off by only {err}"
    );
    (e.logits, err)
}

/// `tie_word_embeddings: false`: the logits come from the file's own
/// lm_head.weight, not from wte.
#[test]
fn matches_pytorch_with_an_untied_lm_head() {
    check_variant("random-untied", |g| g.weights.lm_head = None, 1.0);
}

/// `scale_attn_by_inverse_layer_idx: true`: layer l's scores are also divided by l + 1.
#[test]
fn matches_pytorch_with_scores_scaled_by_inverse_layer_index() {
    check_variant(
        "random-layer-scale",
        |g| g.config.scale_attn_by_inverse_layer_idx = false,
        1e-2,
    );
}

/// `scale_attn_weights: false`: no 1/√dₖ.
#[test]
fn matches_pytorch_without_attention_scaling() {
    check_variant(
        "random-unscaled",
        |g| g.config.scale_attn_weights = true,
        1e-2,
    );
}

/// `activation_function: "gelu"` is the exact erf GELU, not GPT-2's tanh one.
#[test]
fn matches_pytorch_with_the_exact_erf_gelu() {
    check_variant(
        "random-gelu",
        |g| g.config.activation_function = "gelu_new".into(),
        1e-4,
    );
}

/// Every fixture in tests/fixtures/tiny-models/ against the shipped model of
/// that name, and every shipped model must have a fixture.
#[test]
fn matches_pytorch_on_shipped_tiny_models() {
    let fx_dir = root().join("tests/fixtures/tiny-models");
    let models_dir = root().join("tiny-models");
    let fixtures: Vec<PathBuf> = std::fs::read_dir(&fx_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
                .collect()
        })
        .unwrap_or_default();
    let models: Vec<String> = std::fs::read_dir(&models_dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("config.json").is_file())
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    for m in &models {
        assert!(
            fx_dir.join(format!("{m}.safetensors")).is_file(),
            "tiny-models/{m} has no reference fixture: run `scripts/reference.py fixtures` (see its header) and commit tests/fixtures/tiny-models/{m}.safetensors"
        );
    }
    if fixtures.is_empty() {
        println!(
            "NOTE: no tiny-model fixtures and no models in tiny-models/ yet; this test passes vacuously"
        );
    }
    for f in fixtures {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let gpt = Gpt::open(&models_dir.join(&name)).unwrap_or_else(|e| {
            panic!(
                "fixture {} has no model tiny-models/{name}: {e}",
                f.display()
            )
        });
        let e = compare(&gpt, &read_fixture(&f), &format!("tiny-models/{name}"));
        assert_within(&e, &name);
    }
}

fn argmax(row: &[f32]) -> u32 {
    row.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i as u32)
        .expect("non-empty row")
}

/// Greedy decoding one token at a time through the KV cache picks the same
/// tokens as recomputing the whole sequence each step, with the same logits.
fn check_cached_equals_recomputed(gpt: &Gpt, prompt: &[u32], steps: usize) -> f32 {
    let iv = Interventions::default();
    let mut cache = KvCache::new(&gpt.config);
    let mut tokens = vec![];
    let mut logits = Array2::zeros((0, 0));
    for &t in prompt {
        logits = gpt
            .forward(&[t], &mut cache, &iv, None, false)
            .expect("runs");
        tokens.push(t);
    }
    let mut worst = 0.0f32;
    for step in 0..steps {
        let cached = logits.row(0).to_vec();
        let full = gpt.last_logits(&tokens).expect("runs");
        let full = full.as_slice().expect("contiguous");
        let err = cached
            .iter()
            .zip(full)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err <= 1e-5, "step {step}: cached logits differ by {err}");
        worst = worst.max(err);
        let next = argmax(&cached);
        assert_eq!(next, argmax(full), "step {step}: different greedy token");
        tokens.push(next);
        logits = gpt
            .forward(&[next], &mut cache, &iv, None, false)
            .expect("runs");
    }
    assert_eq!(cache.len(), prompt.len() + steps);
    worst
}

#[test]
fn cached_generation_equals_full_recomputation() {
    let odd = Gpt::open(&fixture_dir("random-odd")).expect("opens");
    let e1 = check_cached_equals_recomputed(&odd, &[5, 60, 11], 20);
    let cfg = Config::new(2, 4, 64, 257, 64);
    let gpt = random_model(&cfg, 7, true);
    let e2 = check_cached_equals_recomputed(&gpt, &[72, 101, 108, 108, 111], 20);
    println!(
        "KV cache vs recomputation, 20 greedy tokens: max |Δ logits| {e1:.2e} (random-odd), {e2:.2e} (random 2x4x64)"
    );
}

fn fixture_trace(tokens: &[u32]) -> Trace {
    let gpt = Gpt::open(&fixture_dir("random-odd")).expect("opens");
    gpt.trace(tokens, &Interventions::default()).expect("runs")
}

const PROMPT: [u32; 12] = [3, 96, 40, 40, 7, 12, 0, 55, 81, 9, 40, 23];

#[test]
fn softmax_rows_sum_to_one() {
    let trace = fixture_trace(&PROMPT);
    let mut worst = 0.0f32;
    for l in &trace.layers {
        for head in &l.probs {
            for row in head {
                assert!(row.iter().all(|&p| (0.0..=1.0).contains(&p)));
                worst = worst.max((row.iter().sum::<f32>() - 1.0).abs());
            }
        }
    }
    println!("softmax rows: max |Σp − 1| = {worst:.2e}");
    assert!(worst <= 1e-5, "a softmax row sums to 1 ± {worst}");
}

#[test]
fn no_attention_to_the_future() {
    let trace = fixture_trace(&PROMPT);
    for l in &trace.layers {
        for head in &l.probs {
            for (t, row) in head.iter().enumerate() {
                assert_eq!(row.len(), t + 1, "row {t} must see keys 0..={t} only");
            }
        }
    }
    // Changing token k must leave every stage at positions < k untouched.
    let k = 7;
    let mut changed = PROMPT;
    changed[k] = (changed[k] + 1) % 97;
    let other = fixture_trace(&changed);
    let same_rows = |a: &Array2<f32>, b: &Array2<f32>, what: &str| {
        assert_eq!(
            a.slice(ndarray::s![..k, ..]),
            b.slice(ndarray::s![..k, ..]),
            "{what} before position {k} changed when token {k} changed"
        );
        assert_ne!(a.row(k), b.row(k), "{what} at position {k} should change");
    };
    same_rows(&trace.embed, &other.embed, "embedding");
    for (i, (a, b)) in trace.layers.iter().zip(&other.layers).enumerate() {
        same_rows(&a.resid_post, &b.resid_post, &format!("layer {i} output"));
        for h in 0..a.probs.len() {
            assert_eq!(a.probs[h][..k], b.probs[h][..k], "layer {i} head {h}");
        }
    }
    same_rows(&trace.logits, &other.logits, "logits");
}

fn gpt2_tokenizer() -> &'static Tokenizer {
    static TOK: std::sync::OnceLock<Tokenizer> = std::sync::OnceLock::new();
    TOK.get_or_init(|| {
        let path = [GPT2_TOKENIZER, GPT2_TOKENIZER_WORKTREE]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .unwrap_or(GPT2_TOKENIZER);
        Tokenizer::open(Path::new(path)).unwrap_or_else(|e| {
            panic!(
                "GPT-2's tokenizer.json is expected at {GPT2_TOKENIZER} (the shared/ folder beside the clone): {e}"
            )
        })
    })
}

#[test]
fn gpt2_tokenizer_encodes_hello_world() {
    let tok = gpt2_tokenizer();
    assert_eq!(
        tok.encode("Hello world!").expect("encodes"),
        vec![15496, 995, 0]
    );
    assert_eq!(tok.vocab_size(), 50257);
    assert_eq!(tok.end_of_text(), Some(50256));
}

/// The hub's GPT-2 tokenizer.json asks for truncation at 50 tokens; encode must
/// not silently drop the rest of a long prompt.
#[test]
fn gpt2_tokenizer_keeps_long_text_whole() {
    let tok = gpt2_tokenizer();
    let text = "Once upon a time, there was a little girl named Lily. ".repeat(20);
    let ids = tok.encode(&text).expect("encodes");
    assert!(
        ids.len() > 200,
        "only {} ids: the text was truncated",
        ids.len()
    );
    assert_eq!(tok.decode(&ids), text);
}

proptest::proptest! {
    #[test]
    fn gpt2_tokenizer_round_trips_any_text(s in "\\PC*|.*") {
        let tok = gpt2_tokenizer();
        let ids = tok.encode(&s).expect("encodes");
        proptest::prop_assert_eq!(tok.decode(&ids), s);
    }

    #[test]
    fn gpt2_tokenizer_round_trips_any_chars(chars in proptest::collection::vec(proptest::char::any(), 0..40)) {
        let s: String = chars.into_iter().collect();
        let tok = gpt2_tokenizer();
        let ids = tok.encode(&s).expect("encodes");
        proptest::prop_assert_eq!(tok.decode(&ids), s);
    }
}

/// The gradient fixture's contract (read by the training tests): inputs and
/// targets [B,T] I64, loss [1], and grad.<name> for every tensor of the model,
/// shaped like it. Its loss must also be the engine's own cross-entropy.
#[test]
fn gradient_fixtures_cover_every_parameter_and_match_the_engine_loss() {
    for name in ["random-odd", "random-inner"] {
        let dir = fixture_dir(name);
        let gpt = Gpt::open(&dir).expect("opens");
        let fx = read_fixture(&dir.join("grads.safetensors"));
        for (tensor, shape) in gptlens::model::expected_tensors(&gpt.config) {
            let g = get(&fx, &format!("grad.{tensor}"));
            assert_eq!(g.shape, shape, "grad.{tensor}");
            assert!(g.f.iter().all(|v| v.is_finite()), "grad.{tensor}");
            assert!(g.f.iter().any(|&v| v != 0.0), "grad.{tensor} is all zero");
        }
        let inputs = get(&fx, "inputs");
        let targets = get(&fx, "targets");
        assert_eq!(inputs.shape, targets.shape);
        let (b, t) = (inputs.shape[0], inputs.shape[1]);
        let mut total = 0.0f64;
        for row in 0..b {
            let ids: Vec<u32> = inputs.ids[row * t..(row + 1) * t]
                .iter()
                .map(|&i| i as u32)
                .collect();
            let mut cache = KvCache::new(&gpt.config);
            let logits = gpt
                .forward(&ids, &mut cache, &Interventions::default(), None, true)
                .expect("runs");
            for (pos, l) in logits.rows().into_iter().enumerate() {
                let max = l.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
                let lse = l.iter().map(|&v| (v as f64 - max).exp()).sum::<f64>().ln() + max;
                let target = targets.ids[row * t + pos] as usize;
                total += lse - l[target] as f64;
            }
        }
        let ours = total / (b * t) as f64;
        let reference = get(&fx, "loss").f[0] as f64;
        println!("{name}: mean cross-entropy engine {ours:.7}, PyTorch {reference:.7}");
        assert!(
            (ours - reference).abs() <= 1e-5,
            "loss {ours} vs {reference}"
        );
    }
}

/// The comparison has teeth: the model with one piece of the formula removed
/// (no 1/√dₖ scaling) is far outside the tolerance.
#[test]
fn a_wrong_forward_pass_fails_the_comparison() {
    let dir = fixture_dir("random-odd");
    let gpt = Gpt::open(&dir).expect("opens");
    let fx = read_fixture(&dir.join("reference.safetensors"));
    let ids: Vec<u32> = get(&fx, "input_ids")
        .ids
        .iter()
        .map(|&i| i as u32)
        .collect();
    let iv = Interventions {
        no_scale: true,
        ..Interventions::default()
    };
    let wrong = gpt.trace(&ids, &iv).expect("runs");
    let err = max_err_2d(wrong.logits.view(), get(&fx, "logits"), "logits");
    assert!(
        err > 1e-2,
        "unscaled attention should be caught, error only {err}"
    );
}

/// The attention arithmetic the views spell out (readout::attention::cell)
/// divides by what the engine divided by, so its weight is the engine's on
/// models with the scale switches too.
#[test]
fn spelled_out_attention_cells_follow_the_scale_switches() {
    for name in ["random-odd", "random-layer-scale", "random-unscaled"] {
        let gpt = Gpt::open(&fixture_dir(name)).expect("opens");
        let trace = gpt
            .trace(&[3, 1, 4, 1, 5, 9, 2, 6], &Interventions::default())
            .unwrap();
        let mut worst = 0.0f32;
        for layer in 0..gpt.config.n_layer {
            for head in 0..gpt.config.n_head {
                for q in 0..trace.len() {
                    for k in 0..=q {
                        let c = gptlens::readout::attention::cell(&trace, layer, head, q, k, true);
                        worst = worst.max((c.weight - c.engine_weight).abs());
                    }
                }
            }
        }
        assert!(worst < 1e-5, "{name}: spelled-out weight off by {worst}");
    }
}
